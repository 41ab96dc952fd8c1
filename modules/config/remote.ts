// Remote configuration, desired / reported: a versioned JSON merge patch (RFC 7386) over the configuration in use,
// checked by the same validator, its secrets redacted when reported, and kept as a trial until it has proved healthy.
import type { Store } from "telltale/io/io";
import { messageOf } from "telltale/errors/message";
import { chooseConfig, ConfigError, parseConfig, plainCopy, type Config } from "telltale/config/config";
import {
  configText,
  countTrialBoot,
  dropTrial,
  loadConfigText,
  loadTrialText,
  savedConfigLimit,
  textChecksum,
} from "telltale/config/saved";

/** What a secret is replaced with in the reported configuration. */
export const REDACTED = "<redacted>";
/** Store key of a result to publish once connected (a rollback at start, a change applied by a restart). */
export const PENDING_RESULT_KEY = "cfgresult";
/** Settings a running app takes without a restart (see src/remote-config.ts); any other change restarts it. */
export const LIVE_SETTINGS: readonly string[] = Object.freeze([
  "intervalMs",
  "broker.telemetryQos",
  "detector.on",
  "detector.off",
  "detector.holdSamples",
  "detector.clearSamples",
]);

/** The configuration an app runs and where it came from: what a patch applies to and what is reported. */
export interface ConfigState {
  /** 0: the built-in configuration; above: the remote change that set it. */
  readonly version: number;
  /** The configuration as written (JSON-shaped, secrets included), before defaults: what a patch merges into. */
  readonly raw: unknown;
  /** The CRC of the built-in configuration (configText) the remote versions were set over. */
  readonly base: string;
  /** True while this configuration is a trial started by a restart: it is kept once it has proved healthy. */
  readonly trial: boolean;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * RFC 7386 §2 MergePatch(target, patch): an object patch changes the named members (null removes one, an object
 * merges into the member, anything else replaces it); any other patch replaces the target. Returns new objects; the
 * inputs are not changed.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return plainCopy(patch);
  const out: Record<string, unknown> = isObject(target) ? (plainCopy(target) as Record<string, unknown>) : {};
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** A copy of a raw configuration with its secrets (broker password and private key, commandKey) redacted. */
export function redactConfig(raw: unknown): unknown {
  const out = plainCopy(raw);
  if (!isObject(out)) return out;
  if (out.commandKey !== undefined) out.commandKey = REDACTED;
  const broker = out.broker;
  if (isObject(broker)) for (const key of ["password", "key"]) if (broker[key] !== undefined) broker[key] = REDACTED;
  return out;
}

/** The retained document on `<prefix>/<id>/config`: the version and the configuration in use, secrets redacted. */
export function reportedConfig(state: ConfigState): string {
  return JSON.stringify({ version: state.version, config: redactConfig(state.raw) });
}

/** Every setting path (a.b.c) whose value differs between two validated configurations. */
function changedPaths(a: unknown, b: unknown, path: string, out: string[]): string[] {
  if (isObject(a) && isObject(b) && !(a instanceof Uint8Array) && !(b instanceof Uint8Array)) {
    const keys = Object.keys(a);
    for (const key of Object.keys(b)) if (!keys.includes(key)) keys.push(key);
    for (const key of keys) changedPaths(a[key], b[key], path === "" ? key : path + "." + key, out);
  } else if (JSON.stringify(a ?? null) !== JSON.stringify(b ?? null)) out.push(path);
  return out;
}

/** What a change does: the settings it changes and whether every one of them applies live. */
export interface ConfigChange {
  readonly changed: readonly string[];
  readonly live: boolean;
}

export function classifyChange(current: Config, next: Config): ConfigChange {
  const changed = changedPaths(current, next, "", []);
  let live = true;
  for (const path of changed) if (!LIVE_SETTINGS.includes(path)) live = false;
  return { changed, live };
}

/** A change that passed every check: the merged document, its validated configuration and how it applies. */
export interface PlannedChange extends ConfigChange {
  readonly version: number;
  readonly raw: unknown;
  readonly config: Config;
  readonly text: string;
  /** True when `version` is the one in use: nothing to do, answered as before. */
  readonly duplicate: boolean;
}

/**
 * Checks an authorized request `{version, patch}` against the state in use; returns the change or throws an Error
 * whose message is the refusal: a version that is not an integer, lower than the one in use (stale), a patch that is
 * not an object, a result the validator refuses (its message), or one the store cannot keep (too large).
 */
export function planChange(
  state: ConfigState,
  current: Config,
  request: Readonly<Record<string, unknown>>,
  store: Store,
): PlannedChange {
  const version = request.version;
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1)
    throw new Error("version: expected an integer from 1 to 9007199254740991, got " + JSON.stringify(version));
  if (version < state.version)
    throw new Error("version " + version + " is stale: version " + state.version + " is in use");
  const patch = request.patch;
  if (!isObject(patch))
    throw new Error("patch: expected an object (a JSON merge patch, RFC 7386) of the settings to change");
  if (version === state.version)
    return { version, raw: state.raw, config: current, text: "", duplicate: true, changed: [], live: true };
  if (patch.deviceId !== undefined && patch.deviceId !== (isObject(state.raw) ? state.raw.deviceId : undefined))
    throw new ConfigError("deviceId", "is not changed remotely (the device's topics and signatures name it)");
  const raw = mergePatch(state.raw, patch);
  const config = parseConfig(raw);
  const text = configText(raw);
  const limit = savedConfigLimit(store);
  if (limit !== undefined && text.length > limit)
    throw new ConfigError("", "too large (" + text.length + " bytes, limit " + limit + ")");
  return { version, raw, config, text, duplicate: false, ...classifyChange(current, config) };
}

/** The configuration a start runs: chosen, with where it came from, and a result to publish when one was rolled back. */
export interface StartChoice {
  config: Config;
  error?: Error;
  state: ConfigState;
}

function pend(store: Store, result: Record<string, unknown>, log: (line: string) => void): void {
  log("config: " + String(result.error ?? result.applied));
  try {
    store.set(PENDING_RESULT_KEY, JSON.stringify(result));
  } catch (e) {
    log("config: the result is not kept for the broker (" + messageOf(e) + ")");
  }
}

/**
 * Chooses the configuration of this start. A trial saved for a restart runs once (its start is counted first); a
 * trial that has started before and was not kept (the device crashed, was reset or gave up on it) is dropped and the
 * last good one runs, with a result saying why. The last good one is a remote version while the built-in
 * configuration is the one it was set over; a changed built-in configuration (a new firmware) wins over it.
 */
export function chooseStartConfig(builtIn: unknown, store: Store, log: (line: string) => void): StartChoice {
  const base = textChecksum(configText(plainCopy(builtIn)));
  const trial = loadTrialText(store);
  if (trial.problem) {
    log("config: the trial configuration is dropped: " + trial.problem);
    dropTrial(store);
  } else if (trial.text !== undefined) {
    const version = trial.version ?? 0;
    if (trial.base !== base) {
      dropTrial(store);
      pend(
        store,
        { version, ok: false, error: "version " + version + " was dropped: the built-in configuration changed" },
        log,
      );
    } else if ((trial.boots ?? 0) > 0) {
      dropTrial(store);
      pend(
        store,
        {
          version,
          ok: false,
          error: "version " + version + " rolled back: the device restarted before it had proved healthy",
        },
        log,
      );
    } else {
      try {
        const raw: unknown = JSON.parse(trial.text);
        // Checked again: this firmware may refuse what the one that saved it took. Not saved as the last good one.
        const config = parseConfig(raw);
        countTrialBoot(store, trial);
        return { config, state: { version, raw, base, trial: true } };
      } catch (e) {
        dropTrial(store);
        pend(store, { version, ok: false, error: "version " + version + " refused at start: " + messageOf(e) }, log);
      }
    }
  }
  const good = loadConfigText(store);
  let raw = builtIn,
    version = 0;
  if (good.text !== undefined && (good.version ?? 0) > 0) {
    if (good.base === base) {
      raw = JSON.parse(good.text);
      version = good.version!;
    } else log("config: the built-in configuration changed since version " + good.version + " was set; running it");
  }
  const chosen = chooseConfig(raw, store, log, { version, base });
  if (chosen.error) {
    // The last good one runs: report it, with its version.
    const saved = loadConfigText(store);
    raw = saved.text === undefined ? raw : JSON.parse(saved.text);
    version = saved.version ?? 0;
  }
  return { config: chosen.config, error: chosen.error, state: { version, raw: plainCopy(raw), base, trial: false } };
}
