// Configuration: defaults, URL parsing, each bad field named, last good configuration kept.
import { suite, test, equal, ok, throws, deepEqual } from "../../harness.js";
import { parseConfig, parseBrokerUrl, chooseConfig } from "telltale/config/config";
import { mapStore } from "../../support/test-host.js";

const ignore = () => {};

suite("config", () => {
  test("defaults-applied", () => {
    const c = parseConfig({});
    equal(c.intervalMs, 5000);
    equal(c.broker.host, "127.0.0.1");
    equal(c.broker.port, 1883);
    equal(c.sensors.length, 1);
    equal(c.sensors[0]?.name, "sht3x");
    equal(c.detector.model, "multivariate", "the multivariate detector is the default");
    equal(c.detector.calibrationSamples, 400);
    equal(c.detector.on, 5);
    equal(c.detector.off, 2);
    equal(c.detector.clearSamples, 3);
    equal(parseConfig({ detector: { on: 8 } }).detector.off, 3.2, "off follows a configured on: the model's 2 : 5");
    equal(parseConfig({ detector: { on: 8, off: 5 } }).detector.off, 5, "a configured off is kept");
    equal(parseConfig({ detector: { model: "zscore", on: 8 } }).detector.off, 4, "the z-score's ratio is 3 : 6");
    equal(parseConfig({ detector: { model: "zscore" } }).detector.on, 6, "the z-score keeps its own defaults");
  });
  test("broker-url-forms", () => {
    deepEqual(parseBrokerUrl("mqtts://broker.example:8884"), { scheme: "mqtts", host: "broker.example", port: 8884 });
    equal(parseBrokerUrl("mqtts://h").port, 8883);
    equal(parseBrokerUrl("mqtt://[::1]:1999").host, "::1");
    throws(() => parseBrokerUrl("http://h"), /broker.url: expected mqtt/);
    throws(() => parseBrokerUrl("mqtt://h:70000"), /outside/);
  });
  test("bad-fields-named", () => {
    throws(() => parseConfig({ intervalMs: 5 }), /^config\.intervalMs: expected an integer from 100/);
    throws(
      () => parseConfig({ sensors: [{ part: "bme999" }] }),
      /^config\.sensors\[0\]\.part: expected one of "sht3x", .*got "bme999"/,
    );
    throws(
      () => parseConfig({ sensors: [{ part: "sht3x", address: 0x40 }] }),
      /^config\.sensors\[0\]\.address: a sht3x answers at 0x44 or 0x45, got 0x40/,
    );
    throws(
      () => parseConfig({ sensors: [{ part: "sht3x" }, { part: "sht3x" }] }),
      /sensors\[1\]\.address: 0x44 is declared twice/,
    );
    throws(
      () => parseConfig({ broker: { url: "mqtt://h", ca: "-----BEGIN CERTIFICATE-----" } }),
      /broker\.ca: a CA is only used with mqtts/,
    );
    throws(() => parseConfig({ detector: { on: 2, off: 3 } }), /detector\.off: must not exceed/);
    throws(() => parseConfig([]), /^config\.root: expected an object, got an array/);
    throws(
      () => parseConfig({ sensors: [{ part: "sht3x", repeatability: "ultra" }] }),
      /^config\.sensors\[0\]\.repeatability: expected one of "high", "medium", "low"/,
    );
    throws(
      () => parseConfig({ sensors: [{ part: "sht3x", heatr: true }] }),
      /^config\.sensors\[0\]\.heatr: unknown option for this part/,
    );
    throws(() => parseConfig({ deviceId: "a b" }), /config\.deviceId/);
  });
  test("sensor-names-unique", () => {
    const c = parseConfig({
      sensors: [
        { part: "sht3x", address: 0x44 },
        { part: "sht3x", address: 0x45 },
      ],
    });
    deepEqual(
      c.sensors.map((s) => s.name),
      ["sht3x", "sht3x_2"],
    );
  });
  test("bad-config-keeps-last-good", () => {
    const store = mapStore(new Map());
    const first = chooseConfig({ intervalMs: 1000 }, store, ignore);
    equal(first.config.intervalMs, 1000);
    ok(!first.error);
    const second = chooseConfig({ intervalMs: "fast" }, store, ignore);
    equal(second.config.intervalMs, 1000, "previous good configuration kept");
    ok(second.error && /config\.intervalMs/.test(second.error.message));
    throws(() => chooseConfig({ intervalMs: "fast" }, mapStore(new Map()), ignore), /config\.intervalMs/);
  });

  test("vibration-settings-defaulted-and-each-bad-field-named", () => {
    const v = parseConfig({}).detector.vibration;
    equal(v.enabled, true);
    equal(v.windowShift, 8);
    equal(v.calibrationWindows, 128);
    equal(v.bands.join(","), "50,100,200,400");
    throws(() => parseConfig({ detector: { vibration: "on" } }), /^config\.detector\.vibration: expected an object/);
    throws(() => parseConfig({ detector: { vibration: { enabled: 1 } } }), /^config\.detector\.vibration\.enabled: /);
    throws(
      () => parseConfig({ detector: { vibration: { bands: [100, -5] } } }),
      /^config\.detector\.vibration\.bands\[1\]: /,
    );
    throws(
      () => parseConfig({ detector: { vibration: { bands: [10, 20, 30, 40, 50, 60, 70] } } }),
      /^config\.detector\.vibration\.bands: .*at most 6 bands fit/,
    );
    throws(
      () => parseConfig({ detector: { vibration: { calibrationWindows: 64 } } }),
      /^config\.detector\.vibration\.calibrationWindows: /,
    );
    throws(
      () => parseConfig({ detector: { vibration: { windowShift: 13 } } }),
      /^config\.detector\.vibration\.windowShift: /,
    );
    throws(
      () => parseConfig({ detector: { vibration: { on: 4, off: 6 } } }),
      /^config\.detector\.vibration\.off: must not exceed/,
    );
  });

  test("unknown-settings-are-refused-by-name-and-the-last-good-one-kept", () => {
    throws(() => parseConfig({ intervalMS: 1000 }), /^config\.intervalMS: unknown setting; did you mean intervalMs\?$/);
    throws(() => parseConfig({ brokr: {} }), /^config\.brokr: unknown setting \(known: deviceId, intervalMs, /);
    throws(
      () => parseConfig({ broker: { url: "mqtt://h:1883", passwd: "x" } }),
      /^config\.broker\.passwd: unknown setting \(known: url, ca, /,
    );
    const kv = mapStore(new Map());
    chooseConfig({ intervalMs: 2000 }, kv, ignore);
    const { config, error } = chooseConfig({ deviceID: "pump-3" }, kv, ignore);
    equal(config.intervalMs, 2000, "runs with the last good configuration");
    ok(error && /config\.deviceID: unknown setting; did you mean deviceId\?/.test(error.message), String(error));
  });

  test("broker-credentials-are-refused-where-mqtt-would-refuse-them", () => {
    throws(
      () => parseConfig({ broker: { url: "mqtt://h:1883", password: "p" } }),
      /^config\.broker\.password: needs broker\.username/,
    );
    throws(
      () => parseConfig({ broker: { url: "mqtt://h:1883", username: "x".repeat(70_000) } }),
      /^config\.broker\.username: is 70000 bytes; MQTT allows at most 65535$/,
    );
    throws(
      () => parseConfig({ broker: { url: "mqtt://h:1883", username: "a\uD800b" } }),
      /^config\.broker\.username: is not valid text \(a lone surrogate\)$/,
    );
    throws(() => parseConfig({ broker: { url: "mqtt://h:1883", username: "a\u0000" } }), /must not contain U\+0000/);
    equal(parseConfig({ broker: { url: "mqtt://h:1883", username: "é€😀" } }).broker.username, "é€😀");
  });
});
