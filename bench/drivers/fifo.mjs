// bench:drivers — cost per accelerometer sample drained from the FIFO, in the real XS engine (.xsnap/xsnap-bench, the
// unmetered build), counted by valgrind callgrind ("I refs"). Programs, all run in the same invocation of this script:
//   copy     only copies the same bytes a drain moves (6 per frame) from a source buffer into a burst buffer;
//   window   AccelWindow.writeLE on those bytes: decode, ring store, per-axis sums (the drivers' shared hot loop);
//   adxl345  ADXL345.drain(): INT_SOURCE + FIFO_STATUS reads, then one 6-byte DATAX0…DATAZ1 read per entry, 32 per drain;
//   mpu6050  MPU6050.drain(): INT_STATUS + FIFO_COUNT reads, then one 192-byte FIFO_R_W burst per 32 frames.
// The drivers talk to a stub I2C class that answers from preallocated buffers, so the figures are the driver's own
// work plus one ECMA-419 call per transaction; the drivers use read(buffer) on the FIFO path, which allocates nothing.
// Each program runs with two drain counts; the difference divided by the extra frames removes engine start-up.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, writeFileSync, readdirSync, readFileSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join, dirname, relative } from "node:path";
import { stage, stageDir, xsnapBenchPath, buildDir } from "../../scripts/xs-stage.mjs";

const FRAMES_PER_DRAIN = 32;
const DRAINS = [500, 2500];
if (!existsSync(xsnapBenchPath)) {
  console.error("bench:drivers: " + xsnapBenchPath + " is missing: run `npm install`");
  process.exit(2);
}
if (!existsSync(join(buildDir, "modules/drivers/adxl345/adxl345.js"))) {
  console.error("bench:drivers: run `npm run build` first");
  process.exit(2);
}
if (spawnSync("valgrind", ["--version"]).status !== 0) {
  console.error("bench:drivers: valgrind is not installed");
  process.exit(2);
}
// A private copy of the stage (other benches and the XS test run re-create .xsnap/stage while they run).
const staged = stage();
const dir = join(dirname(stageDir), "bench-drivers");
rmSync(dir, { recursive: true, force: true });
(function copy(from) {
  for (const name of readdirSync(from)) {
    const path = join(from, name);
    if (statSync(path).isDirectory()) {
      copy(path);
      continue;
    }
    if (!name.endsWith(".js")) continue;
    const target = join(dir, relative(staged, path));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, readFileSync(path, "utf8").split(staged).join(dir));
  }
})(join(staged, "modules"));
const mod = (path) => JSON.stringify(join(dir, "modules", path + ".js"));

const common = (drains) => `
const DRAINS = ${drains}, FRAMES = ${FRAMES_PER_DRAIN};
// 64 distinct 6-byte entries (x, y, z int16) of a 1 g + tones signal, as both byte orders.
const POOL = 64;
const le = [], be = [];
const source = new Uint8Array(POOL * 6);
for (let i = 0; i < POOL; i++) {
  const v = [(i * 37) % 200 - 100, (i * 53) % 120 - 60, 256 + ((i * 11) % 30) - 15];
  const a = new Uint8Array(6), b = new Uint8Array(6);
  for (let k = 0; k < 3; k++) { a[2 * k] = v[k] & 0xFF; a[2 * k + 1] = (v[k] >> 8) & 0xFF; b[2 * k] = a[2 * k + 1]; b[2 * k + 1] = a[2 * k]; }
  le.push(a); be.push(b);
  source.set(a, i * 6);
}
const clock = { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} };
`;

const stubs = `
function byte(v) { const b = new Uint8Array(1); b[0] = v; return b; }
// ECMA-419 read(count) returns a buffer; read(buffer) fills the given one (what the drivers use on hot paths).
function reply(what, bytes) { if (typeof what === "number") return bytes.buffer; what.set(bytes); }
class ADXLBus {
  constructor() { this.p = 0; this.k = 0; this.devid = byte(0xE5); this.src = byte(0x02); this.status = byte(FRAMES); this.zero = byte(0); }
  write(buffer) { this.p = new Uint8Array(buffer.buffer ?? buffer, buffer.byteOffset ?? 0, 1)[0]; }
  read(what) {
    const p = this.p;
    if (p === 0x32) { const b = le[this.k]; this.k = (this.k + 1) & (POOL - 1); return reply(what, b); }
    if (p === 0x39) return reply(what, this.status);
    if (p === 0x30) return reply(what, this.src);
    if (p === 0x00) return reply(what, this.devid);
    return reply(what, this.zero);
  }
  close() {}
}
class MPUBus {
  constructor() {
    this.p = 0; this.k = 0; this.who = byte(0x68); this.zero = byte(0);
    const c = new Uint8Array(2); c[0] = (FRAMES * 6) >> 8; c[1] = (FRAMES * 6) & 0xFF; this.count = c;
    this.bursts = [];
    for (let j = 0; j < 4; j++) { const b = new Uint8Array(FRAMES * 6); for (let i = 0; i < FRAMES; i++) b.set(be[(j * FRAMES + i) & (POOL - 1)], i * 6); this.bursts.push(b); }
  }
  write(buffer) { this.p = new Uint8Array(buffer.buffer ?? buffer, buffer.byteOffset ?? 0, 1)[0]; }
  read(what) {
    const p = this.p;
    if (p === 0x74) { const b = this.bursts[this.k]; this.k = (this.k + 1) & 3; return reply(what, b); }
    if (p === 0x72) return reply(what, this.count);
    if (p === 0x75) return reply(what, this.who);
    return reply(what, this.zero);
  }
  close() {}
}
`;

const programs = {
  copy: (drains) =>
    common(drains) +
    `
function drainCopy(burst, src, o) {
  for (let i = 0, n = FRAMES * 6; i < n; i++) burst[i] = src[o + i];
}
function main() {
  const burst = new Uint8Array(FRAMES * 6);
  let check = 0;
  for (let d = 0; d < DRAINS; d++) { drainCopy(burst, source, (d & 1) * FRAMES * 6); check = (check + burst[5]) | 0; }
  print("copy " + DRAINS * FRAMES + " " + check);
}
try { main(); } catch (e) { print("error " + e + " " + (e && e.stack)); }
`,
  copyNative: (drains) =>
    common(drains) +
    `
function main() {
  const burst = new Uint8Array(FRAMES * 6);
  const halves = [source.subarray(0, FRAMES * 6), source.subarray(FRAMES * 6, 2 * FRAMES * 6)];
  let check = 0;
  for (let d = 0; d < DRAINS; d++) { burst.set(halves[d & 1]); check = (check + burst[5]) | 0; }
  print("copyNative " + DRAINS * FRAMES + " " + check);
}
try { main(); } catch (e) { print("error " + e + " " + (e && e.stack)); }
`,
  window: (drains) =>
    `import { AccelWindow } from ${mod("drivers/accelerometer/window")};
` +
    common(drains) +
    `
function main() {
  const w = new AccelWindow(512);
  const burst = new Uint8Array(FRAMES * 6);
  for (let i = 0; i < FRAMES * 6; i++) burst[i] = source[i];
  for (let d = 0; d < DRAINS; d++) w.writeLE(burst, 0, FRAMES);
  print("window " + w.total + " " + w.ring[5]);
}
try { main(); } catch (e) { print("error " + e + " " + (e && e.stack)); }
`,
  adxl345: (drains) =>
    `import ADXL345 from ${mod("drivers/adxl345/adxl345")};
` +
    common(drains) +
    stubs +
    `
function main() {
  const s = new ADXL345({ sensor: { io: ADXLBus, address: 0x53 }, clock, rate: 1600 });
  let frames = 0;
  for (let d = 0; d < DRAINS; d++) frames += s.drain();
  print("adxl345 " + frames + " " + s.health().samples + " " + s.overflows + " " + s.errors);
}
try { main(); } catch (e) { print("error " + e + " " + (e && e.stack)); }
`,
  mpu6050: (drains) =>
    `import MPU6050 from ${mod("drivers/mpu6050/mpu6050")};
` +
    common(drains) +
    stubs +
    `
function main() {
  const s = new MPU6050({ sensor: { io: MPUBus, address: 0x68 }, clock, rate: 1600 });
  let frames = 0;
  for (let d = 0; d < DRAINS; d++) frames += s.drain();
  print("mpu6050 " + frames + " " + s.health().samples + " " + s.overflows + " " + s.errors);
}
try { main(); } catch (e) { print("error " + e + " " + (e && e.stack)); }
`,
};

function callgrind(file) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "valgrind",
      ["--tool=callgrind", "--callgrind-out-file=/dev/null", xsnapBenchPath, "-m", file],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "",
      err = "";
    // xsnap repeats an unhandled exception forever: stop at the first one.
    const stop = (text) => {
      if (/Unhandled exception|stack overflow/.test(text)) child.kill("SIGKILL");
    };
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    child.stdout.on("data", (d) => {
      out += d;
      stop(out);
    });
    child.stderr.on("data", (d) => {
      err += d;
      stop(err);
    });
    child.on("close", () => {
      clearTimeout(timer);
      const m = /refs:\s+([\d,]+)/.exec(err);
      if (!m) reject(new Error("no instruction count for " + file + "\n" + out + err.slice(-2000)));
      else resolve({ refs: Number(m[1].replace(/,/g, "")), out: out.trim() });
    });
  });
}

const jobs = [];
for (const name of Object.keys(programs))
  for (const drains of DRAINS) {
    const file = join(dir, `bench-drivers-${name}-${drains}.js`);
    writeFileSync(file, programs[name](drains));
    jobs.push({ name, drains, file });
  }
const results = {};
for (let i = 0; i < jobs.length; i += 2) {
  const batch = jobs.slice(i, i + 2);
  const done = await Promise.all(batch.map((j) => callgrind(j.file)));
  batch.forEach((j, k) => {
    (results[j.name] ??= {})[j.drains] = done[k];
  });
}
const extra = (DRAINS[1] - DRAINS[0]) * FRAMES_PER_DRAIN;
for (const name of Object.keys(programs)) {
  const expect = String(DRAINS[1] * FRAMES_PER_DRAIN);
  const words = results[name][DRAINS[1]].out.split(" ");
  if (words[1] !== expect || (words.length > 3 && (words[3] !== "0" || words[4] !== "0")))
    throw new Error("bench:drivers: " + name + " did not drain every frame cleanly: " + results[name][DRAINS[1]].out);
}
const per = (name) => (results[name][DRAINS[1]].refs - results[name][DRAINS[0]].refs) / extra;
const copy = per("copy"),
  native = per("copyNative"),
  window = per("window"),
  adxl = per("adxl345"),
  mpu = per("mpu6050");
const fmt = (v) => v.toFixed(0).padStart(6);
console.log(
  `bench:drivers — XS ${xsnapBenchPath.replace(/.*\/\.xsnap/, ".xsnap")} (unmetered), valgrind callgrind I refs; ${DRAINS[0]} vs ${DRAINS[1]} drains of ${FRAMES_PER_DRAIN} frames, difference per frame (3 axes, 6 bytes)`,
);
console.log(`copy only, byte loop (6 bytes)            ${fmt(copy)} instructions per frame`);
console.log(`copy only, TypedArray.set per 192 bytes   ${fmt(native)} instructions per frame`);
console.log(
  `AccelWindow.writeLE (decode + ring + sums) ${fmt(window)} instructions per frame  (${(window / copy).toFixed(2)}× copy)`,
);
console.log(
  `ADXL345 drain(), 6-byte read per entry    ${fmt(adxl)} instructions per frame  (${(adxl / copy).toFixed(2)}× copy)`,
);
console.log(
  `MPU-6050 drain(), 192-byte burst          ${fmt(mpu)} instructions per frame  (${(mpu / copy).toFixed(2)}× copy)`,
);
console.log(
  `at 1600 Hz: ADXL345 ${((adxl * 1600) / 1e6).toFixed(2)} M, MPU-6050 ${((mpu * 1600) / 1e6).toFixed(2)} M instructions per second of vibration (x86-64 counts)`,
);
