// `npm test` after type-check and build: unit tests in Node, the same portable suites in XS (as built, then frozen as
// a preloaded Moddable host freezes them), the integration tests against a real Mosquitto, then the dashboard in a
// real browser. Every stage runs; any failure fails the run. Counts come from each stage's result file (scripts/results.mjs), never from its text:
// a stage that exits non-zero, stops before its end or runs no test counts as one failure more.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readResults } from "./results.mjs";

const dir = mkdtempSync(join(tmpdir(), "telltale-test-"));
const nodeTest = (file, ...args) => [
  "node",
  [
    "--test",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    "--test-reporter=./scripts/results-reporter.mjs",
    "--test-reporter-destination=" + file,
    ...args,
  ],
];
const xs = (file, ...args) => ["node", ["scripts/run-xs.mjs", "--results=" + file, ...args]];
const stages = [
  ["unit (node:test)", (f) => nodeTest(f, "build/tests/node/")],
  ["portable suites in the XS engine", (f) => xs(f)],
  ["portable suites in the XS engine, frozen as preloaded", (f) => xs(f, "--frozen")],
  ["integration (Mosquitto, TLS)", (f) => nodeTest(f, "--test-concurrency=1", "build/tests/integration/")],
  ["browser (the dashboard in headless Chromium)", (f) => nodeTest(f, "--test-concurrency=1", "build/tests/browser/")],
];

function run(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "inherit", "inherit"] });
    child.on("close", (code, signal) => resolve({ code, signal }));
  });
}

const results = [];
let passed = 0,
  failed = 0;
for (const [i, [name, command]] of stages.entries()) {
  console.log(`\n=== ${name} ===`);
  const file = join(dir, `stage-${i}.jsonl`);
  const { code, signal } = await run(...command(file));
  const r = readResults(file);
  const problems = [];
  if (code !== 0) problems.push(signal ? "killed by " + signal : "exit " + code);
  if (!r.done) problems.push("stopped before the end");
  if (r.passed + r.failed === 0) problems.push("no tests ran");
  const ok = problems.length === 0 && r.failed === 0;
  passed += r.passed;
  failed += r.failed + (!ok && r.failed === 0 ? 1 : 0);
  results.push({ name, ok, ...r, problems });
}
rmSync(dir, { recursive: true, force: true });
console.log("\n=== summary ===");
for (const r of results) {
  const notes = [r.skipped ? r.skipped + " skipped" : "", ...r.problems].filter(Boolean).join(", ");
  console.log(
    `${r.ok ? "PASS" : "FAIL"}  ${r.name}: ${r.passed} passed, ${r.failed} failed${notes ? " (" + notes + ")" : ""}`,
  );
  for (const f of r.failures) console.log("      not ok: " + f);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
