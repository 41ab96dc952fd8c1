// XS and Node compute bit-identical detector outputs: the same program (vibration front end + multivariate models on a
// fixed synthetic input) runs in Node and in the real XS engine (.xsnap/xsnap), and both print a checksum of every score.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const root = new URL("../../../", import.meta.url).pathname;

/** The program, given where the modules live; it calls print(line) once. */
function program(modules: string): string {
  return `import { VibrationFrontEnd } from "${join(modules, "detector/vibration.js")}";
import { MultivariateDetector } from "${join(modules, "detector/multivariate.js")}";
import { NoveltyDetector } from "${join(modules, "detector/novelty.js")}";
let seed = 2024;
function rnd() { seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5; return (seed & 0xFFFF) - 32768; }
let h = 0x811C9DC5 | 0;
function mix(v) { h = Math.imul(h ^ (v | 0), 0x01000193); }
const front = new VibrationFrontEnd({ axes: 3, bands: [50, 120, 330] });
const vib = new MultivariateDetector({ channels: front.features.length, calibrationSamples: 128 });
const slow = new MultivariateDetector({ channels: 8, calibrationSamples: 150 });
// The app's slow model: the same rows with recovery (episodes, the recovery test, restored baselines).
const rec = new MultivariateDetector({ channels: 8, calibrationSamples: 150, recovery: true, episodeSamples: 200 });
// And with the app's settling (relative return, baselines to the current level, 256 updates of settling), on rows
// whose fault on channel 2 ends with a remainder.
const set = new MultivariateDetector({ channels: 8, calibrationSamples: 150, recovery: true, returnShift: 3, settleSamples: 256, recoverTo: "current", changeThreshold: 6, changeRefractory: 8 });
const frames = new Int16Array(32 * 3), row = new Int32Array(8), row2 = new Int32Array(8);
let scores = 0, episodes = 0, settling = 0;
for (let block = 0; block < 1600; block++) {
  for (let i = 0; i < 32 * 3; i++) {
    const t = block * 32 + (i / 3 | 0);
    frames[i] = ((i % 3) * 500 + ((t % 40) - 20) * (block > 1200 ? 300 : 150) + (rnd() >> 4)) | 0;
  }
  for (let i = 0; i < 32;) {
    i += front.write(frames, i, 32 - i);
    if (front.ready) { vib.update(front.features); mix(vib.score); mix(vib.t2); mix(vib.alarm ? 1 : 0); mix(vib.top[0]); for (let k = 0; k < front.features.length; k++) mix(front.features[k]); scores++; }
  }
  for (let c = 0; c < 8; c++) row[c] = 1000 * c + (rnd() >> 6) + (block > 1300 && c === 5 ? 900 : 0);
  slow.update(row); mix(slow.score); mix(slow.t2); mix(slow.changePoint ? 1 : 0); mix(slow.contributions[5]); scores++;
  rec.update(row); mix(rec.score); mix(rec.recoveryScore); mix(rec.alarm ? 1 : 0); mix(rec.episodeChannels); episodes += rec.episodeChannels !== 0 ? 1 : 0;
  for (let c = 0; c < 8; c++) row2[c] = 1000 * c + (rnd() >> 6) + (c === 2 ? (block >= 400 && block < 700 ? 20000 : block >= 700 ? 1200 : 0) : 0);
  set.update(row2); mix(set.score); mix(set.recoveryScore); mix(set.alarm ? 1 : 0); mix(set.changePoint ? 1 : 0); mix(set.episodeChannels);
  settling += !set.alarm && set.episodeChannels !== 0 ? 1 : 0;
}
const setImage = set.exportState();
for (let i = 0; i < setImage.length; i++) mix(setImage[i]);
// The univariate novelty model on a daily-like cycle (period 96) with a broken cycle and a spike: period search in
// float64 at the end of calibration, integer scoring after.
// Its state image, taken at t = 3000 and restored into a second detector that then sees the same samples.
const nov = new NoveltyDetector({ calibrationSamples: 600 });
const copy = new NoveltyDetector({ calibrationSamples: 600 });
for (let t = 0; t < 4000; t++) {
  const phase = t % 96, broken = t >= 2400 && t < 2496;
  const v = (phase < 48 && !broken ? 5000 : 1000) + (rnd() >> 6) + (t === 3300 ? 20000 : 0);
  nov.update(v); mix(nov.score); mix(nov.detection ? 1 : 0); mix(nov.likelihood);
  if (t === 3000) copy.importState(nov.exportState());
  if (t > 3000) { copy.update(v); mix(copy.score); mix(copy.likelihood); }
}
mix(nov.period); mix(nov.detections); mix(copy.detections);
const recImage = rec.exportState();
for (let i = 0; i < recImage.length; i++) mix(recImage[i]);
const novImage = nov.exportState();
for (let i = 0; i < novImage.length; i++) mix(novImage[i]);
const image = slow.exportState();
for (let i = 0; i < image.length; i++) mix(image[i]);
print("parity " + scores + " " + (h >>> 0).toString(16) + " " + vib.score + " " + slow.score + " " + slow.alarm + " novelty " + nov.period + " " + nov.detections + " episodes " + episodes + " settling " + settling);
`;
}

test("detector-scores-are-bit-identical-in-node-and-xs", async () => {
  const xsnap = join(root, ".xsnap/xsnap");
  assert.ok(existsSync(xsnap), "xsnap is built by npm install");
  const { stage } = (await import(pathToFileURL(join(root, "scripts/xs-stage.mjs")).href)) as { stage: () => string };
  const dir = stage();
  const xsFile = join(dir, "detector-parity.js");
  writeFileSync(xsFile, program(join(dir, "modules")));
  const run = spawnSync(xsnap, ["-m", xsFile], { encoding: "utf8", timeout: 120_000 });
  const xsLine = (run.stdout ?? "").split("\n").find((l) => l.startsWith("parity "));
  assert.ok(xsLine, "XS printed a result: " + run.stdout + run.stderr);

  const nodeDir = join(root, "build", ".parity");
  mkdirSync(nodeDir, { recursive: true });
  const nodeFile = join(nodeDir, "detector-parity.mjs");
  writeFileSync(nodeFile, program(join(root, "build/modules")));
  let nodeLine = "";
  (globalThis as unknown as { print: (s: string) => void }).print = (s: string) => {
    nodeLine = s;
  };
  await import(pathToFileURL(nodeFile).href);
  assert.ok(nodeLine.startsWith("parity "), "Node printed a result");
  assert.equal(xsLine, nodeLine);
  assert.match(nodeLine, /^parity 1800 /, "every window and slow sample was scored");
  const [period = 0, detections = 0] = (nodeLine.split(" novelty ")[1] ?? "").split(" ").map(Number);
  assert.ok(
    Number(nodeLine.split(" episodes ")[1]?.split(" ")[0]) > 0,
    "the recovery model opened an episode: " + nodeLine,
  );
  assert.ok(Number(nodeLine.split(" settling ")[1]) > 0, "the settling model settled after its fault: " + nodeLine);
  assert.ok(
    period > 0 && period % 96 === 0 && detections > 0,
    "the novelty model found the cycle (or a multiple) and detected something: " + nodeLine,
  );
});
