// Held-out NAB figures for the novelty model's two options (threshold × refractory): the setting is chosen on two NAB
// categories and the third is scored with it (leave-one-category-out), then the held-out raw scores are pooled and
// normalised. The scorer's constants (EWMA shifts, gate) are fixed in modules/detector/novelty.ts; docs/DETECTOR.md
// says how they were chosen. Run from the project root after `npm run build`: node bench/cv/nab.mjs   (a few seconds)
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { csvFiles } from "../lib/skab.mjs";
import { loadNabSeries, parseNabTime, fileScore, noveltyDetections, PROFILES } from "../lib/nab.mjs";
const { NoveltyDetector } = await import(new URL("../../build/modules/detector/novelty.js", import.meta.url));
const data = process.env.NAB ?? "../shared/data/nab/data";
const labels = JSON.parse(
  readFileSync(process.env.NAB_LABELS ?? "../shared/data/nab/labels/combined_windows.json", "utf8"),
);
const files = [];
for (const path of csvFiles(data)) {
  const key = relative(data, path).split("\\").join("/");
  if (!labels[key]) continue;
  files.push({
    key,
    category: key.split("/")[0],
    ...loadNabSeries(path),
    windows: labels[key].map(([a, b]) => [parseNabTime(a), parseNabTime(b)]),
  });
}
function raw(f, o, profile) {
  const { detected } = noveltyDetections(NoveltyDetector, f.value, o);
  return fileScore({ time: f.time, detected, windows: f.windows }, profile, true);
}
const grid = [];
for (const threshold of [1, 1.5, 2, 2.5, 3, 4])
  for (const refractory of [50, 100, 200, 400]) grid.push({ threshold, refractory });
const profile = PROFILES.standard;
const cache = grid.map((o) => files.map((f) => raw(f, o, profile)));
const norm = (idx, g) => {
  let s = 0,
    w = 0;
  for (const i of idx) {
    s += cache[g][i].score;
    w += cache[g][i].windows;
  }
  return w ? (100 * (s + profile.fn * w)) / ((profile.tp + profile.fn) * w) : 0;
};
const all = files.map((_, i) => i);
let best = 0;
for (let g = 1; g < grid.length; g++) if (norm(all, g) > norm(all, best)) best = g;
console.log(
  `in-sample best: ${JSON.stringify(grid[best])} standard ${norm(all, best).toFixed(2)}; shipped default (2, 200): ${norm(
    all,
    grid.findIndex((o) => o.threshold === 2 && o.refractory === 200),
  ).toFixed(2)}`,
);
let heldScore = 0,
  heldWindows = 0;
for (const category of new Set(files.map((f) => f.category))) {
  const train = all.filter((i) => files[i].category !== category),
    test = all.filter((i) => files[i].category === category);
  let g = 0;
  for (let k = 1; k < grid.length; k++) if (norm(train, k) > norm(train, g)) g = k;
  for (const i of test) {
    heldScore += cache[g][i].score;
    heldWindows += cache[g][i].windows;
  }
  console.log(`  held out ${category}: chose ${JSON.stringify(grid[g])}`);
}
console.log(
  `leave-one-category-out (threshold × refractory only), standard: ${((100 * (heldScore + profile.fn * heldWindows)) / ((profile.tp + profile.fn) * heldWindows)).toFixed(2)}`,
);
