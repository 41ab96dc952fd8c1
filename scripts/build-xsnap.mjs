// Builds the plain `xsnap` command (the real XS engine) from the C sources that @agoric/xsnap ships.
// Two binaries: `release` as the makefile has it (with metering) and `bench` without metering,
// which is closer to a device build and is what cost benchmarks use.
import { existsSync, mkdirSync, copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

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

function build(name, makefile) {
  const target = join(out, name);
  if (existsSync(target) && !process.argv.includes("--force")) return target;
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
  console.log(`build-xsnap: ${target}`);
  return target;
}

build("xsnap", "xsnap.mk");
// The benchmark build: the same makefile without -DmxMetering=1.
const original = readFileSync(join(makefiles, "xsnap.mk"), "utf8");
const unmetered = join(out, "xsnap-nometer.mk");
const stripped = original.replace(/^\s*-DmxMetering=1 \\\n/m, "");
if (stripped === original) throw new Error("build-xsnap: could not find -DmxMetering=1 in xsnap.mk");
writeFileSync(unmetered, stripped);
build("xsnap-bench", unmetered);
