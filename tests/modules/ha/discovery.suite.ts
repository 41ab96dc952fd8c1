// Home Assistant discovery payloads: a golden payload, every part's entities checked against HA's documented schema, removals.
import { suite, test, equal, ok, deepEqual } from "../../harness.js";
import { parseConfig } from "telltale/config/config";
import {
  discoveryComponents,
  discoveryPayload,
  discoveryTopic,
  FIRMWARE_VERSION,
  type DiscoveryDevice,
} from "telltale/ha/discovery";
import { discoveryProblems } from "../../support/ha-schema.js";

function device(sensors: unknown[] = [{ part: "sht3x" }], deviceId = "pump-3"): DiscoveryDevice {
  return {
    deviceId,
    hardware: "esp32",
    telemetryTopic: "telltale/" + deviceId + "/telemetry",
    statusTopic: "telltale/" + deviceId + "/status",
    sensors: parseConfig({ sensors }).sensors,
  };
}

function payloadOf(d: DiscoveryDevice, removed?: Record<string, string>): string {
  return discoveryPayload(d, discoveryComponents(d), removed);
}

type Cmps = Record<string, Record<string, unknown>>;
function cmps(d: DiscoveryDevice): Cmps {
  return (JSON.parse(payloadOf(d)) as { cmps: Cmps }).cmps;
}

/** Every part the registry knows, declared once (GPIO parts on their own pins). */
const EVERY_PART = [
  { part: "sht3x" },
  { part: "bme280", address: 0x76 },
  { part: "sht4x", address: 0x46 },
  { part: "ina226", address: 0x40 },
  { part: "ina219", address: 0x41 },
  { part: "ads1115", address: 0x48, inputs: [{ name: "line", channel: 0 }] },
  { part: "adxl345", address: 0x53, name: "bearing" },
  { part: "mpu6050", address: 0x68, name: "motor" },
  { part: "digital-input", pin: 4, name: "door" },
  { part: "pulse-counter", pin: 5, name: "fan" },
  { part: "relay", pin: 6, name: "siren" },
];

suite("ha-discovery", () => {
  test("golden-payload-of-the-default-device", () => {
    // The abbreviations are HA's (mqtt.markdown, "Supported abbreviations"); the layout its device-based example's.
    const tpl = (key: string) =>
      "{{ value_json.sensors.sht3x." + key + " if value_json.sensors.sht3x is defined else None }}";
    equal(
      payloadOf(device()),
      '{"dev":{"ids":["telltale_pump-3"],"name":"pump-3","mf":"Telltale","mdl":"machine-health monitor","sw":"' +
        FIRMWARE_VERSION +
        '","hw":"esp32"},' +
        '"o":{"name":"telltale","sw":"' +
        FIRMWARE_VERSION +
        '"},' +
        '"cmps":{' +
        '"sht3x-temperature":{"p":"sensor","name":"sht3x temperature","dev_cla":"temperature","unit_of_meas":"°C",' +
        '"stat_cla":"measurement","val_tpl":"' +
        tpl("temperature") +
        '","uniq_id":"telltale_pump-3_sht3x-temperature"},' +
        '"sht3x-humidity":{"p":"sensor","name":"sht3x humidity","dev_cla":"humidity","unit_of_meas":"%",' +
        '"stat_cla":"measurement","val_tpl":"' +
        tpl("humidity") +
        '","uniq_id":"telltale_pump-3_sht3x-humidity"},' +
        '"score":{"p":"sensor","name":"anomaly score","stat_cla":"measurement",' +
        '"val_tpl":"{{ value_json.detector.score }}","uniq_id":"telltale_pump-3_score"},' +
        '"alarm":{"p":"binary_sensor","name":"alarm","dev_cla":"problem",' +
        '"val_tpl":"{{ \'ON\' if value_json.alarm else \'OFF\' }}","uniq_id":"telltale_pump-3_alarm"}},' +
        '"stat_t":"telltale/pump-3/telemetry","avty_t":"telltale/pump-3/status",' +
        '"pl_avail":"online","pl_not_avail":"offline","qos":1}',
    );
    equal(discoveryTopic("homeassistant", "pump-3"), "homeassistant/device/telltale_pump-3/config");
  });

  test("every-part-passes-the-documented-ha-schema", () => {
    const d = device(EVERY_PART);
    deepEqual(discoveryProblems(payloadOf(d)), []);
    // A channel per entity, plus the score and the alarm; the relay (an output) has none.
    deepEqual(Object.keys(cmps(d)), [
      "sht3x-temperature",
      "sht3x-humidity",
      "bme280-temperature",
      "bme280-pressure",
      "bme280-humidity",
      "sht4x-temperature",
      "sht4x-humidity",
      "ina226-current",
      "ina226-voltage",
      "ina226-power",
      "ina219-current",
      "ina219-voltage",
      "ina219-power",
      "ads1115-line",
      "bearing-rmsX",
      "bearing-rmsY",
      "bearing-rmsZ",
      "motor-rmsX",
      "motor-rmsY",
      "motor-rmsZ",
      "door-state",
      "door-changes",
      "fan-frequency",
      "fan-rpm",
      "score",
      "alarm",
    ]);
  });

  test("device-classes-and-units-per-quantity", () => {
    const c = cmps(device(EVERY_PART));
    const classOf = (id: string) => [c[id]?.dev_cla, c[id]?.unit_of_meas, c[id]?.stat_cla];
    deepEqual(classOf("bme280-temperature"), ["temperature", "°C", "measurement"]);
    deepEqual(classOf("bme280-pressure"), ["pressure", "hPa", "measurement"]);
    deepEqual(classOf("sht4x-humidity"), ["humidity", "%", "measurement"], "%RH is HA's %");
    deepEqual(classOf("ina226-current"), ["current", "A", "measurement"]);
    deepEqual(classOf("ina219-voltage"), ["voltage", "V", "measurement"]);
    deepEqual(classOf("ina219-power"), ["power", "W", "measurement"]);
    deepEqual(classOf("ads1115-line"), ["voltage", "V", "measurement"], "an unscaled ADC input is in volts");
    deepEqual(classOf("fan-frequency"), ["frequency", "Hz", "measurement"]);
    deepEqual(classOf("fan-rpm"), [undefined, "rpm", "measurement"], "HA has no class for rpm");
    deepEqual(classOf("door-changes"), [undefined, undefined, "measurement"]);
    deepEqual(classOf("score"), [undefined, undefined, "measurement"]);
  });

  test("vibration-rms-per-axis", () => {
    const c = cmps(device([{ part: "adxl345", name: "bearing" }]));
    deepEqual(c["bearing-rmsY"], {
      p: "sensor",
      name: "bearing vibration RMS Y",
      unit_of_meas: "m/s²",
      stat_cla: "measurement",
      val_tpl: "{{ value_json.sensors.bearing.rmsY if value_json.sensors.bearing is defined else None }}",
      uniq_id: "telltale_pump-3_bearing-rmsY",
    });
  });

  test("alarm-is-a-problem-binary-sensor-and-a-digital-input-is-binary", () => {
    const c = cmps(device([{ part: "digital-input", pin: 4, name: "door" }]));
    deepEqual(c.alarm, {
      p: "binary_sensor",
      name: "alarm",
      dev_cla: "problem",
      val_tpl: "{{ 'ON' if value_json.alarm else 'OFF' }}",
      uniq_id: "telltale_pump-3_alarm",
    });
    equal(c["door-state"]?.p, "binary_sensor");
    equal(
      c["door-state"]?.val_tpl,
      "{{ ('ON' if value_json.sensors.door.state else 'OFF') if value_json.sensors.door is defined else None }}",
    );
  });

  test("a-scaled-adc-input-takes-its-units-class", () => {
    const c = cmps(
      device([
        {
          part: "ads1115",
          inputs: [
            { name: "oil", channel: 0, scale: { from: [0.5, 4.5], to: [0, 10], unit: "bar" } },
            { name: "level", channel: 1, scale: { from: [0, 4], to: [0, 100], unit: "%" } },
          ],
        },
      ]),
    );
    deepEqual([c["ads1115-oil"]?.dev_cla, c["ads1115-oil"]?.unit_of_meas], ["pressure", "bar"]);
    // "%" alone says nothing of what is measured: a unit, no class.
    deepEqual([c["ads1115-level"]?.dev_cla, c["ads1115-level"]?.unit_of_meas], [undefined, "%"]);
  });

  test("a-key-named-like-a-dict-method-is-read-by-subscript", () => {
    // Jinja's `a.values` is the dict's method, not its "values" key.
    const c = cmps(device([{ part: "ads1115", name: "items", inputs: [{ name: "values", channel: 0 }] }]));
    equal(
      c["items-values"]?.val_tpl,
      "{{ value_json.sensors['items']['values'] if value_json.sensors['items'] is defined else None }}",
    );
  });

  test("removed-components-are-platform-only", () => {
    const d = device();
    const c = JSON.parse(
      payloadOf(d, { "bearing-rmsX": "sensor", "door-state": "binary_sensor", score: "sensor" }),
    ) as {
      cmps: Cmps;
    };
    deepEqual(c.cmps["bearing-rmsX"], { p: "sensor" });
    deepEqual(c.cmps["door-state"], { p: "binary_sensor" });
    equal(c.cmps.score?.name, "anomaly score", "a component still present is not removed");
    deepEqual(discoveryProblems(payloadOf(d, { "bearing-rmsX": "sensor" })), []);
  });

  test("topic-level-of-an-unusual-device-id", () => {
    equal(discoveryTopic("ha/disc", "a.b c"), "ha/disc/device/telltale_a_b_c/config");
    const d = device(undefined, "a.b c");
    equal((JSON.parse(payloadOf(d)) as { dev: { ids: string[] } }).dev.ids[0], "telltale_a_b_c");
  });

  test("the-schema-check-finds-what-ha-would-refuse-or-drop", () => {
    // The checker itself: each broken payload is reported, naming the rule.
    const good = JSON.parse(payloadOf(device())) as Record<string, unknown> & { cmps: Cmps; o: object };
    const broken = (change: (p: typeof good) => void): string[] => {
      const p = JSON.parse(JSON.stringify(good)) as typeof good;
      change(p);
      return discoveryProblems(JSON.stringify(p));
    };
    deepEqual(
      broken((p) => (p.cmps["sht3x-humidity"]!.unit_of_meas = "%RH")),
      ['components.sht3x-humidity.unit_of_measurement: "%RH" is not a unit of humidity'],
    );
    deepEqual(
      broken((p) => delete p.cmps.score!.uniq_id),
      ["components.score.unique_id: required"],
    );
    deepEqual(
      broken((p) => (p.cmps.alarm!.device_class = "problem")),
      ["components.alarm.device_class: written out; HA's abbreviation is used everywhere else"],
    );
    deepEqual(
      broken((p) => (p.cmps.score!.stat_clas = "measurement")),
      ["components.score.stat_clas: not an option here"],
    );
    deepEqual(
      broken((p) => (p.cmps.alarm!.dev_cla = "alarm")),
      ['components.alarm.device_class: unknown "alarm"'],
    );
    deepEqual(
      broken((p) => (p.o = {})),
      ["origin.name: required"],
    );
    deepEqual(
      broken((p) => (p.cmps.x = { p: "light", uniq_id: "x" })),
      ['components.x.platform: expected sensor or binary_sensor, got "light"'],
    );
    ok(broken((p) => delete p.dev).includes("device: required (an object)"));
  });
});
