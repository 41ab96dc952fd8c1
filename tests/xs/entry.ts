// Entry module for the XS engine (xsnap -m): runs every portable suite and prints one line per test.
import { registered } from "../harness.js";
import "../suites.js";

declare function print(...text: unknown[]): void;

async function run(): Promise<void> {
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

run().catch((e) => print("xs-summary: runner crashed: " + String(e)));
