// A node:test reporter that writes scripts/results.mjs's format (pass it --test-reporter-destination=<file>).
// Suites (describe) are not tests; a file that fails to load is reported by node:test as a failed test, and counts.

/** @param {AsyncIterable<{type: string, data: any}>} source */
export default async function* resultsReporter(source) {
  for await (const { type, data } of source) {
    if (type !== "test:pass" && type !== "test:fail") continue;
    if (data.details?.type === "suite") continue;
    const name = (data.file ? data.file.replace(process.cwd() + "/", "") + " › " : "") + data.name;
    const entry = { test: name, ok: type === "test:pass" };
    if (data.skip !== undefined || data.todo !== undefined) entry.skipped = true;
    if (type === "test:fail")
      entry.error = String(data.details?.error?.cause?.message ?? data.details?.error?.message ?? data.details?.error);
    yield JSON.stringify(entry) + "\n";
  }
  yield JSON.stringify({ done: true }) + "\n";
}
