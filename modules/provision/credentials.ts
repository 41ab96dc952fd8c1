// Provisioned settings (Wi-Fi, broker URL, device name): validated, kept under their own store key, laid over the app config.
import type { Store } from "telltale/io/io";
import { parseBrokerUrl, parseConfig } from "telltale/config/config";
import { LONE_SURROGATE, NULL_CHARACTER, utf8Size } from "telltale/text/utf8";
import { messageOf } from "telltale/errors/message";

/**
 * The store key of the provisioned settings: one JSON object of its own, not part of the saved configuration
 * (modules/config/saved.ts). Wi-Fi credentials belong to the host, not to the app's validated configuration (whose
 * keys refuse an `ssid`); the broker URL and device name are laid over the candidate configuration at start
 * (`withProvisioned`), so the validator and the last-good machinery see them as they see any other setting.
 */
export const PROVISION_KEY = "provision";

/** What a user gave the portal or Improv. `broker` and `deviceId` are absent when left empty (keep the build's). */
export interface Provisioned {
  /** 1–32 bytes of UTF-8 (IEEE 802.11 SSID). */
  ssid: string;
  /** A WPA2 passphrase of 8–63 printable ASCII characters, or "" for an open network. */
  password: string;
  /** mqtt://host[:port] or mqtts://host[:port]. */
  broker?: string;
  /** The device id in topics: 1–64 letters, digits, _ or - (config.deviceId's rule). */
  deviceId?: string;
}

/** The field names a refusal names: the portal's form fields. */
export type ProvisionField = "ssid" | "password" | "broker" | "deviceId";

/** A value the user gave that cannot be kept; `field` names it, the message says why. */
export class ProvisionError extends Error {
  // A field, not an assignment: on a preloaded host Error.prototype is frozen and `this.name = …` throws.
  override name = "ProvisionError";
  readonly field: ProvisionField;
  constructor(field: ProvisionField, problem: string) {
    super(field + ": " + problem);
    this.field = field;
  }
}

/** The longest broker URL kept: a host name is at most 253 characters (RFC 1035), plus scheme and port. */
export const BROKER_URL_MAX = 280;

/** Refuses an SSID that is not 1–32 bytes of UTF-8 (IEEE 802.11-2020 §9.4.2.2). */
export function checkSsid(ssid: string): void {
  const size = utf8Size(ssid, true);
  if (size === LONE_SURROGATE) throw new ProvisionError("ssid", "is not valid text (a lone surrogate)");
  if (size === NULL_CHARACTER) throw new ProvisionError("ssid", "must not contain U+0000");
  if (size < 1 || size > 32) throw new ProvisionError("ssid", "must be 1–32 bytes, got " + size);
}

/**
 * Refuses a password that is neither empty (an open network) nor a WPA2 passphrase: 8–63 ASCII characters from
 * 32 to 126 (IEEE 802.11-2020 §J.4.1). A 64-hex-digit raw PSK is not accepted.
 */
export function checkPassword(password: string): void {
  if (password === "") return;
  for (let i = 0; i < password.length; i++) {
    const c = password.charCodeAt(i);
    if (c < 32 || c > 126)
      throw new ProvisionError("password", "must be printable ASCII (character " + (i + 1) + " is not)");
  }
  if (password.length < 8 || password.length > 63)
    throw new ProvisionError(
      "password",
      "must be 8–63 characters (or empty for an open network), got " + password.length,
    );
}

/** Refuses a broker URL config.ts would refuse; the message is the validator's. */
export function checkBroker(url: string): void {
  if (url.length > BROKER_URL_MAX)
    throw new ProvisionError("broker", "is " + url.length + " characters; at most " + BROKER_URL_MAX);
  try {
    parseBrokerUrl(url, "broker");
  } catch (e) {
    throw new ProvisionError("broker", messageOf(e).replace(/^config\.broker: /, ""));
  }
}

/** Refuses a device name config.deviceId would refuse: the rule is the validator's, run on the name alone. */
export function checkDeviceId(deviceId: string): void {
  try {
    parseConfig({ deviceId });
  } catch (e) {
    throw new ProvisionError("deviceId", messageOf(e).replace(/^config\.deviceId: /, ""));
  }
}

/** Checks every field of `p`; throws a ProvisionError naming the first that is wrong. */
export function checkProvisioned(p: Provisioned): void {
  checkSsid(p.ssid);
  checkPassword(p.password);
  if (p.broker !== undefined) checkBroker(p.broker);
  if (p.deviceId !== undefined) checkDeviceId(p.deviceId);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A new app configuration: `config` (a candidate from mc/config or a file, never changed) with the provisioned broker
 * URL and device name laid over it. The broker's other settings (CA, credentials, QoS…) stay the build's.
 */
export function withProvisioned(
  config: Readonly<Record<string, unknown>>,
  p: Provisioned | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(config)) out[key] = config[key];
  if (!p) return out;
  if (p.deviceId !== undefined) out.deviceId = p.deviceId;
  if (p.broker !== undefined) {
    const broker: Record<string, unknown> = {};
    const current = config.broker;
    if (isRecord(current)) for (const key of Object.keys(current)) broker[key] = current[key];
    broker.url = p.broker;
    out.broker = broker;
  }
  return out;
}

/**
 * Checks that `p` laid over `base` is a configuration the validator accepts (a plain mqtt:// URL over a build with a
 * CA is not); throws a ProvisionError naming the field to change.
 */
export function checkAgainst(base: Readonly<Record<string, unknown>>, p: Provisioned): void {
  checkProvisioned(p);
  try {
    parseConfig(withProvisioned(base, p));
  } catch (e) {
    const message = messageOf(e);
    const field: ProvisionField = message.startsWith("config.deviceId") ? "deviceId" : "broker";
    throw new ProvisionError(field, "with this device's other settings: " + message);
  }
}

/** The text kept under PROVISION_KEY. */
export function provisionedText(p: Provisioned): string {
  const plain: Record<string, unknown> = { ssid: p.ssid, password: p.password };
  if (p.broker !== undefined) plain.broker = p.broker;
  if (p.deviceId !== undefined) plain.deviceId = p.deviceId;
  return JSON.stringify(plain);
}

/** Validates and keeps `p`; throws a ProvisionError, or what the store throws (then the previous value stays). */
export function saveProvisioned(store: Store, p: Provisioned): void {
  checkProvisioned(p);
  store.set(PROVISION_KEY, provisionedText(p));
}

/**
 * The provisioned settings in `store`, or why the stored ones cannot be used (`problem`: damaged, or refused by
 * today's rules); neither when nothing was provisioned. A problem is treated as nothing provisioned.
 */
export function loadProvisioned(store: Store): { provisioned?: Provisioned; problem?: string } {
  let text: string | undefined;
  try {
    text = store.get(PROVISION_KEY);
  } catch (e) {
    return { problem: "the store cannot be read (" + messageOf(e) + ")" };
  }
  if (text === undefined) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { problem: "the stored settings are not JSON" };
  }
  if (!isRecord(raw) || typeof raw.ssid !== "string" || typeof raw.password !== "string")
    return { problem: "the stored settings lack a text ssid and password" };
  const p: Provisioned = { ssid: raw.ssid, password: raw.password };
  for (const key of ["broker", "deviceId"] as const) {
    const value = raw[key];
    if (value === undefined) continue;
    if (typeof value !== "string") return { problem: "the stored " + key + " is not text" };
    p[key] = value;
  }
  try {
    checkProvisioned(p);
  } catch (e) {
    return { problem: "the stored " + messageOf(e) };
  }
  return { provisioned: p };
}

/**
 * The candidate configuration a start runs with (src/main.ts): `candidate` with what was provisioned laid over it
 * (withProvisioned). Stored settings that cannot be used are logged and left out, so the build's settings run.
 */
export function provisionedConfig(
  candidate: Readonly<Record<string, unknown>>,
  store: Store,
  log: (line: string) => void,
): Record<string, unknown> {
  const { provisioned, problem } = loadProvisioned(store);
  if (problem) log("provision: the provisioned settings are not used: " + problem);
  return withProvisioned(candidate, provisioned);
}

/** Forgets the provisioned settings (the next start uses the build's and, without Wi-Fi, opens the portal). */
export function clearProvisioned(store: Store): void {
  if (store.get(PROVISION_KEY) !== undefined) store.delete(PROVISION_KEY);
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(ProvisionError.prototype);
