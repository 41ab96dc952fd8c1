// bench:nab — the detector's univariate model (modules/detector/novelty.ts) on NAB-format series, scored by
// bench/lib/nab.mjs (our implementation of NAB's published scoring). Each file calibrates on its probationary period
// (first 15 %, at most 750 rows), which NAB does not score; a detection is an update where the model reports one.
// Reported twice: with the model's default threshold (fixed in advance: 2) and with the threshold that maximises each
// profile over this corpus (what NAB's scoreboard reports).
import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import { csvFiles } from "./lib/skab.mjs";
import { loadNabSeries, nabScore, noveltyDetections, parseNabTime, probationLength } from "./lib/nab.mjs";

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const data = arg("--data", "../shared/data/nab/data");
const labelsPath = arg("--labels", "../shared/data/nab/labels/combined_windows.json");
const perFile = args.includes("--per-file");
if (!existsSync(data) || !existsSync(labelsPath)) {
  console.error("bench:nab: need --data DIR and --labels combined_windows.json");
  process.exit(2);
}
const built = new URL("../build/modules/detector/novelty.js", import.meta.url);
if (!existsSync(built)) {
  console.error("bench:nab: run `npm run build` first");
  process.exit(2);
}
const { NoveltyDetector } = await import(built);
const labels = JSON.parse(readFileSync(labelsPath, "utf8"));

// Files named in the labels, found under --data (keys are "category/file.csv").
const files = [];
for (const path of csvFiles(data)) {
  const rel = relative(data, path).split("\\").join("/");
  const key = Object.keys(labels).find((k) => rel === k || rel.endsWith("/" + k));
  if (!key) continue;
  const series = loadNabSeries(path);
  const windows = labels[key].map(([a, b]) => [parseNabTime(a), parseNabTime(b)]);
  files.push({ key, ...series, windows });
}

function detect(file, threshold) {
  const { detected, period } = noveltyDetections(NoveltyDetector, file.value, { threshold });
  return { time: file.time, detected, windows: file.windows, period };
}

const run = (threshold) =>
  nabScore(
    files.map((f) => detect(f, threshold)),
    { probation: true },
  );
const fixed = run(2);
const fmt = (s) =>
  `standard ${s.standard.toFixed(2)}  reward_low_FP ${s.reward_low_FP.toFixed(2)}  reward_low_FN ${s.reward_low_FN.toFixed(2)}`;
console.log(
  `NAB (${files.length} files, ${files.reduce((a, f) => a + f.windows.length, 0)} windows), univariate novelty model (integer), calibration = probationary rows`,
);
console.log(`threshold fixed in advance (2): ${fmt(fixed)}`);
// Per category (the folder of each key). A category without windows has no normalised score (perfect = null = 0):
// its detections, all false, are counted instead.
const categories = [...new Set(files.map((f) => f.key.split("/")[0]))].sort();
for (const category of categories) {
  const inCategory = files.filter((f) => f.key.split("/")[0] === category);
  const runs = inCategory.map((f) => detect(f, 2));
  const windows = inCategory.reduce((a, f) => a + f.windows.length, 0);
  if (windows > 0)
    console.log(
      `  ${category} (${inCategory.length} files, ${windows} windows): ${fmt(nabScore(runs, { probation: true }))}`,
    );
  else {
    let d = 0;
    for (const r of runs)
      for (let i = probationLength(r.detected.length); i < r.detected.length; i++) d += r.detected[i];
    console.log(`  ${category} (${inCategory.length} files, no windows): ${d} false detections after probation`);
  }
}
if (perFile)
  for (const f of files) {
    const r = detect(f, 2);
    let d = 0;
    for (let i = probationLength(r.detected.length); i < r.detected.length; i++) d += r.detected[i];
    console.log(`  ${f.key.padEnd(58)} period ${String(r.period).padStart(3)}  detections ${d}`);
  }
const best = { standard: [-Infinity], reward_low_FP: [-Infinity], reward_low_FN: [-Infinity] };
for (const threshold of [0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8]) {
  const s = run(threshold);
  for (const k of Object.keys(best)) if (s[k] > best[k][0]) best[k] = [s[k], threshold];
}
console.log(
  `threshold optimised per profile on this corpus: ${Object.entries(best)
    .map(([k, [v, t]]) => `${k} ${v.toFixed(2)} (threshold ${t})`)
    .join("  ")}`,
);
