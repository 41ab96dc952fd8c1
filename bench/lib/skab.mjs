// SKAB loading and scoring for the benches: CSV parsing, pooled outlier metrics, NAB-style change-point scoring.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { nabScore } from "./nab.mjs";

/** The eight SKAB sensor columns and the integer unit the bench feeds the detector (value × scale, rounded),
 *  chosen from each sensor's resolution, the way a device reports its own units — not fitted to the data. */
export const SKAB_CHANNELS = Object.freeze([
  ["Accelerometer1RMS", 1e6],
  ["Accelerometer2RMS", 1e6],
  ["Current", 1e4],
  ["Pressure", 1e4],
  ["Temperature", 1e4],
  ["Thermocouple", 1e4],
  ["Voltage", 1e3],
  ["Volume Flow RateRMS", 1e4],
]);

/** Every .csv under dir, recursively, sorted for a stable order. */
export function csvFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.toLowerCase().endsWith(".csv")) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** "2020-03-09 10:14:33" → milliseconds (UTC; only differences matter). */
export function parseTime(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?/.exec(text.trim());
  if (!m) return NaN;
  const ms = m[7] ? Number((m[7] + "000").slice(0, 3)) : 0;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], ms);
}

/** Reads one SKAB-format file: { name, time[], values: Float64Array[] per channel, anomaly?, changepoint? }. */
export function loadSkab(path, root) {
  const lines = readFileSync(path, "utf8")
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "");
  const header = lines[0].split(";").map((s) => s.trim());
  const idx = SKAB_CHANNELS.map(([name]) => header.indexOf(name));
  if (idx.some((i) => i < 0)) return null;
  const ia = header.indexOf("anomaly"),
    ic = header.indexOf("changepoint"),
    it = header.indexOf("datetime");
  const n = lines.length - 1;
  const values = SKAB_CHANNELS.map(() => new Float64Array(n));
  const time = new Float64Array(n);
  const anomaly = ia >= 0 ? new Uint8Array(n) : null,
    changepoint = ic >= 0 ? new Uint8Array(n) : null;
  for (let r = 0; r < n; r++) {
    const f = lines[r + 1].split(";");
    time[r] = it >= 0 ? parseTime(f[it]) : r * 1000;
    for (let c = 0; c < idx.length; c++) values[c][r] = Number(f[idx[c]]);
    if (anomaly) anomaly[r] = Number(f[ia]) >= 0.5 ? 1 : 0;
    if (changepoint) changepoint[r] = Number(f[ic]) >= 0.5 ? 1 : 0;
  }
  return { name: root ? relative(root, path) : path, time, values, anomaly, changepoint, rows: n };
}

/** A file's channels as the detector's integers (value × the channel's scale, rounded), one Int32Array each. */
export function integerColumns(f) {
  return SKAB_CHANNELS.map(([, scale], c) => Int32Array.from(f.values[c], (x) => Math.round(x * scale)));
}

/** Runs a detector over a file's integer columns (integerColumns): per row, its alarm and change-point flags (0/1). */
export function runColumns(det, cols) {
  const p = cols.length,
    rows = cols[0].length,
    v = new Int32Array(p),
    alarm = new Uint8Array(rows),
    cp = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < p; c++) v[c] = cols[c][r];
    alarm[r] = det.update(v) ? 1 : 0;
    cp[r] = det.changePoint ? 1 : 0;
  }
  return { alarm, cp };
}

/** Empty confusion counts. */
export const noConfusion = () => ({ tp: 0, fp: 0, tn: 0, fn: 0 });

/** Adds the confusion counts of rows `from`… of one file (alarms and labels, 0/1 per row) into `cm`; returns it. */
export function confusion(alarms, anomaly, from, cm = noConfusion()) {
  for (let r = from; r < anomaly.length; r++) {
    const a = alarms[r],
      t = anomaly[r];
    if (a && t) cm.tp++;
    else if (a) cm.fp++;
    else if (t) cm.fn++;
    else cm.tn++;
  }
  return cm;
}

/** The sum of confusion counts (one per file). */
export function poolConfusion(cms) {
  return cms.reduce((m, c) => ({ tp: m.tp + c.tp, fp: m.fp + c.fp, tn: m.tn + c.tn, fn: m.fn + c.fn }), noConfusion());
}

/** Pooled confusion counts → F1 (SKAB's definition), FAR, MAR. */
export function outlierMetrics({ tp, fp, tn, fn }) {
  return { f1: tp / (tp + (fp + fn) / 2), far: fp / (fp + tn), mar: fn / (fn + tp) };
}

/** Change-point NAB scores (standard, low-FP, low-FN) pooled over files; each file gives {time, truth (0/1 per row), detected (0/1 per row), from}. */
export function changepointNab(files, windowMs = 60_000) {
  const series = files.map(({ time, truth, detected, from }) => {
    const windows = [];
    for (let r = from; r < truth.length; r++) if (truth[r]) windows.push([time[r], time[r] + windowMs]);
    const t = Array.from(time.subarray(from)),
      d = Array.from(detected.subarray(from));
    return { time: t, detected: d, windows };
  });
  return nabScore(series, { probation: false });
}

// SKAB's own change-point scoring, reimplemented from waico/SKAB core/metrics.py (commit b2c0d46): `chp_score(true_cp,
// predicted_cp, metric="nab", window_width="60s", anomaly_window_destination="righter")` as notebooks/t2_SKAB.ipynb
// calls it, with its defaults (clear_anomalies_mode True, intersection_mode "cut right window", scale_func "improved",
// scale_koef 1) — single_detecting_boundaries, extract_cp_confusion_matrix, my_scale, single_evaluate_nab. Unlike
// classic NAB: every detection outside a window costs the flat A_fp (no sigmoid of its distance), and the first
// detection inside a window scores on a tanh curve from A_tp at the change point down to A_fp at the window's end.
export const SKAB_PROFILES = Object.freeze({
  Standard: { tp: 1, fp: -0.11, fn: -1 },
  LowFP: { tp: 1, fp: -0.22, fn: -1 },
  LowFN: { tp: 1, fp: -0.11, fn: -2 },
});

/** my_scale(): the value of the "improved" scoring curve for a detection at `fraction` (0–1) of its window. */
export function skabScale(fraction, A_tp, A_fp, detalization = 1000) {
  let event = Math.trunc(fraction * detalization); // int() of the Timedelta ratio × detalization
  if (!(event >= 0)) event = 0;
  if (event >= detalization) event = detalization - 1;
  const x = -Math.PI / 2 + (event * Math.PI) / (detalization - 1); // np.linspace(-π/2, π/2, detalization)[event]
  return (((A_tp - A_fp) / 2) * -1 * Math.tanh(x)) / Math.tanh(Math.PI / 2) + (A_tp - A_fp) / 2 + A_fp;
}

/**
 * One file's confusion as extract_cp_confusion_matrix() builds it: windows [t, t + width] right of each labelled
 * change point (an overlapping window starts where the previous one ends), the first detection in each window (its
 * [start, detection, end]), the windows with none, and the count of detections outside every window.
 * time: ms per row; truth, detected: 0/1 per row; from: first scored row.
 */
export function skabConfusion({ time, truth, detected, from = 0 }, windowMs = 60_000) {
  const windows = [];
  for (let r = from; r < truth.length; r++) if (truth[r]) windows.push([time[r], time[r] + windowMs]);
  for (let i = 0; i + 1 < windows.length; i++)
    if (windows[i][1] >= windows[i + 1][0]) windows[i + 1][0] = windows[i][1];
  const preds = [];
  for (let r = from; r < detected.length; r++) if (detected[r]) preds.push(time[r]);
  preds.sort((a, b) => a - b);
  const tps = [];
  let fns = 0,
    fps = 0;
  if (windows.length === 0) return { tps, fns, fps: preds.length, windows: 0 };
  fps += preds.filter((t) => t < windows[0][0]).length;
  for (let i = 0; i < windows.length; i++) {
    const [a, b] = windows[i];
    const inside = preds.filter((t) => t >= a && t <= b);
    if (inside.length === 0) fns++;
    else tps.push([a, inside[0], b]);
    if (i + 1 < windows.length) fps += preds.filter((t) => t > b && t < windows[i + 1][0]).length;
  }
  fps += preds.filter((t) => t > windows[windows.length - 1][1]).length;
  return { tps, fns, fps, windows: windows.length };
}

/** chp_score(metric="nab") over files: { Standard, LowFP, LowFN } rounded to 2 decimals, as SKAB prints them. */
export function skabChpScore(files, windowMs = 60_000) {
  const confusions = files.map((f) => skabConfusion(f, windowMs));
  const out = {};
  for (const [name, p] of Object.entries(SKAB_PROFILES)) {
    let score = 0,
      nullScore = 0,
      perfect = 0;
    for (const c of confusions) {
      score += p.fp * c.fps + p.fn * c.fns;
      for (const [a, t, b] of c.tps) score += skabScale(b > a ? (t - a) / (b - a) : 0, p.tp, p.fp);
      perfect += c.windows * p.tp;
      nullScore += c.windows * p.fn;
    }
    out[name] =
      perfect === nullScore ? 0 : Math.round(100 * ((100 * (score - nullScore)) / (perfect - nullScore))) / 100;
  }
  return out;
}

/** The slow model's options as the app builds it (modules/detector/select.ts createDetector with the config's
 *  defaults), from the built select.js: SLOW_MODEL_OPTIONS and the multivariate defaults' on/off/hold/clear. */
export async function appSlowModel() {
  const { SLOW_MODEL_OPTIONS, DETECTOR_DEFAULTS } = await import(
    new URL("../../build/modules/detector/select.js", import.meta.url)
  );
  const d = DETECTOR_DEFAULTS.multivariate;
  return { ...SLOW_MODEL_OPTIONS, on: d.on, off: d.off, holdSamples: d.holdSamples, clearSamples: d.clearSamples };
}
