// bench:detector — cost of the full pipeline (vibration front end + two multivariate models) in the real XS engine,
// counted by valgrind callgrind on the unmetered xsnap build (.xsnap/xsnap-bench). The programs read the same
// synthetic 3-axis 1.6 kHz stream and 8 slow channels at 1 Hz: "read" only sums the samples, "fixed" runs the
// integer pipeline with the front end's TypeScript loop, "native" the same with its C loop (vibration-native.c, linked
// into xsnap), "float" its float64 twin (bench/reference.mjs); "front" and "front-native" run the vibration front end
// alone, and "plain" is the same front end in C with no engine (bench/detector-plain.c, cc -O2). Each runs twice, with
// WARM + 1 and WARM + 3 passes; the difference divided by 2 passes × frames is the steady-state cost per raw sample
// (engine start-up, input synthesis and calibration cancel). A raw sample here is one 3-axis accelerometer frame.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { stage, xsnapBenchPath, buildDir } from "../scripts/xs-stage.mjs";
import { appSlowModel } from "./lib/skab.mjs";

const FRAMES = 12800; // per pass: 8 s at 1600 Hz, 50 windows of 256, 8 slow samples
const WARM = 4; // passes before the measured ones: the vibration model (calibration 128 windows) is calibrated by then
const SLOW_EVERY = 1600;
if (!existsSync(xsnapBenchPath)) {
  console.error("bench:detector: " + xsnapBenchPath + " is missing: run `npm install`");
  process.exit(2);
}
if (!existsSync(join(buildDir, "modules/detector/multivariate.js"))) {
  console.error("bench:detector: run `npm run build` first");
  process.exit(2);
}
if (spawnSync("valgrind", ["--version"]).status !== 0) {
  console.error("bench:detector: valgrind is not installed");
  process.exit(2);
}
const dir = stage();
// The slow model as the app configures it (recovery and settling, bench/lib/skab.mjs reads it from select.ts).
const SLOW = JSON.stringify(await appSlowModel());
copyFileSync(new URL("./reference.mjs", import.meta.url), join(dir, "reference.js"));

const common = (passes) => `
const FRAMES = ${FRAMES}, PASSES = ${passes}, SLOW_EVERY = ${SLOW_EVERY};
// Deterministic input, built once: a 1.6 kHz three-axis signal (tones + noise + a bearing-like impulse train) and 8 slow channels.
const raw = new Int16Array(FRAMES * 3);
let seed = 12345;
function rnd() { seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5; return (seed & 0xFFFF) - 32768; }
for (let i = 0; i < FRAMES; i++) {
  const ph = (i * 100) % 1600;
  const tone = ph < 400 ? ph * 8 : ph < 1200 ? (800 - ph) * 8 : (ph - 1600) * 8;
  raw[3 * i] = (tone + (rnd() >> 5)) | 0;
  raw[3 * i + 1] = ((tone >> 1) + (rnd() >> 4) + ((i % 160) === 0 ? 9000 : 0)) | 0;
  raw[3 * i + 2] = (2000 + (rnd() >> 6)) | 0;
}
const slowRows = (FRAMES / SLOW_EVERY) | 0;
const slow = new Int32Array(slowRows * 8);
for (let r = 0; r < slowRows * 8; r++) slow[r] = 10000 + (r & 7) * 1000 + (rnd() >> 8);
const slowCal = new Int32Array(128 * 8); // the slow model calibrates on these before the passes (both runs alike)
for (let r = 0; r < 128 * 8; r++) slowCal[r] = 10000 + (r & 7) * 1000 + (rnd() >> 8);
`;

// The measured loop, shared by the integer pipeline and its float64 twin (imported as Front and Detector).
const pipeline = (rowArray, report, native = "") => `
function main() {
  const front = new Front({ axes: 3, windowShift: 8, sampleRate: 1600, bands: [50, 100, 200, 400]${native} });
  // The window model as VibrationMonitor configures it (one global gain, no adaptation).
  const vib = new Detector({ channels: front.features.length, calibrationSamples: 128, scaling: "global", slowShift: 7, rampSamples: 0, adaptShift: 0 });
  const model = new Detector({ channels: 8, calibrationSamples: 128, ...${SLOW} });
  const row = new ${rowArray}(8);
  for (let r = 0; r < 128; r++) { for (let c = 0; c < 8; c++) row[c] = slowCal[r * 8 + c]; model.update(row); }
  let alarms = 0;
  for (let p = 0; p < PASSES; p++) {
    // The accelerometer FIFO delivers blocks of 32 frames; the slow channels arrive once a second (every 1600 frames).
    for (let i = 0, r = 0; i < FRAMES;) {
      const used = front.write(raw, i, 32 - (i & 31));
      if (front.ready && vib.update(front.features)) alarms++;
      i += used; r += used;
      if (r === SLOW_EVERY) { r = 0; const o = ((i / SLOW_EVERY) - 1) * 8; for (let c = 0; c < 8; c++) row[c] = slow[o + c]; if (model.update(row)) alarms++; }
    }
  }
  print(${report});
}
main();
`;

// The front end alone, in the same FIFO blocks; the checksum of its features keeps the work observable.
const frontOnly = (native) => `
function main() {
  const front = new Front({ axes: 3, windowShift: 8, sampleRate: 1600, bands: [50, 100, 200, 400]${native} });
  let check = 0;
  for (let p = 0; p < PASSES; p++)
    for (let i = 0; i < FRAMES;) {
      i += front.write(raw, i, 32 - (i & 31));
      if (front.ready) for (let k = 0; k < front.features.length; k++) check = (check + front.features[k]) | 0;
    }
  print("front " + check);
}
main();
`;

const programs = {
  read: (passes) =>
    common(passes) +
    `
function main() {
  let sum = 0;
  for (let p = 0; p < PASSES; p++) {
    for (let i = 0, r = 0; i < FRAMES;) {
      const n = 32 - (i & 31);
      for (let k = 0, j = i * 3; k < n; k++, j += 3) sum = (sum + raw[j] + raw[j + 1] + raw[j + 2]) | 0;
      i += n; r += n;
      if (r === SLOW_EVERY) { r = 0; const o = ((i / SLOW_EVERY) - 1) * 8; for (let c = 0; c < 8; c++) sum = (sum + slow[o + c]) | 0; }
    }
  }
  print("read " + sum);
}
main();
`,
  fixed: (passes) =>
    `import { VibrationFrontEnd as Front } from "${join(dir, "modules/detector/vibration.js")}";
import { MultivariateDetector as Detector } from "${join(dir, "modules/detector/multivariate.js")}";
` +
    common(passes) +
    pipeline(
      "Int32Array",
      `"fixed " + alarms + " " + vib.score + " " + model.score + " state " + (front.stateBytes + vib.stateBytes + model.stateBytes) + " " + front.stateBytes + " " + vib.stateBytes + " " + model.stateBytes`,
    ),
  native: (passes) =>
    `import { VibrationFrontEnd as Front } from "${join(dir, "modules/detector/vibration.js")}";
import { MultivariateDetector as Detector } from "${join(dir, "modules/detector/multivariate.js")}";
import { vibrationNative } from "${join(dir, "modules/detector/vibration-native.js")}";
` +
    common(passes) +
    pipeline("Int32Array", `"native " + alarms + " " + vib.score + " " + model.score`, ", native: vibrationNative"),
  front: (passes) =>
    `import { VibrationFrontEnd as Front } from "${join(dir, "modules/detector/vibration.js")}";
` +
    common(passes) +
    frontOnly(""),
  "front-native": (passes) =>
    `import { VibrationFrontEnd as Front } from "${join(dir, "modules/detector/vibration.js")}";
import { vibrationNative } from "${join(dir, "modules/detector/vibration-native.js")}";
` +
    common(passes) +
    frontOnly(", native: vibrationNative"),
  float: (passes) =>
    `import { FloatVibrationFrontEnd as Front, FloatMultivariateDetector as Detector } from "${join(dir, "reference.js")}";
` +
    common(passes) +
    pipeline("Float64Array", `"float " + alarms + " " + vib.score + " " + model.score`),
};

function callgrind(file, command = [xsnapBenchPath, "-m", file]) {
  return new Promise((resolve, reject) => {
    const child = spawn("valgrind", ["--tool=callgrind", "--callgrind-out-file=/dev/null", ...command], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "",
      err = "";
    child.stdout.on("data", (d) => {
      out = (out + d).slice(-65536);
    });
    child.stderr.on("data", (d) => {
      err = (err + d).slice(-65536);
    });
    child.on("close", () => {
      const m = /refs:\s+([\d,]+)/.exec(err);
      if (!m) reject(new Error("no instruction count for " + file + "\n" + out + err.slice(-2000)));
      else resolve({ refs: Number(m[1].replace(/,/g, "")), out: out.trim() });
    });
  });
}

// In a folder of this run's own: tmpdir() is shared, and a bench run from another worktree at the same time would
// otherwise overwrite the binary between its compilation here and its measurement.
const plainDir = mkdtempSync(join(tmpdir(), "telltale-detector-plain-"));
const plainBinary = join(plainDir, "detector-plain");
for (const [binary, defines] of [
  [plainBinary, []],
  [plainBinary + "-constant", ["-DCONSTANT_SHAPE"]],
]) {
  const source = new URL("./detector-plain.c", import.meta.url).pathname;
  const cc = spawnSync("cc", ["-O2", ...defines, "-o", binary, source, "-lm"], { encoding: "utf8" });
  if (cc.status !== 0) {
    console.error("bench:detector: cc failed on bench/detector-plain.c\n" + cc.stderr);
    process.exit(2);
  }
}
const jobs = [];
for (const name of Object.keys(programs))
  for (const passes of [WARM + 1, WARM + 3]) {
    const file = join(dir, `bench-detector-${name}-${passes}.js`);
    writeFileSync(file, programs[name](passes));
    jobs.push({ name, passes, file });
  }
for (const passes of [WARM + 1, WARM + 3]) {
  jobs.push({ name: "plain", passes, file: "plain", command: [plainBinary, String(FRAMES), String(passes), "3", "4"] });
  jobs.push({
    name: "plain-constant",
    passes,
    file: "plain",
    command: [plainBinary + "-constant", String(FRAMES), String(passes)],
  });
}
// Two at a time (the machine has two cores).
const results = {};
for (let i = 0; i < jobs.length; i += 2) {
  const batch = jobs.slice(i, i + 2);
  const done = await Promise.all(batch.map((j) => callgrind(j.file, j.command)));
  batch.forEach((j, k) => {
    (results[j.name] ??= {})[j.passes] = done[k];
  });
}
rmSync(plainDir, { recursive: true, force: true });
const perFrame = (name) => (results[name][WARM + 3].refs - results[name][WARM + 1].refs) / (2 * FRAMES);
const read = perFrame("read"),
  fixed = perFrame("fixed"),
  native = perFrame("native"),
  float = perFrame("float"),
  front = perFrame("front"),
  frontNative = perFrame("front-native"),
  plain = perFrame("plain"),
  plainConstant = perFrame("plain-constant");
const state = results.fixed[WARM + 3].out.split(" state ")[1].split(" ").map(Number);
console.log(
  `bench:detector — XS engine ${xsnapBenchPath.replace(/.*\/\.xsnap/, ".xsnap")} (unmetered), valgrind callgrind, ${FRAMES} frames × 2 passes difference`,
);
console.log(
  `pipeline: 3 axes × 1600 Hz → windows of 256 (RMS, peak, crest, kurtosis, 4 Goertzel bands per axis) → 24-channel model; 8 slow channels at 1 Hz → 8-channel model`,
);
console.log(`read-only loop:        ${read.toFixed(1)} instructions per raw sample (3-axis frame)`);
console.log(
  `fixed-point pipeline:  ${fixed.toFixed(1)} instructions per raw sample  (${(fixed / read).toFixed(2)}× the read-only loop, ${(fixed / 3).toFixed(1)} per axis value)`,
);
console.log(
  `native front end:      ${native.toFixed(1)} instructions per raw sample  (the pipeline with vibration-native.c's loop: ${(fixed / native).toFixed(2)}× fewer)`,
);
console.log(
  `float64 twin:          ${float.toFixed(1)} instructions per raw sample  (fixed / float = ${(fixed / float).toFixed(3)})`,
);
console.log(
  `front end alone:       TypeScript in XS ${front.toFixed(1)}, native in XS ${frontNative.toFixed(1)}, plain C ${plain.toFixed(1)} instructions per raw sample (native / plain C = ${(frontNative / plain).toFixed(2)})`,
);
console.log(
  `                       plain C with the shape compiled in (3 axes, 4 bands): ${plainConstant.toFixed(1)} (native / that = ${(frontNative / plainConstant).toFixed(2)})`,
);
console.log(
  `detector state: ${state[0]} bytes (vibration front end ${state[1]}, 24-channel vibration model ${state[2]}, 8-channel slow model ${state[3]})`,
);
console.log(
  `check outputs: ${results.fixed[WARM + 3].out.split(" state ")[0]} | ${results.native[WARM + 3].out} | ${results.float[WARM + 3].out} | ` +
    `${results.front[WARM + 3].out} | ${results["front-native"][WARM + 3].out} | ${results.plain[WARM + 3].out} | ${results["plain-constant"][WARM + 3].out}`,
);
