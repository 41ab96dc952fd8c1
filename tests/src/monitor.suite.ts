// The monitor against a fake detector, a fake store and fake streaming parts: baselines saved and restored, alarm edges, streams.
import { suite, test, equal, deepEqual, ok } from "../harness.js";
import { Monitor, BASELINE_SAVE_TICKS } from "../../src/monitor.js";
import { parseConfig } from "telltale/config/config";
import type { Detector } from "telltale/detector/select";
import type { FrameSink, SensorDeclaration, SensorInstance, StreamInfo } from "telltale/drivers/part";
import type { Store } from "telltale/io/io";

/** A detector the test drives; it records what the monitor asks of it. */
class FakeDetector implements Detector {
  model: "zscore" | "multivariate" = "multivariate";
  alarm = false;
  calibrated = false;
  score = 0;
  on = 5;
  off = 2.5;
  calibrationSamples = 400;
  changePoint = false;
  updates = 0;
  resets = 0;
  imported: number[][] = [];
  refuseImport = "";
  /** The update on which it calibrates, as a real detector does inside update(). */
  calibrateOn = Infinity;
  update(): boolean {
    if (++this.updates >= this.calibrateOn) this.calibrated = true;
    return false;
  }
  get samples(): number {
    return this.updates;
  }
  topChannel(): number {
    return -1;
  }
  exportState(): Uint8Array | undefined {
    return this.model === "multivariate" ? Uint8Array.of(1, 2, 3) : undefined;
  }
  importState(bytes: Uint8Array): void {
    if (this.refuseImport) throw new Error(this.refuseImport);
    this.imported.push(Array.from(bytes));
  }
  reset(): void {
    this.resets++;
    this.calibrated = false;
  }
}

/** A store over a Map that records writes and can refuse them. */
function fakeStore(entries: [string, string][] = []) {
  const map = new Map(entries),
    sets: string[] = [],
    deletes: string[] = [];
  let refuse = "";
  const store: Store = {
    get: (k) => map.get(k),
    set: (k, v) => {
      if (refuse) throw new Error(refuse);
      sets.push(k);
      map.set(k, v);
    },
    delete: (k) => {
      deletes.push(k);
      map.delete(k);
    },
  };
  return {
    store,
    map,
    sets,
    deletes,
    refuse: (why: string) => {
      refuse = why;
    },
  };
}

/** A part with a raw stream (an accelerometer FIFO): the test writes frames to whatever sink the monitor attached. */
class StreamingPart implements SensorInstance {
  sink: FrameSink | undefined;
  /** xorshift state of the noise `feed` writes. */
  noise = 1;
  constructor(public info: StreamInfo) {}
  sample(): unknown {
    return {};
  }
  close(): void {}
  stream(sink: FrameSink | undefined): StreamInfo {
    this.sink = sink;
    return this.info;
  }
}

const pump: SensorDeclaration = { part: "fake", name: "pump", options: {} };
const info = (rate = 400): StreamInfo => ({ axes: 3, rate, unitPerCount: 0.01, unit: "m/s²" });

function rig(options: { store?: ReturnType<typeof fakeStore>; vibration?: boolean; detector?: FakeDetector } = {}) {
  const settings = parseConfig({
    detector: { vibration: { windowShift: 6, enabled: options.vibration ?? true } },
  }).detector;
  const detector = options.detector ?? new FakeDetector(),
    store = options.store ?? fakeStore(),
    log: string[] = [];
  const monitor = new Monitor({
    settings,
    floors: [5, 2],
    sensors: 2,
    store: store.store,
    log: (line) => log.push(line),
    detector,
  });
  return { monitor, detector, store, log };
}

/** Writes `windows` windows of 64 frames of noise with amplitude `size` counts to the part's sink. */
function feed(part: StreamingPart, windows: number, size = 100): void {
  const frames = new Int16Array(64 * 3);
  for (let w = 0; w < windows; w++) {
    for (let i = 0; i < frames.length; i++) {
      let n = part.noise;
      n ^= n << 13;
      n ^= n >> 17;
      n ^= n << 5;
      part.noise = n;
      frames[i] = (((n & 0xffff) - 32768) * size) / 32768;
    }
    part.sink!.write(frames, 0, 64);
  }
}

const values = new Int32Array(2);

suite("monitor", () => {
  test("slow-baseline-is-saved-when-calibrated-and-every-600-rounds", () => {
    const r = rig();
    r.detector.calibrateOn = 3;
    for (let seq = 1; seq <= 2 * BASELINE_SAVE_TICKS; seq++) r.monitor.update(values, 0b11, seq);
    equal(r.detector.updates, 2 * BASELINE_SAVE_TICKS);
    equal(r.store.sets.length, 3, "on calibrating, then at rounds 600 and 1200");
    equal(r.store.map.get("baseline"), "AQID", "base64 of the exported bytes");
  });

  test("no-valid-channel-means-no-detector-update", () => {
    const r = rig();
    r.monitor.update(values, 0, 1);
    equal(r.detector.updates, 0);
  });

  test("saved-baseline-is-restored-and-one-that-does-not-fit-is-refused", () => {
    const r = rig({ store: fakeStore([["baseline", "AQID"]]) });
    deepEqual(r.detector.imported, [[1, 2, 3]]);
    deepEqual(r.log, ["detector: restored the learned baseline (3 bytes)"]);
    const refusing = new FakeDetector();
    refusing.refuseImport = "expected 308 bytes, got 3";
    const bad = rig({ store: fakeStore([["baseline", "AQID"]]), detector: refusing });
    deepEqual(bad.log, ["detector: saved baseline not used (expected 308 bytes, got 3); calibrating anew"]);
  });

  test("zscore-detector-keeps-no-baseline", () => {
    const zscore = new FakeDetector();
    zscore.model = "zscore";
    const r = rig({ store: fakeStore([["baseline", "AQID"]]), detector: zscore });
    deepEqual(zscore.imported, [], "not restored");
    zscore.calibrated = true;
    r.monitor.update(values, 1, 1);
    deepEqual(r.store.sets, [], "not saved");
  });

  test("store-that-refuses-costs-a-log-line-not-the-round", () => {
    const r = rig();
    r.store.refuse("NVS: no space");
    r.detector.calibrateOn = 1;
    r.monitor.update(values, 1, 1);
    deepEqual(r.log, ["detector: baseline not saved: NVS: no space"]);
  });

  test("alarm-edges-are-reported-once", () => {
    const r = rig();
    const edges: boolean[] = [];
    for (const alarm of [false, true, true, false, false, true]) {
      r.detector.alarm = alarm;
      edges.push(r.monitor.update(values, 1, 1));
    }
    deepEqual(edges, [false, true, false, true, false, true]);
    equal(r.monitor.alarm, true);
  });

  test("stream-is-attached-on-probe-and-reports-each-round", () => {
    const r = rig(),
      part = new StreamingPart(info());
    r.monitor.attach(1, pump, part);
    const monitor = r.monitor.vibration("pump");
    ok(monitor !== undefined && part.sink === monitor, "the part drains into the stream's detector");
    ok(
      r.log.includes(
        "sensor pump: vibration detector on 3 axes at 400 Hz, 18 features per window of 64 (" +
          monitor.stateBytes +
          " bytes of state)",
      ),
      r.log.join("\n"),
    );
    ok(r.log.includes("sensor pump: vibration bands at or above 200 Hz (half its rate) left out"), r.log.join("\n"));
    feed(part, 2);
    r.monitor.update(values, 1, 1);
    const report = r.monitor.streams[1]!;
    equal(r.monitor.streams[0], undefined, "sensor 0 has no stream");
    deepEqual([report.sensor, report.windows, report.calibrated, report.alarmSeen], ["pump", 2, false, false]);
    deepEqual(Object.keys(report.features), ["x", "y", "z"]);
    feed(part, 1);
    r.monitor.update(values, 1, 2);
    equal(r.monitor.streams[1]!.windows, 1, "what was seen since the previous round");
  });

  test("reprobe-at-the-same-rate-keeps-the-model-and-another-rate-replaces-it", () => {
    const r = rig(),
      part = new StreamingPart(info());
    r.monitor.attach(1, pump, part);
    const first = r.monitor.vibration("pump");
    r.monitor.attach(1, pump, new StreamingPart(info()));
    equal(r.monitor.vibration("pump"), first, "kept across a re-probe");
    r.monitor.attach(1, pump, new StreamingPart(info(800)));
    ok(r.monitor.vibration("pump") !== first, "a new model for another rate");
  });

  test("vibration-disabled-attaches-nothing", () => {
    const r = rig({ vibration: false }),
      part = new StreamingPart(info());
    r.monitor.attach(1, pump, part);
    equal(r.monitor.vibration("pump"), undefined);
    equal(part.sink, undefined);
    deepEqual(r.log, []);
  });

  test("stream-baseline-is-saved-with-what-it-was-learned-on-and-restored-for-the-same-stream", () => {
    const store = fakeStore(),
      r = rig({ store }),
      part = new StreamingPart(info());
    r.monitor.attach(1, pump, part);
    feed(part, 130);
    r.monitor.update(values, 1, 1);
    ok(r.monitor.vibration("pump")!.model.calibrated, "calibrated after 128 windows");
    ok(store.map.get("vib1")!.startsWith("pump/fake/3x400Hz/64/50,100 "), store.map.get("vib1")!.slice(0, 40));
    r.monitor.update(values, 1, 2);
    equal(store.sets.filter((k) => k === "vib1").length, 1, "saved once until the next periodic save");
    const again = rig({ store });
    again.monitor.attach(1, pump, new StreamingPart(info()));
    ok(
      again.log.some((l) => /^sensor pump: restored the learned vibration baseline \(\d+ bytes\)$/.test(l)),
      again.log.join("\n"),
    );
    ok(again.monitor.vibration("pump")!.model.calibrated);
    const other = rig({ store });
    other.monitor.attach(1, pump, new StreamingPart(info(800)));
    ok(
      other.log.some((l) =>
        l.includes(
          "saved vibration baseline not used (learned on pump/fake/3x400Hz/64/50,100, this stream is pump/fake/3x800Hz/64/50,100,200); calibrating anew",
        ),
      ),
      other.log.join("\n"),
    );
  });

  test("a-stream-alarm-is-the-device-alarm", () => {
    const r = rig(),
      part = new StreamingPart(info());
    r.monitor.attach(1, pump, part);
    feed(part, 130);
    equal(r.monitor.update(values, 1, 1), false);
    feed(part, 4, 3000);
    equal(r.monitor.update(values, 1, 2), true, "raised by the stream alone");
    equal(r.monitor.alarm, true);
    equal(r.monitor.streams[1]!.alarmSeen, true);
  });

  test("recalibrate-forgets-every-baseline-in-the-detectors-and-the-store", () => {
    const store = fakeStore([
      ["baseline", "AQID"],
      ["vib0", "x"],
      ["vib1", "y"],
      ["boot", "3"],
    ]);
    const r = rig({ store }),
      part = new StreamingPart(info());
    r.monitor.attach(1, pump, part);
    feed(part, 130);
    r.monitor.update(values, 1, 1);
    r.monitor.recalibrate("recalibrate command");
    equal(r.detector.resets, 1);
    deepEqual(store.deletes, ["baseline", "vib0", "vib1"]);
    equal(store.map.get("boot"), "3", "other keys stay");
    equal(r.monitor.vibration("pump")!.model.calibrated, false);
  });

  test("every-alarm-change-says-why", () => {
    const r = rig();
    r.detector.alarm = true;
    equal(r.monitor.update(values, 1, 1), true);
    equal(r.monitor.reason, "threshold", "raised: a score crossed the threshold");
    r.detector.alarm = false;
    equal(r.monitor.update(values, 1, 2), true);
    equal(r.monitor.reason, "recovered", "cleared on its own");
    r.detector.alarm = true;
    r.monitor.update(values, 1, 3);
    r.monitor.recalibrate("recalibrate command (forced)");
    r.detector.alarm = false; // what a reset detector reports
    equal(r.monitor.alarm, true, "the alarm changes only in the round that publishes why");
    equal(r.monitor.update(values, 1, 4), true);
    equal(r.monitor.reason, "recalibrate command (forced)");
    r.detector.alarm = true;
    r.monitor.update(values, 1, 5);
    r.detector.alarm = false;
    r.monitor.update(values, 1, 6);
    equal(r.monitor.reason, "recovered", "a recalibration explains only the change right after it");
  });
});
