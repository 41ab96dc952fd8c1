// The application: configuration → sensors → detector → MQTT reporter, on the host's timers.
import type { Host } from "./host";
import { chooseConfig, type Config } from "telltale/config/config";
import { parts } from "telltale/drivers/registry";
import type { Channel, SensorInstance, SensorIO } from "telltale/drivers/part";
import { ZScoreDetector } from "telltale/detector/zscore";
import { MQTTClient } from "telltale/mqtt/client";

/** Consecutive failed samples after which a sensor is marked failed and re-probed later. */
const FAIL_AFTER = 3;
/** Ticks between re-probes of a failed sensor. */
const REPROBE_TICKS = 10;
/** Reconnect backoff (full jitter): base and cap, ms. */
const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 60_000;
/** Alarms kept while the broker is unreachable (the newest are kept). */
const PENDING_ALARMS = 16;

interface SensorSlot {
  name: string;
  part: string;
  channels: readonly Channel[];
  /** Index of this sensor's first channel in the detector's vector. */
  first: number;
  instance: SensorInstance | undefined;
  state: "ok" | "failed";
  errors: number;
  consecutive: number;
  reprobeIn: number;
  lastError: string;
  declaration: Config["sensors"][number];
}

function round2(v: number): number { return Math.round(v * 100) / 100; }

export class App {
  readonly host: Host;
  readonly config: Config;
  readonly deviceId: string;
  readonly topics: { telemetry: string; alarm: string; status: string };
  readonly #sensors: SensorSlot[] = [];
  readonly #detector: ZScoreDetector;
  readonly #values: Int32Array;
  readonly #channelNames: string[] = [];
  readonly #io: SensorIO;
  #client: MQTTClient | undefined;
  #tickTimer: unknown;
  #reconnectTimer: unknown;
  #attempt = 0;
  #running = false;
  #seq = 0;
  #startedAt = 0;
  #pendingAlarms: string[] = [];
  readonly stats = { published: 0, dropped: 0, reconnects: 0, alarms: 0 };

  constructor(host: Host, config: Config) {
    this.host = host;
    this.config = config;
    this.deviceId = config.deviceId ?? host.deviceId;
    this.#io = { i2c: host.i2c, digital: host.digital, pulseCount: host.pulseCount, clock: host.clock };
    const base = config.topicPrefix + "/" + this.deviceId + "/";
    this.topics = { telemetry: base + "telemetry", alarm: base + "alarm", status: base + "status" };
    let first = 0;
    const floors: number[] = [];
    for (const d of config.sensors) {
      const descriptor = parts[d.part];
      const channels = descriptor.channels(d);
      this.#sensors.push({ name: d.name, part: d.part, channels, first, instance: undefined, state: "failed",
        errors: 0, consecutive: 0, reprobeIn: 0, lastError: "", declaration: d });
      for (const ch of channels) { this.#channelNames.push(d.name + "." + ch.key); floors.push(ch.floor); }
      first += channels.length;
    }
    this.#values = new Int32Array(first);
    // A configuration of outputs only (a relay) still gets a one-channel detector that is never fed.
    this.#detector = new ZScoreDetector({ channels: Math.max(1, first), floor: first ? floors : [1], ...config.detector });
  }

  get running(): boolean { return this.#running; }
  get connected(): boolean { return this.#client?.connected ?? false; }
  get detector(): ZScoreDetector { return this.#detector; }

  /** Brings up the network, probes the sensors, connects to the broker and starts sampling. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#startedAt = this.host.clock.now();
    this.host.log(`telltale ${this.deviceId} on ${this.host.name}: ${this.#sensors.length} sensor(s), every ${this.config.intervalMs} ms, broker ${this.config.broker.scheme}://${this.config.broker.host}:${this.config.broker.port}`);
    for (const slot of this.#sensors) this.#probe(slot);
    // Sampling does not wait for the network: a device without Wi-Fi still monitors (and logs) locally.
    this.#schedule();
    await this.#bringUpNetwork();
  }

  async #bringUpNetwork(): Promise<void> {
    try {
      await this.host.connectNetwork();
    } catch (e) {
      if (!this.#running) return;
      const delay = this.#backoff();
      this.host.log(`network: ${(e as Error).message}; retrying in ${delay} ms`);
      this.#reconnectTimer = this.host.clock.setTimeout(() => { if (this.#running) void this.#bringUpNetwork(); }, delay);
      return;
    }
    this.#attempt = 0;
    if (this.#running) this.#connect();
  }

  /** Exponential backoff with full jitter: a fleet that lost its broker together does not come back together. */
  #backoff(): number {
    const cap = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * (1 << Math.min(this.#attempt, 16)));
    this.#attempt++;
    return Math.floor(Math.random() * cap) + 100;
  }

  /** Stops sampling, publishes "offline" and disconnects cleanly (the broker does not send the Will). */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.host.clock.clearTimeout(this.#tickTimer);
    this.host.clock.clearTimeout(this.#reconnectTimer);
    const client = this.#client;
    this.#client = undefined;
    if (client?.connected) {
      client.publish(this.topics.status, "offline", { qos: 0, retain: true });
      client.disconnect();
    } else client?.close();
    for (const slot of this.#sensors) { slot.instance?.close(); slot.instance = undefined; }
  }

  #schedule(): void {
    this.#tickTimer = this.host.clock.setTimeout(() => {
      if (!this.#running) return;
      this.#schedule();
      try { this.tick(); } catch (e) { this.host.log("error: tick failed: " + (e as Error).message); }
    }, this.config.intervalMs);
  }

  #probe(slot: SensorSlot): void {
    try {
      slot.instance = parts[slot.part].create(slot.declaration, this.#io, (error) => this.#sensorError(slot, error));
      if (slot.state === "failed" && slot.lastError) this.host.log(`sensor ${slot.name}: recovered`);
      slot.state = "ok";
      slot.consecutive = 0;
      // Start the first conversion once the reset has settled, so the first tick already has data.
      this.host.clock.setTimeout(() => { try { slot.instance?.sample(); } catch { /* closed meanwhile */ } }, 5);
    } catch (e) {
      slot.instance = undefined;
      slot.state = "failed";
      slot.errors++;
      slot.reprobeIn = REPROBE_TICKS;
      const message = (e as Error).message;
      if (message !== slot.lastError) this.host.log(`sensor ${slot.name}: failed: ${message} (re-probing every ${REPROBE_TICKS} samples)`);
      slot.lastError = message;
    }
  }

  #sensorError(slot: SensorSlot, error: Error): void {
    slot.errors++;
    slot.lastError = error.message;
    this.host.log(`sensor ${slot.name}: ${error.message}`);
  }

  /** One sampling round: read every sensor, feed the detector, publish telemetry and alarm changes. */
  tick(): void {
    const seq = ++this.#seq;
    const readings: Record<string, Record<string, number>> = {};
    const health: Record<string, Record<string, unknown>> = {};
    let valid = 0;
    for (const slot of this.#sensors) {
      if (!slot.instance) {
        if (--slot.reprobeIn <= 0) this.#probe(slot);
      } else {
        const sample = slot.instance.sample();
        if (sample === undefined) {
          if (++slot.consecutive >= FAIL_AFTER) {
            this.host.log(`sensor ${slot.name}: marked failed after ${FAIL_AFTER} failed samples`);
            slot.instance.close();
            slot.instance = undefined;
            slot.state = "failed";
            slot.reprobeIn = REPROBE_TICKS;
          }
        } else {
          slot.consecutive = 0;
          const out: Record<string, number> = {};
          slot.channels.forEach((ch, i) => {
            const v = ch.read(sample);
            if (v === undefined || !Number.isFinite(v)) return;
            out[ch.key] = round2(v);
            this.#values[slot.first + i] = Math.round(v * ch.scale);
            valid |= 1 << (slot.first + i);
          });
          readings[slot.name] = out;
        }
      }
      health[slot.name] = { state: slot.state, errors: slot.errors, ...slot.instance?.health?.() };
    }
    const det = this.#detector;
    const wasAlarm = det.alarm;
    if (valid !== 0) det.update(this.#values, valid);
    const score = round2(det.score / 256);
    const telemetry = {
      seq, uptimeMs: Math.round(this.host.clock.now() - this.#startedAt), sensors: readings,
      detector: { calibrated: det.calibrated, score, alarm: det.alarm },
      health: { sensors: health, mqtt: { ...this.stats } },
    };
    const line = Object.keys(readings).map((name) => name + " " + Object.entries(readings[name]).map(([k, v]) => k + "=" + v).join(" ")).join(", ");
    this.#publish(this.topics.telemetry, JSON.stringify(telemetry), 0,
      `telemetry #${seq}: ${line || "no readings"}; score ${score}${det.calibrated ? "" : " (calibrating)"}${det.alarm ? " ALARM" : ""}`);
    if (det.alarm !== wasAlarm) {
      this.stats.alarms++;
      for (const slot of this.#sensors) slot.instance?.onAlarm?.(det.alarm);
      const channel = det.channel >= 0 ? this.#channelNames[det.channel] : "";
      const [sensorName, key] = channel.split(".");
      const alarm = { state: det.alarm ? "raised" : "cleared", seq, score, channel, value: readings[sensorName]?.[key] ?? null };
      const text = `ALARM ${alarm.state}: ${channel} = ${alarm.value} (score ${score})`;
      this.#publish(this.topics.alarm, JSON.stringify(alarm), 1, text);
    }
  }

  #publish(topic: string, payload: string, qos: 0 | 1, line: string): void {
    const client = this.#client;
    if (client?.connected) {
      client.publish(topic, payload, { qos });
      this.stats.published++;
      this.host.log(line);
    } else if (qos === 1) {
      // Alarms wait for the broker; telemetry while offline is counted as dropped (the durable outbox is a later step).
      if (this.#pendingAlarms.length >= PENDING_ALARMS) { this.#pendingAlarms.shift(); this.stats.dropped++; }
      this.#pendingAlarms.push(payload);
      this.host.log(line + " (queued: broker unreachable)");
    } else {
      this.stats.dropped++;
      this.host.log(line + " (not sent: broker unreachable)");
    }
  }

  #connect(): void {
    const b = this.config.broker;
    const client = new MQTTClient({
      host: b.host, port: b.port, clientId: "telltale-" + this.deviceId,
      username: b.username, password: b.password, keepalive: b.keepalive, clean: true,
      will: { topic: this.topics.status, payload: "offline", qos: 1, retain: true },
      socket: { io: this.host.tcp, secure: b.scheme === "mqtts" ? { ca: b.ca } : undefined },
      clock: this.host.clock,
      onConnect: () => {
        if (client !== this.#client) return;
        this.#attempt = 0;
        this.host.log(`mqtt: connected to ${b.host}:${b.port}`);
        client.publish(this.topics.status, "online", { qos: 1, retain: true });
        for (const alarm of this.#pendingAlarms.splice(0)) client.publish(this.topics.alarm, alarm, { qos: 1 });
      },
      onError: (error: Error) => {
        if (client === this.#client) this.host.log("mqtt: " + error.message);
      },
      onClose: (reason?: Error) => {
        if (client !== this.#client || !this.#running) return;
        this.#client = undefined;
        this.stats.reconnects++;
        const delay = this.#backoff();
        this.host.log(`mqtt: connection lost${reason ? " (" + reason.message + ")" : ""}; retrying in ${delay} ms`);
        this.#reconnectTimer = this.host.clock.setTimeout(() => { if (this.#running) this.#connect(); }, delay);
      },
    });
    this.#client = client;
    client.connect();
  }
}

/** Validates the configuration (keeping the last good one if this one is bad) and starts the app. */
export function startApp(host: Host, rawConfig: unknown): App {
  const { config, error } = chooseConfig(rawConfig, host.store);
  if (error) host.log("error: " + error.message + "; running with the last good configuration");
  const app = new App(host, config);
  app.start().catch((e) => host.log("error: start failed: " + (e as Error).message));
  return app;
}
