// The univariate novelty model: period search on the calibration, seasonal difference, sparse detections.
import { suite, test, equal, ok, throws } from "../../harness.js";
import { NoveltyDetector } from "telltale/detector/novelty";

function noise(seed: number) {
  let s = seed | 0 || 1;
  return (amp: number) => {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return (((s & 0xffff) - 32768) * amp) >> 15;
  };
}

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
    ok(d.stateBytes <= 2200, "declared state " + d.stateBytes);
  });
});
