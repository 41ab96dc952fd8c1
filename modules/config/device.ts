// The app's configuration from a Moddable device's `mc/config`: its app keys, plus the flat keys a user types to mcconfig.
import { messageOf } from "telltale/errors/message";
import { CONFIG_KEYS, plainCopy } from "telltale/config/config";

/**
 * `mcconfig name=value` sets top-level *string* keys only, so these flat keys set fields of `broker`. They have their
 * own names because `password` is already the SDK's Wi-Fi password (with `ssid`).
 */
const BROKER_KEYS = Object.freeze({
  brokerCa: "ca",
  brokerCertificate: "certificate",
  brokerKey: "key",
  brokerUsername: "username",
  brokerPassword: "password",
});

/** App keys whose value is a number: mcconfig hands them over as text. */
const NUMBER_KEYS = Object.freeze(["intervalMs"]);

/** Thrown for a flat key that cannot be read; the message names the key as the user typed it. */
export class DeviceConfigError extends Error {
  override name = "DeviceConfigError";
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An object-valued key typed as JSON text (`sensors='[{"part":"sht3x"}]'`), parsed; other text is returned as is. */
function fromText(key: string, value: unknown): unknown {
  if (typeof value !== "string") return value;
  const text = value.trim();
  if (!text.startsWith("{") && !text.startsWith("[")) return value;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new DeviceConfigError("config." + key + ": not valid JSON (" + messageOf(e) + ")");
  }
}

/**
 * The candidate app configuration from a device's `config` (a manifest's `config` section merged with mcconfig's
 * `name=value` arguments). It is a new, writable object; the input is never changed.
 * - `broker` may be a URL (`broker=mqtts://host:8883`): the broker is then that URL with its other fields defaulted.
 * - `brokerCa`, `brokerCertificate`, `brokerKey`, `brokerUsername`, `brokerPassword` set that field of `broker`.
 * - `sensors`, `detector` and `broker` may be JSON text; `intervalMs` may be decimal text.
 * - An empty `deviceId` means "the board's own" (the host's).
 * Validation is config.ts's, as for every other source: a bad value is reported there, naming its field.
 */
export function appConfigFromDevice(config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  // Only the app's keys: the rest (ssid, password, sntp, i2c, sim, the SDK's own) stay out.
  for (const key of CONFIG_KEYS) {
    let value = fromText(key, config[key]);
    if (value === undefined || (key === "deviceId" && value === "")) continue;
    if (NUMBER_KEYS.includes(key) && typeof value === "string" && /^\s*\d+\s*$/.test(value)) value = Number(value);
    if (key === "broker" && typeof value === "string") value = { url: value };
    result[key] = plainCopy(value);
  }
  for (const flat of Object.keys(BROKER_KEYS) as (keyof typeof BROKER_KEYS)[]) {
    const value = config[flat];
    if (value === undefined) continue;
    if (typeof value !== "string")
      throw new DeviceConfigError("config." + flat + ": expected text, got " + typeof value);
    const broker = result.broker;
    if (broker !== undefined && !isRecord(broker))
      throw new DeviceConfigError(
        "config." + flat + ": sets broker." + BROKER_KEYS[flat] + ", but config.broker is not an object or a URL",
      );
    const target: Record<string, unknown> = (result.broker as Record<string, unknown> | undefined) ?? {};
    // PEM typed on a command line often carries its line breaks as the two characters "\n".
    target[BROKER_KEYS[flat]] =
      flat === "brokerCa" || flat === "brokerCertificate" || flat === "brokerKey" ? value.replace(/\\n/g, "\n") : value;
    result.broker = target;
  }
  return result;
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(DeviceConfigError.prototype);
