// The monitor: the slow channels' detector, a vibration detector per raw stream, and their learned baselines in the store.
import type { Store } from "telltale/io/io";
import type { SensorDeclaration, SensorInstance, StreamInfo } from "telltale/drivers/part";
import type { DetectorConfig } from "telltale/config/config";
import { createDetector, type Detector } from "telltale/detector/select";
import { VibrationMonitor } from "telltale/detector/vibration-monitor";
import type { VibrationNative } from "telltale/detector/vibration";
import { decodeBase64, encodeBase64 } from "telltale/storage/base64";
import { messageOf } from "telltale/errors/message";
import type { StreamReport } from "./telemetry.js";

/** Rounds between saves of the learned baselines (multivariate or novelty, and vibration models), so they survive a reboot. */
export const BASELINE_SAVE_TICKS = 600;
/** Store keys of the saved baselines, base64 text (NVS keys are at most 15 characters, strings at most 4000 bytes):
 *  the slow channels' model, and each vibration stream's as "vib<sensor index>", prefixed with what it was learned on. */
export const BASELINE_KEY = "baseline";
export function vibrationKey(index: number): string {
  return "vib" + index;
}

/**
 * Why the device's alarm changed, as the alarm message says: a score crossed `on` (for `holdSamples`), it fell below
 * `off` (for `clearSamples`), or a recalibrate command forgot what the alarm was measured against.
 */
export type AlarmReason = "threshold" | "recovered" | "recalibrate command" | "recalibrate command (forced)";

export interface MonitorOptions {
  readonly settings: DetectorConfig;
  /** The slow channels' noise floors (the sensor bank's); none gives a one-channel detector that is never fed. */
  readonly floors: readonly number[];
  /** Declared sensors: stream i belongs to sensor i. */
  readonly sensors: number;
  readonly store: Store;
  log: (line: string) => void;
  /** The slow channels' detector; default the one `settings` choose (tests hand in a fake). */
  readonly detector?: Detector;
  /** The vibration front end's native loop, where the host has one (Host.vibrationNative). */
  readonly vibrationNative?: VibrationNative;
}

/** A part's raw stream with its vibration detector; the report fields describe the latest round. */
class Stream implements StreamReport {
  readonly sensor: string;
  readonly part: string;
  readonly monitor: VibrationMonitor;
  info: StreamInfo;
  saved = false;
  calibrated = false;
  windows = 0;
  peakScore = 0;
  alarmSeen = false;
  features: Record<string, Record<string, number>> = {};
  top: string | undefined = undefined;
  constructor(sensor: SensorDeclaration, monitor: VibrationMonitor, info: StreamInfo) {
    this.sensor = sensor.name;
    this.part = sensor.part;
    this.monitor = monitor;
    this.info = info;
  }
  /** What the baseline was learned on, as its saved prefix: it is used only by the same sensor, part, rate and features. */
  get prefix(): string {
    return `${this.sensor}/${this.part}/${this.info.axes}x${this.info.rate}Hz/${this.monitor.front.windowSamples}/${this.monitor.bands.join(",")} `;
  }
}

/**
 * Scores every round: the slow channels through the configured detector, each raw stream through its own vibration
 * detector (fed by the part's FIFO drain, read here once per round). The device's alarm is either's.
 */
export class Monitor {
  readonly detector: Detector;
  /** Per sensor, its stream (undefined without one); in declaration order, as telemetry lists them. */
  readonly streams: readonly (StreamReport | undefined)[];
  readonly #streams: (Stream | undefined)[] = [];
  readonly #settings: DetectorConfig;
  readonly #store: Store;
  readonly #log: (line: string) => void;
  readonly #native: VibrationNative | undefined;
  #alarm = false;
  #reason: AlarmReason = "recovered";
  /** Why the alarm clears if it clears in the next round: set by recalibrate(). */
  #pendingReason: AlarmReason | undefined;

  constructor(options: MonitorOptions) {
    const { settings, floors } = options;
    this.#settings = settings;
    this.#store = options.store;
    this.#log = options.log;
    this.#native = options.vibrationNative;
    for (let i = 0; i < options.sensors; i++) this.#streams.push(undefined);
    this.streams = this.#streams;
    this.detector =
      options.detector ?? createDetector(settings, Math.max(1, floors.length), floors.length ? floors : [1]);
    if (this.detector.model !== "zscore")
      this.#restoreImage(BASELINE_KEY, "detector", "baseline", "", (bytes) => this.detector.importState(bytes));
  }

  /** The device's alarm after the latest round: the slow detector's, or any stream's since the round before. */
  get alarm(): boolean {
    return this.#alarm;
  }

  /** Why the alarm last changed: published with the change, so the alarm (and a relay following it) never changes unexplained. */
  get reason(): AlarmReason {
    return this.#reason;
  }

  /** The vibration detector of a sensor with a raw stream, once it has been attached. */
  vibration(sensor: string): VibrationMonitor | undefined {
    return this.#streams.find((s) => s?.sensor === sensor)?.monitor;
  }

  /** Feeds a part's raw stream (an accelerometer FIFO) to its vibration detector; the learned baseline survives a re-probe. */
  attach(index: number, sensor: SensorDeclaration, instance: SensorInstance): void {
    const v = this.#settings.vibration;
    if (!v.enabled || !instance.stream) return;
    const info = instance.stream(undefined);
    let current = this.#streams[index];
    if (!current || current.info.rate !== info.rate || current.info.axes !== info.axes) {
      const monitor = new VibrationMonitor({ ...v, axes: info.axes, sampleRate: info.rate, native: this.#native });
      if (monitor.bands.length < v.bands.length)
        this.#log(`sensor ${sensor.name}: vibration bands at or above ${info.rate / 2} Hz (half its rate) left out`);
      current = this.#streams[index] = new Stream(sensor, monitor, info);
      this.#log(
        `sensor ${sensor.name}: vibration detector on ${info.axes} axes at ${info.rate} Hz, ${monitor.names.length} features per window of ${monitor.front.windowSamples} (${monitor.stateBytes} bytes of state)`,
      );
      const stream = current;
      stream.saved = this.#restoreImage(
        vibrationKey(index),
        "sensor " + stream.sensor,
        "vibration baseline",
        stream.prefix,
        (bytes) => stream.monitor.model.importState(bytes),
      );
    } else {
      current.monitor.front.reset(); // a new window; the model keeps what it learned
      current.info = info;
    }
    instance.stream(current.monitor);
  }

  /**
   * One round: feeds the slow detector the channels of `values` in `valid` (none: no update), reads what each stream saw
   * since the previous round, and saves baselines when they calibrate and every BASELINE_SAVE_TICKS rounds. Returns true
   * when the device's alarm changed.
   */
  update(values: Int32Array, valid: number, seq: number): boolean {
    const det = this.detector,
      due = seq % BASELINE_SAVE_TICKS === 0;
    const wasCalibrated = det.calibrated;
    if (valid !== 0) det.update(values, valid);
    if (det.calibrated && (!wasCalibrated || due)) {
      const bytes = det.exportState();
      if (bytes) this.#saveImage(BASELINE_KEY, "detector", "baseline", "", bytes);
    }
    let alarm = det.alarm;
    for (let i = 0; i < this.#streams.length; i++) {
      const s = this.#streams[i];
      if (!s) continue;
      const monitor = s.monitor;
      if (monitor.model.calibrated && (!s.saved || due)) {
        this.#saveImage(
          vibrationKey(i),
          "sensor " + s.sensor,
          "vibration baseline",
          s.prefix,
          monitor.model.exportState(),
        );
        s.saved = true;
      }
      const seen = monitor.take();
      s.windows = seen.windows;
      s.peakScore = seen.peakScore;
      s.alarmSeen = seen.alarmSeen;
      s.features = monitor.features(s.info.unitPerCount);
      s.top = monitor.topName();
      s.calibrated = monitor.model.calibrated;
      if (seen.alarmSeen) alarm = true;
    }
    const changed = alarm !== this.#alarm;
    this.#alarm = alarm;
    if (changed) this.#reason = alarm ? "threshold" : (this.#pendingReason ?? "recovered");
    this.#pendingReason = undefined;
    return changed;
  }

  /**
   * Forgets every learned baseline, in the detectors and in the store, and calibrates again. A raised alarm clears in
   * the next round, published with `reason`.
   */
  recalibrate(reason: AlarmReason): void {
    this.#pendingReason = reason;
    this.detector.reset();
    this.#store.delete(BASELINE_KEY);
    for (let i = 0; i < this.#streams.length; i++) {
      this.#store.delete(vibrationKey(i));
      const s = this.#streams[i];
      if (!s) continue;
      s.monitor.reset();
      s.saved = false;
    }
  }

  /** Stores a learned baseline as `prefix` + base64; a store that refuses it (full, too long) costs a log line, not the round. */
  #saveImage(key: string, who: string, noun: string, prefix: string, bytes: Uint8Array): void {
    try {
      this.#store.set(key, prefix + encodeBase64(bytes));
    } catch (e) {
      this.#log(`${who}: ${noun} not saved: ${messageOf(e)}`);
    }
  }

  /**
   * Hands a saved baseline to `load` if it was saved with this `prefix` (what it was learned on; "" for none). A missing
   * one is silent; one that does not fit is logged with the reason, and the model calibrates anew. True if loaded.
   */
  #restoreImage(key: string, who: string, noun: string, prefix: string, load: (bytes: Uint8Array) => void): boolean {
    const text = this.#store.get(key);
    if (text === undefined) return false;
    try {
      const cut = prefix === "" ? 0 : text.lastIndexOf(" ") + 1,
        made = text.slice(0, cut);
      if (made !== prefix)
        throw new Error(
          "learned on " + (made === "" ? "an unknown stream" : made.trim()) + ", this stream is " + prefix.trim(),
        );
      const bytes = decodeBase64(text.slice(cut));
      load(bytes);
      this.#log(`${who}: restored the learned ${noun} (${bytes.length} bytes)`);
      return true;
    } catch (e) {
      this.#log(`${who}: saved ${noun} not used (${messageOf(e)}); calibrating anew`);
      return false;
    }
  }
}
