// The protocol that chose the slow model's change-point test (modules/detector/select.ts SLOW_MODEL_OPTIONS:
// changeDrift, changeThreshold, changeRefractory), on the integer detector as the app builds it, scored by SKAB's own
// scorer (bench/lib/skab.mjs skabChpScore, core/metrics.py chp_score, Standard profile), on the development folder
// only — it never reads a file outside --data (default ../shared/data/skab):
//   leave-one-file-out: the grid's best setting on 15 files scores the 16th; split-half (even/odd files) likewise;
//   the anomaly-free file bounds the change points a setting reports in normal running (at most one per 300 rows).
// Run: npm run build && node bench/cv/changepoints-skab.mjs   (about a minute of CPU)
import { existsSync } from "node:fs";
import {
  csvFiles,
  loadSkab,
  skabChpScore,
  SKAB_CHANNELS,
  appSlowModel,
  integerColumns,
  runColumns,
} from "../lib/skab.mjs";
import { leaveOneOut, splitHalf, countPicks } from "../lib/cv.mjs";

const args = process.argv.slice(2);
const data = args.includes("--data") ? args[args.indexOf("--data") + 1] : "../shared/data/skab";
if (!existsSync(data)) throw new Error("no such directory: " + data);
const { MultivariateDetector } = await import(new URL("../../build/modules/detector/multivariate.js", import.meta.url));
const APP_SLOW_MODEL = await appSlowModel();
const CAL = 400,
  P = SKAB_CHANNELS.length;
const all = csvFiles(data).map((path) => loadSkab(path, data));
const labelled = all.filter((f) => f && f.anomaly && f.changepoint && f.rows > CAL);
const free = all.find((f) => f && !f.anomaly);
const labelledInt = labelled.map(integerColumns),
  freeInt = free ? integerColumns(free) : null;

const changes = (cols, opts) =>
  runColumns(new MultivariateDetector({ channels: P, calibrationSamples: CAL, ...APP_SLOW_MODEL, ...opts }), cols).cp;

const grid = [];
for (const changeDrift of [0.125, 0.25, 0.5])
  for (const changeThreshold of [3, 4, 6])
    for (const changeRefractory of [4, 8, 15, 30]) grid.push({ changeDrift, changeThreshold, changeRefractory });
const label = (o) => `δ ${o.changeDrift} λ ${o.changeThreshold} refractory ${o.changeRefractory}`;
const results = grid.map((opts) => {
  const per = labelled.map((f, i) => ({
    time: f.time,
    truth: f.changepoint,
    detected: changes(labelledInt[i], opts),
    from: CAL,
  }));
  let freeRate = 0;
  if (freeInt) {
    const cp = changes(freeInt, opts);
    let n = 0;
    for (let r = CAL; r < free.rows; r++) n += cp[r];
    freeRate = n / (free.rows - CAL);
  }
  return { opts, per, freeRate };
});
const admissible = (r) => r.freeRate <= 1 / 300;
const score = (r, idx) => skabChpScore(idx.map((i) => r.per[i])).Standard;
const idxAll = labelled.map((_, i) => i);
console.log("setting: SKAB scorer Standard on every dev file | change points per 1000 anomaly-free rows");
for (const r of results)
  console.log(
    `  ${label(r.opts).padEnd(32)} ${score(r, idxAll).toFixed(2)} | ${(1000 * r.freeRate).toFixed(2)}${admissible(r) ? "" : "  (outside the limit)"}`,
  );
const pick = (idx) => {
  let best = null;
  for (const r of results.filter(admissible)) if (!best || score(r, idx) > score(best, idx) + 1e-9) best = r;
  return best;
};
const lofo = leaveOneOut(idxAll.length, pick);
const held = lofo.map(({ held: i, pick: b }) => b.per[i]),
  picks = countPicks(lofo.map(({ pick: b }) => label(b.opts)));
const half = splitHalf(idxAll.length, pick).flatMap(({ test, pick: b }) => test.map((i) => b.per[i]));
console.log(
  `leave-one-file-out: held out ${skabChpScore(held).Standard.toFixed(2)}; split-half ${skabChpScore(half).Standard.toFixed(2)}; picks ${JSON.stringify(picks)}`,
);
