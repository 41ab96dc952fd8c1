// Portable modules import only other portable modules: no node:*, no hosts, no Moddable platform modules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("../../../", import.meta.url).pathname;

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith(".ts")) out.push(p);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^"']*?from\s*["']([^"']+)["']|(?:^|\n)\s*import\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

test("modules-import-only-portable-specifiers", () => {
  const offenders: string[] = [];
  const files = [...sources(join(root, "modules")), join(root, "src/app.ts")];
  assert.ok(files.length > 5, "found the module sources");
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      const ok = spec.startsWith("telltale/") || (spec.startsWith("./") && !spec.includes(".."));
      if (!ok) offenders.push(`${relative(root, file)} imports "${spec}"`);
    }
  }
  assert.deepEqual(offenders, []);
});
