// The boot guard: counts failed starts in a row in the store, chooses safe mode after too many, and clears the count after a healthy period.
import type { Host } from "telltale/io/host";
import type { Store } from "telltale/io/io";
import type { SafeModeConfig } from "telltale/config/config";
import { messageOf } from "telltale/errors/message";
import type { BootState, Service } from "./service.js";

/** Store key of the count of failed starts in a row (NVS keys are at most 15 characters). */
export const FAILED_BOOTS_KEY = "bootFails";
/** While the broker is required and not yet reached, the healthy period is checked again this often, ms. */
export const HEALTHY_RECHECK_MS = 1000;

export interface BootGuardOptions {
  readonly store: Store;
  readonly settings: SafeModeConfig;
  readonly log: (line: string) => void;
}

/**
 * One start as the guard sees it. Constructing it counts the start as failed (the store's count goes up by one before
 * anything else runs), so a start that dies before `healthy()` stays counted; `healthy()` sets the count back to 0.
 * With `settings.boots` (or more) failed starts before this one, this start is in safe mode. A restart the firmware
 * asked for (`restarting()`), or a clean stop (`stopped()`), is not a failure: the count goes back to what it was before this start, or to 0 in safe
 * mode, so that what the restart installs (an OTA image, a configuration) gets a normal start.
 *
 * A store that cannot be read or written costs a log line: the count is then 0 and the start is normal (a guard that
 * cannot count never holds a device in safe mode).
 */
export class BootGuard implements BootState {
  readonly safeMode: boolean;
  readonly reason: string | undefined;
  readonly failedBoots: number;
  readonly #store: Store;
  readonly #log: (line: string) => void;
  #healthy = false;

  constructor(options: BootGuardOptions) {
    this.#store = options.store;
    this.#log = options.log;
    const limit = options.settings.boots;
    this.failedBoots = this.#read();
    this.safeMode = limit > 0 && this.failedBoots >= limit;
    this.reason = this.safeMode ? this.failedBoots + " failed boots in a row (limit " + limit + ")" : undefined;
    this.#write(this.failedBoots + 1);
    if (this.safeMode)
      this.#log(
        "boot: SAFE MODE after " + this.reason + ": network, uplink and commands only; no sensors, no detector",
      );
    else if (this.failedBoots > 0)
      this.#log("boot: " + this.failedBoots + " failed boot(s) in a row before this one; safe mode at " + limit);
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  /** The healthy period has passed: the count goes back to 0. */
  markHealthy(): void {
    if (this.#healthy) return;
    this.#healthy = true;
    this.#write(0);
  }

  /** A restart the firmware asked for: this start is not counted as failed, and after safe mode the next is normal. */
  restarting(): void {
    if (this.#healthy) return;
    this.#write(this.safeMode ? 0 : this.failedBoots);
  }

  /** A clean stop (app.stop(): Ctrl-C on Node, before a restart): not a failed start; safe mode stays due. */
  stopped(): void {
    if (this.#healthy) return;
    this.#write(this.failedBoots);
  }

  #read(): number {
    let raw: string | undefined;
    try {
      raw = this.#store.get(FAILED_BOOTS_KEY);
    } catch (e) {
      this.#log("boot: the failed-boot count cannot be read (" + messageOf(e) + "); counting from 0");
      return 0;
    }
    if (raw === undefined) return 0;
    if (/^(?:0|[1-9][0-9]{0,5})$/.test(raw)) return Number(raw);
    this.#log(
      "boot: the failed-boot count holds " + JSON.stringify(raw.slice(0, 24)) + ", not a count; counting from 0",
    );
    return 0;
  }

  #write(count: number): void {
    try {
      this.#store.set(FAILED_BOOTS_KEY, String(count));
    } catch (e) {
      this.#log("boot: the failed-boot count is not kept (" + messageOf(e) + ")");
    }
  }
}

/** The app as the healthy period watches it. */
export interface GuardedApp {
  readonly host: Pick<Host, "clock" | "log" | "restart">;
  readonly running: boolean;
  readonly connected: boolean;
  stop(): void;
}

/**
 * Watches this start's healthy period: `healthyMs` after the app starts, with at least one round sampled (in normal
 * mode) and, if `requireBroker`, connected to the broker (checked again every second until it is), the guard clears the count. In safe mode the
 * device then restarts (host.restart) into a normal start: a device left in safe mode monitors nothing. A host without
 * restart stays in safe mode until it is reset, and the log says so.
 */
export class HealthyPeriod implements Service {
  readonly runsInSafeMode = true;
  readonly #app: GuardedApp;
  readonly #guard: BootGuard;
  readonly #settings: SafeModeConfig;
  #timer: unknown;
  #rounds = 0;
  #startedAt = 0;

  constructor(app: GuardedApp, guard: BootGuard, settings: SafeModeConfig) {
    this.#app = app;
    this.#guard = guard;
    this.#settings = settings;
  }

  start(): void {
    const clock = this.#app.host.clock;
    this.#startedAt = clock.now();
    this.#timer = clock.setTimeout(() => this.#check(), this.#settings.healthyMs);
  }

  round(): void {
    this.#rounds++;
  }

  /** The app stopped cleanly: whatever ends this start, it did not crash. */
  stop(): void {
    this.#app.host.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#guard.stopped();
  }

  #check(): void {
    const app = this.#app,
      guard = this.#guard;
    this.#timer = undefined;
    if (!app.running || guard.healthy) return;
    const sampling = guard.safeMode || this.#rounds > 0;
    if (!sampling || (this.#settings.requireBroker && !app.connected)) {
      this.#timer = app.host.clock.setTimeout(() => this.#check(), HEALTHY_RECHECK_MS);
      return;
    }
    guard.markHealthy();
    const seconds = Math.round((app.host.clock.now() - this.#startedAt) / 1000);
    if (!guard.safeMode) {
      app.host.log("boot: healthy after " + seconds + " s; failed-boot count cleared");
      return;
    }
    const restart = app.host.restart;
    if (!restart) {
      app.host.log(
        "boot: healthy in safe mode for " + seconds + " s; count cleared: the next start is normal (reset the device)",
      );
      return;
    }
    app.host.log("boot: healthy in safe mode for " + seconds + " s; count cleared, restarting into normal mode");
    app.stop();
    restart("leaving safe mode");
  }
}

// Frozen so that, preloaded, the prototypes stay in flash.
Object.freeze(BootGuard.prototype);
Object.freeze(HealthyPeriod.prototype);
