// Builds the plain `xsnap` command (the real XS engine) from the C sources that @agoric/xsnap ships.
// Two binaries: `release` as the makefile has it (with metering) and `bench` without metering,
// which is closer to a device build and is what cost benchmarks use. Both link the project's native modules
// (every modules/**/*.c, as the Moddable manifests list them for the device) and scripts/xsnap/xsnap-hosts.c, which
// binds their `@ "xs_…"` host functions in modules xsnap parses at run time. A binary is rebuilt when the makefile
// or one of those C files changes (a stamp beside it holds their hash).
import { existsSync, mkdirSync, copyFileSync, readFileSync, writeFileSync, readdirSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";

const project = new URL("..", import.meta.url).pathname;
const out = join(project, ".xsnap");
let pkg;
try {
  pkg = dirname(createRequire(import.meta.url).resolve("@agoric/xsnap/package.json"));
} catch {
  console.log("build-xsnap: @agoric/xsnap is not installed; skipping (XS tests will fail)");
  process.exit(0);
}
const moddable = join(pkg, "moddable");
const makefiles = join(pkg, "xsnap-native", "xsnap", "makefiles", "lin");
mkdirSync(out, { recursive: true });

/** The project's native module sources: every .c under modules/, sorted. */
function nativeSources(dir = join(project, "modules"), list = []) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) nativeSources(path, list);
    else if (name.endsWith(".c")) list.push(path);
  }
  return list;
}
const natives = [...nativeSources(), join(project, "scripts", "xsnap", "xsnap-hosts.c")];
if (new Set(natives.map((f) => basename(f))).size !== natives.length)
  throw new Error("build-xsnap: two native sources share a file name (their objects would collide)");

/** xsnap.mk with the native objects, their folders on VPATH, and fxParserCode wrapped (scripts/xsnap/xsnap-hosts.c). */
function withNatives(text) {
  const objects = natives.map((f) => `\t$(TMP_DIR)/${basename(f, ".c")}.o \\\n`).join("");
  const dirs = [...new Set(natives.map((f) => dirname(f)))].join(" ");
  let next = text.replace(/^OBJECTS = \\\n/m, (m) => m + objects);
  next = next.replace(
    /^LINK_OPTIONS = -rdynamic$/m,
    "LINK_OPTIONS = -rdynamic -Wl,--wrap=fxParserTree,--wrap=fxParserCode",
  );
  next = next.replace(/^VPATH \+= \$\(SRC_DIR\) \$\(TLS_DIR\)$/m, (m) => m + "\nVPATH += " + dirs);
  if (next.split("\n").length !== text.split("\n").length + natives.length + 1 || !next.includes("--wrap=fxParserCode"))
    throw new Error("build-xsnap: xsnap.mk is not laid out as expected (OBJECTS, LINK_OPTIONS, VPATH)");
  return next;
}

function build(name, makefile) {
  const target = join(out, name);
  const hash = createHash("sha256").update(readFileSync(makefile));
  for (const f of natives) hash.update(f).update(readFileSync(f));
  const stamp = target + ".stamp",
    digest = hash.digest("hex");
  const current = existsSync(stamp) && readFileSync(stamp, "utf8") === digest;
  if (existsSync(target) && current && !process.argv.includes("--force")) return target;
  const buildDir = join(out, "tmp-" + name);
  console.log(`build-xsnap: compiling ${name} from ${makefiles} ...`);
  execFileSync(
    "make",
    [
      "-f",
      makefile,
      "GOAL=release",
      "-j2",
      `BUILD_DIR=${buildDir}`,
      `TMP_DIR=${join(buildDir, "tmp")}`,
      `BIN_DIR=${join(buildDir, "bin")}`,
    ],
    { cwd: makefiles, env: { ...process.env, MODDABLE: moddable }, stdio: ["ignore", "ignore", "inherit"] },
  );
  copyFileSync(join(buildDir, "bin", "xsnap"), target);
  writeFileSync(stamp, digest);
  console.log(`build-xsnap: ${target}`);
  return target;
}

const original = withNatives(readFileSync(join(makefiles, "xsnap.mk"), "utf8"));
const metered = join(out, "xsnap.mk");
writeFileSync(metered, original);
build("xsnap", metered);
// The benchmark build: the same makefile without -DmxMetering=1.
const unmetered = join(out, "xsnap-nometer.mk");
const stripped = original.replace(/^\s*-DmxMetering=1 \\\n/m, "");
if (stripped === original) throw new Error("build-xsnap: could not find -DmxMetering=1 in xsnap.mk");
writeFileSync(unmetered, stripped);
build("xsnap-bench", unmetered);
