// `npm test` after type-check and build: unit tests in Node, the same portable suites in XS,
// then the integration tests against a real Mosquitto. Every stage runs; any failure fails the run.
import { spawnSync } from "node:child_process";

const stages = [
  ["unit (node:test)", "node", ["--test", "--test-reporter=spec", "build/tests/node/"]],
  ["portable suites in the XS engine", "node", ["scripts/run-xs.mjs"]],
  ["integration (Mosquitto, TLS)", "node", ["--test", "--test-reporter=spec", "--test-concurrency=1", "build/tests/integration/"]],
];
const results = [];
for (const [name, cmd, args] of stages) {
  console.log(`\n=== ${name} ===`);
  const r = spawnSync(cmd, args, { stdio: "inherit" });
  results.push([name, r.status === 0]);
}
console.log("\n=== summary ===");
for (const [name, ok] of results) console.log(`${ok ? "PASS" : "FAIL"}  ${name}`);
process.exit(results.every(([, ok]) => ok) ? 0 : 1);
