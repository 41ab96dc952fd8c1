// Every module is preloadable: each manifest preloads every module it lists (or says why not), no module keeps
// mutable state at module level, and what a portable module exports is frozen (tables, class prototypes).
// A Moddable host preloads modules at build time: their objects then live in flash and their module-level state is
// frozen at run time, so state kept there would throw, or cost a RAM pointer per object, on the device.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("../../../", import.meta.url).pathname;
/** Everything the Moddable manifests list: portable modules, the app's services, the Moddable hosts. */
const FOLDERS = ["modules", "src", "hosts/moddable", "hosts/esp32", "hosts/sim"];

function walk(dir: string, test: (name: string) => boolean, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, test, out);
    else if (test(name)) out.push(p);
  }
  return out;
}

const SOURCES = FOLDERS.flatMap((f) => walk(join(root, f), (n) => n.endsWith(".ts") && !n.endsWith(".d.ts")));
const MANIFESTS = [
  join(root, "manifest.json"),
  ...FOLDERS.flatMap((f) => walk(join(root, f), (n) => n === "manifest.json")),
];
/** The portable modules, whose exports Node can load. */
const PORTABLE = SOURCES.filter((f) => relative(root, f).startsWith("modules/"));

interface Block {
  modules?: Record<string, string>;
  preload?: string[];
  "//"?: string;
}
interface Manifest extends Block {
  platforms?: Record<string, Block>;
}

test("manifests-preload-every-module", () => {
  const problems: string[] = [];
  const listed = new Set<string>();
  const specifiers = new Set<string>();
  const preloads: [string, string][] = [];
  for (const path of MANIFESTS) {
    const m = JSON.parse(readFileSync(path, "utf8")) as Manifest;
    const where = relative(root, path);
    const blocks: [string, Block][] = [
      ["", m],
      ...Object.entries(m.platforms ?? {}).map(([p, b]) => ["platforms." + p + ".", b] as [string, Block]),
    ];
    for (const [at, block] of blocks) {
      const preload = block.preload ?? [];
      // A preload may name a module another manifest lists (the esp32 host preloads the shared store).
      for (const spec of preload) preloads.push([where + " " + at, spec]);
      for (const [spec, file] of Object.entries(block.modules ?? {})) {
        specifiers.add(spec);
        if (!file.startsWith("./")) continue; // an SDK module: the SDK's manifests decide
        listed.add(join(path, "..", file.slice(2) + ".ts"));
        // A module left out must say why, naming itself, in the block's "//" comment, or be preloaded elsewhere.
        if (!preload.includes(spec) && !(block["//"] ?? "").includes(spec))
          problems.push(where + " " + at + "preload lacks " + spec);
      }
    }
  }
  for (const [where, spec] of preloads)
    if (!specifiers.has(spec)) problems.push(where + "preload names " + spec + ", which no manifest lists");
  // A source no manifest lists is left out of the device build on purpose, and its folder's manifest says so.
  for (const file of SOURCES) {
    if (listed.has(file)) continue;
    const manifest = join(file, "..", "manifest.json");
    const note = existsSync(manifest) ? ((JSON.parse(readFileSync(manifest, "utf8")) as Block)["//"] ?? "") : "";
    if (!note.includes(file.slice(file.lastIndexOf("/") + 1)))
      problems.push(relative(root, file) + " is in no manifest's modules");
  }
  assert.deepEqual(problems, []);
});

test("no-mutable-state-at-module-level", () => {
  // Module scope holds constants only: no let/var, no unfrozen object or array literal, no buffer or collection.
  const problems: string[] = [];
  for (const file of SOURCES) {
    readFileSync(file, "utf8")
      .split("\n")
      .forEach((line, i) => {
        const at = relative(root, file) + ":" + (i + 1) + " " + line.trim();
        if (/^(export\s+)?(let|var)\s/.test(line)) problems.push(at);
        else if (/^(export\s+)?const\s+\w+(\s*:[^=]+)?=\s*(new\s|\[|\{)/.test(line)) problems.push(at);
      });
  }
  assert.deepEqual(problems, []);
});

const isClass = (f: unknown) => typeof f === "function" && /^class\b/.test(Function.prototype.toString.call(f));

/** Paths under `value` that are not frozen (functions are skipped: the XS linker freezes every function). */
function unfrozen(value: unknown, path: string, seen: Set<unknown>, out: string[]): void {
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    out.push(path + " is a buffer (mutable at module level)");
    return;
  }
  if (value instanceof Map || value instanceof Set) {
    out.push(path + " is a collection (mutable at module level)");
    return;
  }
  if (!Object.isFrozen(value)) out.push(path);
  for (const key of Reflect.ownKeys(value)) {
    const d = Object.getOwnPropertyDescriptor(value, key)!;
    if ("value" in d) unfrozen(d.value, path + "." + String(key), seen, out);
  }
}

test("exports-are-frozen", async () => {
  const problems: string[] = [];
  for (const file of PORTABLE) {
    const rel = relative(join(root, "modules"), file).replace(/\.ts$/, ".js");
    const exports = (await import(new URL("../../modules/" + rel, import.meta.url).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(exports)) {
      const at = relative(root, file) + " " + name;
      if (isClass(value)) {
        if (!Object.isFrozen((value as { prototype: object }).prototype)) problems.push(at + ".prototype");
      } else unfrozen(value, at, new Set(), problems);
    }
  }
  assert.deepEqual(problems, []);
});
