// A simulated boot loop on the Node host with a real FileStore: starts killed before their healthy period lead to safe
// mode at the third; safe mode, once healthy, clears the count and restarts, and the next start is normal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const child = fileURLToPath(new URL("./support/boot-child.js", import.meta.url));

interface Start {
  out: string;
  code: number | null;
  signal: string | null;
}

/** One start: runs until `until` matches its output (then killed, if `kill`) or it ends by itself. */
function start(dir: string, until: RegExp, kill: boolean): Promise<Start> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, dir], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const timer = setTimeout(() => {
      p.kill("SIGKILL");
      reject(new Error("no " + until.source + " in:\n" + out));
    }, 15_000);
    const seen = () => {
      if (kill && until.test(out)) p.kill("SIGKILL"); // dies before its healthy period: nothing is written at exit
    };
    p.stdout.on("data", (b: Buffer) => ((out += b.toString()), seen()));
    p.stderr.on("data", (b: Buffer) => (out += b.toString()));
    p.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (!until.test(out))
        reject(new Error("ended (" + String(code ?? signal) + ") without " + until.source + ":\n" + out));
      else resolve({ out, code, signal });
    });
  });
}

function failedBoots(dir: string): string | undefined {
  return (JSON.parse(readFileSync(join(dir, "store.json"), "utf8")) as Record<string, string>).bootFails;
}

test("a-boot-loop-enters-safe-mode-after-3-failed-starts-and-leaves-it-when-healthy", async () => {
  const dir = mkdtempSync(join(tmpdir(), "telltale-boot-loop-"));
  try {
    const sampling = /telemetry #2:/;
    for (let i = 0; i < 3; i++) {
      const s = await start(dir, sampling, true);
      assert.equal(s.signal, "SIGKILL");
      assert.doesNotMatch(s.out, /SAFE MODE/);
      if (i > 0)
        assert.match(s.out, new RegExp(`boot: ${i} failed boot\\(s\\) in a row before this one; safe mode at 3`));
      assert.equal(failedBoots(dir), String(i + 1));
    }
    // The fourth start is in safe mode; healthy after 1 s, it clears the count and restarts (here: exits 0).
    const safe = await start(dir, /restart: leaving safe mode/, false);
    assert.equal(safe.code, 0, safe.out);
    assert.match(safe.out, /boot: SAFE MODE after 3 failed boots in a row \(limit 3\)/);
    assert.match(safe.out, /boot: healthy in safe mode for 1 s; count cleared, restarting into normal mode/);
    assert.doesNotMatch(safe.out, /telemetry #/, "no sampling in safe mode");
    assert.equal(failedBoots(dir), "0");
    // The next start is normal: it samples, and after its healthy period the count is 0 again.
    const normal = await start(dir, /boot: healthy after 1 s; failed-boot count cleared/, true);
    assert.doesNotMatch(normal.out, /SAFE MODE/);
    assert.match(normal.out, /telemetry #1:/);
    assert.equal(failedBoots(dir), "0");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
