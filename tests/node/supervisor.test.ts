// The Node supervisor as bootloader: new images that crash, hang, reject or are truncated roll back; a good one stays.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readBootState, slotPaths } from "../../hosts/node/boot-state.js";
import { ImageError, packImage, parseImage } from "../../hosts/node/image.js";
import { runSupervisor, type SupervisorOptions } from "../../hosts/node/supervisor.js";
import { NodeUpdates } from "../../hosts/node/updates.js";
import { boots, tinyImage, tinyInstall, type Part } from "./support/tiny-build.js";

function setup(): { options: SupervisorOptions; lines: string[]; flashDir: string; root: string } {
  const root = tinyInstall("good");
  const flashDir = mkdtempSync(join(tmpdir(), "telltale-slots-"));
  const lines: string[] = [];
  const options = {
    flashDir,
    installRoot: root,
    bootTries: 2,
    confirmWithinMs: 1500,
    log: (l: string) => lines.push(l),
  };
  return { options, lines, flashDir, root };
}

/** What the running committed firmware does when a download ends: write the other slot, complete it. */
function stage(flashDir: string, image: Uint8Array, version: number): void {
  const state = readBootState(slotPaths(flashDir).state)!;
  const updates = new NodeUpdates({
    flashDir,
    slot: state.committed.slot,
    version: state.committed.version,
    pending: false,
    bootTries: 2,
    slotBytes: 1 << 24,
  });
  const writer = updates.open(image.length, false);
  for (let at = 0; at < image.length; at += 1000) writer.write(at, image.subarray(at, at + 1000));
  writer.complete(version);
}

async function update(part: Part): Promise<ReturnType<typeof setup> & { code: number }> {
  const s = setup();
  assert.equal(await runSupervisor(s.options, []), 0);
  assert.deepEqual(boots(s.flashDir), ["a 1000 committed -"]);
  stage(s.flashDir, tinyImage(s.root, 1001, part), 1001);
  const code = await runSupervisor(s.options, []);
  return { ...s, code };
}

test("new-image-that-crashes-at-boot-rolls-back-after-its-tries", async () => {
  const { flashDir, lines, code } = await update("crash");
  assert.equal(code, 0);
  const reason = "version 1001 did not confirm itself in 2 boots (last: exit code 1)";
  assert.deepEqual(boots(flashDir), [
    "a 1000 committed -",
    "b 1001 pending -",
    "b 1001 pending -",
    `a 1000 committed ${reason}`,
  ]);
  assert.ok(lines.includes("supervisor: rolled back: " + reason), lines.join("\n"));
  const state = readBootState(slotPaths(flashDir).state)!;
  assert.equal(state.committed.slot, "a");
  assert.equal(state.pending, undefined);
  assert.equal(state.rolledBack, undefined, "the reason is shown to one boot, then cleared");
});

test("new-image-that-never-confirms-is-stopped-and-rolled-back", async () => {
  const { flashDir, lines, code } = await update("hang");
  assert.equal(code, 0);
  const reason = "version 1001 did not confirm itself within 1.5 s";
  assert.deepEqual(boots(flashDir), ["a 1000 committed -", "b 1001 pending -", `a 1000 committed ${reason}`]);
  assert.ok(lines.includes("supervisor: rolled back: " + reason), lines.join("\n"));
});

test("good-image-commits-and-stays-after-a-restart-and-a-new-start", async () => {
  const { flashDir, options, code } = await update("good");
  assert.equal(code, 0);
  // It confirmed, restarted (exit 75), and the supervisor booted it again, committed.
  assert.deepEqual(boots(flashDir), ["a 1000 committed -", "b 1001 pending -", "b 1001 committed -"]);
  assert.equal(await runSupervisor(options, []), 0);
  assert.equal(boots(flashDir).at(-1), "b 1001 committed -");
  const state = readBootState(slotPaths(flashDir).state)!;
  assert.deepEqual([state.committed.slot, state.committed.version, state.pending], ["b", 1001, undefined]);
});

test("image-that-rejects-itself-rolls-back-with-its-reason", async () => {
  const { flashDir, code } = await update("reject");
  assert.equal(code, 0);
  assert.deepEqual(boots(flashDir), [
    "a 1000 committed -",
    "b 1001 pending -",
    "a 1000 committed version 1001 rejected itself: self-test failed",
  ]);
});

test("truncated-image-is-refused-by-complete-and-by-the-supervisor-before-the-switch", async () => {
  const s = setup();
  await runSupervisor(s.options, []);
  const image = tinyImage(s.root, 1001, "good");
  // The writer refuses it: complete() checks the frame and trailer.
  assert.throws(() => stage(s.flashDir, image.subarray(0, image.length - 100), 1001), /image truncated|damaged/);
  assert.equal(readBootState(slotPaths(s.flashDir).state)!.pending, undefined);
  // An image damaged after it was completed (the file cut short) is refused at boot, before anything switches.
  stage(s.flashDir, image, 1001);
  truncateSync(slotPaths(s.flashDir).image("b"), 5000);
  assert.equal(await runSupervisor(s.options, []), 0);
  const last = boots(s.flashDir).at(-1)!;
  assert.match(last, /^a 1000 committed version 1001 refused before the switch: image truncated: it ends inside /);
  assert.ok(s.lines.some((l) => l.startsWith("supervisor: rolled back: version 1001 refused before the switch")));
  assert.equal(boots(s.flashDir).length, 2, "the truncated image never ran");
});

test("image-of-another-version-than-completed-is-refused", async () => {
  const s = setup();
  await runSupervisor(s.options, []);
  assert.throws(() => stage(s.flashDir, tinyImage(s.root, 1002, "good"), 1001), /is version 1002, not 1001/);
  assert.equal(readBootState(slotPaths(s.flashDir).state)!.pending, undefined);
});

test("open-is-refused-while-the-running-image-is-pending", async () => {
  const s = setup();
  await runSupervisor(s.options, []);
  const updates = new NodeUpdates({
    flashDir: s.flashDir,
    slot: "b",
    version: 1001,
    pending: true,
    bootTries: 2,
    slotBytes: 1 << 20,
  });
  assert.throws(() => updates.open(1000, false), /pending; it must confirm before another/);
  const committed = new NodeUpdates({
    flashDir: s.flashDir,
    slot: "a",
    version: 1000,
    pending: false,
    bootTries: 2,
    slotBytes: 1 << 20,
  });
  assert.throws(() => committed.open(2 << 20, false), /an image of 2097152 bytes does not fit slot b/);
});

test("image-format-round-trips-and-names-each-damage", () => {
  const files = [
    { path: "package.json", data: new TextEncoder().encode("{}") },
    { path: "build/src/main-node.js", data: new Uint8Array(300).fill(7) },
  ];
  const bytes = packImage(42, files);
  const image = parseImage(bytes);
  assert.equal(image.version, 42);
  assert.deepEqual(
    image.files.map((f) => [f.path, f.data.length]),
    [
      ["package.json", 2],
      ["build/src/main-node.js", 300],
    ],
  );
  assert.throws(
    () => parseImage(bytes.subarray(0, 40)),
    (e: Error) => e instanceof ImageError && /truncated/.test(e.message),
  );
  assert.throws(() => parseImage(bytes.subarray(0, 200)), /ends inside build\/src\/main-node.js/);
  const flipped = bytes.slice();
  flipped[100] = flipped[100]! ^ 1;
  assert.throws(() => parseImage(flipped), /SHA-256 trailer does not match/);
  assert.throws(() => packImage(1, [{ path: "../x", data: new Uint8Array() }]), /not a plain relative path/);
});
