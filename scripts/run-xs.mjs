// Runs the portable suites inside the real XS engine (xsnap) and fails unless XS reports every test passed.
// With --frozen, first freezes what a preloaded Moddable host freezes (tests/frozen/entry.ts) and adds the frozen-only
// suites. With --results=<file>, writes the tests in scripts/results.mjs's format for scripts/test.mjs.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { stage, writeHmacTags, writeOtaTables, xsnapPath as xsnap, buildDir } from "./xs-stage.mjs";
import { startResults, recordTest, recordDone } from "./results.mjs";

const project = new URL("..", import.meta.url).pathname;
const frozen = process.argv.includes("--frozen");
const resultsFile = process.argv.find((a) => a.startsWith("--results="))?.slice("--results=".length);
if (resultsFile) startResults(resultsFile);
if (!existsSync(xsnap)) {
  console.error("run-xs: " + xsnap + " is missing: run `npm install` (it builds xsnap)");
  process.exit(1);
}
if (!existsSync(join(buildDir, "tests/xs/entry.js"))) {
  console.error("run-xs: the build is missing: run `npm run build`");
  process.exit(1);
}
const entry = join(stage(), frozen ? "tests/frozen/entry.js" : "tests/xs/entry.js");
await writeHmacTags();
await writeOtaTables();

const result = spawnSync(xsnap, ["-m", entry], { encoding: "utf8", maxBuffer: 64 << 20, timeout: 300_000 });
const out = (result.stdout ?? "") + (result.stderr ?? "");
let passed = 0,
  failed = 0,
  done;
for (const line of out.split("\n")) {
  if (line.startsWith("xs-test ")) {
    const t = JSON.parse(line.slice("xs-test ".length));
    if (t.ok) passed++;
    else {
      failed++;
      console.log("xs: not ok - " + t.test + "\n#   " + t.error.split("\n").join("\n#   "));
    }
    if (resultsFile) recordTest(resultsFile, t.test, t.ok, t.ok ? {} : { error: t.error });
  } else if (line.startsWith("xs-done ")) done = JSON.parse(line.slice("xs-done ".length));
  else if (line.startsWith("#")) console.log("xs: " + line);
}
const label = `XS engine${frozen ? ", frozen as preloaded" : ""} (${xsnap.replace(project, "")})`;
if (!done || done.passed !== passed || done.failed !== failed) {
  console.error(
    `run-xs: ${label} did not finish the suites (exit ${result.status}, signal ${result.signal}; ${passed} passed, ${failed} failed before it stopped)\n` +
      out.slice(-4000),
  );
  process.exit(1);
}
if (resultsFile) recordDone(resultsFile);
console.log(`${label}: ${passed} tests passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
