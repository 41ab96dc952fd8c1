// The boot guard: failed starts counted in the store, safe mode at the limit, cleared after a healthy period, restarts not counted.
import { suite, test, equal, ok, deepEqual, throws } from "../harness.js";
import { BootGuard, FAILED_BOOTS_KEY, HEALTHY_RECHECK_MS } from "../../src/boot-guard.js";
import { bootApp } from "../../src/start.js";
import { parseConfig, type SafeModeConfig } from "telltale/config/config";
import { mapStore } from "../support/test-host.js";
import { appRig, offlineConfig, runFor } from "../support/app-rig.js";

const SETTINGS: SafeModeConfig = { boots: 3, healthyMs: 60_000, requireBroker: false };

function guard(map: Map<string, string>, log: string[] = [], settings = SETTINGS): BootGuard {
  return new BootGuard({ store: mapStore(map), settings, log: (line) => log.push(line) });
}

/** A host on a manual clock with an SHT3x on its bus; `restarts` records host.restart. */
function rig(map: Map<string, string>) {
  const r = appRig({ store: map, restart: true });
  return { ...r, config: offlineConfig({ safeMode: { boots: 3, healthyMs: 10_000 } }) };
}

suite("boot-guard", () => {
  test("each-start-counts-as-failed-until-healthy-and-safe-mode-comes-at-the-limit", () => {
    const map = new Map<string, string>();
    const starts = [0, 1, 2, 3, 4].map(() => guard(map));
    deepEqual(
      starts.map((g) => [g.failedBoots, g.safeMode]),
      [
        [0, false],
        [1, false],
        [2, false],
        [3, true],
        [4, true],
      ],
    );
    equal(starts[3]!.reason, "3 failed boots in a row (limit 3)");
    equal(map.get(FAILED_BOOTS_KEY), "5");
  });

  test("a-healthy-start-clears-the-count", () => {
    const map = new Map<string, string>();
    guard(map);
    const second = guard(map);
    second.markHealthy();
    ok(second.healthy);
    equal(map.get(FAILED_BOOTS_KEY), "0");
    equal(guard(map).failedBoots, 0);
  });

  test("a-restart-the-firmware-asked-for-is-not-a-failed-start", () => {
    const map = new Map<string, string>();
    guard(map);
    guard(map).restarting(); // e.g. a new configuration, 10 s after the start
    equal(guard(map).failedBoots, 1, "only the first start, which died, counts");
    map.set(FAILED_BOOTS_KEY, "3");
    const safe = guard(map);
    ok(safe.safeMode);
    safe.restarting(); // an OTA image installed in safe mode
    equal(guard(map).safeMode, false, "the restart gets a normal start");
  });

  test("a-clean-stop-is-not-a-failed-start-and-keeps-safe-mode-due", async () => {
    const map = new Map([[FAILED_BOOTS_KEY, "1"]]);
    const r = rig(map);
    const app = bootApp(r.host, r.config);
    await runFor(r.clock, 2000);
    equal(map.get(FAILED_BOOTS_KEY), "2");
    app.stop(); // Ctrl-C on Node
    equal(map.get(FAILED_BOOTS_KEY), "1");
    map.set(FAILED_BOOTS_KEY, "3");
    const safe = bootApp(rig(map).host, r.config);
    ok(safe.bootState?.safeMode);
    safe.stop();
    equal(map.get(FAILED_BOOTS_KEY), "3", "a stop is not a way out of safe mode");
  });

  test("a-damaged-count-starts-from-zero-and-says-so", () => {
    const map = new Map([[FAILED_BOOTS_KEY, "lots"]]),
      log: string[] = [];
    const g = guard(map, log);
    equal(g.failedBoots, 0);
    deepEqual(log, ['boot: the failed-boot count holds "lots", not a count; counting from 0']);
    equal(map.get(FAILED_BOOTS_KEY), "1");
  });

  test("boots-0-never-enters-safe-mode", () => {
    const map = new Map([[FAILED_BOOTS_KEY, "500"]]);
    equal(guard(map, [], { ...SETTINGS, boots: 0 }).safeMode, false);
  });

  test("bad-safe-mode-settings-are-refused-by-name", () => {
    throws(
      () => parseConfig({ safeMode: { boots: -1 } }),
      /config\.safeMode\.boots: expected an integer from 0 to 1000/,
    );
    throws(() => parseConfig({ safeMode: { healthyMs: 10 } }), /config\.safeMode\.healthyMs: expected an integer/);
    throws(() => parseConfig({ safeMode: { bootz: 3 } }), /config\.safeMode\.bootz: unknown setting/);
    deepEqual(parseConfig({}).safeMode, { boots: 10, healthyMs: 60_000, requireBroker: false });
  });

  test("a-normal-start-samples-and-clears-the-count-after-its-healthy-period", async () => {
    const map = new Map([[FAILED_BOOTS_KEY, "2"]]);
    const r = rig(map);
    const app = bootApp(r.host, r.config);
    equal(map.get(FAILED_BOOTS_KEY), "3", "counted as failed while it runs");
    await runFor(r.clock, 9_000);
    equal(map.get(FAILED_BOOTS_KEY), "3");
    await runFor(r.clock, 1_500);
    equal(map.get(FAILED_BOOTS_KEY), "0");
    ok(r.log.includes("boot: healthy after 10 s; failed-boot count cleared"), r.log.join("\n"));
    ok(app.outbox.pending >= 9, "telemetry sampled: " + app.outbox.pending);
    deepEqual(r.restarts, []);
    app.stop();
  });

  test("safe-mode-samples-nothing-runs-only-safe-services-and-restarts-when-healthy", async () => {
    const map = new Map([[FAILED_BOOTS_KEY, "3"]]);
    const r = rig(map);
    const app = bootApp(r.host, r.config);
    ok(app.bootState?.safeMode);
    ok(
      r.log.some((l) => l.startsWith("boot: SAFE MODE after 3 failed boots in a row (limit 3)")),
      r.log.join("\n"),
    );
    await runFor(r.clock, 5_000);
    equal(app.outbox.pending, 0, "no telemetry in safe mode");
    ok(!r.log.some((l) => /^telemetry #/.test(l) || /home assistant/.test(l)), r.log.join("\n"));
    equal(app.config.sensors.length, 0);
    await runFor(r.clock, 6_000);
    deepEqual(r.restarts, ["leaving safe mode"]);
    equal(map.get(FAILED_BOOTS_KEY), "0");
    ok(!app.running, "stopped before the restart");
  });

  test("with-requireBroker-an-unreached-broker-keeps-the-start-unproven", async () => {
    const map = new Map<string, string>();
    const r = rig(map);
    const app = bootApp(r.host, { ...r.config, safeMode: { ...r.config.safeMode, requireBroker: true } });
    await runFor(r.clock, 10_000 + 5 * HEALTHY_RECHECK_MS);
    equal(map.get(FAILED_BOOTS_KEY), "1", "the broker at 192.0.2.1 refuses");
    app.stop();
  });
});
