// Runs the portable suites inside the real XS engine (xsnap) and fails unless XS reports every test passed.
// With --frozen, first freezes what a preloaded Moddable host freezes (tests/frozen/entry.ts) and adds the frozen-only suites.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { stage, xsnapPath as xsnap, buildDir } from "./xs-stage.mjs";

const project = new URL("..", import.meta.url).pathname;
if (!existsSync(xsnap)) { console.error("run-xs: " + xsnap + " is missing: run `npm install` (it builds xsnap)"); process.exit(1); }
if (!existsSync(join(buildDir, "tests/xs/entry.js"))) { console.error("run-xs: the build is missing: run `npm run build`"); process.exit(1); }
const frozen = process.argv.includes("--frozen");
const entry = join(stage(), frozen ? "tests/frozen/entry.js" : "tests/xs/entry.js");

const result = spawnSync(xsnap, ["-m", entry], { encoding: "utf8", maxBuffer: 64 << 20, timeout: 300_000 });
const out = (result.stdout ?? "") + (result.stderr ?? "");
const lines = out.split("\n");
for (const line of lines) if (line.startsWith("not ok") || line.startsWith("#")) console.log("xs: " + line);
const summary = lines.find((l) => l.startsWith("xs-summary:"));
const match = summary && /xs-summary: (\d+) passed, (\d+) failed/.exec(summary);
if (!match) {
  console.error("run-xs: XS did not finish the suites (exit " + result.status + ", signal " + result.signal + ")\n" + out.slice(-4000));
  process.exit(1);
}
const [passed, failed] = [Number(match[1]), Number(match[2])];
console.log(`XS engine${frozen ? ", frozen as preloaded" : ""} (${xsnap.replace(project, "")}): ${passed} tests passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
