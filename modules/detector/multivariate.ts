// Streaming multivariate anomaly detector on integers: band-passed, standardised channels scored by Hotelling T² (Cholesky).
import { isqrt, udivSat16, udivFrac, bitLength, log2Q8 } from "telltale/detector/fixed";

// Algorithm (one update per sample vector; the float64 twin is bench/reference.mjs):
//   1. Per channel, two EWMAs of the input: a fast one (weight 2^-fastShift, the smoothing) and a slow baseline
//      (2^-slowShift) that follows slow drift (temperatures) and freezes while the alarm is raised, so a fault is not
//      learned as normal. After `freezeSamples` updates in alarm it re-adapts at 2^-(slowShift + 3), one step faster
//      every `rampSamples` updates down to 2^-fastShift, so a new operating point does not hold the alarm on for ever.
//      The feature is their difference, a band-pass (a multivariate EWMA chart against a moving baseline).
//   2. Warm-up (first `warmupSamples`): per-channel mean and variance of the raw input give the scale σ.
//   3. Rest of the calibration: second moments C of the standardised features. At its end (scaling "channel", the
//      default) each channel gets its own gain g_i = 1/sqrt(C_ii) and A = correlation + ridge·I (ridge 1), so a
//      channel that was quiet relative to its warm-up σ (a flow that barely moved) weighs as much as a drifting one;
//      (scaling "global") one gain 1/sqrt(max diag C) and A = C / max(diag C) + ridge·(mean/max diag)·I. A = L·Lᵀ
//      (Cholesky, integer).
//   4. Scoring: z_i = feature_i · g_i; while the alarm is off each channel's running mean square va_i (EWMA
//      2^-adaptShift of min(z_i², 16), at least 1) grows when the channel moves more than in calibration, and the scored
//      value is u_i = z_i / sqrt(va_i) (sensitivity falls at most 4×: a long-run wander the calibration never saw stops
//      being a hair trigger). Solve L·y = u; T² = |y|²; score = T² / channels. Contribution of channel i:
//      u_i · (A⁻¹u)_i (they sum to T²). Alarm with hysteresis.
//   4b. Recovery (option `recovery`; the app's slow model): an alarm opens an episode that names its channels and
//      freezes a copy of their baselines; when every named channel's fast filter is within recoveryLevel of its copy
//      (standardised like u) for recoverySamples updates, the alarm clears and their baselines return to the copy;
//      inside an episode the alarm is not re-raised while they are within it; an episode lasts at most
//      episodeSamples updates, then the named baselines jump to the fast filters (the new normal).
//   5. Change points: a two-sided Page–Hinkley test on l = log2(1 + score) against its own EWMA (2^-5): g⁺ += l − m − δ,
//      g⁻ += m − l − δ (each floored at 0); either above λ is a change (then both restart and m = l). An alarm edge is a
//      change too. At most one change point per `changeRefractory` updates.
//
// Fixed-point formats (x is int32 in the channel's own unit, e.g. 0.01 °C):
//   x          input clamped to ±(2^22 − 1) units so x·2^8 stays in int32
//   *_q8       fast, slow, mean: units × 2^8 (|·| < 2^30, so differences of two fit int32)
//   var        warm-up variance, units² (Q0), deviations saturated to ±46340 so d² < 2^31
//   shift/sig/mant  per-channel σ as σ' = (σ·2^8) >> shift ∈ [256, 511] and its reciprocal mant = min(2^24 / σ', 65535)
//   z_q10      standardised band-pass, 1σ = 2^10: ((d_q8 >> shift) · mant) >> 14, d saturated to ±32σ so |z| ≤ 2^15
//   cov_q18    calibration second moments of z, 1σ² = 2^18: EWMA of (z_i·z_j) >> 2 (|product| ≤ 2^30)
//   a_q26      normalised covariance for the factorisation, 1.0 = 2^26, |a_ij| ≤ 1 + ridge (saturated to ±2^27)
//   l_q13      Cholesky factor, 1.0 = 2^13 (in place of cov_q18 after calibration); l² is Q26
//   invl_q12   1 / l_ii, 1.0 = 2^12; the pivot floor 2^-8 keeps it below 2^16
//   gain_q12   per channel: 1 / sqrt(C_ii) (scaling "channel") or 1 / sqrt(max diag C) (all alike), 1.0 = 2^12, ≤ 2^16 (16×)
//   va_q16     per-channel mean square of z after calibration, 1.0 = 2^16, in [2^16, 2^20] (in the warm-up variance's words)
//   ia_q12     1 / sqrt(va), 1.0 = 2^12, in [2^10, 2^12], one channel refreshed per update (in the warm-up mean's words)
//   u_q10, y_q10, w_q10  whitened vectors, 1.0 = 2^10, saturated to ±2^15
//   t2_q10     T², 1.0 = 2^10 (sum of (y·y) >> 10, at most 32 · 2^20)
//   score_q8   T² / channels, 1.0 = 2^8, saturated at 65535
//   log_q8     log2(1 + score) = log2Q8(t2_q10 + p·2^10) − log2Q8(p·2^10), 1.0 = 2^8, < 26·2^8; ph mean Q16 (log_q8 << 8)
//   gup_q8, gdn_q8  Page–Hinkley sums in log_q8 units, < λ + 2^12
// Every product below is of two int32 values whose exact product is proven (by the saturations above) to be below 2^31,
// so `(a * b) | 0` is exact in XS and in Node without a Math.imul call.

export interface MultivariateOptions {
  /** Number of channels, 1–32. */
  channels: number;
  /** Samples used to learn the baseline before any score (default 400; at least warmupSamples + 2 × channels + 16). */
  calibrationSamples?: number;
  /** The first part of the calibration that learns each channel's scale (default calibrationSamples / 4, at least 2^(fastShift + 1)). */
  warmupSamples?: number;
  /** Smoothing of each channel, EWMA weight 2^-fastShift (default 4: about 16 samples). */
  fastShift?: number;
  /** Drift-following baseline, EWMA weight 2^-slowShift (default 8: about 256 samples); frozen while the alarm is raised. */
  slowShift?: number;
  /** "channel" (default): a gain per channel and a correlation matrix; "global": one gain and the covariance. */
  scaling?: "channel" | "global";
  /** Added to the factored matrix's diagonal (0 < ridge ≤ 1): scaling "channel", in correlation units (default 1);
   *  "global", as a fraction of the mean variance (default 0.05). */
  ridge?: number;
  /** Raise the alarm when score = T²/channels ≥ on (default 5) for `holdSamples` updates in a row (default 1). */
  on?: number;
  holdSamples?: number;
  /** Clear it when the score < off (default on / 2) for `clearSamples` updates in a row (default 1). */
  off?: number;
  clearSamples?: number;
  /** Smallest standard deviation per channel, in input units (default 1): a quiet sensor is not infinitely sensitive. */
  floor?: number | readonly number[];
  /** How many top contributing channels to report (default 3). */
  topChannels?: number;
  /** Updates in alarm during which the baseline stays frozen; then it re-adapts at 2^-(slowShift + 3) (default 240). */
  freezeSamples?: number;
  /** After the freeze, the baseline's shift falls by one every rampSamples updates in alarm, down to fastShift
   *  (a power of two, default 64; 0 keeps 2^-(slowShift + 3)). */
  rampSamples?: number;
  /** Per-channel sensitivity adaptation after calibration, EWMA weight 2^-adaptShift of min(z², 16) (default 12; 0 = off). */
  adaptShift?: number;
  /** Page–Hinkley drift δ on log2(1 + score), in bits (default 0.25). */
  changeDrift?: number;
  /** Page–Hinkley threshold λ, in bit·samples (default 4). */
  changeThreshold?: number;
  /** Fewest updates between two change points (default 15). */
  changeRefractory?: number;
  /**
   * Recovery (default false). While no alarm episode is open, a copy of the baseline follows it. An alarm opens an
   * episode and names its channels: those contributing at least the mean (T²/channels) at the rise or in the next 16
   * updates in alarm. Only they are frozen (then re-adapt as above); the others keep following their drift at
   * 2^-slowShift. When every named channel's fast filter has been within `recoveryLevel` (in calibrated units, the
   * scale of the score) of its copy for `recoverySamples` updates, the cause has ended: the alarm clears, their
   * baselines return to the copy and the episode closes. Inside an episode the alarm is not raised again while they
   * are within that level (a return to normal is not a new fault).
   */
  recovery?: boolean;
  /** With recovery: the largest distance from the copy, per named channel, that counts as recovered (default 3). */
  recoveryLevel?: number;
  /** With recovery: a channel other than the top one is named when it contributes at least T² / 2^namedShift (default 1). */
  namedShift?: number;
  /** With recovery: a named channel also counts as recovered when its distance from the copy, in its own units, is
   *  at most 2^-returnShift of the largest it reached in the episode (default 0: off; only `recoveryLevel` counts). */
  returnShift?: number;
  /** With recovery: where the named channels' baselines go when the cause has ended: "copy" (default, the pre-alarm
   *  baseline) or "current" (their fast filters: where the machine runs now). */
  recoverTo?: "copy" | "current";
  /** With recovery: once the cause has ended, the episode stays open this many updates more, settling: the alarm is
   *  off, every baseline follows at 2^-settleShift, and the alarm is raised again only when the named channels leave
   *  the recovery level (then the episode goes on). Default 0: the episode closes at once. */
  settleSamples?: number;
  /** With recovery: the baselines' shift while settling (default fastShift + 1). */
  settleShift?: number;
  /** With recovery: updates in a row within it (default 8). */
  recoverySamples?: number;
  /** With recovery: the longest episode, in updates (default 900); then the alarm clears and the operating point the
   *  named channels have reached is accepted as normal (their baselines jump to the fast filters). 0 = unbounded. */
  episodeSamples?: number;
}

const X_MAX = 0x3fffff;
const SAT = 46340; // largest |d| with d² < 2^31
const Q15 = 0x7fff;
const MAGIC = 0x564d5454; // "TTMV" little-endian
const VERSION = 4;
const HEADER = 28;
// Scalars after the per-channel arrays: updates, alarm, hysteresis run, updates in alarm, ph mean (Q16), g⁺, g⁻,
// refractory left, ph primed.
const SCALARS = 9;

function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || value !== Math.floor(value) || value < min || value > max)
    throw new RangeError(
      'MultivariateDetector: option "' + name + '" must be an integer ' + min + "–" + max + ", got " + String(value),
    );
  return value;
}

function real(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !(value > min) || value > max)
    throw new RangeError(
      'MultivariateDetector: option "' +
        name +
        '" must be a number above ' +
        min +
        " and at most " +
        max +
        ", got " +
        String(value),
    );
  return value;
}

/** Shift of the running-average schedule: weight 2^-k with 2^k ≤ n + 1 (1, 1/2, 1/2, 1/4 …), capped at `cap`. */
function schedule(n: number, cap: number): number {
  let k = 0;
  while (k < cap && 2 << k <= n + 1) k++;
  return k;
}

export class MultivariateDetector {
  readonly channels: number;
  readonly calibrationSamples: number;
  readonly warmupSamples: number;
  readonly fastShift: number;
  readonly slowShift: number;
  readonly #recovery: boolean;
  readonly #ridgeQ16: number;
  #onQ8: number;
  #offQ8: number;
  #hold: number;
  #clear: number;
  readonly #floor: Int32Array;
  readonly #freeze: number;
  readonly #rampShift: number;
  readonly #adapt: number;
  readonly #perChannel: boolean;
  readonly #deltaQ8: number;
  readonly #lambdaQ8: number;
  readonly #refractory: number;
  readonly #logP: number;
  // Learned state (serialised): offsets into #s.
  readonly #s: Int32Array;
  readonly #fast: number;
  readonly #slow: number;
  readonly #mean: number;
  readonly #var: number;
  readonly #shift: number;
  readonly #mant: number;
  readonly #sig: number;
  readonly #tri: number;
  readonly #invl: number;
  readonly #gain: number;
  readonly #scalars: number;
  // Scratch, allocated once (not serialised).
  readonly #u: Int32Array;
  readonly #y: Int32Array;
  readonly #w: Int32Array;

  /** Per-channel contribution to T² (Q10) of the latest update; they sum to T². */
  readonly contributions: Int32Array;
  /** Channel indices of the largest contributions, largest first (255 = none). */
  readonly top: Uint8Array;
  /** Latest score, T²/channels in Q8 (256 = 1.0); 0 while calibrating. */
  score = 0;
  /** Latest T² in Q10. */
  t2 = 0;
  /** Alarm state (with hysteresis). */
  alarm = false;
  /**
   * True on an update that is a change point: the Page–Hinkley test on log2(1 + score) found a level change (up or
   * down), or the alarm changed state; at most one per `changeRefractory` updates.
   */
  changePoint = false;

  // Recovery, declared after the fields every update reads: XS finds an instance's fields in declaration order.
  readonly #episodeMax: number;
  readonly #levelQ10: number;
  readonly #recoverRun: number;
  readonly #namedShift: number;
  readonly #returnShift: number;
  readonly #toCurrent: boolean;
  readonly #settleRun: number;
  readonly #settleShift: number;
  /** With recovery: offset of the normal-baseline copy (p words), then updates in the episode, the recovery run, the
   *  episode's channel mask, the settling count and each channel's largest distance in the episode (p words). */
  readonly #normal: number;
  /** During an episode: the largest distance of a named channel from its copy, Q8 (256 = 1.0); 0 outside one. */
  recoveryScore = 0;

  constructor(options: MultivariateOptions) {
    const p = (this.channels = integer("channels", options?.channels, 1, 32));
    this.calibrationSamples = integer("calibrationSamples", options.calibrationSamples ?? 400, 32, 0x3fffffff);
    this.fastShift = integer("fastShift", options.fastShift ?? 4, 0, 10);
    // A default warm-up that does not fit is reported below as too short a calibration, the option the user sets.
    this.warmupSamples =
      options.warmupSamples === undefined
        ? Math.max(2 << this.fastShift, this.calibrationSamples >> 2)
        : integer("warmupSamples", options.warmupSamples, 8, this.calibrationSamples - 16);
    this.slowShift = integer("slowShift", options.slowShift ?? 8, this.fastShift + 1, 16);
    // The fast filter must settle before the covariance is learned, or fast − slow is ~0 there and every later score explodes.
    if (this.warmupSamples < 2 << this.fastShift)
      throw new RangeError(
        'MultivariateDetector: option "warmupSamples" must be at least 2^(fastShift + 1) = ' +
          (2 << this.fastShift) +
          ", got " +
          this.warmupSamples,
      );
    if (this.calibrationSamples - this.warmupSamples < 2 * p + 16)
      throw new RangeError(
        'MultivariateDetector: option "calibrationSamples" must be at least warmupSamples + 2 × channels + 16 = ' +
          (this.warmupSamples + 2 * p + 16) +
          " (" +
          p +
          " channels), got " +
          this.calibrationSamples,
      );
    const scaling = options.scaling ?? "channel";
    if (scaling !== "channel" && scaling !== "global")
      throw new RangeError(
        'MultivariateDetector: option "scaling" must be "channel" or "global", got ' + String(scaling),
      );
    this.#perChannel = scaling === "channel";
    this.#ridgeQ16 = Math.round(real("ridge", options.ridge ?? (this.#perChannel ? 1 : 0.05), 0, 1) * 65536);
    this.#onQ8 = this.#offQ8 = this.#hold = this.#clear = 0;
    const on = options.on ?? 5;
    this.setThresholds({
      on,
      off: options.off ?? (typeof on === "number" ? on / 2 : on),
      holdSamples: options.holdSamples ?? 1,
      clearSamples: options.clearSamples ?? 1,
    });
    const k = integer("topChannels", options.topChannels ?? Math.min(3, p), 1, p);
    this.#freeze = integer("freezeSamples", options.freezeSamples ?? 240, 0, 0x3fffffff);
    const ramp = integer("rampSamples", options.rampSamples ?? 64, 0, 1 << 20);
    if ((ramp & (ramp - 1)) !== 0)
      throw new RangeError('MultivariateDetector: option "rampSamples" must be 0 or a power of two, got ' + ramp);
    this.#rampShift = ramp === 0 ? -1 : bitLength(ramp) - 1;
    this.#adapt = integer("adaptShift", options.adaptShift ?? 12, 0, 20);
    this.#deltaQ8 = Math.round(real("changeDrift", options.changeDrift ?? 0.25, 0, 16) * 256);
    this.#lambdaQ8 = Math.round(real("changeThreshold", options.changeThreshold ?? 4, 0, 4096) * 256);
    this.#refractory = integer("changeRefractory", options.changeRefractory ?? 15, 1, 0x3fffffff);
    this.#logP = log2Q8(p << 10);
    const recovery = options.recovery ?? false;
    if (typeof recovery !== "boolean")
      throw new RangeError('MultivariateDetector: option "recovery" must be true or false, got ' + String(recovery));
    this.#recovery = recovery;
    this.#episodeMax = integer("episodeSamples", options.episodeSamples ?? 900, 0, 0x3fffffff);
    this.#levelQ10 = Math.round(real("recoveryLevel", options.recoveryLevel ?? 3, 0, 31) * 1024);
    this.#recoverRun = integer("recoverySamples", options.recoverySamples ?? 8, 1, 100000);
    this.#namedShift = integer("namedShift", options.namedShift ?? 1, 0, 5);
    this.#returnShift = integer("returnShift", options.returnShift ?? 0, 0, 16);
    const to = options.recoverTo ?? "copy";
    if (to !== "copy" && to !== "current")
      throw new RangeError('MultivariateDetector: option "recoverTo" must be "copy" or "current", got ' + String(to));
    this.#toCurrent = to === "current";
    this.#settleRun = integer("settleSamples", options.settleSamples ?? 0, 0, 100000);
    this.#settleShift = integer(
      "settleShift",
      options.settleShift ?? this.fastShift + 1,
      this.fastShift,
      this.slowShift,
    );
    const floor = options.floor ?? 1;
    const floors = typeof floor === "number" ? null : floor;
    if (floors !== null && (!Array.isArray(floors) || floors.length !== p))
      throw new RangeError('MultivariateDetector: option "floor" must be a number or one number per channel');
    const floorValues: number[] = [];
    for (let c = 0; c < p; c++)
      floorValues.push(integer(floors ? "floor[" + c + "]" : "floor", floors ? floors[c] : floor, 1, SAT));
    // Everything validated: allocate once.
    this.#floor = Int32Array.from(floorValues);
    this.#fast = 0;
    this.#slow = p;
    this.#mean = 2 * p;
    this.#var = 3 * p;
    this.#shift = 4 * p;
    this.#mant = 5 * p;
    this.#sig = 6 * p;
    this.#tri = 7 * p;
    this.#invl = this.#tri + ((p * (p + 1)) >> 1);
    this.#gain = this.#invl + p;
    this.#scalars = this.#gain + p;
    this.#normal = this.#scalars + SCALARS;
    this.#s = new Int32Array(this.#normal + (recovery ? 2 * p + 4 : 0));
    this.#u = new Int32Array(p);
    this.#y = new Int32Array(p);
    this.#w = new Int32Array(p);
    this.contributions = new Int32Array(p);
    this.top = new Uint8Array(k);
  }

  /** Updates seen so far (saturates at 2^30). */
  /**
   * The alarm's thresholds and runs, changed while running (a remote configuration change): the learned baseline is
   * kept. Checked as the constructor checks them; nothing changes when one is refused.
   */
  setThresholds(t: { on: number; off: number; holdSamples: number; clearSamples: number }): void {
    const on = real("on", t.on, 0, 255),
      off = real("off", t.off, 0, 255);
    if (off > on) throw new RangeError('MultivariateDetector: option "off" must not exceed "on"');
    const hold = integer("holdSamples", t.holdSamples, 1, 1000),
      clear = integer("clearSamples", t.clearSamples, 1, 1000);
    this.#onQ8 = Math.round(on * 256);
    this.#offQ8 = Math.round(off * 256);
    this.#hold = hold;
    this.#clear = clear;
  }

  get samples(): number {
    return this.#s[this.#scalars]!;
  }
  get calibrated(): boolean {
    return this.#s[this.#scalars]! >= this.calibrationSamples;
  }
  /** With recovery: the open episode's channels as a bit mask (0 outside an episode). */
  get episodeChannels(): number {
    return this.#recovery && this.#s[this.#normal + this.channels]! > 0
      ? this.#s[this.#normal + this.channels + 2]!
      : 0;
  }
  /** Bytes of state: the learned state, the scratch vectors and the outputs (typed arrays only). */
  get stateBytes(): number {
    return (
      this.#s.byteLength +
      this.#floor.byteLength +
      this.#u.byteLength * 3 +
      this.contributions.byteLength +
      this.top.byteLength
    );
  }
  /** Declared state bytes for a channel count, without building a detector (what `stateBytes` will return, top = 3). */
  static stateBytesFor(channels: number, top = Math.min(3, channels), recovery = false): number {
    return (
      4 * (9 * channels + ((channels * (channels + 1)) >> 1) + SCALARS) +
      4 * channels * 5 +
      top +
      (recovery ? 4 * (2 * channels + 4) : 0)
    );
  }

  /**
   * Feeds one sample vector (int32 per channel, in each channel's unit). A channel whose bit is clear in `validMask`
   * keeps its previous filter state this round (a sensor that failed). Returns the alarm state. Allocates nothing.
   */
  update(values: Int32Array, validMask = -1): boolean {
    const s = this.#s,
      p = this.channels,
      sc = this.#scalars;
    const n = s[sc]!;
    const cal = this.calibrationSamples,
      warm = this.warmupSamples;
    const fastBase = this.#fast,
      slowBase = this.#slow,
      meanBase = this.#mean,
      varBase = this.#var;
    const fs = n < cal ? schedule(n, this.fastShift) : this.fastShift;
    // The baseline learns as a running average during calibration, then at 2^-slowShift, not at all during the first
    // freezeSamples updates of an alarm, and from 2^-(slowShift + 3) after that, faster by a step per ramp.
    let ss = n < cal ? schedule(n, this.slowShift) : !this.alarm ? this.slowShift : this.#alarmShift(s[sc + 3]!);
    if (n >= cal) {
      const recovery = this.#recovery;
      // Settling at the end of an episode: every baseline follows faster.
      if (recovery && !this.alarm && s[this.#normal + p + 3]! > 0) ss = this.#settleShift;
      // Scoring: filters, standardisation and the score in one pass per channel (what the general path below does).
      this.#filterStandardise(values, validMask, fs, ss);
      if (n < 0x40000000) s[sc] = n + 1;
      this.changePoint = false;
      return this.#scoreAndAlarm(recovery);
    }
    const ws = schedule(n, 30);
    for (let c = 0; c < p; c++) {
      if (((validMask >> c) & 1) === 0) continue;
      let x = values[c]! | 0;
      if (x > X_MAX) x = X_MAX;
      else if (x < -X_MAX) x = -X_MAX;
      const xq8 = x << 8;
      if (n === 0) {
        s[fastBase + c] = xq8;
        s[slowBase + c] = xq8;
        s[meanBase + c] = xq8;
        s[varBase + c] = 0;
        continue;
      }
      s[fastBase + c] = (s[fastBase + c]! + ((xq8 - s[fastBase + c]!) >> fs)) | 0;
      if (ss >= 0) s[slowBase + c] = (s[slowBase + c]! + ((xq8 - s[slowBase + c]!) >> ss)) | 0;
      if (n < warm) {
        s[meanBase + c] = (s[meanBase + c]! + ((xq8 - s[meanBase + c]!) >> ws)) | 0;
        let d = (xq8 - s[meanBase + c]!) >> 8;
        if (d > SAT) d = SAT;
        else if (d < -SAT) d = -SAT;
        s[varBase + c] = (s[varBase + c]! + ((d * d - s[varBase + c]!) >> ws)) | 0;
      }
    }
    if (n < 0x40000000) s[sc] = n + 1;
    this.changePoint = false;
    if (n < warm) {
      if (n === warm - 1) this.#finishWarmup();
      return false;
    }
    // Calibrating (every later update took the scoring path above).
    this.#standardise();
    this.#accumulate(n - warm);
    if (n === cal - 1) this.#finishCalibration();
    return false;
  }

  /** The baseline's shift after `k` updates in alarm: −1 (frozen), then slowShift + 3 falling by one per ramp to fastShift. */
  #alarmShift(k: number): number {
    if (k < this.#freeze) return -1;
    let sh = this.slowShift + 3;
    if (this.#rampShift >= 0) {
      sh -= (k - this.#freeze) >> this.#rampShift;
      if (sh < this.fastShift) sh = this.fastShift;
    }
    return sh;
  }

  /**
   * Scores #u; with recovery, the episode (its channels, the recovery test, its bound; outside one the copy follows the
   * baseline); the alarm's hysteresis (`raise`: the score at `on` and, in an episode, its channels not back, for
   * `hold` updates in a row; the score under `off` for `clear` updates in a row clears it); the change-point test.
   * One method for both models, the hysteresis inline: a call per update costs the plain model ~5 instructions a frame.
   */
  #scoreAndAlarm(recovery: boolean): boolean {
    const s = this.#s,
      sc = this.#scalars;
    this.#score();
    const previous = this.alarm;
    const within = recovery && this.#episodeBack();
    const run = (this.alarm ? this.score < this.#offQ8 : this.score >= this.#onQ8 && !within) ? s[sc + 2]! + 1 : 0;
    if (run >= (this.alarm ? this.#clear : this.#hold)) {
      this.alarm = !this.alarm;
      s[sc + 2] = 0;
    } else s[sc + 2] = run;
    if (recovery) this.#episode();
    s[sc + 1] = this.alarm ? 1 : 0;
    s[sc + 3] = this.alarm ? (s[sc + 3]! < 0x3fffffff ? s[sc + 3]! + 1 : s[sc + 3]!) : 0;
    this.changePoint = this.#pageHinkley(this.alarm !== previous);
    return this.alarm;
  }

  /** With recovery, before the hysteresis: in an episode, whether its channels are back (and the run of that); outside
   *  one, the copy follows the baseline. */
  #episodeBack(): boolean {
    const s = this.#s,
      p = this.channels,
      nb = this.#normal,
      ep = nb + p;
    if (s[ep]! > 0) {
      // The named channels' distance from their copy, standardised as the score's inputs are; and in their own units
      // against the largest of the episode.
      const within = this.#recovered(s[ep + 2]!);
      s[ep + 1] = within ? s[ep + 1]! + 1 : 0;
      return within;
    }
    this.recoveryScore = 0;
    const slowBase = this.#slow;
    for (let c = 0; c < p; c++) s[nb + c] = s[slowBase + c]!;
    return false;
  }

  /** With recovery, after the hysteresis: an alarm opens an episode; an open one names channels, recovers, settles or
   *  ends at its bound. */
  #episode(): void {
    const s = this.#s,
      sc = this.#scalars,
      p = this.channels,
      nb = this.#normal,
      ep = nb + p,
      fastBase = this.#fast,
      slowBase = this.#slow;
    let mask = s[ep + 2]!;
    if (s[ep]! > 0) {
      if (this.alarm && s[ep]! <= 16) mask |= this.#named();
      let close = false;
      if (s[ep + 3]! > 0) {
        // Settling: raised again (the named channels left the level), the episode goes on; else count down to its end.
        if (this.alarm) s[ep + 3] = 0;
        else {
          s[ep + 3] = s[ep + 3]! - 1;
          close = s[ep + 3] === 0;
        }
      }
      if (!close) {
        if (s[ep + 1]! >= this.#recoverRun && s[ep + 3]! === 0) {
          // The cause has ended: the named channels' baselines go back to where they were before the episode (or to
          // where the machine runs now); the alarm clears, then the machine settles.
          const from = this.#toCurrent ? fastBase : nb;
          for (let c = 0; c < p; c++) if (((mask >> c) & 1) !== 0) s[slowBase + c] = s[from + c]!;
          if (this.#settleRun > 0) {
            this.alarm = false;
            s[sc + 2] = 0;
            s[ep + 3] = this.#settleRun;
            s[ep] = s[ep]! + 1;
          } else close = true;
        } else if (this.#episodeMax > 0 && s[ep]! >= this.#episodeMax && s[ep + 3]! === 0) {
          // Bounded (settling has its own length): what the machine does now is its new normal.
          for (let c = 0; c < p; c++) if (((mask >> c) & 1) !== 0) s[slowBase + c] = s[fastBase + c]!;
          close = true;
        } else s[ep] = s[ep]! + 1;
      }
      if (close) {
        this.alarm = false;
        s[sc + 2] = 0;
        s[ep] = 0;
        s[ep + 1] = 0;
        mask = 0;
      }
    } else if (this.alarm) {
      // A new episode: its channels, and their largest distances from the copy so far.
      s[ep] = 1;
      s[ep + 1] = 0;
      mask = this.#named();
      for (let c = 0; c < p; c++) s[ep + 4 + c] = 0;
    }
    s[ep + 2] = mask;
  }

  /** The top channel and any other that contributes at least T² / 2^namedShift. */
  #named(): number {
    const p = this.channels,
      least = this.t2 >> this.#namedShift,
      contrib = this.contributions;
    let mask = this.top[0]! < 32 ? 1 << this.top[0]! : 0;
    for (let c = 0; c < p; c++) if (contrib[c]! > 0 && contrib[c]! >= least) mask |= 1 << c;
    return mask;
  }

  /**
   * Whether every channel in `mask` is back: its fast filter within recoveryLevel of the copy (|z| with the score's
   * gains), or (returnShift) within 2^-returnShift of the largest distance it reached in the episode, in its own
   * units. Sets recoveryScore to the largest |z| (Q8).
   */
  #recovered(mask: number): boolean {
    const s = this.#s,
      adapt = this.#adapt,
      base = this.#normal,
      peaks = base + this.channels + 4,
      rs = this.#returnShift;
    let far = 0,
      back = true;
    for (let c = 0; c < this.channels; c++) {
      if (((mask >> c) & 1) === 0) continue;
      const raw = (s[this.#fast + c]! - s[base + c]!) | 0;
      let d = raw >> s[this.#shift + c]!;
      const lim = s[this.#sig + c]! << 5;
      if (d > lim) d = lim;
      else if (d < -lim) d = -lim;
      let z = (d * s[this.#mant + c]!) >> 14;
      if (z > 0x3fff) z = 0x3fff;
      else if (z < -0x3fff) z = -0x3fff;
      z = (z * s[this.#gain + c]!) >> 12;
      if (z > Q15) z = Q15;
      else if (z < -Q15) z = -Q15;
      if (adapt > 0) z = (z * s[this.#mean + c]!) >> 12;
      if (z < 0) z = -z;
      if (z > far) far = z;
      // |fast − copy| in Q8 units (both below 2^30 in magnitude), and the episode's largest.
      const mag = raw < 0 ? -raw : raw;
      if (mag > s[peaks + c]!) s[peaks + c] = mag;
      if (z >= this.#levelQ10 && (rs === 0 || mag > s[peaks + c]! >> rs)) back = false;
    }
    this.recoveryScore = far >> 2;
    return back;
  }

  /** Two-sided Page–Hinkley on log2(1 + score); `edge` (an alarm edge) also counts; one change per refractory period. */
  #pageHinkley(edge: boolean): boolean {
    const s = this.#s,
      sc = this.#scalars;
    // log2(1 + score) in Q8 from T² (not the score, which saturates at 256): log2(T² + p) − log2(p), both Q10.
    const l = (log2Q8(this.t2 + (this.channels << 10)) - this.#logP) | 0;
    if (s[sc + 8] === 0) {
      s[sc + 4] = l << 8;
      s[sc + 8] = 1;
    }
    const m = s[sc + 4]! >> 8;
    let up = (s[sc + 5]! + l - m - this.#deltaQ8) | 0,
      down = (s[sc + 6]! + m - l - this.#deltaQ8) | 0;
    if (up < 0) up = 0;
    if (down < 0) down = 0;
    s[sc + 4] = (s[sc + 4]! + (((l << 8) - s[sc + 4]!) >> 5)) | 0;
    let left = s[sc + 7]!;
    if (left > 0) left--;
    let change = false;
    if (edge) {
      change = left === 0;
      left = this.#refractory;
    }
    if (up > this.#lambdaQ8 || down > this.#lambdaQ8) {
      if (left === 0) change = true;
      left = this.#refractory;
      up = 0;
      down = 0;
      s[sc + 4] = l << 8;
    }
    s[sc + 5] = up;
    s[sc + 6] = down;
    s[sc + 7] = left;
    return change;
  }

  /** Per channel σ from the warm-up variance, as a shift and a 16-bit reciprocal mantissa. */
  #finishWarmup(): void {
    const s = this.#s;
    for (let c = 0; c < this.channels; c++) {
      let sd = isqrt(s[this.#var + c]!);
      if (sd < this.#floor[c]!) sd = this.#floor[c]!;
      const sq8 = sd << 8; // < 2^24
      const shift = bitLength(sq8) - 9;
      s[this.#shift + c] = shift;
      s[this.#sig + c] = sq8 >> shift;
      s[this.#mant + c] = udivSat16(1 << 24, sq8 >> shift);
    }
  }

  /**
   * update() after calibration: the fast and slow filters of each valid channel, z_q10 as #standardise computes it, times
   * the channel's gain and (adaptation on) 1/√va, into #u; from locals (a typed-array element costs XS about as much as
   * ten arithmetic operations).
   */
  #filterStandardise(values: Int32Array, validMask: number, fs: number, ss: number): void {
    const s = this.#s,
      u = this.#u,
      p = this.channels;
    const fastBase = this.#fast,
      slowBase = this.#slow,
      shiftBase = this.#shift,
      sigBase = this.#sig,
      mantBase = this.#mant;
    const gainBase = this.#gain,
      vaBase = this.#var,
      iaBase = this.#mean,
      adapt = this.#adapt,
      learn = adapt > 0 && !this.alarm;
    let c = 0,
      x: number,
      f: number,
      sl: number,
      d: number,
      lim: number,
      z: number,
      zz: number,
      va: number;
    for (; c < p; c++) {
      f = s[fastBase + c]!;
      sl = s[slowBase + c]!;
      if (((validMask >> c) & 1) !== 0) {
        x = values[c]! | 0;
        if (x > X_MAX) x = X_MAX;
        else if (x < -X_MAX) x = -X_MAX;
        x = x << 8;
        f = (f + ((x - f) >> fs)) | 0;
        s[fastBase + c] = f;
        if (ss >= 0) {
          sl = (sl + ((x - sl) >> ss)) | 0;
          s[slowBase + c] = sl;
        }
      }
      d = ((f - sl) | 0) >> s[shiftBase + c]!;
      lim = s[sigBase + c]! << 5;
      if (d > lim) d = lim;
      else if (d < -lim) d = -lim;
      z = (d * s[mantBase + c]!) >> 14;
      if (z > 0x3fff) z = 0x3fff;
      else if (z < -0x3fff) z = -0x3fff;
      z = (z * s[gainBase + c]!) >> 12; // |z| < 2^14, gain ≤ 2^16: product < 2^30
      if (z > Q15) z = Q15;
      else if (z < -Q15) z = -Q15;
      if (adapt > 0) {
        if (learn) {
          zz = z > 4096 || z < -4096 ? 0x100000 : (z * z) >> 4; // min(z², 16) in Q16
          va = s[vaBase + c]!;
          va = (va + ((zz - va) >> adapt)) | 0;
          s[vaBase + c] = va < 0x10000 ? 0x10000 : va;
        }
        z = (z * s[iaBase + c]!) >> 12; // ia ≤ 2^12: product < 2^27
      }
      u[c] = z;
    }
    if (adapt > 0) {
      // 1 / sqrt(va) for one channel per update (va moves by at most 2^-adaptShift of its range per update).
      c = s[this.#scalars]! % p;
      s[iaBase + c] = udivFrac(1, isqrt(s[vaBase + c]!), 20); // 2^20 / sqrt(va_q16)(Q8) = Q12
    }
  }

  /** z_q10 into #u during calibration (after it, #filterStandardise does this and applies the gains). */
  #standardise(): void {
    const s = this.#s,
      u = this.#u;
    for (let c = 0; c < this.channels; c++) {
      const shift = s[this.#shift + c]!;
      let d = ((s[this.#fast + c]! - s[this.#slow + c]!) | 0) >> shift;
      const lim = s[this.#sig + c]! << 5; // ±32σ
      if (d > lim) d = lim;
      else if (d < -lim) d = -lim;
      u[c] = (d * s[this.#mant + c]!) >> 14; // |d| ≤ 32·511, mant ≤ 65535: product < 2^30
    }
  }

  /** Running second moments of z during calibration (EWMA with the running-average schedule). */
  #accumulate(nb: number): void {
    const s = this.#s,
      u = this.#u,
      k = schedule(nb, 30);
    let t = this.#tri;
    for (let i = 0; i < this.channels; i++) {
      const ui = u[i]!;
      for (let j = 0; j <= i; j++, t++) {
        const prod = (ui * u[j]!) >> 2; // |z| ≤ 2^15: |product| ≤ 2^30, Q20 → Q18
        s[t] = (s[t]! + ((prod - s[t]!) >> k)) | 0;
      }
    }
  }

  /**
   * Normalises the second moments (per channel: to correlations; global: by the largest variance), adds the ridge,
   * factors the matrix in place (Q18 → Q13) and stores 1/l_ii and the gains; starts the sensitivity adaptation.
   */
  #finishCalibration(): void {
    const s = this.#s,
      p = this.channels,
      tri = this.#tri,
      gainBase = this.#gain;
    let gmax = 1,
      sum = 0;
    for (let i = 0; i < p; i++) {
      let d = s[tri + ((i * (i + 1)) >> 1) + i]!;
      if (d >= 0x40000000) d = 0x3fffffff;
      if (d > gmax) gmax = d;
      sum = (sum + (d >> 5)) | 0;
      // sd_i = sqrt(C_ii) in Q9, at least 2^5 (a gain of at most 16); the gain 1/sd in Q12.
      let sd = isqrt(d);
      if (sd < 32) sd = 32;
      s[gainBase + i] = sd; // kept as sd until the normalisation below is done
    }
    let ridgeQ26: number;
    if (this.#perChannel) {
      ridgeQ26 = this.#ridgeQ16 << 10; // correlation units: ≤ 2^26
    } else {
      // One gain for every channel, from the largest variance (the same floor: at most 16).
      let root = isqrt(gmax); // sqrt(Q18) = Q9
      if (root < 32) root = 32;
      for (let i = 0; i < p; i++) s[gainBase + i] = root;
      const meanDiag = udivFrac(sum, p, 5); // Q18
      const ratioQ12 = udivFrac(meanDiag < gmax ? meanDiag : gmax, gmax, 12); // mean/max diag ≤ 1
      ridgeQ26 = ((ratioQ12 * this.#ridgeQ16) >> 2) | 0; // Q12·Q16 = Q28 → Q26; ≤ 2^28 / 4
    }
    if (ridgeQ26 < 1) ridgeQ26 = 1;
    const minPivot = ridgeQ26 >> 1 > 1 << 18 ? ridgeQ26 >> 1 : 1 << 18; // ≥ 2^-8: keeps invl < 2^16
    // a_q26 = C_ij / (sd_i·sd_j) (sd ≤ 2^15: the product < 2^30) or C_ij / gmax, saturated at 2, plus the ridge.
    for (let i = 0, t = tri; i < p; i++) {
      for (let j = 0; j <= i; j++, t++) {
        const v = s[t]!,
          den = this.#perChannel ? s[gainBase + i]! * s[gainBase + j]! : gmax;
        const mag = udivFrac(v < 0 ? -v : v, den, 26);
        let a = mag > 0x8000000 ? 0x8000000 : mag;
        if (v < 0) a = -a;
        if (i === j) a = (a + ridgeQ26) | 0;
        s[t] = a;
      }
    }
    for (let i = 0; i < p; i++) {
      s[gainBase + i] = udivFrac(1, s[gainBase + i]!, 21); // 2^21 / sd_q9 = (1/sd) in Q12, ≤ 2^16
      s[this.#var + i] = 0x10000; // va = 1: the warm-up's variance and mean are no longer needed
      s[this.#mean + i] = 0x1000; // ia = 1
    }
    // Cholesky–Banachiewicz, row by row, in place: l_ij (Q13) replaces a_ij (Q26).
    for (let i = 0; i < p; i++) {
      const ri = tri + ((i * (i + 1)) >> 1);
      for (let j = 0; j <= i; j++) {
        const rj = tri + ((j * (j + 1)) >> 1);
        let acc = s[ri + j]!; // Q26
        for (let k = 0; k < j; k++) acc = (acc - ((s[ri + k]! * s[rj + k]!) | 0)) | 0; // |l| ≤ 2^14.1: products < 2^28.2
        if (i === j) {
          if (acc < minPivot) acc = minPivot;
          const l = isqrt(acc);
          s[ri + i] = l;
          s[this.#invl + i] = udivFrac(1, l, 25); // 2^25 / l_q13 = (1/l) in Q12
        } else {
          const ljj = s[rj + j]!,
            mag = udivFrac(acc < 0 ? -acc : acc, ljj, 0);
          const l = mag > 0x4000 ? 0x4000 : mag; // |l_ij| ≤ sqrt(a_ii) ≤ ~1.05: saturate at 2.0
          s[ri + j] = acc < 0 ? -l : l;
        }
      }
    }
  }

  /**
   * Forward solve, T², score, back solve for the contributions, top channels. Both solves take two rows per pass, so
   * each y_k (w_k) is read once for two products; the sums are exact int32 (mod 2^32, so their order does not matter).
   */
  #score(): void {
    const s = this.#s,
      p = this.channels,
      tri = this.#tri,
      invl = this.#invl;
    const u = this.#u,
      y = this.#y,
      w = this.#w,
      contrib = this.contributions;
    let t2 = 0,
      i = 0,
      k: number,
      ri: number,
      r: number,
      r1 = 0,
      yk: number,
      yi: number,
      t: number;
    // Forward: rows i and i + 1 (row i starts at tri + i(i + 1)/2, row i + 1 right after it).
    for (; i < p; i += 2) {
      ri = tri + ((i * (i + 1)) >> 1);
      r = u[i]!;
      if (i + 1 < p) {
        r1 = u[i + 1]!;
        for (k = 0; k < i; k++) {
          yk = y[k]!;
          r = (r - ((s[ri + k]! * yk) >> 13)) | 0; // |l| ≤ 2^14, |y| ≤ 2^15: < 2^29
          r1 = (r1 - ((s[ri + i + 1 + k]! * yk) >> 13)) | 0;
        }
      } else {
        for (k = 0; k < i; k++) r = (r - ((s[ri + k]! * y[k]!) >> 13)) | 0;
      }
      if (r > Q15) r = Q15;
      else if (r < -Q15) r = -Q15;
      yi = (r * s[invl + i]!) >> 12; // |r| ≤ 2^15, invl < 2^16: < 2^31
      if (yi > Q15) yi = Q15;
      else if (yi < -Q15) yi = -Q15;
      y[i] = yi;
      t2 = (t2 + ((yi * yi) >> 10)) | 0;
      if (i + 1 < p) {
        r = (r1 - ((s[ri + i + 1 + i]! * yi) >> 13)) | 0;
        if (r > Q15) r = Q15;
        else if (r < -Q15) r = -Q15;
        yi = (r * s[invl + i + 1]!) >> 12;
        if (yi > Q15) yi = Q15;
        else if (yi < -Q15) yi = -Q15;
        y[i + 1] = yi;
        t2 = (t2 + ((yi * yi) >> 10)) | 0;
      }
    }
    this.t2 = t2;
    this.score = udivSat16(t2, p << 2); // (T²/p) in Q8
    // w = L⁻ᵀ y = A⁻¹ u; contribution_i = u_i · w_i. Columns i and i − 1 of L, rows k > i (row k starts at tri + k(k + 1)/2).
    for (i = p - 1; i >= 0; i -= 2) {
      r = y[i]!;
      t = tri + (((i + 1) * (i + 2)) >> 1);
      if (i > 0) {
        r1 = y[i - 1]!;
        for (k = i + 1; k < p; k++) {
          yk = w[k]!;
          r = (r - ((s[t + i]! * yk) >> 13)) | 0;
          r1 = (r1 - ((s[t + i - 1]! * yk) >> 13)) | 0;
          t += k + 1;
        }
      } else {
        for (k = i + 1; k < p; k++) {
          r = (r - ((s[t + i]! * w[k]!) >> 13)) | 0;
          t += k + 1;
        }
      }
      if (r > Q15) r = Q15;
      else if (r < -Q15) r = -Q15;
      yi = (r * s[invl + i]!) >> 12;
      if (yi > Q15) yi = Q15;
      else if (yi < -Q15) yi = -Q15;
      w[i] = yi;
      contrib[i] = (u[i]! * yi) >> 10;
      if (i > 0) {
        r = (r1 - ((s[tri + ((i * (i + 1)) >> 1) + i - 1]! * yi) >> 13)) | 0;
        if (r > Q15) r = Q15;
        else if (r < -Q15) r = -Q15;
        yi = (r * s[invl + i - 1]!) >> 12;
        if (yi > Q15) yi = Q15;
        else if (yi < -Q15) yi = -Q15;
        w[i - 1] = yi;
        contrib[i - 1] = (u[i - 1]! * yi) >> 10;
      }
    }
    const top = this.top;
    for (let j = 0; j < top.length; j++) {
      let best = -1,
        bestValue = 0;
      for (let c = 0; c < p; c++) {
        if (contrib[c]! <= bestValue) continue;
        let taken = false;
        for (let q = 0; q < j; q++) if (top[q] === c) taken = true;
        if (!taken) {
          best = c;
          bestValue = contrib[c]!;
        }
      }
      top[j] = best < 0 ? 255 : best;
    }
  }

  /** Forgets everything learned and starts calibrating again. */
  reset(): void {
    this.#s.fill(0);
    this.#u.fill(0);
    this.#y.fill(0);
    this.#w.fill(0);
    this.contributions.fill(0);
    this.top.fill(255);
    this.score = 0;
    this.t2 = 0;
    this.alarm = false;
    this.changePoint = false;
    this.recoveryScore = 0;
  }

  /** The learned state as bytes: header (magic, version, shape, options that give it meaning), int32 payload, checksum. */
  exportState(): Uint8Array {
    const s = this.#s;
    const bytes = new Uint8Array(HEADER + s.length * 4 + 4);
    const view = new DataView(bytes.buffer);
    this.#header(view, s.length);
    for (let i = 0; i < s.length; i++) view.setInt32(HEADER + i * 4, s[i]!, true);
    view.setUint32(bytes.length - 4, checksum(bytes, bytes.length - 4), true);
    return bytes;
  }

  /** Restores a state made by exportState() of a detector with the same channels and learning options; throws otherwise. */
  importState(bytes: Uint8Array): void {
    const s = this.#s;
    const fail = (why: string): never => {
      throw new RangeError("MultivariateDetector.importState: " + why);
    };
    if (!(bytes instanceof Uint8Array)) fail("expected a Uint8Array");
    if (bytes.length !== HEADER + s.length * 4 + 4)
      fail("expected " + (HEADER + s.length * 4 + 4) + " bytes, got " + bytes.length);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint32(0, true) !== MAGIC) fail("not a detector state (bad magic)");
    if (view.getUint8(4) !== VERSION) fail("unsupported version " + view.getUint8(4));
    if (view.getUint32(bytes.length - 4, true) !== checksum(bytes, bytes.length - 4))
      fail("checksum mismatch (corrupt image)");
    const expected = new Uint8Array(HEADER);
    this.#header(new DataView(expected.buffer), s.length);
    for (let i = 5; i < HEADER; i++)
      if (bytes[i] !== expected[i]) fail("made with different channels or learning options (header byte " + i + ")");
    for (let i = 0; i < s.length; i++) s[i] = view.getInt32(HEADER + i * 4, true);
    this.alarm = s[this.#scalars + 1] === 1;
    this.changePoint = false;
    this.score = 0;
    this.t2 = 0;
  }

  #header(view: DataView, words: number): void {
    view.setUint32(0, MAGIC, true);
    view.setUint8(4, VERSION);
    view.setUint8(5, this.channels);
    view.setUint8(6, this.fastShift);
    view.setUint8(7, this.slowShift);
    view.setUint32(8, this.calibrationSamples, true);
    view.setUint32(12, this.warmupSamples, true);
    view.setUint32(16, this.#ridgeQ16, true);
    view.setUint32(20, words, true);
    view.setUint8(24, this.#perChannel ? 1 : 0);
    view.setUint8(25, this.#adapt);
    view.setUint8(26, this.#recovery ? 1 : 0);
  }
}

/** FNV-1a over the first `length` bytes. */
function checksum(bytes: Uint8Array, length: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(MultivariateDetector.prototype);
