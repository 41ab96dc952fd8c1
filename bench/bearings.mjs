// bench:bearings — the device's vibration detector on real bearing run-to-failure data (FEMTO-ST PRONOSTIA format,
// ../shared/data/README.md), every bearing in --data DIR in acquisition order, against an RMS-threshold reference.
//
// The device: an ADXL345 declared as the app declares it, at its top output data rate (`rate: 3200`; range ±16 g,
// full resolution: 256 counts per g, 13 bits), parsed by the app's own parseConfig; its stream feeds a
// VibrationMonitor built from that config exactly as src/monitor.ts builds one (the part's 3 axes and rate, the
// detector.vibration defaults), except calibrationWindows: CALIBRATION_MINUTES of snapshots, fixed in advance.
// A snapshot (0.1 s at 25.6 kHz, every 10 s) becomes one window of the part's output: low-passed at 1600 Hz
// (bench/lib/femto.mjs), every 8th sample, in counts, clipped to the range; x horizontal, y vertical, z a constant
// 1 g (the data has no third axis). The 256 frames go to the monitor in FIFO blocks of the part's watermark (16).
// Per bearing: the first sustained alarm (on in SUSTAIN consecutive snapshots, dated at the last of them) after
// calibration, its lead before the last snapshot, and the share of snapshots in alarm in the EARLY_MINUTES after
// calibration. The reference, in the same run on the same windows: alarm when a window's RMS on x or y exceeds
// REFERENCE_FACTOR × that axis' calibration RMS (the root mean square of its calibration windows' RMS).
// Decimated data is cached under $TMPDIR/telltale-femto (never in the repo).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { listBearings, readSnapshots, readTimes, lowpassTaps, sensorFrames } from "./lib/femto.mjs";

const CALIBRATION_MINUTES = 30;
const EARLY_MINUTES = 30;
const SUSTAIN = 3;
const DETECTED_LEAD_MINUTES = 1;
const REFERENCE_FACTOR = 2.5;
const WATERMARK = 16;

const project = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const dataArg = args.indexOf("--data");
const dir = resolve(dataArg >= 0 ? (args[dataArg + 1] ?? "") : join(project, "../shared/data/femto"));
if (!existsSync(dir)) {
  console.error("bench:bearings: no data folder " + dir + " (use --data DIR)");
  process.exit(2);
}
const built = join(project, "build/modules");
if (!existsSync(join(built, "detector/vibration-monitor.js"))) {
  console.error("bench:bearings: run `npm run build` first");
  process.exit(2);
}
const { parseConfig } = await import(join(built, "config/config.js"));
const { VibrationMonitor } = await import(join(built, "detector/vibration-monitor.js"));
const { countsPerG, outputBits } = await import(join(built, "drivers/adxl345/registers.js"));

const RATE = 3200;
const sensor = { part: "adxl345", address: 0x53, rate: RATE };
const device = parseConfig({ sensors: [sensor] });
const part = device.sensors[0].options;
const PER_G = countsPerG(part.range, part.fullResolution);
const BITS = outputBits(part.range, part.fullResolution);
const FACTOR = 25600 / part.rate;
const TAPS = lowpassTaps(FACTOR);

/** Per bearing: times (s) and the part's frames (snapshots × window × 3 int16), decoded once and cached in /tmp. */
function load(name, windowFrames) {
  const gz = join(dir, name + ".acc.gz"),
    csv = join(dir, name + ".csv");
  const times = readTimes(readFileSync(csv, "utf8"), name + ".csv");
  const key = createHash("sha256")
    .update([gz, statSync(gz).size, statSync(gz).mtimeMs, FACTOR, TAPS.length, PER_G, BITS, windowFrames].join("|"))
    .digest("hex")
    .slice(0, 16);
  const cacheDir = join(tmpdir(), "telltale-femto"),
    cache = join(cacheDir, name + "-" + key + ".i16");
  if (existsSync(cache)) {
    const b = readFileSync(cache);
    return { times, frames: new Int16Array(b.buffer, b.byteOffset, b.length / 2) };
  }
  const snapshots = readSnapshots(readFileSync(gz), times.length, name + ".acc.gz");
  const frames = new Int16Array(times.length * windowFrames * 3);
  const options = {
    factor: FACTOR,
    taps: TAPS,
    frames: windowFrames,
    countsPerG: PER_G,
    min: -(1 << (BITS - 1)),
    max: (1 << (BITS - 1)) - 1,
    zCounts: PER_G,
  };
  for (let i = 0; i < times.length; i++) sensorFrames(snapshots, i, options, frames, i * windowFrames);
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(cache, frames);
  return { times, frames };
}

/** First index i ≥ from where on[i − SUSTAIN + 1 … i] are all true, or −1. */
function firstSustained(on, from) {
  let run = 0;
  for (let i = from; i < on.length; i++) {
    run = on[i] ? run + 1 : 0;
    if (run >= SUSTAIN) return i;
  }
  return -1;
}

function summarise(on, times, calibration) {
  const last = times.length - 1,
    runMinutes = times[last] / 60;
  const i = firstSustained(on, calibration);
  const lead = i < 0 ? 0 : (times[last] - times[i]) / 60;
  let early = 0,
    earlyCount = 0;
  for (let k = calibration; k <= last && times[k] < times[calibration] + EARLY_MINUTES * 60; k++) {
    earlyCount++;
    if (on[k]) early++;
  }
  return {
    at: i < 0 ? undefined : times[i] / 60,
    lead,
    leadShare: (100 * lead) / runMinutes,
    detected: i >= 0 && lead >= DETECTED_LEAD_MINUTES,
    early,
    earlyCount,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b),
    n = s.length;
  return n === 0 ? 0 : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

const names = listBearings(dir);
if (names.length === 0) {
  console.error("bench:bearings: no <bearing>.acc.gz in " + dir);
  process.exit(2);
}
const settings0 = device.detector.vibration;
const windowFrames = 1 << settings0.windowShift;
console.log(
  `bench:bearings — ${names.length} bearings in ${dir}; device: ADXL345 at ${part.rate} Hz, ±${part.range} g, ${PER_G} counts/g ` +
    `(25.6 kHz low-passed at ${part.rate / 2} Hz, ${TAPS.length}-tap FIR, every ${FACTOR}th sample); one ${windowFrames}-frame window per snapshot`,
);
console.log(
  `calibration: first ${CALIBRATION_MINUTES} min; sustained alarm: ${SUSTAIN} snapshots in a row; detected: lead ≥ ${DETECTED_LEAD_MINUTES} min; ` +
    `early: the ${EARLY_MINUTES} min after calibration; reference: window RMS > ${REFERENCE_FACTOR}× calibration RMS on x or y`,
);
const fmt = (r) =>
  (r.at === undefined
    ? "no sustained alarm"
    : `alarm at ${r.at.toFixed(1)} min, lead ${r.lead.toFixed(1)} min (${r.leadShare.toFixed(1)} %)`
  ).padEnd(44) + ` ${r.detected ? "detected" : "MISSED  "}  early ${r.early}/${r.earlyCount}`;

/** One bearing through the monitor (alarm threshold `on`, default the app's) and the reference; undefined if too short. */
function runBearing(name, on) {
  const { times, frames } = load(name, windowFrames);
  const n = times.length;
  let calibration = 0;
  while (calibration < n && times[calibration] < CALIBRATION_MINUTES * 60) calibration++;
  if (calibration < 128 || calibration >= n) return { name, n, times };
  // As src/monitor.ts: new VibrationMonitor({ ...settings.vibration, axes: info.axes, sampleRate: info.rate }).
  const vibration = { calibrationWindows: calibration, ...(on === undefined ? {} : { on, off: Math.min(on, 8) }) };
  const settings = parseConfig({ sensors: [sensor], detector: { vibration } }).detector.vibration;
  const monitor = new VibrationMonitor({ ...settings, axes: 3, sampleRate: part.rate });
  const per = monitor.front.featuresPerAxis;
  const alarm = new Uint8Array(n),
    ref = new Uint8Array(n);
  const calSq = [0, 0];
  const rms = new Float64Array(2);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < windowFrames; f += WATERMARK) monitor.write(frames, i * windowFrames + f, WATERMARK);
    if (monitor.front.windows !== i + 1) throw new Error(`bench:bearings: ${name}: snapshot ${i} did not end a window`);
    alarm[i] = monitor.model.alarm ? 1 : 0;
    for (let a = 0; a < 2; a++) rms[a] = monitor.front.features[a * per] / 16;
    if (i < calibration) for (let a = 0; a < 2; a++) calSq[a] += rms[a] * rms[a];
    else {
      let hit = false;
      for (let a = 0; a < 2; a++) if (rms[a] > REFERENCE_FACTOR * Math.sqrt(calSq[a] / calibration)) hit = true;
      ref[i] = hit ? 1 : 0;
    }
  }
  return {
    name,
    n,
    times,
    calibration,
    detector: summarise(alarm, times, calibration),
    reference: summarise(ref, times, calibration),
    settings,
  };
}

if (args.includes("--select")) {
  // How detector.vibration.on's default was chosen: from the early, healthy running only (never a lead time): the
  // smallest threshold on a grid whose pooled early alarm share is at most 1 %; and, leave-one-bearing-out, what that
  // rule picks from the other bearings and what it gives on the one left out.
  const grid = [];
  for (let on = 16; on <= 40; on += 2) grid.push(on);
  const early = new Map(); // on → per bearing [early alarms, early snapshots]
  for (const on of grid)
    early.set(
      on,
      names
        .map((b) => runBearing(b, on))
        .filter((r) => r.detector)
        .map((r) => [r.detector.early, r.detector.earlyCount]),
    );
  const pick = (skip) =>
    grid.find((on) => {
      const list = early.get(on).filter((_, k) => k !== skip);
      return list.reduce((s, e) => s + e[0], 0) <= 0.01 * list.reduce((s, e) => s + e[1], 0);
    }) ?? grid[grid.length - 1];
  for (const on of grid) {
    const list = early.get(on);
    console.log(
      `on ${on}: early alarm share ${((100 * list.reduce((s, e) => s + e[0], 0)) / list.reduce((s, e) => s + e[1], 0)).toFixed(2)} %`,
    );
  }
  let a = 0,
    c = 0;
  const count = early.get(grid[0]).length;
  for (let k = 0; k < count; k++) {
    const on = pick(k),
      [e, t] = early.get(on)[k];
    a += e;
    c += t;
    console.log(`leave out ${names[k]}: the others pick on ${on}; its early alarms ${e}/${t}`);
  }
  console.log(
    `select: on ${pick(-1)} from all bearings; leave-one-bearing-out early alarm share ${((100 * a) / c).toFixed(2)} %`,
  );
  process.exit(0);
}

const rows = { detector: [], reference: [] };
for (const name of names) {
  const r = runBearing(name);
  if (!r.detector) {
    console.log(
      `${name}: ${r.n} snapshots, too short for ${CALIBRATION_MINUTES} min of calibration (128 windows at least) and a test`,
    );
    continue;
  }
  rows.detector.push(r.detector);
  rows.reference.push(r.reference);
  console.log(`${name}: ${r.n} snapshots, ${(r.times[r.n - 1] / 60).toFixed(1)} min`);
  console.log(`  detector:  ${fmt(r.detector)}`);
  console.log(`  reference: ${fmt(r.reference)}`);
}
for (const [label, list] of [
  ["bearings", rows.detector],
  ["reference", rows.reference],
]) {
  const detected = list.filter((r) => r.detected).length;
  const early = list.reduce((s, r) => s + r.early, 0),
    earlyCount = list.reduce((s, r) => s + r.earlyCount, 0);
  console.log(
    `${label}: detected ${detected} of ${list.length}, median lead ${median(list.map((r) => r.lead)).toFixed(1)} min, ` +
      `early alarm share ${earlyCount ? ((100 * early) / earlyCount).toFixed(2) : "0.00"} %`,
  );
}
