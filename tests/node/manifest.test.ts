// The Moddable manifests as mcconfig reads them: no tsconfig `paths` (they would replace the SDK's), the ESP32 build's
// partition table (two app slots, otadata, storage for the outbox), and the host manifests each platform includes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("../../../", import.meta.url).pathname;

interface Manifest {
  include?: string[];
  typescript?: { tsconfig?: { compilerOptions?: Record<string, unknown> } };
  build?: Record<string, string>;
  platforms?: Record<string, Manifest>;
}

function manifest(path: string): Manifest {
  return JSON.parse(readFileSync(join(root, path), "utf8")) as Manifest;
}

test("typescript-section-sets-no-paths", () => {
  // mcconfig merges compilerOptions with Object.assign: a `paths` here replaces the SDK's generated map of every
  // embedded:* and SDK module, and each tsc step then fails to find embedded:io/system.
  const options = manifest("manifest.json").typescript?.tsconfig?.compilerOptions ?? {};
  assert.equal(Object.hasOwn(options, "paths"), false);
});

test("typescript-section-checks-as-strictly-as-npm-test", () => {
  // mcconfig type-checks each module with the SDK's options plus these: without them a narrowing that tsc accepts in
  // npm test fails there (the SDK's defaults are not strict), or the other way round.
  const options = manifest("manifest.json").typescript?.tsconfig?.compilerOptions ?? {};
  const base = (
    JSON.parse(readFileSync(join(root, "tsconfig.base.json"), "utf8")) as { compilerOptions: Record<string, unknown> }
  ).compilerOptions;
  for (const flag of ["strict", "noUncheckedIndexedAccess", "noImplicitOverride", "useUnknownInCatchVariables"]) {
    assert.equal(base[flag], true, "tsconfig.base.json sets " + flag);
    assert.equal(options[flag], true, "the manifest's typescript section sets " + flag);
  }
});

test("each-platform-includes-its-host-manifest", () => {
  const platforms = manifest("manifest.json").platforms ?? {};
  assert.deepEqual(platforms.esp32?.include, ["./hosts/esp32/manifest.json"]);
  for (const sim of ["lin", "mac", "win"]) assert.deepEqual(platforms[sim]?.include, ["./hosts/sim/manifest.json"]);
  for (const host of ["hosts/esp32/manifest.json", "hosts/sim/manifest.json"])
    assert.ok(
      manifest(host).include?.includes("../moddable/manifest.json"),
      host + " includes the shared Moddable host",
    );
});

interface Partition {
  name: string;
  type: string;
  subtype: string;
  offset: number;
  size: number;
}

/** ESP-IDF's CSV partition table (name, type, subtype, offset, size, flags); sizes here are all given in hex. */
function partitions(text: string): Partition[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [name = "", type = "", subtype = "", offset = "", size = ""] = line.split(",").map((f) => f.trim());
      return { name, type, subtype, offset: Number(offset), size: Number(size) };
    });
}

test("esp32-partition-table-has-two-app-slots-otadata-and-storage", () => {
  const build = manifest("hosts/esp32/manifest.json").build ?? {};
  assert.equal(build.PARTITIONS_FILE, "./partitions.csv");
  const table = partitions(readFileSync(join(root, "hosts/esp32/partitions.csv"), "utf8"));
  const byName = new Map(table.map((p) => [p.name, p]));
  for (const p of table)
    assert.ok(Number.isInteger(p.offset) && Number.isInteger(p.size), p.name + " has a hex offset and size");
  const slots = table.filter((p) => p.type === "app");
  assert.deepEqual(
    slots.map((p) => p.subtype),
    ["ota_0", "ota_1"],
  );
  // ESP-IDF: app partitions start on 64 KB boundaries; the two slots hold the same image, so they are the same size.
  for (const p of slots) assert.equal(p.offset % 0x10000, 0, p.name + " is 64 KB aligned");
  assert.equal(slots[0]?.size, slots[1]?.size);
  assert.equal(byName.get("otadata")?.subtype, "ota");
  assert.equal(byName.get("otadata")?.size, 0x2000);
  assert.equal(byName.get("nvs")?.subtype, "nvs");
  const storage = byName.get("storage");
  assert.ok(storage && storage.type === "data", "a storage data partition for the outbox");
  // The outbox needs whole 4 KB erase sectors, at least two of them.
  assert.equal(storage.offset % 4096, 0);
  assert.equal(storage.size % 4096, 0);
  assert.ok(storage.size >= 2 * 4096);
  // In order, without overlap, inside a 4 MB flash.
  const sorted = [...table].sort((a, b) => a.offset - b.offset);
  let last: Partition | undefined;
  for (const p of sorted) {
    if (last) assert.ok(last.offset + last.size <= p.offset, last.name + " ends before " + p.name);
    last = p;
  }
  assert.ok(last, "a partition table");
  assert.ok(last.offset + last.size <= 0x400000, "fits a 4 MB flash");
});
