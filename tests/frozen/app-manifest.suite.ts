// The app started as src/main.ts starts it on a device: the manifest's config, read-only as preload leaves mc/config,
// through appConfigFromDevice, on a host of simulation parts whose network refuses every connection.
import { suite, test, ok, equal, throws } from "../harness.js";
import config from "./mc-config.js";
import { preloaded } from "./preloaded.js";
import { appConfigFromDevice } from "telltale/config/device";
import { startApp } from "../../src/start.js";
import { appRig, ticks } from "../support/app-rig.js";

/** A host with the manifest's one sensor (an SHT3x at 0x44) on a simulated bus. */
const simHost = () => appRig({ deviceId: "frozen1", host: { name: "frozen" } });

const READ_ONLY = /not writable|read only|not extensible/;

suite("frozen/device", () => {
  test("config-is-read-only-as-preload-leaves-it", () => {
    ok(Object.isFrozen(config), "mc/config is frozen");
    throws(() => {
      (config as Record<string, unknown>).intervalMs = 1;
    }, READ_ONLY);
    throws(() => JSON.stringify(config), /read only value/);
  });

  test("every-preloaded-export-is-frozen", () => {
    const open: string[] = [];
    for (const [specifier, namespace] of preloaded)
      for (const [key, value] of Object.entries(namespace))
        if (((typeof value === "object" && value !== null) || typeof value === "function") && !Object.isFrozen(value))
          open.push(specifier + " " + key);
    ok(preloaded.length > 50, "the stage listed the modules: " + preloaded.length);
    equal(open.join(", "), "");
  });

  test("error-name-assignment-throws-as-on-a-device", () => {
    class Assigned extends Error {
      constructor(message: string) {
        super(message);
        this.name = "Assigned";
      }
    }
    throws(() => new Assigned("x"), /not writable/);
  });

  test("manifest-config-starts-the-app-which-logs-telemetry", async () => {
    const { clock, log, store, host } = simHost();
    const appConfig = appConfigFromDevice(config);
    const interval = Number(appConfig.intervalMs);
    ok(interval > 0, "the manifest sets intervalMs");
    const app = startApp(host, appConfig);
    await ticks(clock, 4, interval);
    const text = log.join("\n");
    ok(app.running, text);
    ok(
      log.some((l) => /^telemetry #4: sht3x temperature=30 humidity=50/.test(l)),
      text,
    );
    ok(!READ_ONLY.test(text), "no write to a frozen object:\n" + text);
    ok(!/error:/.test(text), "no error:\n" + text);
    ok(store.size > 0, "the configuration was stored as the last good one");
    equal(Object.isFrozen(appConfig), false, "the app's config is a writable copy");
    app.stop();
  });
});
