// NAB scoring, written from the published method (Lavin & Ahmad 2015; NAB v1.1 sweeper):
// windows of label rows; the first detection inside a window earns tpWeight × scaledSigmoid(position) / scaledSigmoid(-1),
// later ones in the same window earn nothing; a detection outside every window costs fpWeight × scaledSigmoid(distance past
// the previous window / its width − 1), or the full fpWeight before the first window; a window with no detection costs fnWeight;
// rows in the probationary period (first 15 %, at most 750 rows) are not scored; totals over all files are normalised so that
// the null detector scores 0 and the perfect one 100.
import { readFileSync } from "node:fs";

export const PROFILES = Object.freeze({
  standard: { tp: 1, fp: 0.11, fn: 1 },
  reward_low_FP: { tp: 1, fp: 0.22, fn: 1 },
  reward_low_FN: { tp: 1, fp: 0.11, fn: 2 },
});

export function scaledSigmoid(x) {
  return x > 3 ? -1 : 2 / (1 + Math.exp(5 * x)) - 1;
}

export function probationLength(rows) {
  return Math.min(Math.floor(0.15 * rows), 750);
}

/**
 * One file's raw score for one profile.
 * time: row times (numbers, increasing); detected: 0/1 per row; windows: [[start, end]] in time units (inclusive).
 */
export function fileScore({ time, detected, windows }, profile, probation) {
  const n = time.length;
  // Window index per row (or -1) and each window's row span.
  const win = new Int32Array(n).fill(-1);
  const spans = windows.map(() => [n, -1]);
  let w = 0;
  for (let i = 0; i < n; i++) {
    while (w < windows.length && time[i] > windows[w][1]) w++;
    if (w < windows.length && time[i] >= windows[w][0]) {
      win[i] = w;
      if (i < spans[w][0]) spans[w][0] = i;
      spans[w][1] = i;
    }
  }
  const maxTP = scaledSigmoid(-1);
  const start = probation ? probationLength(n) : 0;
  const credited = new Float64Array(windows.length).fill(NaN);
  let fp = 0,
    prevRight = -1,
    prevWidth = 0;
  for (let i = 0; i < n; i++) {
    const k = win[i];
    if (k >= 0) {
      const [left, right] = spans[k];
      if (i === right) {
        prevRight = right;
        prevWidth = right - left + 1;
      }
      if (i >= start && detected[i] && Number.isNaN(credited[k])) {
        const position = -(right - i + 1) / (right - left + 1);
        credited[k] = (profile.tp * scaledSigmoid(position)) / maxTP;
      }
    } else if (i >= start && detected[i]) {
      const unweighted = prevRight < 0 ? -1 : scaledSigmoid(Math.abs(prevRight - i) / Math.max(1, prevWidth - 1));
      fp += unweighted * profile.fp;
    }
  }
  let tp = 0,
    fn = 0,
    counted = 0;
  for (let k = 0; k < windows.length; k++) {
    if (spans[k][1] < 0) continue; // a window with no rows (outside the file) is not counted
    counted++;
    if (Number.isNaN(credited[k])) fn -= profile.fn;
    else tp += credited[k];
  }
  return { score: tp + fp + fn, windows: counted };
}

/** Normalised NAB scores (0 = null detector, 100 = perfect) per profile over a list of series. */
export function nabScore(series, { probation = true } = {}) {
  const out = {};
  for (const [name, profile] of Object.entries(PROFILES)) {
    let raw = 0,
      nWindows = 0;
    for (const s of series) {
      const r = fileScore(s, profile, probation);
      raw += r.score;
      nWindows += r.windows;
    }
    const nullScore = -profile.fn * nWindows,
      perfect = profile.tp * nWindows;
    out[name] = perfect === nullScore ? 0 : (100 * (raw - nullScore)) / (perfect - nullScore);
  }
  return out;
}

/** "2014-04-10 07:15:00.000000" or "2014-04-10 07:15:00" → ms. */
export function parseNabTime(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(String(text).trim());
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN;
}

/** A NAB data file: { time: number[], value: Float64Array }. */
export function loadNabSeries(path) {
  const lines = readFileSync(path, "utf8")
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "");
  const time = [],
    value = [];
  for (let i = 1; i < lines.length; i++) {
    const [t, v] = lines[i].split(",");
    time.push(parseNabTime(t));
    value.push(Number(v));
  }
  return { time, value: Float64Array.from(value) };
}

/** Integer unit for a series: a power of ten that puts the calibration rows' largest magnitude near 10^5. */
export function unitScale(values, cal) {
  let max = 0;
  for (let i = 0; i < cal; i++) max = Math.max(max, Math.abs(values[i]));
  return max > 0 ? 10 ** Math.round(5 - Math.log10(max)) : 1;
}

/**
 * Runs the novelty model (the built class, passed in) over one series, calibrating on its probationary rows:
 * { detected: 0/1 per row, period }. Values are fed in the unit unitScale() picks from those rows, clamped to ±(2^22 − 1).
 */
export function noveltyDetections(NoveltyDetector, values, options = {}) {
  const n = values.length,
    cal = Math.max(64, probationLength(n));
  const det = new NoveltyDetector({ calibrationSamples: cal, ...options });
  const scale = unitScale(values, cal),
    detected = new Uint8Array(n);
  for (let i = 0; i < n; i++)
    detected[i] = det.update(Math.max(-0x3fffff, Math.min(0x3fffff, Math.round(values[i] * scale)))) ? 1 : 0;
  return { detected, period: det.period };
}
