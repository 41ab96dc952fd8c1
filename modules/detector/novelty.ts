// Univariate streaming novelty detector on integers: a seasonal difference when the calibration is periodic, a
// band-passed log score, an anomaly-likelihood test against its own long-run spread, and a decayed-peak gate.
import { udivFrac, log2Q8 } from "telltale/detector/fixed";

// What it is for: one channel whose anomalies are rare events (a spike, a level shift, a broken daily pattern), scored
// as sparse detections (NAB's protocol). The multivariate model (multivariate.ts) is for sustained shifts in how many
// channels move together; this one answers "is this sample's behaviour new?" for a single series.
//
// Calibration (the first `calibrationSamples` updates, default 400):
//   block means of D = ceil(cal / 256) samples fill a 256-entry buffer. At its end, once: the autocorrelation of the
//   block means gives the strongest period P (a local maximum past the first zero crossing, r ≥ 0.5, 2P ≤ cal,
//   P ≤ 512 samples); the series is called seasonal when the seasonal difference x[t] − x[t−P] has at most half the
//   band-passed energy of x itself. This one-off analysis uses float64 (+, −, ×, / only: correctly rounded, so XS and
//   V8 agree bit for bit); every per-sample step is int32.
// Scoring input u: x, or (seasonal) x − x[t−P] from a P-sample delay line (the same buffer). A seasonal detector
//   scores x until the delay line is full, then restarts its scorer on the difference.
// Scorer, per update (t counts the scorer's updates):
//   slow_q8  EWMA of u, weight 2^-6, u × 2^8               bp_q8 = |u·2^8 − slow_q8| (saturated to 2^30)
//   scale_q8 running max of bp over t < 16, then EWMA 2^-8 (at least floor_q8 = max(1, range·2^8 / 1000), range of
//            the calibration's x)
//   r_q8     bp / scale, × 2^8, saturated to 46340 (z ≤ 181)
//   a_q8     log2(1 + r²) = log2Q8(2^16 + r_q8²) − 16·2^8, bits × 2^8
//   sm_q12   EWMA of a, weight 2^-3, bits × 2^12 (a short mean of the raw score)
//   lm_q20, lv_q20  long EWMA (2^-11) of sm and of (sm − lm)², bits and bits² × 2^20; lv starts at 1.0 (at t = 32)
//   likely   (sm − lm) > thr·sqrt(lv + 0.01), compared squared: d_q8² > thr²_q8 · ((lv_q20 + 10486) >> 12)
//   peak_q12 max(sm) decaying by 2^-12 per update; the gate asks sm > peak (a new record of recent behaviour)
//   A detection: likely ∧ gate, after calibration, at most one per `refractory` updates.
// Bounds: r ≤ 46340 so 2^16 + r² < 2^31 and a < 15 bits; so sm, lm < 15 · 2^12 and |d|, |e| < 15 · 2^8 < 2^12, d² < 2^24,
// lv < 2^28; thr²_q8 ≤ 2^14 times (lv + c) >> 12 < 2^16 stays below 2^31.

export interface NoveltyOptions {
  /** Updates learned before any detection, at least 64 (default 400). */
  calibrationSamples?: number;
  /** Likelihood threshold in standard deviations of the short score's long-run spread (default 2, at most 8). */
  threshold?: number;
  /** Fewest updates between two detections (default 200). */
  refractory?: number;
  /** Look for a period in the calibration (default true). */
  seasonal?: boolean;
}

const X_MAX = 0x3fffff;
const BLOCKS = 256;
const MAX_PERIOD = 512;
const SLOW = 6,
  SCALE = 8,
  SHORT = 3,
  LONG = 11,
  DECAY = 12;

function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || value !== Math.floor(value) || value < min || value > max)
    throw new RangeError(
      'NoveltyDetector: option "' + name + '" must be an integer ' + min + "–" + max + ", got " + String(value),
    );
  return value;
}

export class NoveltyDetector {
  readonly calibrationSamples: number;
  readonly refractory: number;
  readonly seasonalSearch: boolean;
  readonly #thrSqQ8: number;
  /** Block means during calibration, then the delay line. */
  readonly #buffer = new Int32Array(MAX_PERIOD);
  readonly #blockSize: number;
  #blockSum = 0;
  #n = 0;
  #lo = 0;
  #hi = 0;
  #floorQ8 = 1;
  /** Seasonal period in samples (0: not seasonal). */
  period = 0;
  /** Autocorrelation at the period and energy ratio (x over its seasonal difference) found at the end of calibration. */
  periodicity = 0;
  energyRatio = 0;
  // Scorer state.
  #t = 0;
  #slow = 0;
  #scale = 0;
  #sm = 0;
  #lm = 0;
  #lv = 0;
  #peak = 0;
  #left = 0;
  /** True on an update that is a detection. */
  detection = false;
  /** Detections so far. */
  detections = 0;

  constructor(options: NoveltyOptions = {}) {
    this.calibrationSamples = integer("calibrationSamples", options.calibrationSamples ?? 400, 64, 0x3fffffff);
    const thr = options.threshold ?? 2;
    if (typeof thr !== "number" || !(thr > 0) || thr > 8)
      throw new RangeError(
        'NoveltyDetector: option "threshold" must be a number above 0 and at most 8, got ' + String(thr),
      );
    this.#thrSqQ8 = Math.max(1, Math.round(thr * thr * 256));
    this.refractory = integer("refractory", options.refractory ?? 200, 1, 0x3fffffff);
    const seasonal = options.seasonal ?? true;
    if (typeof seasonal !== "boolean")
      throw new RangeError('NoveltyDetector: option "seasonal" must be true or false, got ' + String(seasonal));
    this.seasonalSearch = seasonal;
    this.#blockSize = Math.ceil(this.calibrationSamples / BLOCKS);
  }

  get calibrated(): boolean {
    return this.#n >= this.calibrationSamples;
  }
  /** The short score, log2(1 + z²) averaged, Q12 (bits × 4096); 0 while the scorer (re)starts. */
  get score(): number {
    return this.#sm;
  }
  /** Bytes of state: the buffer and about 20 scalars. */
  get stateBytes(): number {
    return this.#buffer.byteLength + 20 * 4;
  }

  /** Feeds one sample (an int32 in the channel's unit). Returns true on a detection. Allocates nothing. */
  update(value: number): boolean {
    let x = value | 0;
    if (x > X_MAX) x = X_MAX;
    else if (x < -X_MAX) x = -X_MAX;
    const n = this.#n,
      cal = this.calibrationSamples;
    if (n < 0x3fffffff) this.#n = n + 1;
    this.detection = false;
    let u = x;
    if (n < cal) {
      if (n === 0 || x < this.#lo) this.#lo = x;
      if (n === 0 || x > this.#hi) this.#hi = x;
      const d = this.#blockSize,
        block = (n / d) | 0;
      if (block < BLOCKS) {
        this.#blockSum += x;
        if ((n + 1) % d === 0) {
          this.#buffer[block] = Math.round(this.#blockSum / d);
          this.#blockSum = 0;
        }
      }
      this.#score(u);
      if (n === cal - 1) this.#finishCalibration();
      return false;
    }
    const p = this.period;
    if (p > 0) {
      const k = n - cal,
        phase = k % p,
        buffer = this.#buffer;
      if (k >= p) {
        if (k === p) this.#restartScorer();
        u = (x - buffer[phase]!) | 0;
        if (u > X_MAX) u = X_MAX;
        else if (u < -X_MAX) u = -X_MAX;
      }
      buffer[phase] = x;
    }
    const hit = this.#score(u);
    if (this.#left > 0) this.#left--;
    if (hit && this.#left === 0) {
      this.detection = true;
      this.#left = this.refractory;
      this.detections++;
    }
    return this.detection;
  }

  /** One scorer step; returns the likelihood-and-gate condition. */
  #score(u: number): boolean {
    const t = ++this.#t,
      uq8 = u << 8;
    if (t === 1) {
      this.#slow = uq8;
      this.#scale = this.#floorQ8;
      return false;
    }
    this.#slow = (this.#slow + ((uq8 - this.#slow) >> SLOW)) | 0;
    let bp = (uq8 - this.#slow) | 0;
    if (bp < 0) bp = -bp;
    if (bp > 0x40000000) bp = 0x40000000;
    if (t < 16) {
      if (bp > this.#scale) this.#scale = bp;
      return false;
    }
    const scale = this.#scale > this.#floorQ8 ? this.#scale : this.#floorQ8;
    let r = udivFrac(bp, scale, 8);
    if (r > 46340) r = 46340;
    this.#scale = (this.#scale + ((bp - this.#scale) >> SCALE)) | 0;
    const a = (log2Q8((65536 + r * r) | 0) - 4096) | 0; // log2(1 + (r/256)²), Q8
    this.#sm = (this.#sm + (((a << 4) - this.#sm) >> SHORT)) | 0;
    const sm = this.#sm;
    if (t < 32) {
      this.#lm = sm << 8;
      this.#lv = 1 << 20;
      return false;
    }
    const d = ((sm << 8) - this.#lm) >> 12; // (sm − lm) in Q8, |d| < 2^14
    const likely = d > 0 && ((d * d) | 0) > this.#thrSqQ8 * ((this.#lv + 10486) >> 12);
    this.#lm = (this.#lm + (((sm << 8) - this.#lm) >> LONG)) | 0;
    const e = ((sm << 8) - this.#lm) >> 12;
    this.#lv = (this.#lv + ((((e * e) << 4) - this.#lv) >> LONG)) | 0; // e² < 2^24: Q20 < 2^28
    const gate = sm > this.#peak;
    this.#peak = (this.#peak - (this.#peak >> DECAY)) | 0;
    if (sm > this.#peak) this.#peak = sm;
    return likely && gate;
  }

  #restartScorer(): void {
    this.#t = 0;
    this.#slow = 0;
    this.#scale = 0;
    this.#sm = 0;
    this.#lm = 0;
    this.#lv = 0;
    this.#peak = 0;
  }

  /** The one-off analysis at the end of calibration: the floor, the period, and the seasonal decision. */
  #finishCalibration(): void {
    const range = this.#hi - this.#lo;
    this.#floorQ8 = Math.max(1, Math.floor((range * 256) / 1000));
    if (!this.seasonalSearch) return;
    const d = this.#blockSize,
      m = Math.min(BLOCKS, Math.floor(this.calibrationSamples / d)),
      b = this.#buffer;
    let mu = 0;
    for (let j = 0; j < m; j++) mu += b[j]!;
    mu /= m;
    let v = 0;
    for (let j = 0; j < m; j++) v += (b[j]! - mu) * (b[j]! - mu);
    v /= m;
    if (!(v > 0)) return;
    const half = m >> 1;
    // r(k) for k = 1 … half + 1; the candidate is the largest local maximum past the first zero crossing.
    let previous = 1,
      current = this.#acf(1, m, mu, v),
      k0 = 0,
      best = 0,
      lag = 0;
    for (let k = 1; k <= half; k++) {
      const next = k + 1 < m ? this.#acf(k + 1, m, mu, v) : -1;
      if (k0 === 0 && current <= 0) k0 = k;
      if (k0 !== 0 && k >= 2 && current >= previous && current >= next && current > best) {
        best = current;
        lag = k;
      }
      previous = current;
      current = next;
    }
    if (lag < 2 || best < 0.5 || lag * d > MAX_PERIOD || 2 * lag * d > this.calibrationSamples) return;
    // Band-passed energy of the block means against that of their seasonal difference (the scorer's slow EWMA, per block).
    const a = Math.min(1, d / (1 << SLOW));
    let m1 = b[lag]!,
      m2 = b[lag]! - b[0]!,
      e1 = 0,
      e2 = 0;
    for (let j = lag + 1; j < m; j++) {
      m1 += (b[j]! - m1) * a;
      const diff = b[j]! - b[j - lag]!;
      m2 += (diff - m2) * a;
      e1 += Math.abs(b[j]! - m1);
      e2 += Math.abs(diff - m2);
    }
    this.periodicity = best;
    this.energyRatio = e2 > 0 ? e1 / e2 : Infinity;
    if (e1 >= 2 * e2) this.period = lag * d;
  }

  #acf(k: number, m: number, mu: number, v: number): number {
    const b = this.#buffer;
    let s = 0;
    for (let j = k; j < m; j++) s += (b[j]! - mu) * (b[j - k]! - mu);
    return s / (m - k) / v;
  }

  /** Forgets everything and calibrates again. */
  reset(): void {
    this.#buffer.fill(0);
    this.#blockSum = 0;
    this.#n = 0;
    this.#lo = 0;
    this.#hi = 0;
    this.#floorQ8 = 1;
    this.period = 0;
    this.periodicity = 0;
    this.energyRatio = 0;
    this.#left = 0;
    this.detection = false;
    this.detections = 0;
    this.#restartScorer();
  }
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(NoveltyDetector.prototype);
