// Home Assistant's documented rules for a device-based discovery payload, for the parts Telltale uses: a checker that
// reads a payload as HA's discovery does (abbreviations expanded) and lists every rule it breaks.
//
// Sources (read from the stored copies of the public repositories, 2026-12):
// - home-assistant.io source/_integrations/mqtt.markdown: "Device discovery payload" (`dev` and `o` required, the
//   shared options, `p` and `unique_id` in each component, `{"p": …}` alone removes a component), "Supported
//   abbreviations in MQTT discovery messages" and those "for device registry configuration" and "for origin info";
// - home-assistant.io source/_integrations/sensor.markdown and binary_sensor.markdown: "Device class" (classes, units);
// - home-assistant/core homeassistant/components/mqtt/schemas.py: DEVICE_DISCOVERY_SCHEMA (the root keys),
//   MQTT_ENTITY_DEVICE_INFO_SCHEMA (an identifier or a connection), MQTT_ORIGIN_INFO_SCHEMA (`name` required),
//   check_unique_id; sensor.py and binary_sensor.py (each platform's options; unknown ones are dropped silently).

/** The abbreviations HA documents, for the keys a Telltale payload may use (short → long). */
export const ABBREVIATIONS: Readonly<Record<string, string>> = Object.freeze({
  avty: "availability",
  avty_mode: "availability_mode",
  avty_t: "availability_topic",
  avty_tpl: "availability_template",
  cmps: "components",
  dev: "device",
  dev_cla: "device_class",
  e: "encoding",
  en: "enabled_by_default",
  ent_cat: "entity_category",
  exp_aft: "expire_after",
  frc_upd: "force_update",
  ic: "icon",
  json_attr_t: "json_attributes_topic",
  json_attr_tpl: "json_attributes_template",
  o: "origin",
  obj_id: "object_id",
  off_dly: "off_delay",
  p: "platform",
  pl_avail: "payload_available",
  pl_not_avail: "payload_not_available",
  pl_off: "payload_off",
  pl_on: "payload_on",
  stat_cla: "state_class",
  stat_t: "state_topic",
  sug_dsp_prc: "suggested_display_precision",
  uniq_id: "unique_id",
  unit_of_meas: "unit_of_measurement",
  val_tpl: "value_template",
});
export const DEVICE_ABBREVIATIONS: Readonly<Record<string, string>> = Object.freeze({
  cu: "configuration_url",
  cns: "connections",
  ids: "identifiers",
  mf: "manufacturer",
  mdl: "model",
  mdl_id: "model_id",
  hw: "hw_version",
  sw: "sw_version",
  sa: "suggested_area",
  sn: "serial_number",
});
export const ORIGIN_ABBREVIATIONS: Readonly<Record<string, string>> = Object.freeze({
  sw: "sw_version",
  url: "support_url",
});

/** DEVICE_DISCOVERY_SCHEMA's keys (with the availability schema it extends). */
const ROOT_KEYS = Object.freeze([
  "device",
  "components",
  "origin",
  "state_topic",
  "command_topic",
  "message_expiry_interval",
  "qos",
  "encoding",
  "availability_topic",
  "availability_template",
  "payload_available",
  "payload_not_available",
  "availability_mode",
  "availability",
]);
const DEVICE_KEYS = Object.freeze([
  "identifiers",
  "connections",
  "manufacturer",
  "model",
  "model_id",
  "name",
  "hw_version",
  "serial_number",
  "sw_version",
  "via_device",
  "suggested_area",
  "configuration_url",
]);
const ORIGIN_KEYS = Object.freeze(["name", "sw_version", "support_url"]);

/** MQTT_ENTITY_COMMON_SCHEMA and MQTT_RO_SCHEMA: what every read-only entity platform takes. */
const ENTITY_KEYS = Object.freeze([
  "platform",
  "name",
  "unique_id",
  "state_topic",
  "value_template",
  "qos",
  "encoding",
  "availability_topic",
  "availability_template",
  "payload_available",
  "payload_not_available",
  "availability_mode",
  "availability",
  "device",
  "origin",
  "entity_picture",
  "enabled_by_default",
  "entity_category",
  "icon",
  "json_attributes_topic",
  "json_attributes_template",
  "default_entity_id",
  "object_id",
]);
const PLATFORM_KEYS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  sensor: Object.freeze([
    "device_class",
    "expire_after",
    "force_update",
    "last_reset_value_template",
    "options",
    "suggested_display_precision",
    "state_class",
    "unit_of_measurement",
  ]),
  binary_sensor: Object.freeze([
    "device_class",
    "expire_after",
    "force_update",
    "off_delay",
    "payload_on",
    "payload_off",
  ]),
});

/** Sensor device classes Telltale may use, with the units HA accepts for each (sensor.markdown, "Device class"). */
export const SENSOR_UNITS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  temperature: Object.freeze(["°C", "°F", "K"]),
  humidity: Object.freeze(["%"]),
  pressure: Object.freeze(["Pa", "kPa", "hPa", "bar", "cbar", "mbar", "mmHg", "inHg", "psi"]),
  atmospheric_pressure: Object.freeze(["cbar", "bar", "hPa", "mmHg", "inHg", "kPa", "mbar", "Pa", "psi"]),
  current: Object.freeze(["A", "mA"]),
  voltage: Object.freeze(["V", "mV", "µV", "kV", "MV"]),
  power: Object.freeze(["mW", "W", "kW", "MW", "GW", "TW"]),
  frequency: Object.freeze(["Hz", "kHz", "MHz", "GHz"]),
});
const STATE_CLASSES = Object.freeze(["measurement", "measurement_angle", "total", "total_increasing"]);
const BINARY_SENSOR_CLASSES = Object.freeze([
  "battery",
  "battery_charging",
  "carbon_monoxide",
  "cold",
  "connectivity",
  "door",
  "garage_door",
  "gas",
  "heat",
  "light",
  "lock",
  "moisture",
  "motion",
  "moving",
  "occupancy",
  "opening",
  "plug",
  "power",
  "presence",
  "problem",
  "running",
  "safety",
  "smoke",
  "sound",
  "tamper",
  "update",
  "vibration",
  "window",
]);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Expands `short` keys to long ones; a long key written out where HA documents an abbreviation is reported, so the
 * payload uses the abbreviated names throughout (they are what saves a device's RAM).
 */
function expand(object: Json, table: Readonly<Record<string, string>>, at: string, problems: string[]): Json {
  const long = Object.values(table);
  const out: Json = {};
  for (const key of Object.keys(object)) {
    if (long.includes(key)) problems.push(at + key + ": written out; HA's abbreviation is used everywhere else");
    out[table[key] ?? key] = object[key];
  }
  return out;
}

function only(object: Json, allowed: readonly string[], at: string, problems: string[]): void {
  for (const key of Object.keys(object)) if (!allowed.includes(key)) problems.push(at + key + ": not an option here");
}

function string(object: Json, key: string, at: string, problems: string[], required = false): void {
  const v = object[key];
  if (v === undefined ? required : typeof v !== "string" || v === "")
    problems.push(at + key + (v === undefined ? ": required" : ": expected a non-empty string"));
}

/** Every rule `payload` (the JSON text) breaks, as "path: problem"; empty when HA would accept it all. */
export function discoveryProblems(payload: string): string[] {
  const problems: string[] = [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return ["payload: not JSON"];
  }
  if (!isObject(parsed)) return ["payload: not a JSON object"];
  const root = expand(parsed, ABBREVIATIONS, "", problems);
  only(root, ROOT_KEYS, "", problems);
  const device = root.device,
    origin = root.origin,
    components = root.components;
  if (!isObject(device)) problems.push("device: required (an object)");
  else {
    const d = expand(device, DEVICE_ABBREVIATIONS, "device.", problems);
    only(d, DEVICE_KEYS, "device.", problems);
    const ids = d.identifiers;
    const list = Array.isArray(ids) ? (ids as unknown[]) : ids === undefined ? [] : [ids];
    if (list.length === 0 && d.connections === undefined) problems.push("device: needs an identifier or a connection");
    for (const id of list) if (typeof id !== "string" || id === "") problems.push("device.identifiers: not strings");
    for (const key of ["name", "manufacturer", "model", "sw_version", "hw_version"])
      string(d, key, "device.", problems);
  }
  if (!isObject(origin)) problems.push("origin: required (an object)");
  else {
    const o = expand(origin, ORIGIN_ABBREVIATIONS, "origin.", problems);
    only(o, ORIGIN_KEYS, "origin.", problems);
    string(o, "name", "origin.", problems, true);
  }
  string(root, "state_topic", "", problems);
  string(root, "availability_topic", "", problems);
  if (root.qos !== undefined && root.qos !== 0 && root.qos !== 1 && root.qos !== 2) problems.push("qos: 0, 1 or 2");
  if (!isObject(components) || Object.keys(components).length === 0)
    problems.push("components: required (an object of components)");
  else {
    const uniques: string[] = [];
    for (const id of Object.keys(components)) {
      const raw = components[id];
      const at = "components." + id + ".";
      if (!isObject(raw)) {
        problems.push(at.slice(0, -1) + ": not an object");
        continue;
      }
      const c = expand(raw, ABBREVIATIONS, at, problems);
      const platform = c.platform;
      const extra = typeof platform === "string" ? PLATFORM_KEYS[platform] : undefined;
      if (!extra) {
        problems.push(at + "platform: expected sensor or binary_sensor, got " + JSON.stringify(platform));
        continue;
      }
      if (Object.keys(c).length === 1) continue; // {"p": …} alone: the removal of this component
      only(c, ENTITY_KEYS.concat(extra), at, problems);
      string(c, "unique_id", at, problems, true);
      // Telltale's own rules on top of HA's: every entity is named and reads its state with a template.
      string(c, "name", at, problems, true);
      string(c, "value_template", at, problems, true);
      if (typeof c.unique_id === "string") {
        if (uniques.includes(c.unique_id)) problems.push(at + "unique_id: used twice");
        uniques.push(c.unique_id);
      }
      if (c.state_topic === undefined && root.state_topic === undefined) problems.push(at + "state_topic: required");
      const cls = c.device_class;
      if (platform === "sensor") {
        if (c.state_class !== undefined && !STATE_CLASSES.includes(c.state_class as string))
          problems.push(at + "state_class: unknown " + JSON.stringify(c.state_class));
        if (cls !== undefined) {
          const units = SENSOR_UNITS[cls as string];
          if (!units) problems.push(at + "device_class: unknown " + JSON.stringify(cls));
          else if (!units.includes(c.unit_of_measurement as string))
            problems.push(
              at +
                "unit_of_measurement: " +
                JSON.stringify(c.unit_of_measurement) +
                " is not a unit of " +
                (cls as string),
            );
        }
      } else if (cls !== undefined && !BINARY_SENSOR_CLASSES.includes(cls as string))
        problems.push(at + "device_class: unknown " + JSON.stringify(cls));
    }
  }
  return problems;
}
