// Runs every test registered with the harness inside the XS engine and prints one line per test and a summary.
import { registered } from "../harness.js";

declare function print(...text: unknown[]): void;

export async function runRegistered(): Promise<void> {
  let passed = 0, failed = 0;
  for (const c of registered()) {
    const name = `${c.suite} › ${c.name}`;
    try {
      await c.body();
      passed++;
      print("ok - " + name);
    } catch (e) {
      failed++;
      const err = e as Error;
      print("not ok - " + name + "\n#   " + String(err?.message ?? err) + (err?.stack ? "\n#   " + String(err.stack).split("\n").join("\n#   ") : ""));
    }
  }
  print(`xs-summary: ${passed} passed, ${failed} failed`);
}

/** Runs `load` (which imports the suites), then the tests; a crash before the summary is printed as one. */
export function main(load: () => Promise<unknown>): void {
  load().then(runRegistered).catch((e) => print("xs-summary: runner crashed: " + String(e) + (e instanceof Error && e.stack ? "\n" + e.stack : "")));
}
