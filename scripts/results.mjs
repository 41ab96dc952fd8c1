// The one result format every `npm test` stage writes and scripts/test.mjs reads: JSON lines, one per test
// ({"test": name, "ok": true|false, "skipped"?: true, "error"?: text}), then {"done": true} once the runner finished.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";

/** Starts (empties) a result file. */
export function startResults(file) {
  writeFileSync(file, "");
}

export function recordTest(file, name, ok, extra = {}) {
  appendFileSync(file, JSON.stringify({ test: name, ok, ...extra }) + "\n");
}

export function recordDone(file) {
  appendFileSync(file, JSON.stringify({ done: true }) + "\n");
}

/** A stage's counts from its result file; `done` is false if the runner stopped before the end (or never wrote). */
export function readResults(file) {
  const result = { passed: 0, failed: 0, skipped: 0, done: false, failures: [] };
  if (!existsSync(file)) return result;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line === "") continue;
    const entry = JSON.parse(line);
    if (entry.done) result.done = true;
    else if (entry.skipped) result.skipped++;
    else if (entry.ok) result.passed++;
    else {
      result.failed++;
      result.failures.push(entry.test);
    }
  }
  return result;
}
