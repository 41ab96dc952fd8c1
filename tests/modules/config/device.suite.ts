// The app's configuration from a device's mc/config: app keys only, flat mcconfig keys, read-only input left alone.
import { suite, test, equal, deepEqual, ok, throws } from "../../harness.js";
import { appConfigFromDevice } from "telltale/config/device";
import { chooseConfig, parseConfig } from "telltale/config/config";
import { loadConfigText } from "telltale/config/saved";
import { mapStore } from "../../support/test-host.js";

/** A deep freeze, as a preloaded mc/config is read-only on a device. */
function frozen<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const key of Object.keys(value)) frozen((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}

const manifest = frozen({
  deviceId: "",
  intervalMs: 5000,
  topicPrefix: "telltale",
  ssid: "wifi",
  password: "wifi-secret",
  sntp: "pool.ntp.org",
  broker: { url: "mqtt://127.0.0.1:1883" },
  sensors: [{ part: "sht3x", address: 68 }],
});

suite("config/device", () => {
  test("keeps-app-keys-only-and-empty-device-id-means-the-board", () => {
    const c = appConfigFromDevice(manifest);
    deepEqual(Object.keys(c).sort(), ["broker", "intervalMs", "sensors", "topicPrefix"]);
    equal(parseConfig(c).broker.host, "127.0.0.1");
  });

  test("result-is-a-writable-copy-of-read-only-input", () => {
    const c = appConfigFromDevice(manifest);
    (c.broker as Record<string, unknown>).url = "mqtt://h:1";
    ((c.sensors as Record<string, unknown>[])[0] as Record<string, unknown>).name = "x";
    equal(manifest.broker.url, "mqtt://127.0.0.1:1883");
    const store = mapStore(new Map());
    chooseConfig(c, store, () => {});
    ok(loadConfigText(store).text?.includes("mqtt://h:1"), "stored as the last good configuration");
  });

  test("broker-url-typed-flat", () => {
    const c = parseConfig(
      appConfigFromDevice(
        frozen({ ...manifest, broker: "mqtts://broker.local:8883", deviceId: "pump-3", intervalMs: "2000" }),
      ),
    );
    equal(c.broker.scheme, "mqtts");
    equal(c.broker.host, "broker.local");
    equal(c.broker.port, 8883);
    equal(c.deviceId, "pump-3");
    equal(c.intervalMs, 2000);
  });

  test("flat-broker-fields-merge-into-the-manifest-broker", () => {
    const pem = "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----";
    const tls = { ...manifest, broker: { url: "mqtts://b.local:8883", keepalive: 20 } };
    const c = appConfigFromDevice(frozen({ ...tls, brokerCa: pem, brokerUsername: "u", brokerPassword: "p" }));
    deepEqual(c.broker, {
      url: "mqtts://b.local:8883",
      keepalive: 20,
      ca: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
      username: "u",
      password: "p",
    });
    equal(parseConfig(c).broker.username, "u");
    equal(parseConfig(c).broker.keepalive, 20);
    // Validated like the rest: a CA for a plain mqtt:// broker is refused, naming the field it set.
    throws(
      () => parseConfig(appConfigFromDevice(frozen({ ...manifest, brokerCa: pem }))),
      /^config\.broker\.ca: a CA is only used with mqtts/,
    );
  });

  test("object-keys-as-json-text", () => {
    const c = parseConfig(
      appConfigFromDevice(
        frozen({
          ...manifest,
          sensors: '[{"part":"sht4x","address":68,"name":"cab"}]',
          detector: '{"model":"zscore"}',
        }),
      ),
    );
    equal(c.sensors[0]?.part, "sht4x");
    equal(c.detector.model, "zscore");
  });

  test("malformed-json-names-the-key", () => {
    throws(
      () => appConfigFromDevice(frozen({ ...manifest, sensors: "[{part: sht3x}]" })),
      /^config\.sensors: not valid JSON/,
    );
  });

  test("bad-flat-values-are-rejected-by-the-schema-naming-the-field", () => {
    throws(
      () => parseConfig(appConfigFromDevice(frozen({ ...manifest, broker: "http://x" }))),
      /config\.broker\.url: expected mqtt:\/\/host/,
    );
    throws(() => parseConfig(appConfigFromDevice(frozen({ ...manifest, intervalMs: "fast" }))), /config\.intervalMs/);
  });

  test("flat-broker-field-on-a-non-object-broker-is-rejected", () => {
    throws(
      () => appConfigFromDevice(frozen({ ...manifest, broker: 5, brokerUsername: "u" })),
      /config\.brokerUsername: sets broker\.username/,
    );
  });
});
