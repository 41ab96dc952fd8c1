// The contract of a feature that runs with the app (a dashboard, OTA, Home Assistant discovery).
import type { Round } from "./telemetry.js";

/**
 * A service may register commands (`app.commands`), subscriptions and retained announcements (`app.uplink`) when it
 * is added (`app.use`) or started.
 */
export interface Service {
  /** True for a service safe mode keeps (health, OTA): a safe-mode app leaves every other service out. */
  readonly runsInSafeMode?: boolean;
  /** When the app starts (or at once if it runs): after the sensors are probed, before the network comes up. */
  start?(): void;
  /** After each round's telemetry and alarm change are handed to the uplink; `round` is reused, so copy what is kept. */
  round?(round: Readonly<Round>): void;
  /** When the app stops, before the uplink and the sensors; services stop in reverse order. */
  stop?(): void;
}

/** How the boot guard (src/boot-guard.ts) judged this start: health reports it. */
export interface BootState {
  /** Started in safe mode: network, uplink, commands and the services that run in it; no sensors, no detector. */
  readonly safeMode: boolean;
  /** Why, when in safe mode ("10 failed boots in a row (limit 10)"). */
  readonly reason: string | undefined;
  /** Failed starts in a row before this one (a start is failed until its healthy period has passed). */
  readonly failedBoots: number;
  /** This start's healthy period has passed: the counter is back at 0. */
  readonly healthy: boolean;
}
