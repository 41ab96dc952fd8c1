// The univariate novelty model: period search on the calibration, seasonal difference, sparse detections.
import { suite, test, equal, deepEqual, ok, throws } from "../../harness.js";
import { NoveltyDetector } from "telltale/detector/novelty";
import { VibrationMonitor } from "telltale/detector/vibration-monitor";
import { noise } from "../../support/xorshift.js";

/** Feeds `count` values from `f(t)`; returns the times of detections. */
function feed(d: NoveltyDetector, from: number, count: number, f: (t: number) => number): number[] {
  const hits: number[] = [];
  for (let t = from; t < from + count; t++) if (d.update(f(t))) hits.push(t);
  return hits;
}

suite("detector/novelty", () => {
  test("options-are-validated-naming-the-option", () => {
    throws(() => new NoveltyDetector({ calibrationSamples: 10 }), /"calibrationSamples"/);
    throws(() => new NoveltyDetector({ threshold: 0 }), /"threshold"/);
    throws(() => new NoveltyDetector({ refractory: 0 }), /"refractory"/);
    throws(() => new NoveltyDetector({ seasonal: "yes" as unknown as boolean }), /"seasonal"/);
  });

  test("a-spike-in-steady-noise-is-detected-once-and-nothing-else", () => {
    const d = new NoveltyDetector({ calibrationSamples: 400 });
    const n = noise(5);
    equal(feed(d, 0, 400, () => 10000 + n(300)).length, 0, "nothing during calibration");
    ok(d.calibrated);
    equal(d.period, 0, "noise has no period");
    equal(feed(d, 400, 1600, () => 10000 + n(300)).length, 0, "no detection on steady noise");
    const hits = feed(d, 2000, 400, (t) => 10000 + n(300) + (t >= 2100 && t < 2103 ? 6000 : 0));
    equal(hits.length, 1, "one detection: " + hits.join(","));
    ok(hits[0] !== undefined && hits[0] >= 2100 && hits[0] < 2104, "at the spike: " + hits[0]);
  });

  test("a-daily-cycle-is-found-and-a-broken-cycle-is-detected", () => {
    // A square "day" of 96 samples (high half, low half); one day stays low. The level alone never leaves the
    // calibrated range, so only the seasonal difference sees it.
    const d = new NoveltyDetector({ calibrationSamples: 600 });
    const n = noise(9);
    const day = (t: number, broken: boolean) => (t % 96 < 48 && !broken ? 5000 : 1000) + n(100);
    feed(d, 0, 600, (t) => day(t, false));
    equal(d.period, 96, "period found");
    ok(d.energyRatio >= 2, "seasonal difference much quieter: " + d.energyRatio);
    equal(feed(d, 600, 2400, (t) => day(t, false)).length, 0, "no detection on normal days");
    const hits = feed(d, 3000, 96, (t) => day(t, true));
    equal(hits.length, 1, "the broken day is detected once: " + hits.join(","));
    // Without the period search the same broken day looks like any low half-day.
    const flat = new NoveltyDetector({ calibrationSamples: 600, seasonal: false });
    const m = noise(9);
    const dayFlat = (t: number, broken: boolean) => (t % 96 < 48 && !broken ? 5000 : 1000) + m(100);
    feed(flat, 0, 3000, (t) => dayFlat(t, false));
    equal(feed(flat, 3000, 96, (t) => dayFlat(t, true)).length, 0, "the broken day is invisible without the season");
  });

  test("refractory-spaces-detections-and-reset-recalibrates", () => {
    const d = new NoveltyDetector({ calibrationSamples: 200, refractory: 50 });
    const n = noise(3);
    feed(d, 0, 1200, () => n(100));
    const hits = feed(d, 1200, 300, (t) => n(100) + ((t - 1200) % 20 === 0 ? 2000 * (1 + (((t - 1200) / 20) | 0)) : 0));
    ok(hits.length >= 2, "growing spikes give detections: " + hits.join(","));
    for (let i = 1; i < hits.length; i++) ok(hits[i]! - hits[i - 1]! >= 50, "refractory respected: " + hits.join(","));
    d.reset();
    equal(d.calibrated, false);
    equal(d.detections, 0);
    equal(d.stateBytes, 1036, "declared state");
  });

  test("state-image-round-trips-mid-cycle-and-continues-identically", () => {
    // Saved in the middle of the seasonal scoring (delay line full, scorer running): the copy continues exactly.
    const a = new NoveltyDetector({ calibrationSamples: 600 });
    const n = noise(21);
    const day = (t: number) => (t % 96 < 48 ? 5000 : 1000) + n(100) + (t >= 2500 && t < 2504 ? 3000 : 0);
    feed(a, 0, 1500, day);
    equal(a.period, 96);
    const image = a.exportState();
    equal(image.length, NoveltyDetector.imageBytes);
    const b = new NoveltyDetector({ calibrationSamples: 600 });
    b.importState(image);
    equal(b.period, 96);
    equal(b.samples, 1500);
    ok(b.calibrated);
    const values: number[] = [];
    for (let t = 1500; t < 3000; t++) values.push(day(t));
    let same = true,
      hits = 0;
    for (const v of values) {
      const x = a.update(v),
        y = b.update(v);
      if (x !== y || a.score !== b.score || a.likelihood !== b.likelihood) same = false;
      if (x) hits++;
    }
    ok(same, "the restored copy scores every later sample alike");
    ok(hits >= 1, "and detects the spike: " + hits);
    equal(b.detections, a.detections);
    // Saved during calibration: the block means are in the image too.
    const c = new NoveltyDetector({ calibrationSamples: 600 }),
      d = new NoveltyDetector({ calibrationSamples: 600 });
    const m = noise(4);
    const calib: number[] = [];
    for (let t = 0; t < 1200; t++) calib.push(day(t) + m(10));
    for (let t = 0; t < 300; t++) c.update(calib[t]!);
    d.importState(c.exportState());
    for (let t = 300; t < 1200; t++) {
      c.update(calib[t]!);
      d.update(calib[t]!);
    }
    equal(d.period, c.period);
    deepEqual(Array.from(d.exportState()), Array.from(c.exportState()), "identical images after the same input");
  });

  test("state-image-refused-with-reason-and-state-kept", () => {
    const a = new NoveltyDetector({ calibrationSamples: 200 });
    const n = noise(8);
    feed(a, 0, 400, () => 1000 + n(50));
    const image = a.exportState();
    const b = new NoveltyDetector({ calibrationSamples: 200 });
    feed(b, 0, 50, () => 7);
    throws(() => b.importState(image.subarray(1)), /expected 1060 bytes, got 1059/);
    const bad = image.slice();
    bad[0] = 0;
    throws(() => b.importState(bad), /bad magic/);
    const flipped = image.slice();
    flipped[100] = flipped[100]! ^ 1;
    throws(() => b.importState(flipped), /checksum mismatch/);
    throws(() => new NoveltyDetector({ calibrationSamples: 300 }).importState(image), /different options/);
    throws(
      () => new NoveltyDetector({ calibrationSamples: 200, threshold: 3 }).importState(image),
      /different options/,
    );
    equal(b.samples, 50, "a refused image leaves the state as it was");
    equal(b.calibrated, false);
  });

  test("state-fits-the-budget-beside-a-3-axis-stream", () => {
    // The memory budget: 4 KB of detector state for the slow channels plus one 3-axis vibration stream.
    const vib = new VibrationMonitor({ axes: 3, sampleRate: 1600 });
    const total = new NoveltyDetector().stateBytes + vib.stateBytes;
    ok(total <= 4096, "novelty + 3-axis stream: " + total + " bytes");
  });
});
