// The layering rules of docs/ARCHITECTURE.md and STYLE.md, read from the sources' import statements:
// src/ (the app) → modules/ (portable firmware) → ECMA-419 interfaces ← hosts/ (providers).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = new URL("../../../", import.meta.url).pathname;

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

// Static imports and re-exports (type-only ones too: a cycle of types is still a cycle), side-effect imports, import().
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^"';]*?from\s*["']([^"']+)["']|(?:^|\n)\s*import\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT)].map((m) => (m[1] ?? m[2] ?? m[3])!); // one of the three alternatives matched
}

/** Module specifiers the Moddable manifests map outside modules/ (telltale/app → src/app, telltale/host → hosts/…). */
function manifestSpecifiers(): Map<string, string[]> {
  const map = new Map<string, string[]>();
  const manifest = JSON.parse(readFileSync(join(root, "manifest.json"), "utf8")) as {
    modules?: Record<string, string>;
    platforms?: Record<string, { modules?: Record<string, string> }>;
  };
  const blocks = [manifest.modules ?? {}, ...Object.values(manifest.platforms ?? {}).map((p) => p.modules ?? {})];
  for (const block of blocks)
    for (const [spec, path] of Object.entries(block))
      if (path.startsWith("./")) map.set(spec, [...(map.get(spec) ?? []), join(root, path.slice(2) + ".ts")]);
  return map;
}
const SPECIFIERS = manifestSpecifiers();

/**
 * The files a specifier names, relative to root: `telltale/<p>` is `modules/<p>.ts` unless the root manifest maps it
 * elsewhere; a relative specifier is resolved from the importing file (".js" → ".ts"). Empty: not a file of this
 * project (`node:*`, a Moddable module such as `timer` or `embedded:io/digital`, an npm package).
 */
function resolveSpecifier(from: string, spec: string): string[] {
  if (spec.startsWith("./") || spec.startsWith("../")) {
    const p = resolve(dirname(from), spec).replace(/\.js$/, "");
    return [relative(root, p + ".ts")];
  }
  const mapped = SPECIFIERS.get(spec);
  if (mapped) return mapped.map((p) => relative(root, p));
  if (spec.startsWith("telltale/")) {
    const p = join(root, "modules", spec.slice("telltale/".length) + ".ts");
    return existsSync(p) ? [relative(root, p)] : [];
  }
  return [];
}

const MODULE_FILES = sources(join(root, "modules"));
const HOST_FILES = sources(join(root, "hosts"));

/** Imports whose target breaks the rule; `allowed(target)` judges each resolved file. */
function offenders(files: string[], allowed: (target: string, from: string) => boolean, external: boolean): string[] {
  const out: string[] = [];
  for (const file of files) {
    const from = relative(root, file);
    for (const spec of importsOf(file)) {
      const targets = resolveSpecifier(file, spec);
      if (targets.length === 0 ? !external : targets.some((t) => !allowed(t, from)))
        out.push(`${from} imports "${spec}"` + (targets.length ? " (" + targets.join(", ") + ")" : ""));
    }
  }
  return out;
}

test("modules-import-only-portable-specifiers", () => {
  const offenders: string[] = [];
  // The app's services are portable too; only the programs (src/main.ts, src/main-node.ts) import hosts and platforms.
  const files = [...MODULE_FILES, ...sources(join(root, "src")).filter((f) => !/\/main(-node)?\.ts$/.test(f))];
  assert.ok(files.length > 5, "found the module sources");
  for (const file of files) {
    for (const spec of importsOf(file)) {
      const ok = spec.startsWith("telltale/") || (spec.startsWith("./") && !spec.includes(".."));
      if (!ok) offenders.push(`${relative(root, file)} imports "${spec}"`);
    }
  }
  assert.deepEqual(offenders, []);
});

test("modules-import-only-modules", () => {
  // Not src/ (telltale/app), not a host (telltale/host, telltale/hosts/…), not node:*, not a Moddable platform module.
  assert.ok(MODULE_FILES.length > 40, "found the module sources");
  const bad = offenders(
    MODULE_FILES,
    (target) => target.startsWith("modules/") && existsSync(join(root, target)),
    false,
  );
  assert.deepEqual(bad, []);
});

test("hosts-never-import-src", () => {
  // The programs that compose a host with the app (src/main.ts, src/main-node.ts) live in src/, not in hosts/.
  assert.ok(HOST_FILES.length > 5, "found the host sources");
  const bad = offenders(HOST_FILES, (target) => !target.startsWith("src/"), true);
  assert.deepEqual(bad, []);
});

test("dashboard-stands-apart-from-the-firmware", () => {
  // The dashboard is Node tooling that reads what the firmware publishes, not its code; only `npm start` starts it.
  const DASHBOARD_FILES = sources(join(root, "dashboard"));
  assert.ok(DASHBOARD_FILES.length >= 4, "found the dashboard sources");
  assert.deepEqual(
    offenders(DASHBOARD_FILES, (target) => target.startsWith("dashboard/"), true),
    [],
  );
  const firmware = [...MODULE_FILES, ...HOST_FILES, ...sources(join(root, "src"))];
  const bad = offenders(
    firmware,
    (target, from) => !target.startsWith("dashboard/") || from === "src/main-node.ts",
    true,
  );
  assert.deepEqual(bad, []);
});

/** Every cycle in the import graph, each as the path that closes it (Tarjan's strongly connected components). */
export function importCycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const order = new Map<string, number>(),
    low = new Map<string, number>(),
    stack: string[] = [],
    onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    order.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!order.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, order.get(w)!));
    }
    if (low.get(v) === order.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.reverse());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!order.has(v)) visit(v);
  return cycles;
}

function moduleGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of MODULE_FILES) {
    const from = relative(root, file);
    const edges = importsOf(file)
      .flatMap((spec) => resolveSpecifier(file, spec))
      .filter((t) => t.startsWith("modules/"));
    graph.set(from, [...new Set(edges)].sort());
  }
  return graph;
}

test("modules-import-graph-has-no-cycle", () => {
  const graph = moduleGraph();
  assert.ok(
    [...graph.values()].some((edges) => edges.length > 0),
    "found imports between modules",
  );
  assert.deepEqual(
    importCycles(graph).map((c) => c.join(" → ")),
    [],
  );
});

test("cycle-detection-finds-a-cycle", () => {
  // The detector itself: a → b → c → a and a self-import are found, a diamond is not a cycle.
  const graph = new Map([
    ["a", ["b"]],
    ["b", ["c"]],
    ["c", ["a"]],
    ["d", ["d"]],
    ["e", ["f", "g"]],
    ["f", ["h"]],
    ["g", ["h"]],
    ["h", []],
  ]);
  assert.deepEqual(importCycles(graph), [["a", "b", "c"], ["d"]]);
});

const SIMULATOR_ONLY = (file: string) =>
  file.startsWith("modules/sim/") || /^modules\/drivers\/.*\/model\.ts$/.test(file);

test("device-modules-never-import-simulator-modules", () => {
  // Chip models and modules/sim are in the simulator builds only (platforms lin, mac, win of their manifests): a module
  // that ships on the device importing one would not link on the ESP32.
  const device = MODULE_FILES.filter((f) => !SIMULATOR_ONLY(relative(root, f)));
  const bad = offenders(device, (target) => !SIMULATOR_ONLY(target), true);
  assert.deepEqual(bad, []);
});

test("sim-reaches-chip-models-only-through-its-table", () => {
  // sim/models.ts is the one sim module that names parts; the rest of sim (world, machine, bus) knows none.
  const sim = MODULE_FILES.filter((f) => relative(root, f).startsWith("modules/sim/") && !f.endsWith("/sim/models.ts"));
  const bad = offenders(sim, (target) => !/^modules\/drivers\/.*\/model\.ts$/.test(target), true);
  assert.deepEqual(bad, []);
});
