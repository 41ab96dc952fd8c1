// Runs every test registered with the harness inside the XS engine. Output for scripts/run-xs.mjs: one JSON line per
// test, `xs-test {"test", "ok", "error"?}`, then `xs-done {"passed", "failed"}`; `# ` lines are notes.
import { registered } from "../harness.js";

declare function print(...text: unknown[]): void;

function describe(e: unknown): string {
  const err = e as Error | undefined;
  return String(err?.message ?? err) + (err?.stack ? "\n" + String(err.stack) : "");
}

export async function runRegistered(): Promise<void> {
  let passed = 0,
    failed = 0;
  for (const c of registered()) {
    const name = `${c.suite} › ${c.name}`;
    try {
      await c.body();
      passed++;
      print("xs-test " + JSON.stringify({ test: name, ok: true }));
    } catch (e) {
      failed++;
      print("xs-test " + JSON.stringify({ test: name, ok: false, error: describe(e) }));
    }
  }
  print("xs-done " + JSON.stringify({ passed, failed }));
}

/** Runs `load` (which imports the suites), then the tests. A crash prints no xs-done line: run-xs.mjs fails the run. */
export function main(load: () => Promise<unknown>): void {
  load()
    .then(runRegistered)
    .catch((e) => print("# runner crashed: " + describe(e).split("\n").join("\n# ")));
}
