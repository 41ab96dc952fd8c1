// First Telltale detector: per-channel streaming z-score on integers (EWMA mean and variance), with hysteresis.
import { isqrt, udivSat16 } from "telltale/detector/fixed";

// Fixed-point formats (per channel; inputs are int32 in the channel's own unit, e.g. 0.01 °C):
//   x         input clamped to ±2^22 units so x × 2^8 stays in int32
//   mean_q8   mean in input units × 2^8 (Q23.8), so slow means keep a fraction of a unit
//   var_q0    EWMA of squared deviation, input units² (Q31.0), deviations saturated to ±46340 so d² < 2^31
//   score_q8  |z| × 2^8, saturated at 65535 (z ≈ 256)
// The EWMA weights are 2^-alphaShift (mean) and 2^-varianceShift (variance). During calibration the weight starts at 1 and halves as samples
// accumulate (1, 1/2, 1/4 … down to 2^-alphaShift), which approximates a running average.

export interface ZScoreOptions {
  /** Number of channels (1–32). */
  channels: number;
  /** Samples used to learn the baseline before any alarm (default 30). */
  calibrationSamples?: number;
  /** EWMA weight of the mean, 2^-alphaShift (default 5: about 32 samples of memory). */
  alphaShift?: number;
  /**
   * EWMA weight of the variance, 2^-varianceShift (default alphaShift + 3): the spread of "normal" is
   * learned over a longer horizon than the mean, so a drift stands out before the spread absorbs it.
   */
  varianceShift?: number;
  /** Raise the alarm when |z| ≥ on (default 6) for `holdSamples` samples in a row (default 2). */
  on?: number;
  holdSamples?: number;
  /** Clear it when |z| < off (default 3) for `clearSamples` samples in a row (default 3). */
  off?: number;
  clearSamples?: number;
  /** Smallest standard deviation per channel, in input units (default 1): a quiet sensor is not infinitely sensitive. */
  floor?: number | readonly number[];
}

const SAT = 46340; // largest |d| with d² < 2^31
const X_MAX = 0x3fffff; // |x| < 2^22 units: x·2^8 and (x·2^8 − mean_q8) stay in int32

function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || value !== Math.floor(value) || value < min || value > max)
    throw new RangeError(
      'ZScore: option "' + name + '" must be an integer ' + min + "–" + max + ", got " + String(value),
    );
  return value;
}

function threshold(name: string, value: unknown): number {
  // At most 64 so that sd × threshold_q8 < 46340 × 2^14 < 2^31.
  if (typeof value !== "number" || !(value > 0) || value > 64)
    throw new RangeError('ZScore: option "' + name + '" must be a number above 0 and at most 64, got ' + String(value));
  return Math.round(value * 256); // Q8
}

export class ZScoreDetector {
  readonly channels: number;
  readonly calibrationSamples: number;
  readonly alphaShift: number;
  readonly varianceShift: number;
  #onQ8: number;
  #offQ8: number;
  #hold: number;
  #clear: number;

  /** Per-channel state, allocated once: [mean_q8, var_q0, floor] × channels. */
  readonly #state: Int32Array;
  /** Per-channel last score (Q8), for reporting which channels contributed. */
  readonly scores: Uint16Array;
  #count = 0;
  #run = 0;
  /** Current alarm state and the score (Q8) and channel of the latest update. */
  alarm = false;
  score = 0;
  channel = -1;

  constructor(options: ZScoreOptions) {
    this.channels = integer("channels", options?.channels, 1, 32);
    this.calibrationSamples = integer("calibrationSamples", options.calibrationSamples ?? 30, 2, 1_000_000);
    this.alphaShift = integer("alphaShift", options.alphaShift ?? 5, 1, 12);
    this.varianceShift = integer("varianceShift", options.varianceShift ?? this.alphaShift + 3, 1, 15);
    this.#onQ8 = this.#offQ8 = this.#hold = this.#clear = 0;
    this.setThresholds({
      on: options.on ?? 6,
      off: options.off ?? 3,
      holdSamples: options.holdSamples ?? 2,
      clearSamples: options.clearSamples ?? 3,
    });
    const floor = options.floor ?? 1;
    const floors: readonly number[] = typeof floor === "number" ? new Array(this.channels).fill(floor) : floor;
    if (!Array.isArray(floors) || floors.length !== this.channels)
      throw new RangeError('ZScore: option "floor" must be a number or one number per channel');
    this.#state = new Int32Array(this.channels * 3);
    this.scores = new Uint16Array(this.channels);
    for (let c = 0; c < this.channels; c++) this.#state[c * 3 + 2] = integer("floor[" + c + "]", floors[c], 1, 65535);
  }

  /**
   * The alarm's thresholds and runs, changed while running (a remote configuration change): what is learned is kept.
   * Checked as the constructor checks them; nothing changes when one is refused.
   */
  setThresholds(t: { on: number; off: number; holdSamples: number; clearSamples: number }): void {
    const on = threshold("on", t.on),
      off = threshold("off", t.off);
    if (off > on) throw new RangeError('ZScore: option "off" must not exceed "on"');
    const hold = integer("holdSamples", t.holdSamples, 1, 1000),
      clear = integer("clearSamples", t.clearSamples, 1, 1000);
    this.#onQ8 = on;
    this.#offQ8 = off;
    this.#hold = hold;
    this.#clear = clear;
  }

  get calibrated(): boolean {
    return this.#count >= this.calibrationSamples;
  }
  get samples(): number {
    return this.#count;
  }
  /** Bytes of state held per detector (typed arrays only). */
  get stateBytes(): number {
    return this.#state.byteLength + this.scores.byteLength;
  }

  /**
   * Feeds one sample vector (int32 per channel, in each channel's unit). Channels whose bit is clear
   * in `validMask` are skipped (a sensor that failed this round). Returns the alarm state. Allocates nothing.
   */
  update(values: Int32Array, validMask = -1): boolean {
    const state = this.#state;
    const calibrating = this.#count < this.calibrationSamples;
    // Calibration: weight 2^-shift with 2^shift ≤ count+1, capped at alphaShift.
    let shift = this.alphaShift,
      vshift = this.varianceShift;
    if (calibrating) {
      shift = 0;
      while (shift < this.alphaShift && 2 << shift <= this.#count + 1) shift++;
      vshift = shift;
    } else if (this.alarm) {
      shift += 4; // adapt 16× slower while in alarm, so a fault is not learned as normal at once
      vshift += 4;
    }
    let best = 0,
      bestChannel = -1;
    for (let c = 0; c < this.channels; c++) {
      if (((validMask >> c) & 1) === 0) {
        this.scores[c] = 0;
        continue;
      }
      const i = c * 3;
      let x = values[c]! | 0;
      if (x > X_MAX) x = X_MAX;
      else if (x < -X_MAX) x = -X_MAX;
      if (this.#count === 0) {
        state[i] = x << 8;
        state[i + 1] = 0;
        this.scores[c] = 0;
        continue;
      }
      const dq8 = ((x << 8) - state[i]!) | 0; // deviation from the mean, Q8
      let d = dq8 >> 8;
      if (d > SAT) d = SAT;
      else if (d < -SAT) d = -SAT;
      let sd = isqrt(state[i + 1]!);
      if (sd < state[i + 2]!) sd = state[i + 2]!;
      const score = calibrating ? 0 : udivSat16((d < 0 ? -d : d) << 8, sd);
      this.scores[c] = score;
      if (score > best) {
        best = score;
        bestChannel = c;
      }
      // Winsorised update: a deviation beyond the alarm threshold moves the baseline only as far as the threshold.
      let uq8 = dq8,
        du = d;
      if (!calibrating) {
        const lim = (sd * this.#onQ8) >> 8;
        if (du > lim) du = lim;
        else if (du < -lim) du = -lim;
        const limQ8 = lim << 8;
        if (uq8 > limQ8) uq8 = limQ8;
        else if (uq8 < -limQ8) uq8 = -limQ8;
      }
      state[i] = (state[i]! + (uq8 >> shift)) | 0;
      state[i + 1] = (state[i + 1]! + ((du * du - state[i + 1]!) >> vshift)) | 0;
    }
    this.#count++;
    this.score = best;
    this.channel = bestChannel;
    if (calibrating) return this.alarm;
    if (!this.alarm) {
      this.#run = best >= this.#onQ8 ? this.#run + 1 : 0;
      if (this.#run >= this.#hold) {
        this.alarm = true;
        this.#run = 0;
      }
    } else {
      this.#run = best < this.#offQ8 ? this.#run + 1 : 0;
      if (this.#run >= this.#clear) {
        this.alarm = false;
        this.#run = 0;
      }
    }
    return this.alarm;
  }

  /** Forgets the baseline and starts calibrating again. */
  reset(): void {
    for (let c = 0; c < this.channels; c++) {
      this.#state[c * 3] = 0;
      this.#state[c * 3 + 1] = 0;
    }
    this.scores.fill(0);
    this.#count = 0;
    this.#run = 0;
    this.alarm = false;
    this.score = 0;
    this.channel = -1;
  }

  /** The learned mean of channel `c`, in its input unit ×256 (Q8). */
  meanQ8(c: number): number {
    return this.#state[c * 3]!;
  }
  /** The learned variance of channel `c`, in its input unit². */
  variance(c: number): number {
    return this.#state[c * 3 + 1]!;
  }
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(ZScoreDetector.prototype);
