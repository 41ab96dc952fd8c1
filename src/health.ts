// Health on its own retained topic `<prefix>/<id>/health`: uptime, reset reason, memory, RSSI, firmware, boots, safe mode, and telemetry's health block.
import type { Host } from "telltale/io/host";
import { FIRMWARE_VERSION } from "telltale/ha/discovery";
import { messageOf } from "telltale/errors/message";
import type { BootState, Service } from "./service.js";
import { healthBlock, type Round } from "./telemetry.js";

/** How often the service looks for a new connection (health is published on each), ms. */
export const HEALTH_POLL_MS = 1000;

/** What health adds to telemetry's health block: the device's own state. */
export interface DeviceHealth {
  readonly uptimeMs: number;
  /** The host's reset reason ("power-on", "watchdog", …); "unknown" when the host does not say. */
  readonly resetReason: string;
  readonly firmware: string;
  /** The host's name ("esp32", "sim", "node"). */
  readonly host: string;
  /** Free heap, bytes, where the host reports it. */
  readonly freeMemory: number | undefined;
  /** Wi-Fi signal, dBm, where the host has Wi-Fi and has joined. */
  readonly rssi: number | undefined;
  /** The boot guard's judgement of this start (absent when the app runs without one). */
  readonly boot: BootState | undefined;
}

/**
 * The health payload (JSON): `boot` (the start counter), `uptimeMs`, `resetReason`, `firmware`, `host`, `freeMemory` and
 * `rssi` where known, `failedBoots`, `safeMode` (with `safeModeReason` when on), then telemetry's health block
 * (sensors, mqtt, outbox, identity, commands) from the same builder telemetry uses.
 */
export function healthPayload(device: DeviceHealth, round: Readonly<Round>): string {
  const h: Record<string, unknown> = {
    boot: round.boot,
    uptimeMs: device.uptimeMs,
    resetReason: device.resetReason,
    firmware: device.firmware,
    host: device.host,
  };
  if (device.freeMemory !== undefined) h.freeMemory = device.freeMemory;
  if (device.rssi !== undefined) h.rssi = device.rssi;
  const boot = device.boot;
  h.failedBoots = boot?.failedBoots ?? 0;
  h.safeMode = boot?.safeMode ?? false;
  if (boot?.reason !== undefined) h.safeModeReason = boot.reason;
  const block = healthBlock(round);
  for (const key in block) h[key] = block[key];
  return JSON.stringify(h);
}

/** The app as health reads it (by shape). */
export interface HealthApp {
  readonly host: Pick<Host, "name" | "clock" | "log" | "resetReason" | "freeMemory" | "rssi">;
  readonly config: { readonly topicPrefix: string; readonly healthIntervalMs: number };
  readonly deviceId: string;
  readonly uplink: { readonly connected: boolean; announce(topic: string, payload: string): void };
  readonly bootState?: BootState;
  /** The app's round, refilled every tick (read, never kept). */
  readonly round: Readonly<Round>;
}

/**
 * Publishes health retained (QoS 1) on `<prefix>/<id>/health` when the app starts, on every new connection and every
 * `healthIntervalMs`. Retained, so a subscriber that arrives later (a dashboard, someone diagnosing a device in safe
 * mode) reads the latest at once; the status topic's Last Will says whether it is current. It runs in safe mode: that
 * is where it matters most.
 */
export class HealthReport implements Service {
  readonly runsInSafeMode = true;
  readonly topic: string;
  readonly #app: HealthApp;
  #timer: unknown;
  #startedAt = 0;
  #publishedAt = 0;
  #connected = false;

  constructor(app: HealthApp) {
    this.#app = app;
    this.topic = app.config.topicPrefix + "/" + app.deviceId + "/health";
  }

  /** This moment's payload. */
  get payload(): string {
    const host = this.#app.host;
    return healthPayload(
      {
        uptimeMs: Math.round(host.clock.now() - this.#startedAt),
        resetReason: host.resetReason ?? "unknown",
        firmware: FIRMWARE_VERSION,
        host: host.name,
        freeMemory: this.#read(host.freeMemory),
        rssi: this.#read(host.rssi),
        boot: this.#app.bootState,
      },
      this.#app.round,
    );
  }

  start(): void {
    this.#startedAt = this.#app.host.clock.now();
    this.#publish();
    this.#schedule();
  }

  stop(): void {
    this.#app.host.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    this.#timer = this.#app.host.clock.setTimeout(() => {
      const app = this.#app,
        connected = app.uplink.connected;
      const due = app.host.clock.now() - this.#publishedAt >= app.config.healthIntervalMs;
      // The uplink re-sends the retained payload it holds on connecting; a fresh one follows within a poll.
      if ((connected && !this.#connected) || due) this.#publish();
      this.#connected = connected;
      this.#schedule();
    }, HEALTH_POLL_MS);
  }

  #publish(): void {
    this.#publishedAt = this.#app.host.clock.now();
    try {
      this.#app.uplink.announce(this.topic, this.payload);
    } catch (e) {
      this.#app.host.log("health: not published: " + messageOf(e));
    }
  }

  /** A host figure, or undefined when the host has none or fails to give it. */
  #read(source: (() => number | undefined) | undefined): number | undefined {
    if (!source) return undefined;
    try {
      const value = source();
      return typeof value === "number" && Number.isFinite(value) ? value : undefined;
    } catch {
      return undefined;
    }
  }
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(HealthReport.prototype);
