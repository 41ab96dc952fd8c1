// FEMTO-ST PRONOSTIA bearing runs for bench:bearings: reading the format, and turning a 25.6 kHz snapshot into what
// an accelerometer part delivers to the device (its output data rate, its low-pass, its counts and its range).
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";

/** The format (../shared/data/README.md, femto/): 2560 frames of two int32 milli-g values per snapshot. */
export const SOURCE_RATE = 25600;
export const SNAPSHOT_FRAMES = 2560;
export const SNAPSHOT_BYTES = SNAPSHOT_FRAMES * 2 * 4;

/** Every bearing in dir: a `<name>.acc.gz` with its `<name>.csv`, sorted by name. A .acc.gz without its .csv is an error. */
export function listBearings(dir) {
  const names = readdirSync(dir)
    .filter((f) => f.endsWith(".acc.gz"))
    .map((f) => f.slice(0, -".acc.gz".length))
    .sort();
  for (const name of names)
    if (!existsSync(join(dir, name + ".csv"))) throw new Error(`femto: ${name}.acc.gz has no ${name}.csv in ${dir}`);
  return names;
}

/**
 * Seconds of each snapshot's first frame from `snapshot,hour,minute,second,microsecond` rows, from the first one; a
 * clock that goes back (a run past midnight) adds a day. Rows must be numbered 0, 1, 2 … in order.
 */
export function readTimes(text, what = "csv") {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (!/^snapshot,hour,minute,second,microsecond$/.test(lines[0]?.trim() ?? ""))
    throw new Error(`femto: ${what}: expected the header snapshot,hour,minute,second,microsecond`);
  const times = new Float64Array(lines.length - 1);
  let day = 0,
    previous = -1;
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i].split(",").map(Number);
    if (f.length !== 5 || f.some((v) => !Number.isFinite(v)) || f[0] !== i - 1)
      throw new Error(`femto: ${what}: line ${i + 1} is not snapshot ${i - 1},hour,minute,second,microsecond`);
    let t = f[1] * 3600 + f[2] * 60 + f[3] + f[4] / 1e6 + day;
    if (t < previous) {
      day += 86400;
      t += 86400;
    }
    times[i - 1] = t;
    previous = t;
  }
  const t0 = times[0] ?? 0;
  for (let i = 0; i < times.length; i++) times[i] -= t0;
  return times;
}

/** The snapshots of a .acc.gz as one Int32Array of (horizontal, vertical) milli-g pairs; checks the size. */
export function readSnapshots(gz, expected, what = "acc.gz") {
  const raw = gunzipSync(gz);
  if (raw.length % SNAPSHOT_BYTES !== 0)
    throw new Error(`femto: ${what}: ${raw.length} bytes is not a whole number of ${SNAPSHOT_BYTES}-byte snapshots`);
  const count = raw.length / SNAPSHOT_BYTES;
  if (expected !== undefined && count !== expected)
    throw new Error(`femto: ${what}: ${count} snapshots, but its csv lists ${expected}`);
  const out = new Int32Array(raw.length / 4);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt32(4 * i, true);
  return out;
}

/**
 * Linear-phase low-pass FIR for decimation by `factor`: a Blackman-windowed sinc cut at the output's Nyquist
 * frequency (−6 dB there), unit gain at DC. It stands in for the part's own digital filter (the ADXL345's output
 * bandwidth is half its data rate, datasheet Table 7) ahead of its sample-rate reduction.
 */
export function lowpassTaps(factor, length = 12 * factor + 1) {
  const taps = new Float64Array(length),
    mid = (length - 1) / 2,
    fc = 0.5 / factor; // cycles per input sample
  let sum = 0;
  for (let n = 0; n < length; n++) {
    const x = n - mid;
    const sinc = x === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * x) / (Math.PI * x);
    const w =
      0.42 - 0.5 * Math.cos((2 * Math.PI * n) / (length - 1)) + 0.08 * Math.cos((4 * Math.PI * n) / (length - 1));
    taps[n] = sinc * w;
    sum += taps[n];
  }
  for (let n = 0; n < length; n++) taps[n] /= sum;
  return taps;
}

/**
 * What the part delivers for one snapshot: `frames` frames at SOURCE_RATE / factor, three int16 counts each — x the
 * horizontal accelerometer, y the vertical, z a constant `zCounts` (the FEMTO data has no third axis; a constant
 * axis has no spread, so the model's floors keep it out of the score). Each value is the low-passed signal at every
 * `factor`-th input sample, in counts of `countsPerG` per g, rounded and clipped to [min, max] (the part's range).
 * The frames are the last `frames` whose filter lies wholly inside the snapshot (a snapshot is 0.1 s of running, not
 * a continuous stream). Writes into `out` (frames × 3) from frame `at`.
 */
export function sensorFrames(snapshots, index, { factor, taps, frames, countsPerG, min, max, zCounts }, out, at) {
  const base = index * SNAPSHOT_FRAMES * 2,
    L = taps.length;
  const last = Math.floor((SNAPSHOT_FRAMES - L) / factor); // output k uses inputs k·factor … k·factor + L − 1
  const first = last - frames + 1;
  if (first < 0) throw new Error(`femto: a snapshot holds fewer than ${frames} filtered frames at 1/${factor} rate`);
  const scale = countsPerG / 1000; // milli-g → counts
  for (let k = 0; k < frames; k++) {
    const s = (first + k) * factor;
    let h = 0,
      v = 0;
    for (let n = 0; n < L; n++) {
      const j = base + 2 * (s + n);
      h += taps[n] * snapshots[j];
      v += taps[n] * snapshots[j + 1];
    }
    const o = 3 * (at + k);
    out[o] = clip(Math.round(h * scale), min, max);
    out[o + 1] = clip(Math.round(v * scale), min, max);
    out[o + 2] = zCounts;
  }
}

function clip(v, min, max) {
  return v < min ? min : v > max ? max : v;
}
