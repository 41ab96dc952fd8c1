// `npm start`'s command line: the real program spawned with real files, and the option merging it uses.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliConfig, UsageError } from "../../src/cli-config.js";

const MAIN = new URL("../../src/main-node.js", import.meta.url).pathname;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the program in a fresh folder (its store in ./flash) and waits for it to exit. */
function run(dir: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, "--flash", join(dir, "flash"), ...args], { cwd: dir });
    let stdout = "",
      stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function folder(files: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "telltale-cli-"));
  for (const [name, value] of Object.entries(files))
    writeFileSync(join(dir, name), typeof value === "string" ? value : JSON.stringify(value));
  return dir;
}

/** A loopback port with nothing listening: the firmware's connections are refused, its start line still prints. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

test("empty-broker-option-is-an-error-not-the-embedded-broker", async () => {
  const r = await run(folder(), "--broker", "", "--duration", "1");
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    /^telltale: --broker expects mqtt:\/\/HOST:PORT or mqtts:\/\/HOST:PORT, got an empty string \(leave it out for the embedded broker\)\nusage: /,
  );
  assert.doesNotMatch(r.stdout, /embedded broker/);
});

test("json-array-configuration-is-refused", async () => {
  const dir = folder({ "array.json": [{ intervalMs: 1000 }] });
  const r = await run(dir, "--config", "array.json", "--duration", "1");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^telltale: --config array\.json must hold a JSON object \(a configuration\), not an array\n/);
});

test("config-file-broker-is-used-and-interval-option-overrides-the-file", async () => {
  const port = await closedPort();
  const dir = folder({ "device.json": { intervalMs: 5000, broker: { url: `mqtt://127.0.0.1:${port}` } } });
  const r = await run(dir, "--config", "device.json", "--interval", "200", "--device-id", "cli-1", "--duration", "1");
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /embedded broker/, "the file names a broker");
  assert.match(
    r.stdout,
    new RegExp(`telltale cli-1 on node: 1 sensor\\(s\\), every 200 ms, broker mqtt://127\\.0\\.0\\.1:${port}\n`),
  );
});

test("option-the-configuration-refuses-stops-the-program-naming-the-option", async () => {
  const dir = folder();
  const good = await run(dir, "--broker", `mqtt://127.0.0.1:${await closedPort()}`, "--duration", "0.5");
  assert.equal(good.code, 0, good.stderr);
  // A last good configuration is now stored; a bad option is still not replaced by it.
  const r = await run(dir, "--broker", "mqtt://127.0.0.1:1883", "--interval", "50", "--duration", "1");
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^telltale: --interval: config\.intervalMs: expected an integer from 100 to 3600000, got 50\n/,
  );
  assert.doesNotMatch(r.stdout, /last good configuration/);
});

test("simulated-bus-holds-the-sensors-of-the-configuration-that-runs", async () => {
  const port = await closedPort();
  const broker = { url: `mqtt://127.0.0.1:${port}` };
  const dir = folder({
    "good.json": { broker, sensors: [{ part: "bme280" }] },
    "typo.json": { broker, sensors: [{ part: "sht3x" }], deviceID: "x" },
  });
  const first = await run(dir, "--config", "good.json", "--interval", "100", "--duration", "0.5");
  assert.equal(first.code, 0, first.stderr);
  const r = await run(dir, "--config", "typo.json", "--interval", "100", "--duration", "1");
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /error: config\.deviceID: unknown setting; did you mean deviceId\?; running with the last good configuration\n/,
  );
  // The last good configuration declares a BME280: the bus has one, so it is read (not "not found").
  assert.match(r.stdout, /telemetry #\d+: bme280 temperature=[\d.-]+ /, r.stdout);
  assert.doesNotMatch(r.stdout, /bme280.*(not found|failed)/);
});

test("options-override-the-file-which-overrides-the-defaults", () => {
  const file = {
    intervalMs: 3000,
    deviceId: "from-file",
    detector: { on: 7 },
    broker: { url: "mqtt://file.example:1883", username: "u" },
  };
  const fromFile = cliConfig(file, "f.json", {});
  assert.equal(fromFile.embedded, false);
  assert.equal(fromFile.config.intervalMs, 3000);
  assert.deepEqual(fromFile.config.detector, { calibrationSamples: 120, on: 7 }, "the file adds to the defaults");
  const overridden = cliConfig(file, "f.json", {
    broker: "mqtt://cli.example:1884",
    interval: "250",
    deviceId: "from-cli",
  }).config;
  assert.equal(overridden.intervalMs, 250);
  assert.equal(overridden.deviceId, "from-cli");
  assert.deepEqual(overridden.broker, { url: "mqtt://cli.example:1884", username: "u" });
  assert.deepEqual(file.broker, { url: "mqtt://file.example:1883", username: "u" }, "the file's object is not changed");
  const none = cliConfig(undefined, "", {});
  assert.equal(none.embedded, true);
  assert.deepEqual(none.config, { intervalMs: 1000, detector: { calibrationSamples: 120 }, broker: {} });
});

test("bad-options-are-usage-errors", () => {
  const refuses = (options: Parameters<typeof cliConfig>[2], message: RegExp, file?: unknown) =>
    assert.throws(
      () => cliConfig(file, "f.json", options),
      (e) => e instanceof UsageError && message.test(e.message),
    );
  refuses({ broker: "" }, /^--broker expects .*, got an empty string/);
  refuses(
    { broker: "http://x" },
    /^--broker expects mqtt:\/\/HOST\[:PORT\] or mqtts:\/\/HOST\[:PORT\], got "http:\/\/x"$/,
  );
  refuses({ interval: "fast" }, /^--interval expects a number of milliseconds, got "fast"$/);
  refuses({ interval: "" }, /^--interval expects a number of milliseconds, got ""$/);
  refuses({ deviceId: "" }, /^--device-id expects an id, got an empty string$/);
  refuses({ deviceId: "a b" }, /^--device-id: config\.deviceId: expected 1–64 letters/);
  refuses(
    { ca: "-----BEGIN CERTIFICATE-----\n" },
    /^--ca: config\.broker\.ca: a CA is only used with mqtts:\/\/ URLs$/,
  );
  refuses({}, /^f\.json must hold a JSON object \(a configuration\), not an array$/, []);
  refuses({}, /^f\.json must hold a JSON object \(a configuration\), not null$/, null);
  refuses({ broker: "mqtt://h:1" }, /^--broker cannot be applied: f\.json's "broker" is not an object$/, {
    broker: "mqtt://x",
  });
  // A mistake of the file alone is the configuration's to report (and its last good copy's to replace).
  assert.equal(cliConfig({ intervalMS: 5 }, "f.json", {}).config.intervalMS, 5);
});
