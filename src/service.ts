// The contract of a feature that runs with the app (a dashboard, OTA, Home Assistant discovery).
import type { Round } from "./telemetry.js";

/**
 * A service may register commands (`app.commands`), subscriptions and retained announcements (`app.uplink`) when it
 * is added (`app.use`) or started.
 */
export interface Service {
  /** When the app starts (or at once if it runs): after the sensors are probed, before the network comes up. */
  start?(): void;
  /** After each round's telemetry and alarm change are handed to the uplink; `round` is reused, so copy what is kept. */
  round?(round: Readonly<Round>): void;
  /** When the app stops, before the uplink and the sensors; services stop in reverse order. */
  stop?(): void;
}
