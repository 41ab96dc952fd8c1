// A raw vibration stream's detector: the vibration front end's window features scored by their own multivariate model.
import { VibrationFrontEnd, type VibrationNative } from "telltale/detector/vibration";
import { MultivariateDetector } from "telltale/detector/multivariate";
import { messageOf } from "telltale/errors/message";

// Data flow (one instance per accelerometer; write() is called from the FIFO drain, at the part's output data rate):
//   frames (int16 counts, axes per frame) → VibrationFrontEnd (per window of 2^windowShift frames: RMS, peak, crest,
//   kurtosis, band amplitudes per axis) → MultivariateDetector over those features (axes × (4 + bands) channels), one
//   update per window. The app reads the result once per tick; `take()` returns what happened since the previous tick,
//   so an alarm shorter than a tick is still reported.
// Formats: the front end gives rms_q4 = counts × 2^4, peak and bands in counts, crest_q8 and kurt_q8 × 2^8. The model
// is fed each feature shifted left (rms_q6, peak_q6, crest_q10, kurt_q10, band_q6, all below 2^22): its filters round
// to 2^-8 of an input unit and its slow baseline settles within 2^-1 of one, which must be small against the
// feature's spread (a peak of a steady machine varies by about one count). The model standardises each feature on its
// calibration windows, so the units need not agree.

export interface VibrationMonitorOptions {
  /** Axes per frame, 1–3 (default 3). */
  axes?: number;
  /** Frames per second of the stream (places the bands). */
  sampleRate: number;
  /** Window of 2^windowShift frames, 6–12 (default 8). */
  windowShift?: number;
  /** Band centre frequencies in Hz (default 50, 100, 200, 400); those at or above sampleRate / 2 are left out (see `bands`). */
  bands?: readonly number[];
  /** Windows learned as normal before scoring, at least 128 (default 128; with 256-frame windows at 1600 Hz, about 20 s). */
  calibrationWindows?: number;
  /**
   * Alarm on / off thresholds on T²/channels (defaults 22 / 8) and windows in a row (defaults 2 / 4). `on` was chosen
   * on real bearings from their early running only (`npm run bench:bearings -- --select`, never a lead time).
   */
  on?: number;
  off?: number;
  holdWindows?: number;
  clearWindows?: number;
  /** The front end's native loop (VibrationOptions.native): where the host links it, XS runs it instead of the TypeScript. */
  native?: VibrationNative;
}

const FEATURE_NAMES = Object.freeze(["rms", "peak", "crest", "kurtosis"] as const);
/** Left shift of each feature into the model's input (bands use the last). */
const FEATURE_SHIFTS = Object.freeze([2, 6, 2, 2, 6] as const);
/**
 * Smallest standard deviation per model input: a quarter count of RMS, half a count of peak, 0.02 of crest factor,
 * 0.05 of kurtosis, a quarter count of band amplitude. Below the quantisation a spread is not evidence.
 */
const FEATURE_FLOORS = Object.freeze([16, 32, 20, 51, 16] as const);
const AXES = "xyz";
/** The model's channel limit. */
const MAX_FEATURES = 32;
const OPTION_NAMES: Readonly<Record<string, string>> = Object.freeze({
  calibrationSamples: "calibrationWindows",
  warmupSamples: "calibrationWindows",
  holdSamples: "holdWindows",
  clearSamples: "clearWindows",
});

export class VibrationMonitor {
  readonly front: VibrationFrontEnd;
  readonly model: MultivariateDetector;
  /** Channel names in model order: "x.rms", "x.peak", "x.crest", "x.kurtosis", "x.band100Hz", …, then y, z. */
  readonly names: readonly string[];
  readonly bands: readonly number[];
  readonly #shifts: Int32Array;
  readonly #input: Int32Array;
  #peakScore = 0;
  #raised = false;
  #changed = false;
  #windows = 0;

  constructor(options: VibrationMonitorOptions) {
    const rate = options?.sampleRate;
    if (typeof rate !== "number" || !(rate > 0))
      throw new RangeError('VibrationMonitor: option "sampleRate" must be a number above 0, got ' + String(rate));
    // Only bands below half the rate exist in the stream; the caller compares `bands` with what it asked for.
    const asked = options.bands ?? [50, 100, 200, 400];
    const bands = Array.isArray(asked) ? asked.filter((f) => !(f >= rate / 2)) : asked;
    const axes = options.axes ?? 3;
    if (Array.isArray(bands) && typeof axes === "number" && axes * (FEATURE_NAMES.length + bands.length) > MAX_FEATURES)
      throw new RangeError(
        'VibrationMonitor: option "bands": at most ' +
          Math.floor(MAX_FEATURES / axes - FEATURE_NAMES.length) +
          " bands fit " +
          axes +
          " axes (axes × (4 + bands) features ≤ " +
          MAX_FEATURES +
          "), got " +
          bands.length,
      );
    this.front = new VibrationFrontEnd({
      axes,
      windowShift: options.windowShift ?? 8,
      sampleRate: rate,
      bands,
      native: options.native,
    });
    this.bands = bands.slice();
    const names: string[] = [],
      floors: number[] = [];
    const shifts: number[] = [];
    for (let a = 0; a < this.front.axes; a++) {
      for (let f = 0; f < FEATURE_NAMES.length; f++) {
        names.push(AXES[a] + "." + FEATURE_NAMES[f]);
        floors.push(FEATURE_FLOORS[f]!);
        shifts.push(FEATURE_SHIFTS[f]!);
      }
      for (const b of bands) {
        names.push(AXES[a] + ".band" + b + "Hz");
        floors.push(FEATURE_FLOORS[4]);
        shifts.push(FEATURE_SHIFTS[4]);
      }
    }
    this.names = names;
    this.#shifts = Int32Array.from(shifts);
    this.#input = new Int32Array(names.length);
    const windows = options.calibrationWindows ?? 128;
    // The model spends a quarter of its calibration learning each feature's scale with its smoothing filter (≥ 32 updates).
    if (typeof windows !== "number" || windows !== Math.floor(windows) || windows < 128 || windows > 0x3fffffff)
      throw new RangeError(
        'VibrationMonitor: option "calibrationWindows" must be an integer of at least 128, got ' + String(windows),
      );
    try {
      this.model = new MultivariateDetector({
        channels: names.length,
        calibrationSamples: windows,
        floor: floors,
        on: options.on ?? 22,
        off: options.off ?? 8,
        holdSamples: options.holdWindows ?? 2,
        clearSamples: options.clearWindows ?? 4,
        // The features' floors and shifts were chosen for one global gain; window features keep that model.
        scaling: "global",
        slowShift: 7,
        rampSamples: 0,
        adaptShift: 0,
      });
    } catch (e) {
      // Name this class's option: the model counts samples, which here are windows.
      const renamed = messageOf(e).replace(
        /^MultivariateDetector: option "([A-Za-z]+)"/,
        (_, name: string) =>
          'VibrationMonitor: option "' + (OPTION_NAMES[name] ?? name) + '" (' + names.length + " features per window)",
      );
      throw new RangeError(renamed, { cause: e });
    }
  }

  /** FrameSink: feeds frames to the front end and scores every completed window. Allocates nothing. */
  write(samples: Int16Array, start: number, frames: number): number {
    const front = this.front,
      model = this.model;
    let done = 0;
    while (done < frames) {
      const used = front.write(samples, start + done, frames - done);
      if (used <= 0) break;
      done += used;
      if (!front.ready) continue;
      const was = model.alarm,
        features = front.features,
        input = this.#input,
        shifts = this.#shifts;
      for (let c = 0; c < input.length; c++) input[c] = features[c]! << shifts[c]!; // < 2^22: the model's input range
      model.update(input);
      this.#windows++;
      if (model.score > this.#peakScore) this.#peakScore = model.score;
      if (model.alarm) this.#raised = true;
      if (model.alarm !== was) this.#changed = true;
    }
    return done;
  }

  /** Windows scored, highest score (Q8), and whether the alarm was on at any point since the previous take(); then resets those. */
  take(): { windows: number; peakScore: number; alarmSeen: boolean; alarmChanged: boolean } {
    const out = {
      windows: this.#windows,
      peakScore: this.#peakScore,
      alarmSeen: this.#raised || this.model.alarm,
      alarmChanged: this.#changed,
    };
    this.#windows = 0;
    this.#peakScore = 0;
    this.#raised = false;
    this.#changed = false;
    return out;
  }

  /** The name of the feature contributing most to the latest score, or undefined. */
  topName(): string | undefined {
    const c = this.model.top[0]!;
    return c === 255 ? undefined : this.names[c];
  }

  /**
   * The latest window's features in physical units (`unitPerCount`: one count in, e.g., m/s²): per axis rms, peak and
   * band amplitudes in that unit, crest and kurtosis as plain ratios. Runs once per tick, so it may allocate.
   */
  features(unitPerCount: number): Record<string, Record<string, number>> {
    const f = this.front.features,
      per = this.front.featuresPerAxis,
      out: Record<string, Record<string, number>> = {};
    const r = (v: number) => Math.round(v * 1000) / 1000;
    for (let a = 0; a < this.front.axes; a++) {
      const o = a * per,
        axis: Record<string, number> = {
          rms: r((f[o]! / 16) * unitPerCount),
          peak: r(f[o + 1]! * unitPerCount),
          crest: r(f[o + 2]! / 256),
          kurtosis: r(f[o + 3]! / 256),
        };
      for (let k = 0; k < this.bands.length; k++) axis["band" + this.bands[k] + "Hz"] = r(f[o + 4 + k]! * unitPerCount);
      out[AXES[a]!] = axis;
    }
    return out;
  }

  /** Bytes of state: the front end's and the model's typed arrays. */
  get stateBytes(): number {
    return this.front.stateBytes + this.model.stateBytes;
  }

  /** Forgets the learned baseline and the current window. */
  reset(): void {
    this.front.reset();
    this.model.reset();
    this.take();
  }
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(VibrationMonitor.prototype);
