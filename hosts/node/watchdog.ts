// The Node host's watchdog: a worker thread that ends the process when the event loop stops turning, as a task watchdog resets a device.
import { Worker } from "node:worker_threads";

/** The exit code of a process the watchdog ended: a supervisor restarts it with TELLTALE_RESET_REASON=watchdog. */
export const WATCHDOG_EXIT_CODE = 76;
/** If `process.exit` cannot be run in the stuck thread (stuck in native code), the process is killed after this, ms. */
export const WATCHDOG_KILL_AFTER_MS = 2000;

export interface WatchdogOptions {
  /** How long the event loop may stay stuck, ms. */
  readonly limitMs: number;
}

export interface Watchdog {
  stop(): Promise<void>;
}

/**
 * The worker (CommonJS, evaluated): it watches a counter the main thread bumps from a timer. When the counter has not
 * moved for `limitMs`, it writes the log line with `writeSync` (console output would go through the stuck thread),
 * then runs `process.exit(code)` in the main thread through the inspector, which V8 serves by interrupting running
 * JavaScript; a thread stuck in native code never serves it, so SIGKILL follows.
 */
const WORKER = `
const { workerData } = require("node:worker_threads");
const { writeSync } = require("node:fs");
const beat = new Int32Array(workerData.beat);
const { limitMs, code, killAfterMs } = workerData;
let seen = Atomics.load(beat, 0), since = Date.now();
const timer = setInterval(() => {
  const now = Date.now(), value = Atomics.load(beat, 0);
  if (value !== seen) { seen = value; since = now; return; }
  if (now - since < limitMs) return;
  clearInterval(timer);
  writeSync(1, "watchdog: the event loop has not turned for " + (now - since) + " ms (limit " + limitMs + "); ending the process (exit " + code + ")\\n");
  setTimeout(() => process.kill(process.pid, "SIGKILL"), killAfterMs);
  try {
    const { Session } = require("node:inspector");
    const session = new Session();
    session.connectToMainThread();
    session.post("Runtime.evaluate", { expression: "process.exit(" + code + ")" });
  } catch (e) {
    writeSync(1, "watchdog: " + e.message + "; killing the process\\n");
    process.kill(process.pid, "SIGKILL");
  }
}, Math.max(10, Math.floor(limitMs / 8)));
`;

/**
 * Starts the watchdog; resolves once its thread runs (a busy loop before that would go unseen). Neither its timer nor
 * its thread keeps the process alive.
 */
export async function startWatchdog(options: WatchdogOptions): Promise<Watchdog> {
  const limitMs = options.limitMs;
  if (!Number.isInteger(limitMs) || limitMs < 100)
    throw new RangeError("watchdog: limitMs must be an integer of at least 100 ms, got " + String(limitMs));
  const shared = new SharedArrayBuffer(4),
    beat = new Int32Array(shared);
  const timer = setInterval(() => Atomics.add(beat, 0, 1), Math.max(5, Math.floor(limitMs / 8)));
  timer.unref();
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { beat: shared, limitMs, code: WATCHDOG_EXIT_CODE, killAfterMs: WATCHDOG_KILL_AFTER_MS },
  });
  await new Promise<void>((resolve, reject) => {
    worker.once("online", resolve);
    worker.once("error", reject);
  });
  worker.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await worker.terminate();
    },
  };
}
