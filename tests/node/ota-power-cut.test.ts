// Power-cut soak of the Node slots: cuts at a random byte of download, complete, unpack/switch, confirm and install,
// and SIGKILLs of real processes; after each, the supervisor must boot a committed image or a pending one with tries.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { readBootState, slotPaths, type BootState } from "../../hosts/node/boot-state.js";
import { packImage, parseImage } from "../../hosts/node/image.js";
import { prepareBoot, runSupervisor, treeHolds, type SupervisorOptions } from "../../hosts/node/supervisor.js";
import { NodeUpdates, type BootInfo } from "../../hosts/node/updates.js";
import { seededRandom } from "../integration/support/schedule.js";
import { CuttingDisk, PowerCut } from "./support/cutting-disk.js";
import { boots, tinyImage, tinyInstall } from "./support/tiny-build.js";

const BUILD = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CUTS = 200;
const PHASES = ["download", "complete", "unpack-switch", "confirm", "install"] as const;
type Phase = (typeof PHASES)[number];
const TRIES = 3;
const CHUNK = 4096;

/** A tiny good build as `version`, padded with `padBytes` of seeded noise in a few files (so cuts land in data). */
function paddedImage(root: string, version: number, padBytes: number, random: (n: number) => number): Uint8Array {
  const files = [...parseImage(tinyImage(root, version, "confirm")).files];
  for (let i = 0, left = padBytes; left > 0; i++) {
    const n = Math.min(left, 20_000 + random(40_000));
    const data = new Uint8Array(n);
    for (let j = 0; j < n; j += 4) data[j] = random(256);
    files.push({ path: `build/pad/${i}.bin`, data });
    left -= n;
  }
  return packImage(version, files);
}

function bootInfo(flashDir: string, state: BootState, pending: boolean): BootInfo {
  const s = pending ? state.pending! : state.committed;
  return { flashDir, slot: s.slot, version: s.version, pending, bootTries: TRIES, slotBytes: 1 << 24 };
}

/** The boots the invariant allows after a cut: the committed image, or the pending one while it has tries. */
function allowed(state: BootState | undefined): string[] {
  if (!state) return ["a 1000"]; // nothing yet: the installed build
  const out = [`${state.committed.slot} ${state.committed.version}`];
  if (state.pending && state.pending.triesLeft > 0) out.push(`${state.pending.slot} ${state.pending.version}`);
  return out;
}

interface Figures {
  cuts: Record<Phase | "sigkill", number>;
  completedUncut: number;
  booted: Record<string, number>;
  pendingBoots: number;
  rollbacks: number;
}

function noFigures(): Figures {
  return {
    cuts: { download: 0, complete: 0, "unpack-switch": 0, confirm: 0, install: 0, sigkill: 0 },
    completedUncut: 0,
    booted: {},
    pendingBoots: 0,
    rollbacks: 0,
  };
}

/** Boots as after a power cut (a fresh supervisor, the real disk) and checks the invariant; returns the first boot. */
async function bootAfterCut(options: SupervisorOptions, figures: Figures, what: string): Promise<string> {
  const state = (() => {
    try {
      return readBootState(slotPaths(options.flashDir).state);
    } catch {
      return undefined;
    }
  })();
  const before = boots(options.flashDir).length;
  const lines: string[] = [];
  const code = await runSupervisor({ ...options, log: (l) => lines.push(l) }, []);
  const after = boots(options.flashDir).slice(before);
  assert.equal(code, 0, `${what}: the firmware did not boot and stop cleanly:\n${lines.join("\n")}`);
  assert.ok(after.length > 0, `${what}: no slot booted:\n${lines.join("\n")}`);
  const first = after[0]!.split(" ");
  const slotVersion = `${first[0]} ${first[1]}`;
  assert.ok(
    allowed(state).includes(slotVersion),
    `${what}: booted ${slotVersion}, allowed ${allowed(state).join(" or ")}\n${lines.join("\n")}`,
  );
  if (first[2] === "pending") figures.pendingBoots++;
  figures.booted[first[0]!] = (figures.booted[first[0]!] ?? 0) + 1;
  if (lines.some((l) => l.includes("rolled back"))) figures.rollbacks++;
  // Whatever booted last is whole on disk.
  const now = readBootState(slotPaths(options.flashDir).state)!;
  assert.ok(treeHolds(slotPaths(options.flashDir).tree(now.committed.slot), now.committed), `${what}: committed tree`);
  return slotVersion;
}

test("power-cut-soak-some-slot-always-boots", { timeout: 600_000 }, async () => {
  const random = seededRandom(2026);
  const root = tinyInstall("confirm");
  const flashDir = mkdtempSync(join(tmpdir(), "telltale-soak-"));
  const options: SupervisorOptions = { flashDir, installRoot: root, bootTries: TRIES, log: () => {} };
  const paths = slotPaths(flashDir);
  const figures = noFigures();
  let version = 1000;
  await bootAfterCut(options, figures, "first boot");
  let landed = 0;
  const whole: Partial<Record<Phase, number>> = {};
  for (let round = 0; landed < CUTS; round++) {
    assert.ok(round < CUTS * 2, "too few cuts landed inside their phase");
    const phase = PHASES[random(PHASES.length)]!;
    const image = paddedImage(root, ++version, 10_000 + random(60_000), random);
    const state = readBootState(paths.state)!;
    const running = new NodeUpdates(bootInfo(flashDir, state, false));
    // Each phase runs up to its start on the real disk, then on a disk that dies at a random unit of what the phase
    // used the last time it ran whole (up to and including its last operation); its first run measures it.
    const budget = () => new CuttingDisk(whole[phase] === undefined ? Infinity : random(whole[phase] + 1));
    let disk: CuttingDisk | undefined;
    try {
      if (phase === "download") {
        disk = budget();
        const writer = new NodeUpdates(bootInfo(flashDir, state, false), disk).open(image.length, false);
        for (let at = 0; at < image.length; at += CHUNK) writer.write(at, image.subarray(at, at + CHUNK));
        writer.complete(version);
      } else if (phase === "complete") {
        const writer = new NodeUpdates(bootInfo(flashDir, state, false)).open(image.length, false);
        for (let at = 0; at < image.length; at += CHUNK) writer.write(at, image.subarray(at, at + CHUNK));
        writer.close();
        disk = budget();
        const again = new NodeUpdates(bootInfo(flashDir, state, false), disk).open(image.length, true);
        again.complete(version);
      } else {
        const writer = running.open(image.length, false);
        for (let at = 0; at < image.length; at += CHUNK) writer.write(at, image.subarray(at, at + CHUNK));
        writer.complete(version);
        if (phase === "unpack-switch") {
          disk = budget();
          prepareBoot({ ...options, disk });
        } else if (phase === "confirm") {
          prepareBoot(options);
          disk = budget();
          new NodeUpdates(bootInfo(flashDir, readBootState(paths.state)!, true), disk).confirm();
        } else {
          // A new device: the installed build goes to slot a, cut part-way (the flash folder starts empty).
          rmSync(paths.dir, { recursive: true, force: true });
          disk = budget();
          prepareBoot({ ...options, disk });
        }
      }
    } catch (e) {
      if (!(e instanceof PowerCut)) throw e;
    }
    if (disk?.cut) {
      landed++;
      figures.cuts[phase]++;
    } else {
      figures.completedUncut++;
      whole[phase] = disk?.used;
    }
    const booted = await bootAfterCut(options, figures, `cut ${round} (${phase}, after ${disk?.used} units)`);
    if (phase === "download" && disk?.cut) {
      // The download resumes where it was cut (the transport re-sends from the last whole block): same image, then it
      // boots pending and commits.
      assert.equal(booted.split(" ")[1], String(readBootState(paths.state)!.committed.version));
      const s = readBootState(paths.state)!;
      const writer = new NodeUpdates(bootInfo(flashDir, s, false)).open(image.length, true);
      const from = Math.max(0, Math.floor((disk.used - 8) / CHUNK) - 1) * CHUNK;
      for (let at = from; at < image.length; at += CHUNK) writer.write(at, image.subarray(at, at + CHUNK));
      const back = writer.read(0, image.length);
      assert.equal(
        createHash("sha256").update(back).digest("hex"),
        createHash("sha256").update(image).digest("hex"),
        "the resumed image reads back whole",
      );
      writer.complete(version);
      await bootAfterCut(options, figures, `resume after cut ${round}`);
    }
  }
  console.log("power-cut soak figures: " + JSON.stringify(figures));
  assert.equal(landed, CUTS);
});

/** A process that runs one phase on the real disk and is killed part-way with SIGKILL. */
const DRIVER = `
import { NodeUpdates } from ${JSON.stringify(pathToFileURL(join(BUILD, "hosts/node/updates.js")).href)};
import { prepareBoot } from ${JSON.stringify(pathToFileURL(join(BUILD, "hosts/node/supervisor.js")).href)};
import { readBootState, slotPaths } from ${JSON.stringify(pathToFileURL(join(BUILD, "hosts/node/boot-state.js")).href)};
import { readFileSync } from "node:fs";
const [phase, flashDir, root, imagePath, version] = process.argv.slice(2);
const state = readBootState(slotPaths(flashDir).state);
process.stdout.write("go\\n");
if (phase === "download") {
  const image = readFileSync(imagePath);
  const info = { flashDir, slot: state.committed.slot, version: state.committed.version, pending: false, bootTries: 3, slotBytes: 1 << 24 };
  const writer = new NodeUpdates(info).open(image.length, false);
  for (let at = 0; at < image.length; at += 4096) writer.write(at, image.subarray(at, at + 4096));
  writer.complete(Number(version));
} else prepareBoot({ flashDir, installRoot: root, bootTries: 3, log: () => {} });
process.stdout.write("done\\n");
`;

test("sigkill-soak-real-processes-killed-mid-download-and-mid-unpack", { timeout: 600_000 }, async () => {
  const random = seededRandom(419);
  const root = tinyInstall("confirm");
  const flashDir = mkdtempSync(join(tmpdir(), "telltale-kill-"));
  const work = mkdtempSync(join(tmpdir(), "telltale-kill-driver-"));
  const driver = join(work, "driver.mjs");
  writeFileSync(driver, DRIVER);
  const options: SupervisorOptions = { flashDir, installRoot: root, bootTries: TRIES, log: () => {} };
  const figures = noFigures();
  await bootAfterCut(options, figures, "first boot");
  let version = 1000;
  const windows: Record<string, number> = { download: 20, unpack: 20 };
  let midPhase = 0;
  const KILLS = 40;
  for (let i = 0; i < KILLS; i++) {
    const phase = i % 2 === 0 ? "download" : "unpack";
    const imagePath = join(work, "image");
    const image = paddedImage(root, ++version, 1_500_000, random);
    writeFileSync(imagePath, image);
    if (phase === "unpack") {
      // Staged whole; the killed process is the supervisor unpacking and switching to it.
      const s = readBootState(slotPaths(flashDir).state)!;
      const w = new NodeUpdates(bootInfo(flashDir, s, false)).open(image.length, false);
      w.write(0, image);
      w.complete(version);
    }
    const child = spawn(process.execPath, [driver, phase, flashDir, root, imagePath, String(version)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    const started = Date.now();
    let goAt = 0;
    const delay = random(windows[phase]! + 1);
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      if (!goAt && out.includes("go")) {
        goAt = Date.now();
        setTimeout(() => child.kill("SIGKILL"), delay);
      }
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) =>
      child.on("exit", (c, s) => done([c, s])),
    );
    if (signal === "SIGKILL" && !out.includes("done")) midPhase++;
    else windows[phase] = Math.max(windows[phase]!, Date.now() - (goAt || started)); // it finished: widen the window
    assert.ok(signal === "SIGKILL" || code === 0, `driver ${phase} failed with ${code}`);
    figures.cuts.sigkill++;
    await bootAfterCut(options, figures, `kill ${i} (${phase} after ${delay} ms)`);
  }
  console.log(`sigkill soak: ${midPhase} of ${KILLS} kills landed mid-phase; ` + JSON.stringify(figures));
  assert.ok(midPhase >= KILLS / 4, `only ${midPhase} of ${KILLS} kills landed inside their phase`);
});
