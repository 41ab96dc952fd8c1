// After tsc: rewrites the bare "telltale/<path>" specifiers (which the Moddable manifests map)
// into relative paths, so Node and the XS engine run the build output directly.
import { readdirSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { join, relative, dirname, posix, sep } from "node:path";

const root = new URL("../build/", import.meta.url).pathname;
const modulesDir = join(root, "modules");
const pattern = /((?:from|import)\s*\(?\s*)(["'])telltale\/([A-Za-z0-9_\-/.]+)\2/g;

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith(".js")) link(path);
  }
}

function link(file) {
  const text = readFileSync(file, "utf8");
  const out = text.replace(pattern, (_, lead, quote, spec) => {
    let rel = relative(dirname(file), join(modulesDir, spec + ".js")).split(sep).join(posix.sep);
    if (!rel.startsWith(".")) rel = "./" + rel;
    return lead + quote + rel + quote;
  });
  if (out !== text) writeFileSync(file, out);
}

walk(root);
