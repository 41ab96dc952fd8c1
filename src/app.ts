// The application: sensor bank → monitor → telemetry → uplink, and commands, composed on the host's timers.
import type { Host } from "telltale/io/host";
import { chooseConfig, type Config } from "telltale/config/config";
import type { Detector } from "telltale/detector/select";
import type { VibrationMonitor } from "telltale/detector/vibration-monitor";
import { ALARM, TELEMETRY, type Outbox } from "telltale/storage/outbox";
import { messageOf } from "telltale/errors/message";
import { SensorBank } from "./sensor-bank.js";
import { Monitor } from "./monitor.js";
import { Uplink } from "./uplink.js";
import { Commands } from "./commands.js";
import {
  alarmEvent,
  alarmLine,
  alarmPayload,
  telemetryLine,
  telemetryPayload,
  type Readings,
  type Round,
  type SensorHealth,
} from "./telemetry.js";

export { backoffDelay } from "./uplink.js";

/** The device's topics: `<prefix>/<deviceId>/telemetry`, `…/alarm`, `…/status`, `…/command` and `…/command/result`. */
export interface Topics {
  telemetry: string;
  alarm: string;
  status: string;
  command: string;
  result: string;
}

/**
 * A feature that runs with the app (a dashboard, OTA, Home Assistant discovery): it may register commands
 * (`app.commands`), subscriptions and retained announcements (`app.uplink`) when it is added or started.
 */
export interface Service {
  /** When the app starts (or at once if it runs): after the sensors are probed, before the network comes up. */
  start?(): void;
  /** After each round's telemetry and alarm change are handed to the uplink; `round` is reused, so copy what is kept. */
  round?(round: Readonly<Round>): void;
  /** When the app stops, before the uplink and the sensors; services stop in reverse order. */
  stop?(): void;
}

/** Starts of this device so far, kept in the store under "boot" and counted up (a store that refuses costs a log line). */
function countBoot(host: Host): number {
  const boots = Number(host.store.get("boot"));
  const boot = (Number.isInteger(boots) && boots > 0 ? boots : 0) + 1;
  try {
    host.store.set("boot", String(boot));
  } catch (e) {
    host.log("store: " + messageOf(e));
  }
  return boot;
}

export class App {
  readonly host: Host;
  readonly config: Config;
  readonly deviceId: string;
  readonly topics: Readonly<Topics>;
  /** Health telemetry's MQTT counters: published, dropped and reconnects (the uplink's), and alarm changes. */
  readonly stats = { published: 0, dropped: 0, reconnects: 0, alarms: 0 };
  readonly uplink: Uplink;
  readonly sensors: SensorBank;
  readonly monitor: Monitor;
  readonly commands: Commands;
  /** The round telemetry is built from, refilled every tick. */
  readonly #round: Round;
  readonly #services: Service[] = [];
  #tickTimer: unknown;
  #running = false;
  #startedAt = 0;

  constructor(host: Host, config: Config) {
    this.host = host;
    this.config = config;
    this.deviceId = config.deviceId ?? host.deviceId;
    const base = config.topicPrefix + "/" + this.deviceId + "/",
      log = (line: string) => host.log(line);
    this.topics = {
      telemetry: base + "telemetry",
      alarm: base + "alarm",
      status: base + "status",
      command: base + "command",
      result: base + "command/result",
    };
    this.uplink = new Uplink({
      host,
      broker: config.broker,
      clientId: "telltale-" + this.deviceId,
      topics: this.topics,
      counters: this.stats,
    });
    this.sensors = new SensorBank({
      sensors: config.sensors,
      log,
      io: { i2c: host.i2c, digital: host.digital, pulseCount: host.pulseCount, clock: host.clock },
      onProbed: (index, sensor, instance) => this.monitor.attach(index, sensor, instance),
    });
    this.monitor = new Monitor({
      settings: config.detector,
      floors: this.sensors.floors,
      sensors: config.sensors.length,
      store: host.store,
      log,
    });
    this.commands = new Commands({ log });
    this.commands.register("recalibrate", () => {
      this.monitor.recalibrate();
      log("detector: recalibrating on command");
    });
    this.commands.register("ping", () => ({ uptimeMs: this.#uptimeMs() }));
    this.uplink.subscribe(this.topics.command, (payload) =>
      this.uplink.reply(this.topics.result, this.commands.handle(payload)),
    );
    this.#round = {
      boot: 0,
      seq: 0,
      uptimeMs: 0,
      readings: {},
      health: {},
      detector: this.monitor.detector,
      channelNames: this.sensors.channelNames,
      streams: this.monitor.streams,
      alarm: false,
      counters: this.stats,
      outbox: this.uplink.delivery,
    };
  }

  get running(): boolean {
    return this.#running;
  }
  get connected(): boolean {
    return this.uplink.connected;
  }
  get detector(): Detector {
    return this.monitor.detector;
  }
  /** The device's alarm state as last published: the slow detector's or any vibration stream's. */
  get alarm(): boolean {
    return this.monitor.alarm;
  }
  /** The vibration detector of a sensor with a raw stream, once it has been attached. */
  vibration(sensor: string): VibrationMonitor | undefined {
    return this.monitor.vibration(sensor);
  }
  /** Starts of this device so far (kept in the store): with `seq`, telemetry and alarms are unique across reboots. */
  get boot(): number {
    return this.#round.boot;
  }
  /** Every QoS 1 message is here, in flash when the host has it, from before it is sent until its PUBACK. */
  get outbox(): Outbox {
    return this.uplink.outbox;
  }
  /** False when the outbox lives in RAM (health telemetry says why). */
  get durable(): boolean {
    return this.uplink.delivery.durable;
  }

  /** Adds a feature that runs with the app (started at once if the app is running). */
  use(service: Service): void {
    this.#services.push(service);
    if (this.#running) service.start?.();
  }

  /** Probes the sensors, starts sampling, then brings up the network and connects to the broker. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const host = this.host,
      c = this.config;
    this.#startedAt = host.clock.now();
    this.#round.boot = countBoot(host);
    host.log(this.uplink.delivery.summary());
    host.log(
      `telltale ${this.deviceId} on ${host.name}: ${c.sensors.length} sensor(s), every ${c.intervalMs} ms, broker ${c.broker.scheme}://${c.broker.host}:${c.broker.port}`,
    );
    this.sensors.probe();
    // Sampling does not wait for the network: a device without Wi-Fi still monitors (and logs) locally.
    this.#schedule();
    for (let i = 0; i < this.#services.length; i++) this.#services[i]!.start?.();
    await this.uplink.start();
  }

  /** Stops sampling, publishes "offline" and disconnects cleanly (the broker does not send the Will). */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.host.clock.clearTimeout(this.#tickTimer);
    for (let i = this.#services.length - 1; i >= 0; i--) this.#services[i]!.stop?.();
    this.uplink.stop();
    this.sensors.close();
  }

  /** One sampling round: read every sensor, score, publish telemetry and alarm changes. */
  tick(): void {
    const round = this.#round,
      seq = ++round.seq,
      readings: Readings = {},
      health: SensorHealth = {};
    const valid = this.sensors.sample(readings, health);
    const changed = this.monitor.update(this.sensors.values, valid, seq);
    round.uptimeMs = this.#uptimeMs();
    round.readings = readings;
    round.health = health;
    round.alarm = this.monitor.alarm;
    this.uplink.publish(TELEMETRY, telemetryPayload(round), telemetryLine(round));
    if (changed) {
      this.stats.alarms++;
      this.sensors.alarm(round.alarm);
      const event = alarmEvent(round);
      this.uplink.publish(ALARM, alarmPayload(event), alarmLine(event));
    }
    for (let i = 0; i < this.#services.length; i++) this.#services[i]!.round?.(round);
  }

  #uptimeMs(): number {
    return Math.round(this.host.clock.now() - this.#startedAt);
  }

  #schedule(): void {
    this.#tickTimer = this.host.clock.setTimeout(() => {
      if (!this.#running) return;
      this.#schedule();
      try {
        this.tick();
      } catch (e) {
        this.host.log("error: tick failed: " + messageOf(e));
      }
    }, this.config.intervalMs);
  }
}

/** Validates the configuration (keeping the last good one if this one is bad) and starts the app. */
export function startApp(host: Host, rawConfig: unknown): App {
  const { config, error } = chooseConfig(rawConfig, host.store);
  if (error) host.log("error: " + error.message + "; running with the last good configuration");
  const app = new App(host, config);
  app.start().catch((e) => host.log("error: start failed: " + messageOf(e)));
  return app;
}
