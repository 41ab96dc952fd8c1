// bench:skab — the multivariate detector on every SKAB-format CSV under --data, with the published protocol:
// calibrate on rows 0–399 of each file, score the rest; pooled F1/FAR/MAR; change points by SKAB's own scorer
// (core/metrics.py chp_score, metric "nab", 60 s "righter" windows, reimplemented in bench/lib/skab.mjs skabChpScore)
// and, beside it, by classic NAB scoring (bench/lib/nab.mjs: sigmoid-weighted false positives).
// Defaults only: no parameter is read from or fitted to the files. Files without anomaly/changepoint columns
// (SKAB's anomaly-free.csv) are not scored; the bench prints the share of their rows in alarm after calibration.
// `--reference` runs the float64 twin (bench/reference.mjs) instead, configured the same way; `--no-recovery` runs
// either without the slow model's options (the class defaults: no recovery).
import { existsSync } from "node:fs";
import {
  csvFiles,
  loadSkab,
  outlierMetrics,
  changepointNab,
  skabChpScore,
  SKAB_CHANNELS,
  appSlowModel,
  confusion,
  poolConfusion,
  integerColumns,
  runColumns,
} from "./lib/skab.mjs";
import { FloatMultivariateDetector } from "./reference.mjs";

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const data = arg("--data", "../shared/data/skab");
const useReference = args.includes("--reference");
const noRecovery = args.includes("--no-recovery");
const perFile = args.includes("--per-file");
const CAL = 400;
if (!existsSync(data)) {
  console.error("bench:skab: no such directory: " + data);
  process.exit(2);
}
const built = new URL("../build/modules/detector/multivariate.js", import.meta.url);
if (!existsSync(built)) {
  console.error("bench:skab: run `npm run build` first");
  process.exit(2);
}
const { MultivariateDetector } = await import(built);
// The slow model as the app builds it (modules/detector/select.ts): the class defaults plus these.
const APP_SLOW_MODEL = await appSlowModel();
const options = noRecovery ? {} : APP_SLOW_MODEL;

/** Runs a fresh detector over one file: alarm and change-point flags per row. */
function run(f) {
  const Detector = useReference ? FloatMultivariateDetector : MultivariateDetector;
  return runColumns(
    new Detector({ channels: SKAB_CHANNELS.length, calibrationSamples: CAL, ...options }),
    integerColumns(f),
  );
}

const perFileCounts = [];
const cpFiles = [];
const unlabelled = [];
let scored = 0,
  skipped = 0;
for (const path of csvFiles(data)) {
  const f = loadSkab(path, data);
  if (!f || f.rows <= CAL) {
    skipped++;
    continue;
  }
  if (!f.anomaly || !f.changepoint) {
    // Not scored: a false-alarm check only (SKAB's anomaly-free.csv is normal running throughout).
    const { alarm: alarms } = run(f);
    let on = 0;
    for (let r = CAL; r < f.rows; r++) on += alarms[r];
    unlabelled.push(`${f.name} ${((100 * on) / (f.rows - CAL)).toFixed(2)} % of ${f.rows - CAL} rows`);
    skipped++;
    continue;
  }
  scored++;
  const { alarm: alarms, cp: changes } = run(f);
  const fc = confusion(alarms, f.anomaly, CAL);
  perFileCounts.push(fc);
  cpFiles.push({ time: f.time, truth: f.changepoint, detected: changes, from: CAL });
  if (perFile) {
    const m = outlierMetrics(fc);
    console.log(
      `  ${f.name.padEnd(24)} F1 ${m.f1.toFixed(3)} FAR ${(100 * m.far).toFixed(1)} MAR ${(100 * m.mar).toFixed(1)}`,
    );
  }
}
const cm = poolConfusion(perFileCounts);
const m = outlierMetrics(cm);
const nab = changepointNab(cpFiles);
const skabCp = skabChpScore(cpFiles);
console.log(
  `SKAB (${useReference ? "float64 twin" : "fixed-point detector"}, ${noRecovery ? "class defaults, without recovery" : "the app's slow model: " + JSON.stringify(APP_SLOW_MODEL)}) — ${scored} files scored, ${skipped} without labels not scored, calibration rows 0–${CAL - 1}`,
);
console.log(
  `outliers (pooled over ${cm.tp + cm.fp + cm.tn + cm.fn} test points): F1 ${m.f1.toFixed(3)}  FAR ${(100 * m.far).toFixed(2)} %  MAR ${(100 * m.mar).toFixed(2)} %`,
);
console.log(
  `changepoints (SKAB scorer, core/metrics.py chp_score, 60 s right window): Standard ${skabCp.Standard.toFixed(2)}  LowFP ${skabCp.LowFP.toFixed(2)}  LowFN ${skabCp.LowFN.toFixed(2)}`,
);
console.log(
  `changepoints (classic NAB scoring, 60 s right window): standard ${nab.standard.toFixed(2)}  low-FP ${nab.reward_low_FP.toFixed(2)}  low-FN ${nab.reward_low_FN.toFixed(2)}`,
);
if (unlabelled.length)
  console.log(
    `unlabelled files, in alarm after calibration (a false-alarm check, not in the figures above): ${unlabelled.join("; ")}`,
  );
