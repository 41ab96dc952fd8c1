// Home Assistant's device-based MQTT discovery: the one retained payload that describes this device and its entities.
import type { SensorDeclaration } from "telltale/drivers/part";
import { parts } from "telltale/drivers/registry";

/** The firmware's version, as Home Assistant shows it (`sw_version` of the device and of the origin). */
export const FIRMWARE_VERSION = "0.1.0";

/** The availability payloads of the status topic: the uplink's "online", and its Last Will's "offline". */
export const AVAILABLE = "online";
export const NOT_AVAILABLE = "offline";

/** What discovery describes: the device, the topics its state and availability are on, and what it measures. */
export interface DiscoveryDevice {
  readonly deviceId: string;
  /** The host's name ("esp32", "sim", "node"): the device's hardware version in Home Assistant. */
  readonly hardware: string;
  /** Telemetry (JSON): every entity's state is a template into it. */
  readonly telemetryTopic: string;
  /** Availability: "online", and "offline" as the Last Will. */
  readonly statusTopic: string;
  readonly sensors: readonly SensorDeclaration[];
}

/** One entry of the payload's `cmps`: its platform (`p`) and the platform's options, abbreviated. */
export type Component = { readonly p: string } & Readonly<Record<string, unknown>>;

/**
 * Sensor device classes by the unit a driver reports, each with the units Home Assistant accepts for it (its sensor
 * documentation, "Device class"); a unit not listed gets no device class, only its unit.
 */
const DEVICE_CLASSES = Object.freeze({
  "°C": "temperature",
  "°F": "temperature",
  K: "temperature",
  "%RH": "humidity",
  Pa: "pressure",
  kPa: "pressure",
  hPa: "pressure",
  bar: "pressure",
  cbar: "pressure",
  mbar: "pressure",
  mmHg: "pressure",
  inHg: "pressure",
  psi: "pressure",
  A: "current",
  mA: "current",
  V: "voltage",
  mV: "voltage",
  W: "power",
  mW: "power",
  kW: "power",
  Hz: "frequency",
  kHz: "frequency",
}) as Readonly<Record<string, string>>;

/** Units Home Assistant spells differently: its humidity class takes "%" (relative humidity is the only kind). */
const HA_UNITS = Object.freeze({ "%RH": "%" }) as Readonly<Record<string, string>>;

/** Entity names for channel keys that are not words. */
const LABELS = Object.freeze({
  rmsX: "vibration RMS X",
  rmsY: "vibration RMS Y",
  rmsZ: "vibration RMS Z",
}) as Readonly<Record<string, string>>;

/** Channels that are on/off rather than a measurement: binary sensors ("part.key"). */
const BINARY_CHANNELS = Object.freeze(["digital-input.state"]);

/**
 * Names a template cannot reach with a dot: Jinja's `a.b` looks up the attribute first, so on a dict `.items` is the
 * method, not the key; and Jinja's own words.
 */
const NOT_BY_DOT = Object.freeze([
  "clear",
  "copy",
  "fromkeys",
  "get",
  "items",
  "keys",
  "pop",
  "popitem",
  "setdefault",
  "update",
  "values",
  "and",
  "or",
  "not",
  "in",
  "is",
  "if",
  "else",
  "true",
  "false",
  "none",
  "True",
  "False",
  "None",
]);

function isIdentifier(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
    if (!letter && !(i > 0 && c >= 48 && c <= 57)) return false;
  }
  return true;
}

/** `.name`, or `['name']` where a dot would not reach the key (see NOT_BY_DOT). */
function member(name: string): string {
  if (isIdentifier(name) && !NOT_BY_DOT.includes(name)) return "." + name;
  return "['" + name.split("\\").join("\\\\").split("'").join("\\'") + "']";
}

/** A topic level of `[A-Za-z0-9_-]` (the discovery topic's rule): other characters become "_". */
function topicLevel(id: string): string {
  let out = "";
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45;
    out += ok ? id[i] : "_";
  }
  return out;
}

/** The device's discovery object id, also the first part of every unique_id: "telltale_<deviceId>". */
export function objectId(deviceId: string): string {
  return "telltale_" + topicLevel(deviceId);
}

/** `<prefix>/device/telltale_<deviceId>/config`. */
export function discoveryTopic(prefix: string, deviceId: string): string {
  return prefix + "/device/" + objectId(deviceId) + "/config";
}

/**
 * The entities of a device, keyed by component id: a sensor per channel of every declared sensor (a binary sensor for
 * an on/off channel), the anomaly score, and a `problem` binary sensor for the alarm. Sensors have `state_class`
 * measurement, so Home Assistant keeps long-term statistics. A channel's template reads `sensors.<name>.<key>` of
 * telemetry and gives "None" (unknown) while its sensor is failed and absent from telemetry.
 */
export function discoveryComponents(device: DiscoveryDevice): Record<string, Component> {
  const unique = objectId(device.deviceId) + "_";
  const out: Record<string, Component> = {};
  for (const sensor of device.sensors) {
    const descriptor = parts[sensor.part];
    if (!descriptor) continue;
    const at = "value_json.sensors" + member(sensor.name);
    for (const channel of descriptor.channels(sensor)) {
      const id = sensor.name + "-" + channel.key; // "-" is in no sensor name: ids cannot collide
      const value = at + member(channel.key);
      const name = sensor.name + " " + (LABELS[channel.key] ?? channel.key);
      if (BINARY_CHANNELS.includes(sensor.part + "." + channel.key)) {
        out[id] = {
          p: "binary_sensor",
          name,
          val_tpl: "{{ ('ON' if " + value + " else 'OFF') if " + at + " is defined else None }}",
          uniq_id: unique + id,
        };
        continue;
      }
      const c: Record<string, unknown> = { p: "sensor", name };
      const deviceClass = DEVICE_CLASSES[channel.unit];
      if (deviceClass) c.dev_cla = deviceClass;
      if (channel.unit !== "") c.unit_of_meas = HA_UNITS[channel.unit] ?? channel.unit;
      c.stat_cla = "measurement";
      c.val_tpl = "{{ " + value + " if " + at + " is defined else None }}";
      c.uniq_id = unique + id;
      out[id] = c as Component;
    }
  }
  out.score = {
    p: "sensor",
    name: "anomaly score",
    stat_cla: "measurement",
    val_tpl: "{{ value_json.detector.score }}",
    uniq_id: unique + "score",
  };
  out.alarm = {
    p: "binary_sensor",
    name: "alarm",
    dev_cla: "problem",
    val_tpl: "{{ 'ON' if value_json.alarm else 'OFF' }}",
    uniq_id: unique + "alarm",
  };
  return out;
}

/**
 * The retained discovery payload: `dev`, `o`, `cmps`, and the options every component shares (the telemetry topic as
 * `stat_t`, availability on the status topic, QoS 1). `removed` (component id → platform) adds `{"p": platform}`
 * entries, which Home Assistant reads as "remove this component" (its MQTT documentation, "Device discovery payload").
 */
export function discoveryPayload(
  device: DiscoveryDevice,
  components: Readonly<Record<string, Component>>,
  removed: Readonly<Record<string, string>> = {},
): string {
  const cmps: Record<string, unknown> = { ...components };
  for (const id of Object.keys(removed)) if (!Object.hasOwn(cmps, id)) cmps[id] = { p: removed[id] };
  return JSON.stringify({
    dev: {
      ids: [objectId(device.deviceId)],
      name: device.deviceId,
      mf: "Telltale",
      mdl: "machine-health monitor",
      sw: FIRMWARE_VERSION,
      hw: device.hardware,
    },
    o: { name: "telltale", sw: FIRMWARE_VERSION },
    cmps,
    stat_t: device.telemetryTopic,
    avty_t: device.statusTopic,
    pl_avail: AVAILABLE,
    pl_not_avail: NOT_AVAILABLE,
    qos: 1,
  });
}
