// The collector: subscribes to every device's telemetry, alarms, availability and discovery, and stores them.
import mqtt, { type MqttClient } from "mqtt";
import type { History } from "./history.js";

/** Longest payload stored; a larger one is refused (telemetry with a vibration stream is about 1.3 KB). */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export interface CollectorOptions {
  /** mqtt://HOST:PORT or mqtts://HOST:PORT (credentials may be in the URL). */
  url: string;
  /** PEM of the CA that signed an mqtts broker's certificate, a client certificate and key, a user name and password. */
  credentials?: { ca?: string; certificate?: string; key?: string; username?: string; password?: string };
  /** The devices' topic prefix (`topicPrefix` in their configuration). */
  prefix: string;
  /** Home Assistant's discovery prefix (`homeAssistant.prefix`): the retained payload names the firmware version. */
  haPrefix?: string;
  history: History;
  log: (line: string) => void;
  now?: () => number;
}

/** What the collector has seen; `rejected` counts messages it refused, `lastRejection` says why the latest was. */
export interface CollectorStats {
  connected: boolean;
  telemetry: number;
  alarms: number;
  duplicates: number;
  rejected: number;
  lastRejection: string | null;
}

function integer(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

/** The (boot, seq) of a telemetry or alarm payload, or the reason it is not one. */
function identify(kind: "telemetry" | "alarm", text: string): { boot: number; seq: number } | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "not JSON";
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const m = value as Record<string, unknown>;
  if (!integer(m.boot) || !integer(m.seq)) return "boot and seq must be non-negative integers";
  if (kind === "telemetry" && (typeof m.sensors !== "object" || m.sensors === null)) return "no sensors object";
  if (kind === "alarm" && m.state !== "raised" && m.state !== "cleared") return 'state must be "raised" or "cleared"';
  return { boot: m.boot, seq: m.seq };
}

/**
 * Keeps one MQTT session (mqtt.js reconnects by itself) subscribed to `<prefix>/+/telemetry`, `…/alarm` and
 * `…/status`, and to `<haPrefix>/device/+/config`. A message that is not what the firmware publishes is refused, counted and logged; the history keeps
 * what it had.
 */
export class Collector {
  readonly stats: CollectorStats = {
    connected: false,
    telemetry: 0,
    alarms: 0,
    duplicates: 0,
    rejected: 0,
    lastRejection: null,
  };
  readonly #options: CollectorOptions;
  readonly #now: () => number;
  #client: MqttClient | undefined;

  constructor(options: CollectorOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Connects and subscribes; a broker that cannot be reached, or is lost, is retried every 2 s (each new error logged). */
  start(): void {
    const o = this.#options;
    const c = o.credentials ?? {};
    const client = mqtt.connect(o.url, {
      clientId: "telltale-dashboard-" + Math.random().toString(16).slice(2, 10),
      reconnectPeriod: 2000,
      ca: c.ca,
      cert: c.certificate,
      key: c.key,
      username: c.username,
      password: c.password,
    });
    this.#client = client;
    const topics = ["telemetry", "alarm", "status"].map((kind) => `${o.prefix}/+/${kind}`);
    if (o.haPrefix) topics.push(`${o.haPrefix}/device/+/config`);
    let lastError = "";
    client.on("connect", () => {
      this.stats.connected = true;
      lastError = "";
      o.log(`dashboard: collecting ${topics.join(", ")} from ${o.url}`);
      client.subscribe(topics, { qos: 1 });
    });
    client.on("close", () => {
      this.stats.connected = false;
    });
    client.on("error", (e) => {
      if (e.message !== lastError) o.log(`dashboard: broker ${o.url}: ${e.message}; retrying every 2 s`);
      lastError = e.message;
    });
    client.on("message", (topic, payload) => this.receive(topic, payload));
  }

  /** Stores one message from the broker (public so that a test can hand it bad input directly). */
  receive(topic: string, payload: Uint8Array): void {
    const o = this.#options,
      base = o.prefix + "/";
    if (o.haPrefix && topic.startsWith(o.haPrefix + "/device/")) return this.#discovery(topic, payload);
    const rest = topic.startsWith(base) ? topic.slice(base.length).split("/") : [];
    const [device = "", kind = ""] = rest;
    if (rest.length !== 2 || device === "") return this.#reject(topic, "not a device topic");
    if (payload.length > MAX_PAYLOAD_BYTES) return this.#reject(topic, `larger than ${MAX_PAYLOAD_BYTES} bytes`);
    const text = Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString("utf8");
    const at = this.#now(),
      history = o.history;
    try {
      if (kind === "status") {
        if (text !== "online" && text !== "offline") return this.#reject(topic, 'expected "online" or "offline"');
        history.setStatus(device, at, text);
        return;
      }
      if (kind !== "telemetry" && kind !== "alarm") return this.#reject(topic, "not a device topic");
      const id = identify(kind, text);
      if (typeof id === "string") return this.#reject(topic, id);
      const added =
        kind === "telemetry"
          ? history.addTelemetry(device, at, id.boot, id.seq, text)
          : history.addAlarm(device, at, id.boot, id.seq, text);
      if (!added) this.stats.duplicates++;
      else if (kind === "telemetry") this.stats.telemetry++;
      else this.stats.alarms++;
    } catch (e) {
      this.#reject(topic, "history: " + (e as Error).message);
    }
  }

  /**
   * A Home Assistant discovery payload: kept for the device whose telemetry topic it names, when Telltale published it
   * (`o.name`); another make's device, or a removal (empty payload), is none of the dashboard's business.
   */
  #discovery(topic: string, payload: Uint8Array): void {
    if (payload.length === 0) return;
    if (payload.length > MAX_PAYLOAD_BYTES) return this.#reject(topic, `larger than ${MAX_PAYLOAD_BYTES} bytes`);
    const text = Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString("utf8");
    let d: { o?: { name?: unknown }; stat_t?: unknown; dev?: { sw?: unknown } };
    try {
      d = JSON.parse(text) as typeof d;
    } catch {
      return;
    }
    if (typeof d !== "object" || d === null || d.o?.name !== "telltale") return;
    const base = this.#options.prefix + "/",
      stat = typeof d.stat_t === "string" ? d.stat_t : "";
    const device = stat.startsWith(base) && stat.endsWith("/telemetry") ? stat.slice(base.length, -10) : "";
    if (device === "" || device.includes("/")) return this.#reject(topic, "stat_t is not a device's telemetry topic");
    if (typeof d.dev?.sw !== "string") return this.#reject(topic, "no firmware version (dev.sw)");
    try {
      this.#options.history.setDiscovery(device, this.#now(), text);
    } catch (e) {
      this.#reject(topic, "history: " + (e as Error).message);
    }
  }

  #reject(topic: string, reason: string): void {
    const s = this.stats,
      rejection = `${topic}: ${reason}`;
    s.rejected++;
    // A line when the reason changes: a device that publishes garbage every second does not flood the log.
    if (rejection !== s.lastRejection)
      this.#options.log(`dashboard: refused a message on ${topic} (${reason}); ${s.rejected} refused so far`);
    s.lastRejection = rejection;
  }

  stop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.stats.connected = false;
    return client ? client.endAsync() : Promise.resolve();
  }
}
