// The detector the configuration chooses, behind one small interface the app uses.
import { ZScoreDetector } from "telltale/detector/zscore";
import { MultivariateDetector } from "telltale/detector/multivariate";
import { NoveltyDetector } from "telltale/detector/novelty";

/** "novelty" (the univariate model, novelty.ts) is for a device with one slow channel. */
export type DetectorModel = "zscore" | "multivariate" | "novelty";

export interface DetectorSettings {
  model: DetectorModel;
  calibrationSamples: number;
  on: number;
  off: number;
  holdSamples: number;
  clearSamples: number;
  /** z-score only: EWMA weight of the mean, 2^-alphaShift. */
  alphaShift: number;
}

/** What the app needs from a detector; both models update in place and allocate nothing per sample. */
export interface Detector {
  readonly model: DetectorModel;
  update(values: Int32Array, validMask: number): boolean;
  readonly alarm: boolean;
  readonly calibrated: boolean;
  /** Score in Q8 (1.0 = 256): |z| for the z-score, T²/channels for the multivariate model, the likelihood (standard
   *  deviations of the short score above its long-run mean) for the novelty model. */
  readonly score: number;
  /** The alarm's thresholds in the score's units, as configured: raised at `on`, cleared at `off`. */
  readonly on: number;
  readonly off: number;
  /** Updates learned so far, and how many the calibration takes (its progress while `calibrated` is false). */
  readonly samples: number;
  readonly calibrationSamples: number;
  /** The channel contributing most to the latest score, or -1. */
  topChannel(): number;
  /** True on the update where a change point was detected (multivariate), or a detection (novelty). */
  readonly changePoint: boolean;
  /** The learned baseline as bytes, and back (multivariate and novelty; undefined / throws for the z-score). */
  exportState(): Uint8Array | undefined;
  importState(bytes: Uint8Array): void;
  /** Forgets the learned baseline and calibrates again. */
  reset(): void;
  /** Changes `on`, `off`, `holdSamples` and `clearSamples` while running, keeping what was learned (or throws). */
  setThresholds?(thresholds: DetectorThresholds): void;
}

/** The settings a detector takes while running (a remote configuration change, src/remote-config.ts). */
export type DetectorThresholds = Pick<DetectorSettings, "on" | "off" | "holdSamples" | "clearSamples">;

/** Defaults that differ by model (the multivariate score is T²/channels, not |z|). */
export const DETECTOR_DEFAULTS: Readonly<Record<DetectorModel, Omit<DetectorSettings, "model">>> = Object.freeze({
  zscore: Object.freeze({ calibrationSamples: 30, on: 6, off: 3, holdSamples: 2, clearSamples: 3, alphaShift: 5 }),
  // off and clearSamples chosen with the recovery by bench/cv/recovery.mjs (leave-one-file-out, 15 of 16 folds).
  multivariate: Object.freeze({
    calibrationSamples: 400,
    on: 5,
    off: 2,
    holdSamples: 1,
    clearSamples: 3,
    alphaShift: 5,
  }),
  // on = the novelty model's threshold (fixed in advance, as bench:nab scores it); a detection raises the alarm and
  // it clears after clearSamples updates without one (holdSamples and off do not apply).
  novelty: Object.freeze({ calibrationSamples: 400, on: 2, off: 1, holdSamples: 1, clearSamples: 60, alphaShift: 5 }),
});

class ZScoreAdapter implements Detector {
  readonly model = "zscore" as const;
  readonly changePoint = false;
  on: number;
  off: number;
  readonly #d: ZScoreDetector;
  constructor(d: ZScoreDetector, settings: DetectorSettings) {
    this.#d = d;
    this.on = settings.on;
    this.off = settings.off;
  }
  update(values: Int32Array, validMask: number): boolean {
    return this.#d.update(values, validMask);
  }
  get alarm(): boolean {
    return this.#d.alarm;
  }
  get calibrated(): boolean {
    return this.#d.calibrated;
  }
  get score(): number {
    return this.#d.score;
  }
  get samples(): number {
    return this.#d.samples;
  }
  get calibrationSamples(): number {
    return this.#d.calibrationSamples;
  }
  topChannel(): number {
    return this.#d.channel;
  }
  exportState(): undefined {
    return undefined;
  }
  importState(): void {
    throw new Error("the z-score detector keeps no saved state");
  }
  setThresholds(t: DetectorThresholds): void {
    this.#d.setThresholds(t);
    this.on = t.on;
    this.off = t.off;
  }
  reset(): void {
    this.#d.reset();
  }
}

class MultivariateAdapter implements Detector {
  readonly model = "multivariate" as const;
  on: number;
  off: number;
  readonly #d: MultivariateDetector;
  constructor(d: MultivariateDetector, settings: DetectorSettings) {
    this.#d = d;
    this.on = settings.on;
    this.off = settings.off;
  }
  update(values: Int32Array, validMask: number): boolean {
    return this.#d.update(values, validMask);
  }
  get alarm(): boolean {
    return this.#d.alarm;
  }
  get calibrated(): boolean {
    return this.#d.calibrated;
  }
  get score(): number {
    return this.#d.score;
  }
  get samples(): number {
    return this.#d.samples;
  }
  get calibrationSamples(): number {
    return this.#d.calibrationSamples;
  }
  get changePoint(): boolean {
    return this.#d.changePoint;
  }
  topChannel(): number {
    const c = this.#d.top[0]!;
    return c === 255 ? -1 : c;
  }
  exportState(): Uint8Array {
    return this.#d.exportState();
  }
  importState(bytes: Uint8Array): void {
    this.#d.importState(bytes);
  }
  setThresholds(t: DetectorThresholds): void {
    this.#d.setThresholds(t);
    this.on = t.on;
    this.off = t.off;
  }
  reset(): void {
    this.#d.reset();
  }
}

/**
 * The novelty model behind the app's interface: one channel (bit 0 of the mask); a detection is a change point and
 * raises the alarm, which clears after `clearSamples` updates without another.
 */
class NoveltyAdapter implements Detector {
  readonly model = "novelty" as const;
  readonly on: number;
  readonly off: number;
  readonly #d: NoveltyDetector;
  readonly #clear: number;
  #quiet = 0;
  alarm = false;
  constructor(d: NoveltyDetector, settings: DetectorSettings) {
    this.#d = d;
    this.on = settings.on;
    this.off = settings.off;
    this.#clear = settings.clearSamples;
  }
  update(values: Int32Array, validMask: number): boolean {
    if ((validMask & 1) === 0) return this.alarm;
    if (this.#d.update(values[0]!)) {
      this.alarm = true;
      this.#quiet = 0;
    } else if (this.alarm && ++this.#quiet >= this.#clear) this.alarm = false;
    return this.alarm;
  }
  get calibrated(): boolean {
    return this.#d.calibrated;
  }
  get score(): number {
    return this.#d.likelihood;
  }
  get samples(): number {
    return this.#d.samples;
  }
  get calibrationSamples(): number {
    return this.#d.calibrationSamples;
  }
  get changePoint(): boolean {
    return this.#d.detection;
  }
  topChannel(): number {
    return this.alarm ? 0 : -1;
  }
  exportState(): Uint8Array {
    return this.#d.exportState();
  }
  importState(bytes: Uint8Array): void {
    this.#d.importState(bytes);
    this.alarm = false;
    this.#quiet = 0;
  }
  reset(): void {
    this.#d.reset();
    this.alarm = false;
    this.#quiet = 0;
  }
}

/**
 * What the slow channels' multivariate model adds to the detector's defaults: recovery against the last normal
 * baseline — a named channel is back within 1/8 of its largest excursion (or the class's recoveryLevel), its
 * baseline then goes to where it runs now, and the episode settles for 256 updates — chosen by
 * bench/cv/recovery.mjs on the development folder (level, run and episode bound are the class defaults); and its
 * change-point test (Page–Hinkley λ 6 bits, refractory 8), chosen by bench/cv/changepoints-skab.mjs. The vibration
 * model (vibration-monitor.ts) keeps its own options and no recovery.
 */
export const SLOW_MODEL_OPTIONS = Object.freeze({
  recovery: true,
  returnShift: 3,
  settleSamples: 256,
  recoverTo: "current",
  changeThreshold: 6,
  changeRefractory: 8,
} as const);

/** Builds the chosen detector for `channels` channels; throws (naming the option) when the settings do not fit. */
export function createDetector(settings: DetectorSettings, channels: number, floors: readonly number[]): Detector {
  const common = {
    channels,
    floor: floors,
    calibrationSamples: settings.calibrationSamples,
    on: settings.on,
    off: settings.off,
    holdSamples: settings.holdSamples,
    clearSamples: settings.clearSamples,
  };
  if (settings.model === "multivariate")
    return new MultivariateAdapter(new MultivariateDetector({ ...common, ...SLOW_MODEL_OPTIONS }), settings);
  if (settings.model === "novelty") {
    if (channels !== 1)
      throw new RangeError(
        'Detector: option "model": "novelty" is the univariate model and takes one channel; the sensors give ' +
          channels +
          ' (use "multivariate")',
      );
    if (!(settings.on <= 8))
      throw new RangeError('Detector: option "on" (the novelty threshold) must be at most 8, got ' + settings.on);
    return new NoveltyAdapter(
      new NoveltyDetector({ calibrationSamples: settings.calibrationSamples, threshold: settings.on }),
      settings,
    );
  }
  return new ZScoreAdapter(new ZScoreDetector({ ...common, alphaShift: settings.alphaShift }), settings);
}
