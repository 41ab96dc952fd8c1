// Provisioned settings: the field rules, the store key, and how they lay over the app configuration at start.
import { suite, test, equal, deepEqual, ok, throws } from "../../harness.js";
import {
  checkPassword,
  checkSsid,
  checkAgainst,
  loadProvisioned,
  PROVISION_KEY,
  provisionedConfig,
  saveProvisioned,
  ProvisionError,
  withProvisioned,
} from "telltale/provision/credentials";
import { chooseConfig } from "telltale/config/config";
import { mapStore } from "../../support/test-host.js";

function field(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    ok(e instanceof ProvisionError, "a ProvisionError");
    return e.field + " | " + e.message;
  }
  return "accepted";
}

suite("provision/credentials", () => {
  test("ssid-is-1-to-32-bytes-of-utf8", () => {
    checkSsid("a");
    checkSsid("é".repeat(16));
    equal(
      field(() => checkSsid("")),
      "ssid | ssid: must be 1–32 bytes, got 0",
    );
    equal(
      field(() => checkSsid("é".repeat(17))),
      "ssid | ssid: must be 1–32 bytes, got 34",
    );
    equal(
      field(() => checkSsid("a\u0000")),
      "ssid | ssid: must not contain U+0000",
    );
    equal(
      field(() => checkSsid("\ud800")),
      "ssid | ssid: is not valid text (a lone surrogate)",
    );
  });

  test("password-is-empty-or-8-to-63-printable-ascii", () => {
    checkPassword("");
    checkPassword("12345678");
    checkPassword("~".repeat(63));
    equal(
      field(() => checkPassword("1234567")),
      "password | password: must be 8–63 characters (or empty for an open network), got 7",
    );
    ok(/got 64$/.test(field(() => checkPassword("x".repeat(64)))));
    equal(
      field(() => checkPassword("pässwort1")),
      "password | password: must be printable ASCII (character 2 is not)",
    );
  });

  test("broker-and-device-name-go-through-the-config-validator", () => {
    const base = { broker: { url: "mqtt://127.0.0.1:1883" } };
    checkAgainst(base, { ssid: "x", password: "", broker: "mqtts://broker.example:8883", deviceId: "pump-3" });
    ok(
      /^broker \| broker: expected mqtt:\/\/host\[:port\]/.test(
        field(() => checkAgainst(base, { ssid: "x", password: "", broker: "http://x" })),
      ),
    );
    ok(
      /^deviceId \| deviceId: expected 1–64 letters/.test(
        field(() => checkAgainst(base, { ssid: "x", password: "", deviceId: "pump 3" })),
      ),
    );
    // A plain URL over a build that pins a CA: the combination is refused, naming the broker.
    const pinned = {
      broker: { url: "mqtts://b:8883", ca: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----" },
    };
    ok(
      /^broker \| .*a CA is only used with mqtts/.test(
        field(() => checkAgainst(pinned, { ssid: "x", password: "", broker: "mqtt://b" })),
      ),
    );
  });

  test("saved-settings-load-back-under-their-own-key", () => {
    const store = mapStore(new Map());
    saveProvisioned(store, { ssid: "Werkstatt", password: "12345678", broker: "mqtt://10.0.0.2" });
    ok(store.get(PROVISION_KEY) !== undefined);
    equal(store.get("config"), undefined, "not mixed into the saved configuration");
    deepEqual(loadProvisioned(store), {
      provisioned: { ssid: "Werkstatt", password: "12345678", broker: "mqtt://10.0.0.2" },
    });
  });

  test("damaged-or-refused-stored-settings-are-a-problem-not-a-crash", () => {
    const map = new Map<string, string>();
    const store = mapStore(map);
    map.set(PROVISION_KEY, "{not json");
    deepEqual(loadProvisioned(store), { problem: "the stored settings are not JSON" });
    map.set(PROVISION_KEY, JSON.stringify({ ssid: "x", password: "short" }));
    ok(/^the stored password: must be 8–63/.test(loadProvisioned(store).problem ?? ""));
    map.set(PROVISION_KEY, JSON.stringify({ ssid: 3 }));
    deepEqual(loadProvisioned(store), { problem: "the stored settings lack a text ssid and password" });
  });

  test("start-lays-broker-and-device-name-over-the-build-config", () => {
    const store = mapStore(new Map());
    const build = Object.freeze({
      deviceId: "",
      intervalMs: 5000,
      broker: Object.freeze({ url: "mqtt://127.0.0.1", username: "u" }),
    });
    saveProvisioned(store, { ssid: "x", password: "", broker: "mqtts://b.example:8884", deviceId: "press-7" });
    const log: string[] = [];
    const candidate = provisionedConfig(build, store, (l) => log.push(l));
    deepEqual(candidate, {
      deviceId: "press-7",
      intervalMs: 5000,
      broker: { url: "mqtts://b.example:8884", username: "u" },
    });
    const { config } = chooseConfig(candidate, mapStore(new Map()), (l) => log.push(l));
    equal(config.deviceId, "press-7");
    deepEqual(
      [config.broker.scheme, config.broker.host, config.broker.port, config.broker.username],
      ["mqtts", "b.example", 8884, "u"],
    );
    deepEqual(log, []);
    deepEqual(withProvisioned(build, undefined), { deviceId: "", intervalMs: 5000, broker: build.broker });
  });

  test("start-with-damaged-settings-runs-the-build-config-and-says-why", () => {
    const map = new Map([[PROVISION_KEY, "[]"]]);
    const log: string[] = [];
    deepEqual(
      provisionedConfig({ intervalMs: 1000 }, mapStore(map), (l) => log.push(l)),
      { intervalMs: 1000 },
    );
    deepEqual(log, [
      "provision: the provisioned settings are not used: the stored settings lack a text ssid and password",
    ]);
  });

  test("a-store-that-refuses-the-value-keeps-the-previous-one", () => {
    const store = mapStore(new Map(), 40);
    saveProvisioned(store, { ssid: "a", password: "" });
    throws(() => saveProvisioned(store, { ssid: "a".repeat(32), password: "p".repeat(63) }), /at most 40/);
    deepEqual(loadProvisioned(store).provisioned, { ssid: "a", password: "" });
  });
});
