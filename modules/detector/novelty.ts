// Univariate streaming novelty detector on integers: a seasonal difference when the calibration is periodic, a
// band-passed log score, an anomaly-likelihood test against its own long-run spread, and a decayed-peak gate.
import { udivFrac, log2Q8, isqrt } from "telltale/detector/fixed";

// What it is for: one channel whose anomalies are rare events (a spike, a level shift, a broken daily pattern), scored
// as sparse detections (NAB's protocol). The multivariate model (multivariate.ts) is for sustained shifts in how many
// channels move together; this one answers "is this sample's behaviour new?" for a single series.
//
// Calibration (the first `calibrationSamples` updates, default 400):
//   block means of D = ceil(cal / 240) samples fill a 240-entry int32 buffer. At its end, once: the autocorrelation of
//   the block means gives the strongest period P (a local maximum past the first zero crossing, r ≥ 0.5, 2P ≤ cal,
//   P ≤ 480 samples); the series is called seasonal when the seasonal difference x[t] − x[t−P] has at most half the
//   band-passed energy of x itself. This one-off analysis uses float64 (+, −, ×, / only: correctly rounded, so XS and
//   V8 agree bit for bit); every per-sample step is int32.
// Scoring input u: x, or (seasonal) x − x[t−P] from a P-sample delay line: the same 960 bytes as 480 int16, each
//   (x − mid) >> qshift rounded and saturated, where mid is the calibration's mid-range and qshift the smallest shift
//   that fits its range in 2^14 (so x[t−P] is exact for a range below 2^14 units and within 2^(qshift−1) otherwise,
//   far below the scorer's floor of range/1000; values beyond twice the calibrated range saturate). A seasonal detector
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
//
// State: the 960-byte buffer, 17 int32 scalars and the calibration's block sum (a float64 holding an integer): 1036
// bytes; exportState() writes them with a header and a checksum (1060 bytes).

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
const BLOCKS = 240;
const MAX_PERIOD = 480;
const MAGIC = 0x564e5454; // "TTNV" little-endian
const VERSION = 1;
const HEADER = 20;
// Scalars (indices into #v): updates, calibration min and max, floor_q8, period, mid, qshift, and the
// scorer: t, slow, scale, sm, lm, lv, peak, refractory left, detections, latest d_q8.
const N = 0,
  LO = 1,
  HI = 2,
  FLOOR = 3,
  PERIOD = 4,
  MID = 5,
  QSHIFT = 6,
  T = 7,
  SLOW_Q8 = 8,
  SCALE_Q8 = 9,
  SM = 10,
  LM = 11,
  LV = 12,
  PEAK = 13,
  LEFT = 14,
  DETECTIONS = 15,
  DEV = 16,
  SCALARS = 17;
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
  readonly threshold: number;
  readonly #thrSqQ8: number;
  /** Block means during calibration (int32), then the delay line (int16): one buffer, two views. */
  readonly #bytes = new Uint8Array(MAX_PERIOD * 2);
  readonly #blocks = new Int32Array(this.#bytes.buffer);
  readonly #delay = new Int16Array(this.#bytes.buffer);
  /** The scalars, in one array so that they are saved with the buffer. */
  readonly #v = new Int32Array(SCALARS);
  readonly #blockSum = new Float64Array(1);
  readonly #blockSize: number;
  /** Autocorrelation at the period and energy ratio (x over its seasonal difference) found at the end of calibration
   *  (reported only; not in the state image). */
  periodicity = 0;
  energyRatio = 0;
  /** True on an update that is a detection. */
  detection = false;

  constructor(options: NoveltyOptions = {}) {
    this.calibrationSamples = integer("calibrationSamples", options.calibrationSamples ?? 400, 64, 0x3fffffff);
    const thr = options.threshold ?? 2;
    if (typeof thr !== "number" || !(thr > 0) || thr > 8)
      throw new RangeError(
        'NoveltyDetector: option "threshold" must be a number above 0 and at most 8, got ' + String(thr),
      );
    this.threshold = thr;
    this.#thrSqQ8 = Math.max(1, Math.round(thr * thr * 256));
    this.refractory = integer("refractory", options.refractory ?? 200, 1, 0x3fffffff);
    const seasonal = options.seasonal ?? true;
    if (typeof seasonal !== "boolean")
      throw new RangeError('NoveltyDetector: option "seasonal" must be true or false, got ' + String(seasonal));
    this.seasonalSearch = seasonal;
    this.#blockSize = Math.ceil(this.calibrationSamples / BLOCKS);
  }

  get calibrated(): boolean {
    return this.#v[N]! >= this.calibrationSamples;
  }
  /** Updates seen so far (saturates at 2^30). */
  get samples(): number {
    return this.#v[N]!;
  }
  /** Seasonal period in samples (0: not seasonal). */
  get period(): number {
    return this.#v[PERIOD]!;
  }
  /** Detections so far. */
  get detections(): number {
    return this.#v[DETECTIONS]!;
  }
  /** The short score, log2(1 + z²) averaged, Q12 (bits × 4096); 0 while the scorer (re)starts. */
  get score(): number {
    return this.#v[SM]!;
  }
  /**
   * The latest update's likelihood: how far the short score stands above its long-run mean, in long-run standard
   * deviations, Q8 (0 when below; a detection needs more than `threshold` and a new record). Computed when read.
   */
  get likelihood(): number {
    const d = this.#v[DEV]!;
    if (d <= 0) return 0;
    const sd = isqrt((this.#v[LV]! + 10486) >> 12); // lv + 0.01 in Q8 (< 2^16), its root in Q4 (≥ 10)
    const z = udivFrac(d, sd, 4); // d_q8 / sd_q4 · 2^4 = z in Q8
    return z > 0xffff ? 0xffff : z;
  }
  /** Bytes of state: the buffer and the scalars (typed arrays only). */
  get stateBytes(): number {
    return this.#bytes.byteLength + this.#v.byteLength + this.#blockSum.byteLength;
  }
  /** Bytes of a state image (exportState()). */
  static readonly imageBytes = HEADER + MAX_PERIOD * 2 + SCALARS * 4 + 8 + 4;

  /** Feeds one sample (an int32 in the channel's unit). Returns true on a detection. Allocates nothing. */
  update(value: number): boolean {
    const v = this.#v;
    let x = value | 0;
    if (x > X_MAX) x = X_MAX;
    else if (x < -X_MAX) x = -X_MAX;
    const n = v[N]!,
      cal = this.calibrationSamples;
    if (n < 0x3fffffff) v[N] = n + 1;
    this.detection = false;
    let u = x;
    if (n < cal) {
      if (n === 0 || x < v[LO]!) v[LO] = x;
      if (n === 0 || x > v[HI]!) v[HI] = x;
      const d = this.#blockSize,
        block = (n / d) | 0;
      if (block < BLOCKS) {
        // The block sum (up to ceil(cal / 240) values of at most 2^22) can leave int32: an integer-valued double, exact.
        const bs = this.#blockSum,
          sum = bs[0]! + x;
        if ((n + 1) % d === 0) {
          this.#blocks[block] = Math.round(sum / d);
          bs[0] = 0;
        } else bs[0] = sum;
      }
      this.#score(u);
      if (n === cal - 1) this.#finishCalibration();
      return false;
    }
    const p = v[PERIOD]!;
    if (p > 0) {
      const k = n - cal,
        phase = k % p,
        delay = this.#delay,
        qs = v[QSHIFT]!,
        mid = v[MID]!;
      if (k >= p) {
        if (k === p) this.#restartScorer();
        u = (x - ((delay[phase]! << qs) + mid)) | 0;
        if (u > X_MAX) u = X_MAX;
        else if (u < -X_MAX) u = -X_MAX;
      }
      let q = qs > 0 ? (x - mid + (1 << (qs - 1))) >> qs : x - mid;
      if (q > 0x7fff) q = 0x7fff;
      else if (q < -0x8000) q = -0x8000;
      delay[phase] = q;
    }
    const hit = this.#score(u);
    let left = v[LEFT]!;
    if (left > 0) left--;
    if (hit && left === 0) {
      this.detection = true;
      left = this.refractory;
      v[DETECTIONS] = (v[DETECTIONS]! + 1) | 0;
    }
    v[LEFT] = left;
    return this.detection;
  }

  /** One scorer step; returns the likelihood-and-gate condition. */
  #score(u: number): boolean {
    const v = this.#v,
      t = (v[T] = v[T]! + 1),
      uq8 = u << 8;
    if (t === 1) {
      v[SLOW_Q8] = uq8;
      v[SCALE_Q8] = v[FLOOR]!;
      v[DEV] = 0;
      return false;
    }
    const slow = (v[SLOW_Q8] = (v[SLOW_Q8]! + ((uq8 - v[SLOW_Q8]!) >> SLOW)) | 0);
    let bp = (uq8 - slow) | 0;
    if (bp < 0) bp = -bp;
    if (bp > 0x40000000) bp = 0x40000000;
    const floorQ8 = v[FLOOR]!;
    const sc = v[SCALE_Q8]!;
    if (t < 16) {
      if (bp > sc) v[SCALE_Q8] = bp;
      return false;
    }
    let r = udivFrac(bp, sc > floorQ8 ? sc : floorQ8, 8);
    if (r > 46340) r = 46340;
    v[SCALE_Q8] = (sc + ((bp - sc) >> SCALE)) | 0;
    const a = (log2Q8((65536 + r * r) | 0) - 4096) | 0; // log2(1 + (r/256)²), Q8
    const sm = (v[SM] = (v[SM]! + (((a << 4) - v[SM]!) >> SHORT)) | 0);
    if (t < 32) {
      v[LM] = sm << 8;
      v[LV] = 1 << 20;
      return false;
    }
    const lv = v[LV]!;
    let lm = v[LM]!;
    const d = ((sm << 8) - lm) >> 12; // (sm − lm) in Q8, |d| < 2^14
    v[DEV] = d;
    const likely = d > 0 && ((d * d) | 0) > this.#thrSqQ8 * ((lv + 10486) >> 12);
    lm = v[LM] = (lm + (((sm << 8) - lm) >> LONG)) | 0;
    const e = ((sm << 8) - lm) >> 12;
    v[LV] = (lv + ((((e * e) << 4) - lv) >> LONG)) | 0; // e² < 2^24: Q20 < 2^28
    const gate = sm > v[PEAK]!;
    let peak = (v[PEAK]! - (v[PEAK]! >> DECAY)) | 0;
    if (sm > peak) peak = sm;
    v[PEAK] = peak;
    return likely && gate;
  }

  #restartScorer(): void {
    const v = this.#v;
    for (let i = T; i <= PEAK; i++) v[i] = 0;
    v[DEV] = 0;
  }

  /** The one-off analysis at the end of calibration: the floor, the delay line's format, the period and the seasonal decision. */
  #finishCalibration(): void {
    const v = this.#v,
      range = v[HI]! - v[LO]!;
    v[FLOOR] = Math.max(1, Math.floor((range * 256) / 1000));
    v[MID] = v[LO]! + (range >> 1);
    let qs = 0;
    while (range >> qs > 0x4000) qs++;
    v[QSHIFT] = qs;
    if (!this.seasonalSearch) return;
    const d = this.#blockSize,
      m = Math.min(BLOCKS, Math.floor(this.calibrationSamples / d)),
      b = this.#blocks;
    let mu = 0;
    for (let j = 0; j < m; j++) mu += b[j]!;
    mu /= m;
    let vr = 0;
    for (let j = 0; j < m; j++) vr += (b[j]! - mu) * (b[j]! - mu);
    vr /= m;
    if (!(vr > 0)) return;
    const half = m >> 1;
    // r(k) for k = 1 … half + 1; the candidate is the largest local maximum past the first zero crossing.
    let previous = 1,
      current = this.#acf(1, m, mu, vr),
      k0 = 0,
      best = 0,
      lag = 0;
    for (let k = 1; k <= half; k++) {
      const next = k + 1 < m ? this.#acf(k + 1, m, mu, vr) : -1;
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
    if (e1 >= 2 * e2) v[PERIOD] = lag * d;
  }

  #acf(k: number, m: number, mu: number, vr: number): number {
    const b = this.#blocks;
    let s = 0;
    for (let j = k; j < m; j++) s += (b[j]! - mu) * (b[j - k]! - mu);
    return s / (m - k) / vr;
  }

  /** Forgets everything and calibrates again. */
  reset(): void {
    this.#bytes.fill(0);
    this.#v.fill(0);
    this.#blockSum[0] = 0;
    this.periodicity = 0;
    this.energyRatio = 0;
    this.detection = false;
  }

  /** The learned state as bytes: header (magic, version, the options that give it meaning), buffer, scalars, checksum. */
  exportState(): Uint8Array {
    const out = new Uint8Array(NoveltyDetector.imageBytes),
      view = new DataView(out.buffer);
    this.#header(view);
    out.set(this.#bytes, HEADER);
    const base = HEADER + this.#bytes.length;
    for (let i = 0; i < SCALARS; i++) view.setInt32(base + i * 4, this.#v[i]!, true);
    view.setFloat64(base + SCALARS * 4, this.#blockSum[0]!, true);
    view.setUint32(out.length - 4, checksum(out, out.length - 4), true);
    return out;
  }

  /** Restores a state made by exportState() of a detector with the same options; throws (keeping its state) otherwise. */
  importState(bytes: Uint8Array): void {
    const fail = (why: string): never => {
      throw new RangeError("NoveltyDetector.importState: " + why);
    };
    if (!(bytes instanceof Uint8Array)) fail("expected a Uint8Array");
    if (bytes.length !== NoveltyDetector.imageBytes)
      fail("expected " + NoveltyDetector.imageBytes + " bytes, got " + bytes.length);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint32(0, true) !== MAGIC) fail("not a novelty model state (bad magic)");
    if (view.getUint8(4) !== VERSION) fail("unsupported version " + view.getUint8(4));
    if (view.getUint32(bytes.length - 4, true) !== checksum(bytes, bytes.length - 4))
      fail("checksum mismatch (corrupt image)");
    const expected = new Uint8Array(HEADER);
    this.#header(new DataView(expected.buffer));
    for (let i = 5; i < HEADER; i++)
      if (bytes[i] !== expected[i]) fail("made with different options (header byte " + i + ")");
    const base = HEADER + this.#bytes.length;
    const scalars = new Int32Array(SCALARS);
    for (let i = 0; i < SCALARS; i++) scalars[i] = view.getInt32(base + i * 4, true);
    const period = scalars[PERIOD]!,
      qs = scalars[QSHIFT]!;
    const blockSum = view.getFloat64(base + SCALARS * 4, true);
    if (period < 0 || period > MAX_PERIOD || qs < 0 || qs > 9 || scalars[N]! < 0 || scalars[T]! < 0)
      fail("scalars out of range (period " + period + ", shift " + qs + ")");
    if (!Number.isInteger(blockSum)) fail("block sum is not an integer");
    this.#bytes.set(bytes.subarray(HEADER, base));
    this.#v.set(scalars);
    this.#blockSum[0] = blockSum;
    this.detection = false;
  }

  #header(view: DataView): void {
    view.setUint32(0, MAGIC, true);
    view.setUint8(4, VERSION);
    view.setUint8(5, this.seasonalSearch ? 1 : 0);
    view.setUint16(6, this.#thrSqQ8, true);
    view.setUint32(8, this.calibrationSamples, true);
    view.setUint32(12, this.refractory, true);
    view.setUint16(16, MAX_PERIOD, true);
    view.setUint16(18, SCALARS, true);
  }
}

/** FNV-1a over the first `length` bytes. */
function checksum(bytes: Uint8Array, length: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(NoveltyDetector.prototype);
