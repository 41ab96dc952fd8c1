// Health on its own topic: the payload's fields and order, safe mode and its reason, and when it is published.
import { suite, test, equal, ok, deepEqual } from "../harness.js";
import { bootApp } from "../../src/start.js";
import { HealthReport, HEALTH_POLL_MS } from "../../src/health.js";
import { FAILED_BOOTS_KEY } from "../../src/boot-guard.js";
import { FIRMWARE_VERSION } from "telltale/ha/discovery";
import type { Host } from "telltale/io/host";
import { appRig, offlineConfig, runFor } from "../support/app-rig.js";

function rig(map: Map<string, string>, extra: Partial<Host> = {}) {
  const r = appRig({ store: map, host: extra });
  const config = offlineConfig({ healthIntervalMs: 5000 });
  return { ...r, app: bootApp(r.host, config), config };
}

suite("health", () => {
  test("payload-has-the-device-fields-then-telemetrys-health-block", async () => {
    const r = rig(new Map(), { resetReason: "watchdog", freeMemory: () => 123456, rssi: () => -61 });
    await runFor(r.clock, 3000);
    const health = JSON.parse(new HealthReport(r.app).payload) as Record<string, unknown>;
    deepEqual(Object.keys(health), [
      "boot",
      "uptimeMs",
      "resetReason",
      "firmware",
      "host",
      "freeMemory",
      "rssi",
      "failedBoots",
      "safeMode",
      "sensors",
      "mqtt",
      "outbox",
      "identity",
      "commands",
    ]);
    equal(health.boot, 1);
    equal(health.uptimeMs, 3000);
    equal(health.resetReason, "watchdog");
    equal(health.firmware, FIRMWARE_VERSION);
    equal(health.host, "test");
    equal(health.freeMemory, 123456);
    equal(health.rssi, -61);
    equal(health.failedBoots, 0);
    equal(health.safeMode, false);
    equal((health.sensors as Record<string, { state: string }>).sht3x?.state, "ok");
    equal((health.outbox as { pending: number }).pending, r.app.outbox.pending);
    r.app.stop();
  });

  test("safe-mode-says-so-with-the-boot-count-and-leaves-out-what-the-host-lacks", () => {
    const map = new Map([[FAILED_BOOTS_KEY, "10"]]);
    const r = rig(map, { freeMemory: () => Number.NaN, rssi: () => undefined });
    const health = JSON.parse(new HealthReport(r.app).payload) as Record<string, unknown>;
    equal(health.safeMode, true);
    equal(health.safeModeReason, "10 failed boots in a row (limit 10)");
    equal(health.failedBoots, 10);
    equal(health.resetReason, "unknown");
    ok(!("freeMemory" in health) && !("rssi" in health), JSON.stringify(health));
    deepEqual(health.sensors, {});
    r.app.stop();
  });

  test("published-retained-at-start-on-each-new-connection-and-every-interval", async () => {
    const r = rig(new Map());
    const sent: string[] = [];
    const link = {
      connected: false,
      announce: (topic: string, payload: string) => sent.push(topic + " " + payload),
    };
    const report = new HealthReport({ ...r.app, host: r.host, config: r.config, uplink: link, round: r.app.round });
    equal(report.topic, "telltale/t1/health");
    report.start();
    equal(sent.length, 1, "at start");
    ok(sent[0]!.startsWith("telltale/t1/health {"), sent[0]);
    await runFor(r.clock, 2000);
    equal(sent.length, 1);
    link.connected = true;
    await runFor(r.clock, HEALTH_POLL_MS);
    equal(sent.length, 2, "on connecting");
    await runFor(r.clock, 5000);
    equal(sent.length, 3, "every healthIntervalMs");
    link.connected = false;
    await runFor(r.clock, 1000);
    link.connected = true;
    await runFor(r.clock, 1000);
    equal(sent.length, 4, "on reconnecting");
    report.stop();
    await runFor(r.clock, 20_000);
    equal(sent.length, 4, "nothing after stop");
    r.app.stop();
  });
});
