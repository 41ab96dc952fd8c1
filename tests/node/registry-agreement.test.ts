// The lists that name every part agree: the part registry, the simulator's chip-model table, the driver manifests and
// the suite list. Adding a driver (docs/ARCHITECTURE.md, "Adding a driver") touches each; this says which one was missed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parts } from "telltale/drivers/registry";
import { describeAddresses, type SensorIO } from "telltale/drivers/part";
import { models } from "telltale/sim/models";

const root = new URL("../../../", import.meta.url).pathname;
const drivers = join(root, "modules/drivers");
const read = (path: string) => readFileSync(join(root, path), "utf8");

interface Manifest {
  include?: string[];
  modules?: Record<string, string>;
  platforms?: Record<string, { modules?: Record<string, string> }>;
}
const manifest = (path: string) => JSON.parse(read(path)) as Manifest;

/** Part name → driver folder, from registry.ts: `import { xPart } from "telltale/drivers/<folder>/part"` and `name: xPart`. */
function partFolders(): Map<string, string> {
  const source = read("modules/drivers/registry.ts");
  const folderOf = new Map<string, string>();
  for (const m of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*"telltale\/drivers\/([^"]+)\/part"/g))
    for (const name of m[1]!
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean))
      folderOf.set(name, m[2]!);
  const out = new Map<string, string>();
  for (const m of source.matchAll(/^\s*"?([a-z0-9-]+)"?\s*:\s*([A-Za-z0-9]+),?\s*$/gm)) {
    const folder = folderOf.get(m[2]!);
    if (folder) out.set(m[1]!, folder);
  }
  return out;
}

const FOLDERS = partFolders();
const NAMES = Object.keys(parts).sort();

test("registry-names-match-descriptors", () => {
  for (const name of NAMES) assert.equal(parts[name]?.part, name, "parts." + name + ".part");
  assert.deepEqual(
    [...FOLDERS.keys()].sort(),
    NAMES,
    "every registry entry found in registry.ts's source with its folder",
  );
});

test("every-driver-folder-is-registered", () => {
  const withPart = readdirSync(drivers)
    .filter((d) => existsSync(join(drivers, d, "part.ts")))
    .sort();
  assert.deepEqual(
    [...new Set(FOLDERS.values())].sort(),
    withPart,
    "folders with a part.ts = folders the registry imports",
  );
});

test("sim-model-table-has-every-part", () => {
  assert.deepEqual(Object.keys(models).sort(), NAMES, "modules/sim/models.ts lists exactly the registry's parts");
});

test("every-i2c-part-has-a-chip-model", () => {
  for (const name of NAMES)
    if (parts[name]?.bus === "i2c")
      assert.ok(
        existsSync(join(drivers, FOLDERS.get(name)!, "model.ts")),
        name + ": modules/drivers/" + FOLDERS.get(name) + "/model.ts",
      );
});

test("driver-manifests-list-every-part", () => {
  const top = manifest("modules/drivers/manifest.json");
  for (const folder of new Set(FOLDERS.values())) {
    assert.ok(
      top.include?.includes("./" + folder + "/manifest.json"),
      "modules/drivers/manifest.json includes ./" + folder + "/manifest.json",
    );
    const m = manifest("modules/drivers/" + folder + "/manifest.json");
    const sources = readdirSync(join(drivers, folder))
      .filter((f) => f.endsWith(".ts"))
      .map((f) => f.slice(0, -3));
    for (const source of sources) {
      const spec = "telltale/drivers/" + folder + "/" + source;
      if (source === "model") {
        // Chip models are for the simulator builds only.
        for (const platform of ["lin", "mac", "win"])
          assert.equal(
            m.platforms?.[platform]?.modules?.[spec],
            "./model",
            folder + " manifest: " + spec + " under platforms." + platform,
          );
        assert.equal(m.modules?.[spec], undefined, folder + " manifest: the model is not in the device build");
      } else {
        assert.equal(m.modules?.[spec], "./" + source, folder + " manifest lists " + spec);
      }
    }
  }
});

test("suite-list-has-every-part", () => {
  const suites = read("tests/suites.ts");
  for (const folder of new Set(FOLDERS.values())) {
    const path = "modules/drivers/" + folder + "/" + folder + ".suite";
    assert.ok(existsSync(join(root, "tests", path + ".ts")), "tests/" + path + ".ts exists");
    assert.ok(suites.includes('import "./' + path + '.js";'), "tests/suites.ts imports ./" + path + ".js");
  }
});

/** The least a declaration of these parts must give besides its address. */
const OPTIONS: Record<string, Record<string, unknown>> = { ads1115: { inputs: [{ name: "a", channel: 0 }] } };

test("drivers-check-the-addresses-their-descriptor-declares", () => {
  // One list per part: the driver's own check names the same addresses the descriptor (and so the config) gives.
  const clock = { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} };
  const io = {
    i2c: class {
      constructor() {
        throw new Error("no IO before validation");
      }
    },
    clock,
  } as unknown as SensorIO;
  for (const name of NAMES) {
    const d = parts[name];
    assert.ok(d, name + ": registered");
    if (d.bus !== "i2c") continue;
    assert.ok(d.addresses && d.addresses.length > 0 && Object.isFrozen(d.addresses), name + ": frozen addresses");
    const raw = OPTIONS[name] ?? {};
    const declaration = { part: name, name: "x", address: 0x00, options: d.options(raw, "sensors[0].") };
    assert.throws(
      () => d.create(declaration, io, () => {}),
      (e: Error) => e.message.includes('"sensor.address" must be ' + describeAddresses(d.addresses!) + ", got 0"),
      name,
    );
  }
});
