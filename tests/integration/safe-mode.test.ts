// Safe mode and health against a real Mosquitto: a device started after too many failed boots says so in its retained
// health, answers commands, publishes no telemetry and no discovery; a normal start publishes health with telemetry.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brokerForFile } from "./support/test-broker.js";
import { waitFor } from "./support/firmware.js";
import { createNodeHost } from "../../hosts/node/host.js";
import { FileStore } from "../../hosts/node/store.js";
import { bootApp } from "../../src/start.js";
import type { App } from "../../src/app.js";
import { FAILED_BOOTS_KEY } from "../../src/boot-guard.js";
import { parseConfig } from "../../modules/config/config.js";
import { FIRMWARE_VERSION } from "../../modules/ha/discovery.js";

const broker = brokerForFile({ tls: false });
const flash = mkdtempSync(join(tmpdir(), "telltale-safe-mode-"));
after(() => rmSync(flash, { recursive: true, force: true })); // after the broker's teardown has stopped the apps

function boot(id: string, failedBoots: number): { app: App; log: string[] } {
  const log: string[] = [];
  const storePath = join(flash, id, "store.json");
  const store = new FileStore(storePath, (line) => log.push(line));
  store.set(FAILED_BOOTS_KEY, String(failedBoots));
  const config = parseConfig({
    deviceId: id,
    intervalMs: 100,
    broker: broker.deviceBroker(),
    detector: { model: "zscore", calibrationSamples: 5 },
  });
  const host = createNodeHost({
    storePath,
    store,
    deviceId: id,
    log: (line) => log.push(line),
    sensors: config.sensors,
    flash: false,
    resetReason: "watchdog",
  });
  const app = bootApp(host, config);
  broker.atEnd(() => app.stop());
  return { app, log };
}

test("a-device-in-safe-mode-says-so-in-retained-health-answers-ping-and-publishes-no-telemetry", async () => {
  const { app, log } = boot("safe-a", 10);
  await waitFor(
    "the connection",
    () => app.connected,
    15_000,
    () => log.join("\n"),
  );
  const answers = await broker.listen("telltale/safe-a/command/result");
  answers.client.publish("telltale/safe-a/command", "ping", { qos: 1 });
  await waitFor(
    "the ping answer",
    () => answers.got.length > 0,
    10_000,
    () => log.join("\n"),
  );
  assert.equal((JSON.parse(answers.got[0]!.payload) as { ok: boolean }).ok, true);
  // A subscriber that arrives later reads the retained health at once.
  const later = await broker.listen("telltale/safe-a/#");
  const ha = await broker.listen("homeassistant/#");
  const health = await waitFor("retained health", () =>
    later.got.find((m) => m.topic === "telltale/safe-a/health" && m.retain),
  );
  const h = JSON.parse(health.payload) as Record<string, unknown>;
  assert.equal(h.safeMode, true);
  assert.equal(h.safeModeReason, "10 failed boots in a row (limit 10)");
  assert.equal(h.failedBoots, 10);
  assert.equal(h.resetReason, "watchdog");
  assert.equal(h.firmware, FIRMWARE_VERSION);
  assert.equal(h.host, "node");
  assert.equal(typeof h.freeMemory, "number");
  assert.deepEqual(h.sensors, {});
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(
    later.got.filter((m) => m.topic.endsWith("/telemetry")),
    [],
    "no telemetry in safe mode",
  );
  assert.deepEqual(ha.got, [], "no discovery in safe mode");
  assert.ok(
    log.some((l) => l.startsWith("boot: SAFE MODE after 10 failed boots")),
    log.join("\n"),
  );
});

test("a-normal-start-publishes-health-beside-its-telemetry", async () => {
  const { app, log } = boot("safe-b", 2);
  const got = (await broker.listen("telltale/safe-b/#")).got;
  await waitFor(
    "the connection",
    () => app.connected,
    15_000,
    () => log.join("\n"),
  );
  await waitFor("telemetry", () => got.some((m) => m.topic === "telltale/safe-b/telemetry"));
  const health = await waitFor("health after connecting", () =>
    [...got]
      .reverse()
      .find(
        (m) => m.topic === "telltale/safe-b/health" && (JSON.parse(m.payload) as { uptimeMs: number }).uptimeMs > 0,
      ),
  );
  const h = JSON.parse(health.payload) as Record<string, unknown>;
  assert.equal(h.safeMode, false);
  assert.equal(h.failedBoots, 2);
  assert.ok(!("safeModeReason" in h));
  assert.equal((h.sensors as Record<string, { state: string }>).sht3x?.state, "ok");
});
