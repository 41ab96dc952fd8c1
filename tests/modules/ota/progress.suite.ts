// The received-block bitmap and its record in the store: what a resume after a reboot starts from.
import { suite, test, equal, ok, deepEqual } from "../../harness.js";
import { BlockMap, PROGRESS_KEY, clearProgress, loadProgress, saveProgress } from "telltale/ota/progress";
import { manifestFields } from "telltale/ota/manifest";
import { mapStore } from "../../support/test-host.js";

const manifest = manifestFields({
  version: 4,
  size: 10_000,
  sha256: "0f".repeat(32),
  blockSize: 1024,
  mqtt: true,
  devices: ["d"],
  key: "k1",
});

suite("ota progress", () => {
  test("blocks-are-counted-once-and-the-last-is-short", () => {
    const map = new BlockMap(10_000, 1024);
    equal(map.count, 10);
    equal(map.lengthOf(9), 10_000 - 9 * 1024);
    map.set(3);
    map.set(3);
    map.set(42);
    equal(map.have, 1);
    ok(map.has(3) && !map.has(2));
    equal(map.percent, 10);
    map.set(9);
    equal(map.percent, Math.floor(((1024 + 784) * 100) / 10_000));
  });

  test("next-missing-wraps-and-runs-stop-at-a-held-block", () => {
    const map = new BlockMap(10_000, 1024);
    for (const i of [0, 1, 5]) map.set(i);
    equal(map.nextMissing(), 2);
    equal(map.runFrom(2, 16), 3, "2, 3, 4 then 5 is held");
    equal(map.runFrom(6, 16), 4, "6 … 9, the end");
    ok(map.missingIn(0, 3) && !map.missingIn(0, 2));
    for (let i = 6; i < 10; i++) map.set(i);
    equal(map.nextMissing(6), 2, "wraps to the start");
    for (let i = 2; i < 5; i++) map.set(i);
    equal(map.nextMissing(), -1);
    ok(map.complete);
    equal(map.percent, 100);
  });

  test("the-record-survives-a-restart-for-the-same-image-only", () => {
    const store = mapStore(new Map());
    const map = new BlockMap(10_000, 1024);
    map.set(0);
    map.set(7);
    saveProgress(store, manifest, map);
    const back = loadProgress(store, manifest);
    ok(back);
    deepEqual([back.have, back.has(0), back.has(7), back.has(1)], [2, true, true, false]);
    equal(loadProgress(store, { ...manifest, version: 5 }), undefined, "another version");
    equal(loadProgress(store, { ...manifest, sha256: "1f".repeat(32) }), undefined, "another image");
    equal(loadProgress(store, { ...manifest, blockSize: 512 }), undefined, "another block size");
    clearProgress(store);
    equal(store.get(PROGRESS_KEY), undefined);
  });

  test("a-damaged-record-starts-over", () => {
    const map = new Map<string, string>();
    const store = mapStore(map);
    map.set(PROGRESS_KEY, "{broken");
    equal(loadProgress(store, manifest), undefined);
    map.set(
      PROGRESS_KEY,
      JSON.stringify({ version: 4, sha256: "0f".repeat(32), size: 10_000, blockSize: 1024, blocks: "AAAA" }),
    );
    equal(loadProgress(store, manifest), undefined, "a bitmap of the wrong length");
  });

  test("bits-past-the-last-block-are-ignored", () => {
    const map = new BlockMap(10_000, 1024, Uint8Array.of(0xff, 0xff));
    equal(map.have, 10);
    ok(map.complete);
  });
});
