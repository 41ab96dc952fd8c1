// Remote configuration over MQTT: signed, versioned merge patches on `<prefix>/<id>/config/set`, applied live or by a
// restart, kept only once healthy; the configuration in use (secrets redacted) retained on `<prefix>/<id>/config`.
import {
  PENDING_RESULT_KEY,
  planChange,
  reportedConfig,
  type ConfigState,
  type PlannedChange,
} from "telltale/config/remote";
import { dropTrial, promoteTrial, saveTrialText } from "telltale/config/saved";
import { messageOf } from "telltale/errors/message";
import { utf8Read } from "telltale/text/utf8";
import type { App } from "./app.js";
import type { Service } from "./service.js";

/** Longest `config/set` message: a longer one is refused whole (PEM material fits; the store's limit applies too). */
export const MAX_CONFIG_SET_BYTES = 8192;
/** Rounds a changed configuration runs (connected to the broker, for one applied by a restart) before it is kept. */
export const HEALTHY_ROUNDS = 10;
/** Rounds a configuration applied by a restart may run without reaching the broker before it is rolled back. */
export const TRIAL_ROUNDS_MAX = 60;
/** `config/set` messages read per second on average, and at once after a quiet spell; the rest are dropped unanswered. */
export const CONFIG_SETS_PER_SECOND = 1;
export const CONFIG_SET_BURST = 5;
/** The command name a `config/set` request is signed as (src/command-auth.ts). */
export const CONFIG_COMMAND = "config";

/**
 * A request is `{"command": "config", "version": n, "patch": {…}, "counter": c, "mac": …}`, signed as commands are.
 * Every answer goes to `…/config/result`: `{"version", "ok": true, "applied": "live" | "restart" | "duplicate" |
 * "kept", "changed": [...]}` or `{"version", "ok": false, "error"}`.
 */
export class RemoteConfig implements Service {
  readonly #app: App;
  readonly #topic: string;
  readonly #resultTopic: string;
  #state: ConfigState | undefined;
  /** True while the trial is a live change (judged by its rounds alone). */
  #live = false;
  #rounds = 0;
  #healthy = 0;
  #restarting = false;
  /** Token bucket of the rate limit, scaled by 1000 (a message costs 1000). */
  #tokens = CONFIG_SET_BURST * 1000;
  #filledAt: number;
  #flooded = false;
  /** A result saved at start (a rollback), published once connected. */
  #pending: string | undefined;

  constructor(app: App) {
    this.#app = app;
    const base = app.config.topicPrefix + "/" + app.deviceId + "/config";
    this.#topic = base;
    this.#resultTopic = base + "/result";
    this.#state = app.configState;
    this.#filledAt = app.host.clock.now();
    this.#pending = app.host.store.get(PENDING_RESULT_KEY);
    if (this.#state) app.uplink.announce(base, reportedConfig(this.#state));
    app.uplink.subscribe(base + "/set", (payload, info) => {
      if (this.#take()) this.#reply(this.handle(payload, info.retain));
    });
  }

  /** The configuration's version and origin, as reported. */
  get state(): ConfigState | undefined {
    return this.#state;
  }

  /** Handles one `config/set` message and returns the answer (JSON). */
  handle(payload: Uint8Array, retain = false): string {
    let version: unknown;
    try {
      if (this.#restarting) throw new Error("a configuration is being applied by a restart; send again after it");
      if (retain) throw new Error("retained configuration requests are ignored (clear the retained message)");
      if (payload.length > MAX_CONFIG_SET_BYTES)
        throw new Error("too large: " + payload.length + " bytes, at most " + MAX_CONFIG_SET_BYTES);
      const text = utf8Read(payload, 0, payload.length);
      if (text === undefined) throw new Error("not valid UTF-8");
      let request: unknown;
      try {
        request = JSON.parse(text);
      } catch {
        throw new Error('not JSON: expected {"command": "config", "version": n, "patch": {…}, "counter", "mac"}');
      }
      if (request === null || typeof request !== "object" || Array.isArray(request))
        throw new Error('expected {"command": "config", "version": n, "patch": {…}, "counter", "mac"}');
      const fields = request as Record<string, unknown>;
      version = fields.version;
      if (fields.command !== CONFIG_COMMAND) throw new Error('command: expected "config"');
      const state = this.#state;
      if (!state) throw new Error("this app was started without its configuration's origin (start it with startApp)");
      this.#app.auth.check(CONFIG_COMMAND, fields, true);
      const change = planChange(state, this.#app.config, fields, this.#app.host.store);
      return this.#apply(change);
    } catch (e) {
      const error = messageOf(e);
      this.#app.host.log("config: refused: " + error);
      return JSON.stringify({ version: typeof version === "number" ? version : null, ok: false, error });
    }
  }

  round(): void {
    this.#rounds++;
    const app = this.#app,
      store = app.host.store,
      state = this.#state;
    if (this.#pending !== undefined && app.connected) {
      this.#reply(this.#pending);
      this.#pending = undefined;
      store.delete(PENDING_RESULT_KEY);
    }
    if (!state?.trial || this.#restarting) return;
    // A live change is judged by the rounds it runs; one applied by a restart must also reach the broker.
    if (this.#live || app.connected) this.#healthy++;
    if (this.#healthy >= HEALTHY_ROUNDS) {
      const problem = promoteTrial(store);
      if (problem) app.host.log("config: version " + state.version + " runs but is not kept: " + problem);
      this.#state = { ...state, trial: false };
      this.#live = false;
      this.#reply(JSON.stringify({ version: state.version, ok: true, applied: "kept" }));
      app.host.log("config: version " + state.version + " proved healthy; kept as the last good configuration");
    } else if (!this.#live && this.#rounds >= TRIAL_ROUNDS_MAX) {
      const error = `version ${state.version} rolled back: no broker connection in ${TRIAL_ROUNDS_MAX} rounds`;
      dropTrial(store);
      store.set(PENDING_RESULT_KEY, JSON.stringify({ version: state.version, ok: false, error }));
      // Without a restart it runs on until the next start, which takes the last good one; judged no further.
      this.#state = { ...state, trial: false };
      this.#restart(error);
    }
  }

  #apply(change: PlannedChange): string {
    const app = this.#app,
      store = app.host.store,
      state = this.#state!,
      version = change.version;
    if (change.duplicate) return JSON.stringify({ version, ok: true, applied: "duplicate" });
    const next: ConfigState = { version, raw: change.raw, base: state.base, trial: true };
    const d = change.config.detector;
    // A detector without setThresholds (a test's fake) takes new thresholds by a restart.
    const live =
      change.live && (!change.changed.some((p) => p.startsWith("detector.")) || !!app.detector.setThresholds);
    // Saved before it runs: a crash while it runs rolls it back at the next start (modules/config/remote.ts).
    saveTrialText(store, change.text, { version, base: state.base }, live ? 1 : 0);
    const answer = { version, ok: true, applied: live ? "live" : "restart", changed: change.changed };
    if (!live) {
      this.#restart("configuration version " + version);
      if (!app.host.restart)
        return JSON.stringify({ ...answer, restart: "at the next start (this host cannot restart itself)" });
      return JSON.stringify(answer);
    }
    try {
      app.detector.setThresholds?.({ on: d.on, off: d.off, holdSamples: d.holdSamples, clearSamples: d.clearSamples });
    } catch (e) {
      dropTrial(store);
      throw e;
    }
    // On top of a change applied by a restart, still judged as that one is (it must reach the broker).
    this.#live = this.#live || !state.trial;
    app.config = change.config;
    app.uplink.delivery.telemetryQos = change.config.broker.telemetryQos;
    this.#state = next;
    this.#healthy = 0;
    app.uplink.announce(this.#topic, reportedConfig(next));
    app.host.log("config: version " + version + " applied live (" + change.changed.join(", ") + ")");
    return JSON.stringify(answer);
  }

  /** Spends a token if there is one; a message without one is dropped, counted in health.commands.dropped. */
  #take(): boolean {
    const now = this.#app.host.clock.now();
    this.#tokens = Math.min(CONFIG_SET_BURST * 1000, this.#tokens + (now - this.#filledAt) * CONFIG_SETS_PER_SECOND);
    this.#filledAt = now;
    if (this.#tokens >= 1000) {
      this.#tokens -= 1000;
      this.#flooded = false;
      return true;
    }
    this.#app.commands.counters.dropped++;
    if (!this.#flooded)
      this.#app.host.log("config: more than " + CONFIG_SETS_PER_SECOND + " request(s) a second; dropping the excess");
    this.#flooded = true;
    return false;
  }

  #restart(reason: string): void {
    const app = this.#app;
    if (!app.host.restart) {
      app.host.log("config: " + reason + "; this host cannot restart, so it takes effect at the next start");
      return;
    }
    this.#restarting = true;
    app.host.log("config: restarting for " + reason);
    // After the answer has been written: the app stops (publishing "offline"), then the host restarts.
    app.host.clock.setTimeout(() => {
      app.stop();
      app.host.restart!(reason);
    }, 100);
  }

  #reply(answer: string): void {
    this.#app.uplink.reply(this.#resultTopic, answer);
  }
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(RemoteConfig.prototype);
