// `npm test` after type-check and build: unit tests in Node, the same portable suites in XS (as built, then frozen as
// a preloaded Moddable host freezes them), then the integration tests against a real Mosquitto. Every stage runs; any failure fails the run.
import { spawn } from "node:child_process";

const stages = [
  ["unit (node:test)", "node", ["--test", "--test-reporter=spec", "build/tests/node/"]],
  ["portable suites in the XS engine", "node", ["scripts/run-xs.mjs"]],
  ["portable suites in the XS engine, frozen as preloaded", "node", ["scripts/run-xs.mjs", "--frozen"]],
  ["integration (Mosquitto, TLS)", "node", ["--test", "--test-reporter=spec", "--test-concurrency=1", "build/tests/integration/"]],
];

function run(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    child.stdout.on("data", (d) => { process.stdout.write(d); text += d; });
    child.on("close", (code) => resolve({ code, text }));
  });
}

const results = [];
let passed = 0, failed = 0;
for (const [name, cmd, args] of stages) {
  console.log(`\n=== ${name} ===`);
  const { code, text } = await run(cmd, args);
  const node = /ℹ pass (\d+)\s+ℹ fail (\d+)/.exec(text.replace(/\n[^ℹ\n]*(?=ℹ)/g, "\n"));
  const xs = /: (\d+) tests passed, (\d+) failed/.exec(text);
  const counts = node ?? xs;
  const p = counts ? Number(counts[1]) : 0, f = counts ? Number(counts[2]) : 0;
  passed += p; failed += f;
  results.push([name, code === 0, p, f]);
}
console.log("\n=== summary ===");
for (const [name, ok, p, f] of results) console.log(`${ok ? "PASS" : "FAIL"}  ${name}: ${p} passed, ${f} failed`);
const allOk = results.every(([, ok]) => ok);
if (!allOk && failed === 0) failed = results.filter(([, ok]) => !ok).length; // a stage that crashed counts as a failure
console.log(`${passed} passed, ${failed} failed`);
process.exit(allOk ? 0 : 1);
