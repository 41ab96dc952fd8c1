// Remote configuration against a real Mosquitto with TLS: a signed interval change applied live, a sensor change
// applied by a restart, bad and stale ones refused while the device runs on, and the retained document redacted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { brokerForFile, type Received } from "./support/test-broker.js";
import { waitFor } from "./support/firmware.js";
import { createNodeHost } from "../../hosts/node/host.js";
import { FileStore } from "../../hosts/node/store.js";
import { App } from "../../src/app.js";
import { chooseStartConfig } from "../../modules/config/remote.js";
import { parseTelemetry } from "../support/wire.js";

const COMMAND_SCRIPT = new URL("../../../scripts/command.mjs", import.meta.url).pathname;
const KEY = "7e".repeat(32);
const PASSWORD = "hunter2-not-for-the-broker";
const ID = "dev-r";

interface ReportedConfig {
  intervalMs?: number;
  commandKey?: string;
  broker: { password?: string };
  sensors?: { name?: string }[];
}

const broker = brokerForFile();

/** The device as `npm start` runs it: the configuration chosen from the store first, then the host, then the app. */
function device(storePath: string, builtIn: Record<string, unknown>, log: string[], restarts: string[]): App {
  const store = new FileStore(storePath, (l) => log.push(l));
  const chosen = chooseStartConfig(builtIn, store, (l) => log.push(l));
  const host = createNodeHost({
    storePath,
    store,
    deviceId: ID,
    log: (l) => log.push(l),
    sensors: chosen.config.sensors,
    // A restart: this process plays the supervisor, starting the firmware again on the same store and flash.
    restart: (reason) => {
      restarts.push(reason);
      device(storePath, builtIn, log, restarts);
    },
  });
  const app = new App(host, chosen.config, chosen.state);
  broker.atEnd(() => app.stop());
  void app.start();
  return app;
}

const script = async (...args: string[]) =>
  (await promisify(execFile)(process.execPath, [COMMAND_SCRIPT, "--key", KEY, "--device", ID, ...args])).stdout.trim();

/** Telemetry's uptime steps (ms) in the messages after index `from`: the device's own measure of its interval. */
function steps(got: Received[], from: number): number[] {
  const uptimes = got
    .slice(from)
    .filter((m) => m.topic === `telltale/${ID}/telemetry`)
    .map((m) => parseTelemetry(m.payload).uptimeMs);
  const out: number[] = [];
  for (let i = 1; i < uptimes.length; i++) if (uptimes[i]! > uptimes[i - 1]!) out.push(uptimes[i]! - uptimes[i - 1]!);
  return out.sort((a, b) => a - b);
}

test("a-signed-configuration-change-applies-live-or-by-restart-and-a-bad-one-is-refused", async () => {
  const storePath = join(mkdtempSync(join(tmpdir(), "telltale-rconfig-")), "store.json");
  const builtIn = {
    deviceId: ID,
    intervalMs: 200,
    broker: broker.deviceBroker({ username: ID, password: PASSWORD, keepalive: 10 }),
    detector: { calibrationSamples: 60 },
    commandKey: KEY,
  };
  const log: string[] = [],
    restarts: string[] = [];
  const { client: operator, got } = await broker.listen(`telltale/${ID}/#`);
  device(storePath, builtIn, log, restarts);
  const dump = () => log.slice(-20).join("\n");
  const results = () =>
    got
      .filter((m) => m.topic === `telltale/${ID}/config/result`)
      .map((m) => JSON.parse(m.payload) as Record<string, unknown>);
  const send = async (version: number, patch: unknown) => {
    const signed = await script("config", `version=${version}`, "patch=" + JSON.stringify(patch));
    const count = results().length;
    await operator.publishAsync(`telltale/${ID}/config/set`, signed, { qos: 1 });
    return waitFor(`the answer to version ${version}`, () => results()[count], 10_000, dump);
  };
  const reported = async () => {
    const { got: late } = await broker.listen(`telltale/${ID}/config`);
    const doc = await waitFor("the retained configuration", () => late.find((m) => m.retain), 5000, dump);
    return { text: doc.payload, doc: JSON.parse(doc.payload) as { version: number; config: ReportedConfig } };
  };

  // Version 0: the built-in configuration, retained with its secrets redacted.
  await waitFor("telemetry", () => steps(got, 0).length >= 5, 15_000, dump);
  await new Promise((r) => setTimeout(r, 300)); // the device's SUBSCRIBE follows its CONNACK
  const first = await reported();
  assert.equal(first.doc.version, 0);
  assert.equal(first.doc.config.broker.password, "<redacted>");
  assert.equal(first.doc.config.commandKey, "<redacted>");
  assert.ok(!first.text.includes(PASSWORD) && !first.text.includes(KEY), "no secret in " + first.text);

  // Live: the interval goes from 200 ms to 600 ms without a restart.
  const fast = steps(got, 0);
  assert.ok(fast[fast.length >> 1]! < 400, "median step at 200 ms: " + fast.join(","));
  const live = await send(1, { intervalMs: 600 });
  assert.deepEqual(live, { version: 1, ok: true, applied: "live", changed: ["intervalMs"] }, dump());
  const mark = got.length;
  await waitFor("slower telemetry", () => steps(got, mark).length >= 4, 15_000, dump);
  const slow = steps(got, mark);
  assert.ok(slow[slow.length >> 1]! >= 500, "median step after the change: " + slow.join(","));
  assert.deepEqual(restarts, [], "no restart");
  await waitFor("version 1 kept", () => results().some((r) => r.version === 1 && r.applied === "kept"), 15_000, dump);
  const second = await reported();
  assert.equal(second.doc.version, 1);
  assert.equal(second.doc.config.intervalMs, 600);

  // Stale, and invalid: refused with the reason, the device runs on.
  assert.deepEqual(await send(1, { intervalMs: 400 }), { version: 1, ok: true, applied: "duplicate" });
  const invalid = await send(2, { intervalMs: 5, sensors: [{ part: "sht3x", name: "Bad Name" }] });
  assert.equal(invalid.ok, false);
  assert.match(String(invalid.error), /^config\.sensors\[0\]\.name: expected a lower-case name/);

  // A restart: the sensor is renamed, which the running app cannot take live.
  const renamed = await send(3, { sensors: [{ part: "sht3x", address: 0x44, name: "cabinet" }] });
  assert.deepEqual(renamed, { version: 3, ok: true, applied: "restart", changed: ["sensors"] }, dump());
  await waitFor("the restart", () => restarts.length === 1, 5000, dump);
  assert.deepEqual(restarts, ["configuration version 3"]);
  const cabinet = await waitFor(
    "telemetry of the renamed sensor",
    () => got.find((m) => m.topic === `telltale/${ID}/telemetry` && parseTelemetry(m.payload).sensors.cabinet),
    15_000,
    dump,
  );
  assert.equal(typeof parseTelemetry(cabinet.payload).sensors.cabinet?.temperature, "number");
  await waitFor("version 3 kept", () => results().some((r) => r.version === 3 && r.applied === "kept"), 20_000, dump);
  const stale = await send(2, { intervalMs: 1000 });
  assert.deepEqual(stale, { version: 2, ok: false, error: "version 2 is stale: version 3 is in use" });
  const bad = await send(4, { broker: { telemetryQos: 2 } });
  assert.equal(bad.error, "config.broker.telemetryQos: expected an integer from 0 to 1, got 2");
  const still = got.length;
  await waitFor("telemetry goes on", () => got.slice(still).some((m) => m.topic === `telltale/${ID}/telemetry`), 5000);
  const last = await reported();
  assert.equal(last.doc.version, 3);
  assert.equal(last.doc.config.intervalMs, 600, "the live change stays under the restart's");
  assert.equal(last.doc.config.sensors?.[0]?.name, "cabinet");
  assert.ok(!last.text.includes(PASSWORD) && !last.text.includes(KEY), "no secret in " + last.text);
});
