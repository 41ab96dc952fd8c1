// bench:skab's change-point scorer follows SKAB's core/metrics.py chp_score (metric "nab", 60 s "righter" windows):
// hand-made cases whose figures are worked out from that function's rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

interface CpFile {
  time: number[];
  truth: Uint8Array;
  detected: Uint8Array;
  from?: number;
}
interface Scorer {
  skabChpScore(files: CpFile[]): { Standard: number; LowFP: number; LowFN: number };
  skabScale(fraction: number, tp: number, fp: number): number;
  skabConfusion(file: CpFile): { tps: number[][]; fns: number; fps: number; windows: number };
}
const root = new URL("../../../", import.meta.url).pathname;
const scorer = (await import(pathToFileURL(join(root, "bench/lib/skab.mjs")).href)) as Scorer;

/** A 1 Hz file of `rows` rows with change points and detections at the given rows. */
function file(rows: number, changes: number[], detections: number[], from = 0): CpFile {
  const truth = new Uint8Array(rows),
    detected = new Uint8Array(rows);
  for (const r of changes) truth[r] = 1;
  for (const r of detections) detected[r] = 1;
  return { time: Array.from({ length: rows }, (_, i) => i * 1000), truth, detected, from };
}

test("skab-scorer-perfect-and-null", () => {
  assert.deepEqual(scorer.skabChpScore([file(600, [100, 300], [100, 300])]), {
    Standard: 100,
    LowFP: 100,
    LowFN: 100,
  });
  assert.deepEqual(scorer.skabChpScore([file(600, [100, 300], [])]), { Standard: 0, LowFP: 0, LowFN: 0 });
});

test("skab-scorer-false-detection-costs-flat", () => {
  // Two hits on time plus one false detection: (2 − 0.11 + 2) / 4 = 97.25 %, however far past the window it is
  // (classic NAB would charge a detection right after a window less than one far from it).
  for (const fp of [161, 590]) {
    const s = scorer.skabChpScore([file(600, [100, 300], [100, 300, fp])]);
    assert.equal(s.Standard, 97.25, "false detection at row " + fp);
    assert.equal(s.LowFP, 94.5);
  }
  // Before the first window too; a file with no change points charges all its detections.
  assert.equal(scorer.skabChpScore([file(600, [100, 300], [100, 300, 20])]).Standard, 97.25);
  assert.equal(scorer.skabChpScore([file(600, [100, 300], [100, 300]), file(600, [], [5, 50])]).Standard, 94.5);
});

test("skab-scorer-curve", () => {
  assert.equal(scorer.skabScale(0, 1, -0.11), 1);
  assert.ok(Math.abs(scorer.skabScale(1, 1, -0.11) + 0.11) < 1e-12, "the window's end scores A_fp");
  // Midway: event 500 of linspace(−π/2, π/2, 1000).
  const x = -Math.PI / 2 + (500 * Math.PI) / 999;
  const mid = (1.11 / 2) * (-Math.tanh(x) / Math.tanh(Math.PI / 2)) + 1.11 / 2 - 0.11;
  assert.equal(scorer.skabScale(0.5, 1, -0.11), mid);
  // Only the first detection in a window counts: 30 s late then on time is scored at 30 s.
  const late = scorer.skabChpScore([file(600, [100, 300], [130, 131, 300])]).Standard;
  assert.equal(late, Math.round(100 * ((100 * (mid + 1 + 2)) / 4)) / 100);
});

test("skab-scorer-overlapping-windows-cut-right", () => {
  // Change points 30 s apart: windows [100, 160] and [160, 190] (cut right window). A detection at 160 s is the
  // first in both (bounds are inclusive): the end of the first (A_fp) and the start of the second (A_tp).
  const c = scorer.skabConfusion(file(600, [100, 130], [160]));
  assert.deepEqual(c.tps, [
    [100_000, 160_000, 160_000],
    [160_000, 160_000, 190_000],
  ]);
  assert.equal(c.fps, 0);
  assert.equal(scorer.skabChpScore([file(600, [100, 130], [160])]).Standard, 72.25); // (−0.11 + 1 + 2) / 4
});

test("skab-scorer-ignores-calibration-rows", () => {
  // Rows before `from` are neither change points nor detections.
  assert.equal(scorer.skabChpScore([file(600, [50, 300], [10, 300], 100)]).Standard, 100);
  assert.equal(scorer.skabConfusion(file(600, [50, 300], [10, 300], 100)).windows, 1);
});
