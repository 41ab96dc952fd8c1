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
