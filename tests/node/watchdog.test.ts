// The Node watchdog for real: a child process stuck in a busy loop is ended with WATCHDOG_EXIT_CODE; an idle one is left alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { WATCHDOG_EXIT_CODE } from "../../hosts/node/watchdog.js";

const child = fileURLToPath(new URL("./support/watchdog-child.js", import.meta.url));

test("a-stuck-event-loop-ends-the-process-with-the-watchdog-code", () => {
  const started = Date.now();
  const r = spawnSync(process.execPath, [child, "busy"], { encoding: "utf8", timeout: 20_000 });
  assert.equal(r.signal, null, "ended by the watchdog's exit, not killed: " + r.stderr);
  assert.equal(r.status, WATCHDOG_EXIT_CODE, r.stdout + r.stderr);
  assert.match(r.stdout, /^ready\n/);
  assert.match(
    r.stdout,
    /watchdog: the event loop has not turned for \d+ ms \(limit 300\); ending the process \(exit 76\)/,
  );
  assert.ok(Date.now() - started < 15_000);
});

test("a-turning-event-loop-is-left-alone-and-the-watchdog-keeps-nothing-alive", () => {
  const r = spawnSync(process.execPath, [child, "idle"], { encoding: "utf8", timeout: 20_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.stdout, "ready\ndone\n");
});
