// The command line's configuration (`npm start`): its defaults, then the --config file's settings, then the options.
import { parseBrokerUrl, parseConfig } from "telltale/config/config";
import { messageOf } from "telltale/errors/message";

/** A mistake in the command line itself: the program stops with the message and its usage (exit code 2). */
export class UsageError extends Error {
  override name = "UsageError";
}

export interface CliOptions {
  /** --broker URL; absent for the embedded broker unless the file names one. */
  broker?: string;
  /** The PEM text of --ca FILE. */
  ca?: string;
  /** --interval MS, as typed. */
  interval?: string;
  /** --device-id ID. */
  deviceId?: string;
}

/** What the command line sets where the file says nothing: a quick demonstration rather than a device's 5 s. */
export const CLI_DEFAULTS = Object.freeze({ intervalMs: 1000, calibrationSamples: 120 });

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The configuration fields each option sets: a value the configuration refuses there is the option's mistake. */
const OPTION_FIELDS: readonly (readonly [keyof CliOptions, string, string])[] = Object.freeze([
  Object.freeze(["broker", "--broker", "broker.url"] as const),
  Object.freeze(["ca", "--ca", "broker.ca"] as const),
  Object.freeze(["interval", "--interval", "intervalMs"] as const),
  Object.freeze(["deviceId", "--device-id", "deviceId"] as const),
]);

/**
 * The candidate configuration and whether the embedded broker serves it (no --broker and no `broker.url` in the file;
 * `broker.url` is then for the caller to fill in). `file` is the parsed --config file (undefined without one), named
 * `source` in messages. Throws UsageError for a file that is not a JSON object and for an option the configuration
 * refuses; every other problem of the file is left to the configuration's own validation (and its last good copy).
 */
export function cliConfig(
  file: unknown,
  source: string,
  options: CliOptions,
): { config: Record<string, unknown>; embedded: boolean } {
  if (file !== undefined && !isObject(file))
    throw new UsageError(
      `${source} must hold a JSON object (a configuration), not ${Array.isArray(file) ? "an array" : JSON.stringify(file)}`,
    );
  const config: Record<string, unknown> = { intervalMs: CLI_DEFAULTS.intervalMs, ...file };
  const detector = config.detector ?? {};
  if (isObject(detector)) config.detector = { calibrationSamples: CLI_DEFAULTS.calibrationSamples, ...detector };
  const fileBroker = config.broker ?? {};
  // A broker that is not an object is left as it is, for the configuration to refuse by name.
  const broker: Record<string, unknown> | undefined = isObject(fileBroker) ? { ...fileBroker } : undefined;
  if (options.broker !== undefined) {
    if (options.broker === "")
      throw new UsageError(
        "--broker expects mqtt://HOST:PORT or mqtts://HOST:PORT, got an empty string (leave it out for the embedded broker)",
      );
    try {
      parseBrokerUrl(options.broker);
    } catch {
      throw new UsageError(`--broker expects mqtt://HOST[:PORT] or mqtts://HOST[:PORT], got "${options.broker}"`);
    }
    if (!broker) throw new UsageError(`--broker cannot be applied: ${source}'s "broker" is not an object`);
    broker.url = options.broker;
  }
  if (options.ca !== undefined) {
    if (!broker) throw new UsageError(`--ca cannot be applied: ${source}'s "broker" is not an object`);
    broker.ca = options.ca;
  }
  if (broker) config.broker = broker;
  if (options.interval !== undefined) {
    const ms = options.interval.trim() === "" ? NaN : Number(options.interval);
    if (!Number.isFinite(ms))
      throw new UsageError(`--interval expects a number of milliseconds, got "${options.interval}"`);
    config.intervalMs = ms;
  }
  if (options.deviceId !== undefined) {
    if (options.deviceId === "") throw new UsageError("--device-id expects an id, got an empty string");
    config.deviceId = options.deviceId;
  }
  const embedded = broker !== undefined && broker.url === undefined;
  // An option the configuration refuses stops the program here: it is never replaced by the last good configuration.
  try {
    parseConfig(embedded ? { ...config, broker: { ...broker, url: "mqtt://127.0.0.1:1883" } } : config);
  } catch (e) {
    const message = messageOf(e);
    for (const [option, flag, field] of OPTION_FIELDS)
      if (options[option] !== undefined && message.startsWith("config." + field + ":"))
        throw new UsageError(flag + ": " + message);
  }
  return { config, embedded };
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(UsageError.prototype);
