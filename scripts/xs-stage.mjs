// Stages the build output for xsnap, which keys modules by the unnormalised specifier path
// (so "../a.js" reached two ways would load twice): every relative import becomes absolute.
import { readdirSync, readFileSync, writeFileSync, statSync, mkdirSync, rmSync } from "node:fs";
import { join, dirname, resolve, relative } from "node:path";

const project = new URL("..", import.meta.url).pathname;
export const buildDir = join(project, "build");
export const stageDir = join(project, ".xsnap", "stage");
export const xsnapPath = join(project, ".xsnap", "xsnap");
export const xsnapBenchPath = join(project, ".xsnap", "xsnap-bench");
const pattern = /((?:from|import)\s*\(?\s*)(["'])(\.{1,2}\/[^"']+)\2/g;

function walk(dir, fn) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, fn);
    else if (name.endsWith(".js")) fn(path);
  }
}

/** Copies build/{modules,src,tests} into the stage with absolute imports; returns the stage folder. */
export function stage() {
  rmSync(stageDir, { recursive: true, force: true });
  for (const top of ["modules", "src", "tests"]) {
    walk(join(buildDir, top), (file) => {
      const target = join(stageDir, relative(buildDir, file));
      mkdirSync(dirname(target), { recursive: true });
      const text = readFileSync(file, "utf8").replace(pattern, (_, lead, quote, spec) =>
        lead + quote + join(stageDir, relative(buildDir, resolve(dirname(file), spec))) + quote);
      writeFileSync(target, text);
    });
  }
  return stageDir;
}
