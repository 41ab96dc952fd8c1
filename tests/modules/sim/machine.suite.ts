// The simulated machine and the detector together: the demo's faults raise an alarm, the normal cycle does not.
import { suite, test, ok, equal } from "../../harness.js";
import { MachineEnvironment, type FaultKind } from "telltale/sim/machine";
import { ZScoreDetector } from "telltale/detector/zscore";

function run(kind: FaultKind, size: number, seed: number): { first: number; early: number } {
  const m = new MachineEnvironment({ fault: { kind, atMs: 60_000, size }, seed });
  const det = new ZScoreDetector({ channels: 2, calibrationSamples: 20, floor: [5, 20] });
  const v = new Int32Array(2);
  let first = -1,
    early = -1;
  for (let t = 1000; t <= 300_000; t += 1000) {
    v[0] = Math.round(m.temperature(t) * 100);
    v[1] = Math.round(m.humidity(t) * 100);
    if (det.update(v)) {
      if (t < 60_000 && early < 0) early = t;
      if (t >= 60_000 && first < 0) first = t;
    }
  }
  return { first, early };
}

suite("sim/machine with detector", () => {
  test("step-fault-alarms-within-5-samples", () => {
    for (const seed of [1, 2, 3]) {
      const r = run("step", 4, seed);
      equal(r.early, -1, "no alarm before the fault (seed " + seed + ")");
      ok(r.first >= 60_000 && r.first <= 65_000, "alarm at " + r.first + " (seed " + seed + ")");
    }
  });
  test("fast-drift-alarms-within-15-samples", () => {
    for (const seed of [1, 2, 3]) {
      const r = run("drift", 8, seed);
      equal(r.early, -1, "no alarm before the fault (seed " + seed + ")");
      ok(r.first >= 60_000 && r.first <= 75_000, "alarm at " + r.first + " (seed " + seed + ")");
    }
  });
  test("normal-cycle-alone-raises-nothing-in-five-minutes", () => {
    for (const seed of [1, 2, 3]) {
      const r = run("none", 0, seed);
      equal(r.early, -1);
      equal(r.first, -1, "seed " + seed);
    }
  });
  test("noise-repeats-for-a-seed", () => {
    const a = new MachineEnvironment({ seed: 9 }),
      b = new MachineEnvironment({ seed: 9 });
    for (let t = 0; t < 10; t++) equal(a.temperature(t * 1000), b.temperature(t * 1000));
  });
});
