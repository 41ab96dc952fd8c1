// The driver kit holds the one copy of what every driver shares: the deferred error report and the address check.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("../../../", import.meta.url).pathname;

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith(".ts")) out.push(p);
  }
  return out;
}

const DRIVERS = sources(join(root, "modules/drivers"));

test("only-the-driver-kit-defers-errors", () => {
  // A driver with its own Promise-based report is a copy of drivers/report.ts's ErrorReporter.
  const copies = DRIVERS.filter((f) => !f.endsWith("/drivers/report.ts"))
    .filter((f) => /Promise\.resolve\(|queueMicrotask\(|\.then\(/.test(readFileSync(f, "utf8")))
    .map((f) => relative(root, f));
  assert.deepEqual(copies, []);
});

test("only-the-driver-kit-words-address-errors", () => {
  // Address checks go through part.ts checkAddress with the part's ADDRESSES, not a literal list per driver.
  const copies = DRIVERS.filter((f) => !f.endsWith("/drivers/part.ts"))
    .filter((f) => /"sensor\.address\\?" must be/.test(readFileSync(f, "utf8").replace(/\\"/g, '"')))
    .map((f) => relative(root, f));
  assert.deepEqual(copies, []);
});
