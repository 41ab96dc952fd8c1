// The device configuration: defaults declared once, every field validated, errors that name the field.
import type { SensorDeclaration } from "telltale/drivers/part";
import { parts } from "telltale/drivers/registry";
import { createDetector, DETECTOR_DEFAULTS, type DetectorSettings } from "telltale/detector/select";
import { VibrationMonitor } from "telltale/detector/vibration-monitor";
import { messageOf } from "telltale/errors/message";
import { LONE_SURROGATE, NULL_CHARACTER, utf8Size } from "telltale/text/utf8";
import type { Store } from "telltale/io/io";
import { configText, loadConfigText, saveConfigText, savedConfigLimit, type SavedMeta } from "telltale/config/saved";
import { decodeBase64 } from "telltale/storage/base64";
import { publicKeyBytes, type TrustedKey } from "telltale/ota/manifest";

export interface BrokerConfig {
  /** "mqtt" (plain TCP) or "mqtts" (TLS, server certificate verified). */
  scheme: "mqtt" | "mqtts";
  host: string;
  port: number;
  /** PEM text of the CA that signed the broker's certificate (mqtts). */
  ca?: string;
  /** PEM client certificate and its private key, for brokers that require mutual TLS (mqtts). */
  certificate?: string;
  key?: string;
  username?: string;
  password?: string;
  keepalive: number;
  /** QoS of telemetry: 1 (default) keeps it in the durable outbox until acknowledged; 0 sends it only while connected. */
  telemetryQos: 0 | 1;
  /** Reconnect backoff with full jitter: the first retry waits up to base, doubling to at most cap (ms). */
  backoffBaseMs: number;
  backoffCapMs: number;
  /** Telemetry the outbox sends per second while it drains a backlog; more than the telemetry rate. */
  drainPerSecond: number;
}

/** A validated sensor declaration: see modules/drivers/part.ts. */
export type SensorConfig = SensorDeclaration;

/**
 * The vibration detector run on every part with a raw stream (an accelerometer's FIFO): the window features of
 * modules/detector/vibration.ts scored by their own multivariate model (modules/detector/vibration-monitor.ts).
 */
export interface VibrationConfig {
  enabled: boolean;
  windowShift: number;
  /** Band centres, Hz; those at or above half a part's rate are left out for that part. */
  bands: number[];
  calibrationWindows: number;
  on: number;
  off: number;
  holdWindows: number;
  clearWindows: number;
}

/** The detector's settings (see modules/detector/select.ts); defaults depend on `model`. */
export type DetectorConfig = DetectorSettings & { vibration: VibrationConfig };

/** Home Assistant MQTT discovery (modules/ha): on or off, and the discovery prefix HA listens on. */
export interface HomeAssistantConfig {
  enabled: boolean;
  prefix: string;
}

/**
 * Safe mode (src/boot-guard.ts): after `boots` failed starts in a row (0: never) the device starts with network,
 * uplink and commands only. A start is healthy after `healthyMs` of running, with a broker connection if
 * `requireBroker`.
 */
export interface SafeModeConfig {
  boots: number;
  healthyMs: number;
  requireBroker: boolean;
}

/** Over-the-air updates (src/ota.ts, modules/ota): the keys manifests must be signed with, and the self-test. */
export interface OtaConfig {
  enabled: boolean;
  /** Trusted manifest signers (ECDSA P-256 public keys by id; several for a rotation). */
  keys: TrustedKey[];
  /** The fleet this device belongs to, for manifests that target a fleet. */
  fleet?: string;
  /** How long a newly booted image has to pass its self-test before it is rolled back, ms. */
  selfTestMs: number;
  /** How long a block request may go unanswered, ms, and how many failed requests in a row end a download. */
  timeoutMs: number;
  retries: number;
  /** PEM CA for the HTTPS image server (default broker.ca). */
  ca?: string;
}

export interface Config {
  deviceId?: string;
  /** Sampling and telemetry interval, ms. */
  intervalMs: number;
  topicPrefix: string;
  broker: BrokerConfig;
  sensors: SensorConfig[];
  detector: DetectorConfig;
  homeAssistant: HomeAssistantConfig;
  safeMode: SafeModeConfig;
  /** How often health is published on `<prefix>/<id>/health` (src/health.ts), ms; also at every connection. */
  healthIntervalMs: number;
  ota: OtaConfig;
  /** The key signed commands are checked with (HMAC-SHA256; src/command-auth.ts): hex or base64 text, 16–64 bytes. */
  commandKey?: Uint8Array;
}

export class ConfigError extends Error {
  // A field, not an assignment: on a preloaded host Error.prototype is frozen and `this.name = …` throws.
  override name = "ConfigError";
  constructor(path: string, problem: string) {
    super("config" + (path === "" ? "" : "." + path) + ": " + problem);
  }
}

type Raw = Record<string, unknown>;

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}

function object(value: unknown, path: string): Raw {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new ConfigError(path, "expected an object, got " + describe(value));
  return value as Raw;
}

function int(raw: Raw, key: string, path: string, fallback: number | undefined, min: number, max: number): number {
  const value = raw[key] ?? fallback;
  if (typeof value !== "number" || value !== Math.floor(value) || value < min || value > max)
    throw new ConfigError(path + key, "expected an integer from " + min + " to " + max + ", got " + describe(value));
  return value;
}

function num(raw: Raw, key: string, path: string, fallback: number, min: number, max: number): number {
  const value = raw[key] ?? fallback;
  if (typeof value !== "number" || !(value >= min && value <= max))
    throw new ConfigError(path + key, "expected a number from " + min + " to " + max + ", got " + describe(value));
  return value;
}

function str(raw: Raw, key: string, path: string, pattern?: RegExp, what?: string): string | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new ConfigError(path + key, "expected a string, got " + describe(value));
  if (pattern && !pattern.test(value))
    throw new ConfigError(path + key, "expected " + what + ", got " + describe(value));
  return value;
}

/** Parses "mqtt://host:port" or "mqtts://host:port" (no URL class on devices). */
export function parseBrokerUrl(
  url: string,
  path = "broker.url",
): { scheme: "mqtt" | "mqtts"; host: string; port: number } {
  // Made per call: as a module-level constant of this preloaded module it crashed the simulator in XS's RegExp engine.
  const m = /^(mqtts?):\/\/(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?\/?$/.exec(url);
  if (!m) throw new ConfigError(path, "expected mqtt://host[:port] or mqtts://host[:port], got " + describe(url));
  const scheme = m[1] as "mqtt" | "mqtts";
  const port = m[3] === undefined ? (scheme === "mqtts" ? 8883 : 1883) : Number(m[3]);
  if (port < 1 || port > 65535) throw new ConfigError(path, "port " + port + " is outside 1–65535");
  return { scheme, host: m[2]!.replace(/^\[|\]$/g, ""), port };
}

function sensor(value: unknown, index: number, names: Set<string>): SensorConfig {
  const path = "sensors[" + index + "].";
  const raw = object(value, "sensors[" + index + "]");
  const known = Object.keys(parts);
  const part = raw.part;
  if (typeof part !== "string" || !Object.hasOwn(parts, part))
    throw new ConfigError(
      path + "part",
      "expected one of " + known.map((c) => JSON.stringify(c)).join(", ") + ", got " + describe(part),
    );
  const descriptor = parts[part]!;
  let address: number | undefined, pin: number | undefined;
  if (descriptor.addresses) {
    address = int(raw, "address", path, descriptor.addresses[0], 0, 0x7f);
    if (!descriptor.addresses.includes(address))
      throw new ConfigError(
        path + "address",
        "a " +
          part +
          " answers at " +
          descriptor.addresses.map((a) => "0x" + a.toString(16)).join(" or ") +
          ", got 0x" +
          address.toString(16),
      );
  }
  if (raw.pin !== undefined || descriptor.bus === "gpio") pin = int(raw, "pin", path, undefined, 0, 255);
  let name = str(
    raw,
    "name",
    path,
    /^[a-z][a-z0-9_]{0,31}$/,
    "a lower-case name of letters, digits and _ (at most 32)",
  );
  if (name === undefined) {
    name = part;
    for (let n = 2; names.has(name); n++) name = part + "_" + n;
  }
  if (names.has(name)) throw new ConfigError(path + "name", "the name " + JSON.stringify(name) + " is used twice");
  names.add(name);
  let options: Record<string, unknown>;
  try {
    options = descriptor.options(raw, path);
  } catch (e) {
    throw new Error("config." + messageOf(e), { cause: e });
  }
  const declaration: SensorConfig = { part, name, options };
  if (address !== undefined) declaration.address = address;
  if (pin !== undefined) declaration.pin = pin;
  return declaration;
}

/** Validates a raw configuration (parsed JSON or a Moddable `mc/config` object) and applies defaults. */
/** The settings a configuration may have, at the top and in `broker`: any other key is a typo, refused by name. */
export const CONFIG_KEYS: readonly string[] = Object.freeze([
  "deviceId",
  "intervalMs",
  "topicPrefix",
  "broker",
  "sensors",
  "detector",
  "homeAssistant",
  "commandKey",
  "safeMode",
  "healthIntervalMs",
  "ota",
]);
const BROKER_KEYS = Object.freeze([
  "url",
  "ca",
  "certificate",
  "key",
  "username",
  "password",
  "keepalive",
  "telemetryQos",
  "backoffBaseMs",
  "backoffCapMs",
  "drainPerSecond",
]);

/** config.commandKey as bytes: hex digits (an even count), else base64; 16–64 bytes (SHA-256's block at most). */
function commandKey(value: unknown): Uint8Array | undefined {
  if (value === undefined) return undefined;
  const problem = "expected 16–64 random bytes as hex or base64 (e.g. from `openssl rand -hex 32`), got ";
  if (typeof value !== "string") throw new ConfigError("commandKey", problem + describe(value));
  let key: Uint8Array;
  if (/^(?:[0-9a-fA-F]{2})+$/.test(value)) {
    key = new Uint8Array(value.length / 2);
    for (let i = 0; i < key.length; i++) key[i] = parseInt(value.slice(2 * i, 2 * i + 2), 16);
  } else
    try {
      key = decodeBase64(value);
    } catch {
      throw new ConfigError("commandKey", problem + "text that is neither (" + value.length + " characters)");
    }
  if (key.length < 16 || key.length > 64)
    throw new ConfigError("commandKey", problem + key.length + " byte" + (key.length === 1 ? "" : "s"));
  return key;
}

function rejectUnknownKeys(raw: Raw, path: string, known: readonly string[]): void {
  for (const key of Object.keys(raw)) {
    if (known.includes(key)) continue;
    const near = known.find((k) => k.toLowerCase() === key.toLowerCase());
    throw new ConfigError(
      path + key,
      "unknown setting" + (near ? "; did you mean " + near + "?" : " (known: " + known.join(", ") + ")"),
    );
  }
}

/** A broker text field the CONNECT packet carries: valid UTF-8 of at most 65535 bytes, no U+0000 (MQTT §1.5.3). */
function mqttString(raw: Raw, key: string): string | undefined {
  const value = str(raw, key, "broker.");
  if (value === undefined) return undefined;
  const size = utf8Size(value, true);
  if (size === LONE_SURROGATE) throw new ConfigError("broker." + key, "is not valid text (a lone surrogate)");
  if (size === NULL_CHARACTER) throw new ConfigError("broker." + key, "must not contain U+0000");
  if (size > 65535) throw new ConfigError("broker." + key, "is " + size + " bytes; MQTT allows at most 65535");
  return value;
}

export function parseConfig(value: unknown): Config {
  const raw = object(value, "root");
  rejectUnknownKeys(raw, "", CONFIG_KEYS);
  const deviceId = str(raw, "deviceId", "", /^[A-Za-z0-9_-]{1,64}$/, "1–64 letters, digits, _ or -");
  const brokerRaw = object(raw.broker ?? {}, "broker");
  rejectUnknownKeys(brokerRaw, "broker.", BROKER_KEYS);
  const url = str(brokerRaw, "url", "broker.") ?? "mqtt://127.0.0.1:1883";
  const endpoint = parseBrokerUrl(url);
  const ca = str(brokerRaw, "ca", "broker.", /-----BEGIN CERTIFICATE-----/, "PEM text containing a certificate");
  if (ca !== undefined && endpoint.scheme !== "mqtts")
    throw new ConfigError("broker.ca", "a CA is only used with mqtts:// URLs");
  const certificate = str(
    brokerRaw,
    "certificate",
    "broker.",
    /-----BEGIN CERTIFICATE-----/,
    "PEM text containing a certificate",
  );
  const key = str(
    brokerRaw,
    "key",
    "broker.",
    /-----BEGIN (?:EC |RSA )?PRIVATE KEY-----/,
    "PEM text containing a private key",
  );
  if ((certificate === undefined) !== (key === undefined))
    throw new ConfigError(
      certificate === undefined ? "broker.certificate" : "broker.key",
      "a client certificate and its key go together",
    );
  if (certificate !== undefined && endpoint.scheme !== "mqtts")
    throw new ConfigError("broker.certificate", "a client certificate is only used with mqtts:// URLs");
  const broker: BrokerConfig = {
    ...endpoint,
    ca,
    certificate,
    key,
    username: mqttString(brokerRaw, "username"),
    password: mqttString(brokerRaw, "password"),
    keepalive: int(brokerRaw, "keepalive", "broker.", 30, 5, 3600),
    telemetryQos: int(brokerRaw, "telemetryQos", "broker.", 1, 0, 1) as 0 | 1,
    backoffBaseMs: int(brokerRaw, "backoffBaseMs", "broker.", 1000, 100, 60_000),
    backoffCapMs: int(brokerRaw, "backoffCapMs", "broker.", 60_000, 100, 3_600_000),
    drainPerSecond: int(brokerRaw, "drainPerSecond", "broker.", 20, 1, 1000),
  };
  // MQTT 3.1.1 §3.1.2.9: a password without a user name is a protocol error, refused by every broker.
  if (broker.password !== undefined && broker.username === undefined)
    throw new ConfigError("broker.password", "needs broker.username (MQTT sends no password without a user name)");
  if (broker.backoffCapMs < broker.backoffBaseMs)
    throw new ConfigError(
      "broker.backoffCapMs",
      "must be at least broker.backoffBaseMs (" + broker.backoffBaseMs + "), got " + broker.backoffCapMs,
    );
  const sensorsRaw = raw.sensors ?? [{ part: "sht3x", address: 0x44 }];
  if (!Array.isArray(sensorsRaw) || sensorsRaw.length === 0 || sensorsRaw.length > 16)
    throw new ConfigError("sensors", "expected an array of 1 to 16 sensor declarations, got " + describe(sensorsRaw));
  const names = new Set<string>();
  const sensors = sensorsRaw.map((s, i) => sensor(s, i, names));
  const addresses = new Set<number>(),
    pins = new Set<number>();
  sensors.forEach((s, i) => {
    if (s.address !== undefined) {
      if (addresses.has(s.address))
        throw new ConfigError(
          "sensors[" + i + "].address",
          "0x" + s.address.toString(16) + " is declared twice on the bus",
        );
      addresses.add(s.address);
    }
    if (s.pin !== undefined) {
      if (pins.has(s.pin)) throw new ConfigError("sensors[" + i + "].pin", "pin " + s.pin + " is declared twice");
      pins.add(s.pin);
    }
  });
  const detRaw = object(raw.detector ?? {}, "detector");
  const model = detRaw.model ?? "multivariate";
  if (model !== "zscore" && model !== "multivariate" && model !== "novelty")
    throw new ConfigError("detector.model", 'expected "zscore", "multivariate" or "novelty", got ' + describe(model));
  const d = DETECTOR_DEFAULTS[model];
  const on = num(detRaw, "on", "detector.", d.on, 0.5, 64);
  const detector: DetectorConfig = {
    model,
    calibrationSamples: int(detRaw, "calibrationSamples", "detector.", d.calibrationSamples, 2, 1_000_000),
    alphaShift: int(detRaw, "alphaShift", "detector.", d.alphaShift, 1, 12),
    on,
    // Unless set, off keeps the model's default ratio to on (multivariate 2 : 5).
    off: num(detRaw, "off", "detector.", detRaw.on === undefined ? d.off : (on * d.off) / d.on, 0.25, 64),
    holdSamples: int(detRaw, "holdSamples", "detector.", d.holdSamples, 1, 1000),
    clearSamples: int(detRaw, "clearSamples", "detector.", d.clearSamples, 1, 1000),
    vibration: vibrationConfig(detRaw.vibration),
  };
  if (detector.off > detector.on)
    throw new ConfigError("detector.off", "must not exceed detector.on (" + detector.on + ")");
  checkDetectorFits(detector, sensors);
  const intervalMs = int(raw, "intervalMs", "", 5000, 100, 3_600_000);
  // A backlog only shrinks when it drains faster than new telemetry arrives.
  if (broker.telemetryQos === 1 && broker.drainPerSecond * intervalMs <= 1000)
    throw new ConfigError(
      "broker.drainPerSecond",
      "must exceed the telemetry rate (" +
        1000 / intervalMs +
        " per second at intervalMs " +
        intervalMs +
        "), got " +
        broker.drainPerSecond,
    );
  return {
    deviceId,
    intervalMs,
    topicPrefix:
      str(raw, "topicPrefix", "", /^[A-Za-z0-9_\-/]{1,64}$/, "a topic prefix without wildcards") ?? "telltale",
    broker,
    sensors,
    detector,
    homeAssistant: homeAssistantConfig(raw.homeAssistant),
    ota: otaConfig(raw.ota),
    commandKey: commandKey(raw.commandKey),
    safeMode: safeModeConfig(raw.safeMode),
    healthIntervalMs: int(raw, "healthIntervalMs", "", 60_000, 1000, 86_400_000),
  };
}

function safeModeConfig(value: unknown): SafeModeConfig {
  const raw = object(value ?? {}, "safeMode"),
    path = "safeMode.";
  rejectUnknownKeys(raw, path, ["boots", "healthyMs", "requireBroker"]);
  const requireBroker = raw.requireBroker ?? false;
  if (typeof requireBroker !== "boolean")
    throw new ConfigError(path + "requireBroker", "expected true or false, got " + describe(requireBroker));
  // ESPHome's defaults: safe mode after 10 failed boots, a boot good after a minute.
  return {
    boots: int(raw, "boots", path, 10, 0, 1000),
    healthyMs: int(raw, "healthyMs", path, 60_000, 1000, 3_600_000),
    requireBroker,
  };
}

function homeAssistantConfig(value: unknown): HomeAssistantConfig {
  const raw = object(value ?? {}, "homeAssistant");
  rejectUnknownKeys(raw, "homeAssistant.", ["enabled", "prefix"]);
  const enabled = raw.enabled ?? true;
  if (typeof enabled !== "boolean")
    throw new ConfigError("homeAssistant.enabled", "expected true or false, got " + describe(enabled));
  const prefix =
    str(
      raw,
      "prefix",
      "homeAssistant.",
      /^[A-Za-z0-9_-]{1,64}(?:\/[A-Za-z0-9_-]{1,64})*$/,
      "topic levels of letters, digits, _ or -",
    ) ?? "homeassistant";
  if (prefix.length > 64) throw new ConfigError("homeAssistant.prefix", "is longer than 64 characters");
  return { enabled, prefix };
}

function otaConfig(value: unknown): OtaConfig {
  const raw = object(value ?? {}, "ota"),
    path = "ota.";
  rejectUnknownKeys(raw, path, ["enabled", "keys", "fleet", "selfTestMs", "timeoutMs", "retries", "ca"]);
  const enabled = raw.enabled ?? true;
  if (typeof enabled !== "boolean")
    throw new ConfigError(path + "enabled", "expected true or false, got " + describe(enabled));
  const keysRaw = raw.keys ?? [];
  if (!Array.isArray(keysRaw) || keysRaw.length > 8)
    throw new ConfigError(
      path + "keys",
      "expected an array of at most 8 {id, key} public keys, got " + describe(keysRaw),
    );
  const keys = keysRaw.map((k, i): TrustedKey => {
    const at = path + "keys[" + i + "]";
    const entry = object(k, at);
    rejectUnknownKeys(entry, at + ".", ["id", "key"]);
    const id = str(entry, "id", at + ".", /^[A-Za-z0-9_-]{1,64}$/, "1–64 letters, digits, _ or -");
    if (id === undefined) throw new ConfigError(at + ".id", 'a key needs an id (the manifest\'s "key" field)');
    const text = entry.key;
    if (typeof text !== "string")
      throw new ConfigError(at + ".key", "expected base64 or hex text, got " + describe(text));
    try {
      return { id, key: publicKeyBytes(text) };
    } catch (e) {
      throw new ConfigError(at + ".key", messageOf(e) + " (npm run ota -- keygen prints it)");
    }
  });
  const ids = keys.map((k) => k.id);
  ids.forEach((id, i) => {
    if (ids.indexOf(id) !== i)
      throw new ConfigError(path + "keys[" + i + "].id", JSON.stringify(id) + " is used twice");
  });
  const ota: OtaConfig = {
    enabled,
    keys,
    selfTestMs: int(raw, "selfTestMs", path, 60_000, 1000, 3_600_000),
    timeoutMs: int(raw, "timeoutMs", path, 10_000, 100, 600_000),
    retries: int(raw, "retries", path, 8, 0, 1000),
  };
  const fleet = str(raw, "fleet", path, /^[A-Za-z0-9_-]{1,64}$/, "1–64 letters, digits, _ or -");
  if (fleet !== undefined) ota.fleet = fleet;
  const ca = str(raw, "ca", path, /-----BEGIN CERTIFICATE-----/, "PEM text containing a certificate");
  if (ca !== undefined) ota.ca = ca;
  return ota;
}

function vibrationConfig(value: unknown): VibrationConfig {
  const raw = object(value ?? {}, "detector.vibration"),
    path = "detector.vibration.";
  const enabled = raw.enabled ?? true;
  if (typeof enabled !== "boolean")
    throw new ConfigError(path + "enabled", "expected true or false, got " + describe(enabled));
  const bandsRaw = raw.bands ?? [50, 100, 200, 400];
  if (!Array.isArray(bandsRaw) || bandsRaw.length > 8)
    throw new ConfigError(
      path + "bands",
      "expected an array of at most 8 frequencies in Hz, got " + describe(bandsRaw),
    );
  const bands = bandsRaw.map((f, i) => {
    if (typeof f !== "number" || !(f > 0 && f <= 20000))
      throw new ConfigError(
        path + "bands[" + i + "]",
        "expected a frequency above 0 and at most 20000 Hz, got " + describe(f),
      );
    return f;
  });
  const v: VibrationConfig = {
    enabled,
    bands,
    windowShift: int(raw, "windowShift", path, 8, 6, 12),
    calibrationWindows: int(raw, "calibrationWindows", path, 128, 128, 1_000_000),
    on: num(raw, "on", path, 22, 0.5, 64),
    off: num(raw, "off", path, 8, 0.5, 64),
    holdWindows: int(raw, "holdWindows", path, 2, 1, 1000),
    clearWindows: int(raw, "clearWindows", path, 4, 1, 1000),
  };
  if (v.off > v.on) throw new ConfigError(path + "off", "must not exceed detector.vibration.on (" + v.on + ")");
  try {
    // At the fastest stream a part gives (3200 Hz) every band below 1600 Hz is kept: the most features any part gets.
    new VibrationMonitor({ ...v, sampleRate: 3200 });
  } catch (e) {
    const message = messageOf(e);
    const option = /option "([A-Za-z]+)"/.exec(message)?.[1];
    const field = option && Object.hasOwn(v, option) ? option : "calibrationWindows";
    throw new ConfigError(path + field, message.replace(/^[A-Za-z]+: /, ""));
  }
  return v;
}

/** Builds the detector once for the declared channels, so settings that do not fit fail here, naming the field. */
function checkDetectorFits(detector: DetectorSettings, sensors: readonly SensorConfig[]): void {
  let channels = 0;
  for (const s of sensors) channels += parts[s.part]!.channels(s).length;
  if (channels > 32)
    throw new ConfigError(
      "sensors",
      "the declared sensors give " + channels + " channels; the detector takes at most 32",
    );
  try {
    createDetector(detector, Math.max(1, channels), new Array(Math.max(1, channels)).fill(1));
  } catch (e) {
    const message = messageOf(e);
    // Name the configuration field to change: options the config does not expose follow from calibrationSamples.
    const option = /option "([A-Za-z]+)"/.exec(message)?.[1];
    const field = option && Object.hasOwn(detector, option) ? option : "calibrationSamples";
    throw new ConfigError("detector." + field, message.replace(/^[A-Za-z]+: /, ""));
  }
}

/**
 * A deep copy of JSON-shaped data into new, writable objects and arrays: a preloaded `mc/config` is read-only on a
 * device, and XS's JSON.stringify refuses its objects.
 */
export function plainCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainCopy);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = plainCopy((value as Record<string, unknown>)[key]);
  return out;
}

/** The largest PEM item of a broker configuration, to name in a "too large" refusal. */
function largestItem(broker: BrokerConfig): string {
  let name = "",
    size = 0;
  for (const key of ["ca", "certificate", "key"] as const) {
    const length = broker[key]?.length ?? 0;
    if (length > size) {
      name = key;
      size = length;
    }
  }
  return size === 0 ? "" : "; the largest item is broker." + name + " (" + size + " characters)";
}

/**
 * Chooses the configuration to run: `candidate` when it is valid (and it becomes the stored last good one),
 * otherwise the last good configuration from `store`, with the candidate's error reported. A valid candidate larger
 * than the store can keep is refused as too large, never replaced by the older one; one the store fails to keep is
 * run all the same, and `log` says it is not kept. `meta` is a remote change's version (modules/config/remote.ts).
 */
export function chooseConfig(
  candidate: unknown,
  store: Store,
  log: (line: string) => void,
  meta?: SavedMeta,
): { config: Config; error?: Error } {
  let config: Config;
  try {
    config = parseConfig(candidate);
  } catch (e) {
    const error = e as Error;
    const saved = loadConfigText(store);
    if (saved.problem) log("config: the saved last good configuration is not used: " + saved.problem);
    if (saved.text === undefined) throw error;
    try {
      return { config: parseConfig(JSON.parse(saved.text)), error };
    } catch {
      throw error;
    }
  }
  // A copy: XS's JSON.stringify throws on the read-only objects of a preloaded mc/config.
  const text = configText(plainCopy(candidate));
  const limit = savedConfigLimit(store);
  if (limit !== undefined && text.length > limit)
    throw new ConfigError(
      "",
      "too large (" + text.length + " bytes, limit " + limit + ")" + largestItem(config.broker),
    );
  try {
    const problem = saveConfigText(store, text, meta);
    if (problem) log("config: saved, but " + problem);
  } catch (e) {
    log("config: not kept as the last good configuration (" + messageOf(e) + "); running it all the same");
  }
  return { config };
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(ConfigError.prototype);
