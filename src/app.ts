// The application: sensor bank → monitor → telemetry → uplink, and commands, composed on the host's timers.
import type { Host } from "telltale/io/host";
import type { Config } from "telltale/config/config";
import type { ConfigState } from "telltale/config/remote";
import type { Detector } from "telltale/detector/select";
import type { VibrationMonitor } from "telltale/detector/vibration-monitor";
import { ALARM, TELEMETRY, type Outbox } from "telltale/storage/outbox";
import { messageOf } from "telltale/errors/message";
import { SensorBank } from "./sensor-bank.js";
import { Monitor } from "./monitor.js";
import { Uplink } from "./uplink.js";
import { Commands } from "./commands.js";
import { CommandAuth } from "./command-auth.js";
import { registerDeviceCommands } from "./device-commands.js";
import { countBoot, deviceTopics, type Topics } from "./identity.js";
import type { BootState, Service } from "./service.js";
import { addFeatures } from "./features.js";
import { alarmEvent, alarmLine, alarmPayload, firstRound, telemetryLine, telemetryPayload } from "./telemetry.js";
import type { Readings, Round, SensorHealth } from "./telemetry.js";

export { backoffDelay } from "./uplink.js";
export type { Topics } from "./identity.js";
export type { Service } from "./service.js";

export class App {
  readonly host: Host;
  /** The configuration in use: replaced when a remote change applies live (src/remote-config.ts). */
  config: Config;
  readonly deviceId: string;
  readonly topics: Readonly<Topics>;
  /** Health telemetry's MQTT counters: published, dropped, reconnects and oversized (the uplink's), and alarm changes. */
  readonly stats = { published: 0, dropped: 0, reconnects: 0, oversized: 0, alarms: 0 };
  readonly uplink: Uplink;
  readonly sensors: SensorBank;
  readonly monitor: Monitor;
  readonly commands: Commands;
  readonly auth: CommandAuth;
  /** The round telemetry is built from, refilled every tick (read it, never write it). */
  readonly round: Round;
  readonly #services: Service[] = [];
  #tickTimer: unknown;
  #running = false;
  #startedAt = 0;

  /** `configState`: where `config` came from (startApp), if it chose; `bootState`: src/boot-guard.ts's (safe mode). */
  constructor(
    host: Host,
    config: Config,
    readonly configState?: ConfigState,
    readonly bootState?: BootState,
  ) {
    this.host = host;
    this.config = config;
    this.deviceId = config.deviceId ?? host.deviceId;
    const log = (line: string) => host.log(line);
    this.topics = deviceTopics(config.topicPrefix, this.deviceId);
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
      vibrationNative: host.vibrationNative,
    });
    const { commandKey: key } = config,
      { hmacSha256: hmac, store } = host;
    const auth = (this.auth = new CommandAuth({ key, deviceId: this.deviceId, hmac, store, log }));
    this.commands = new Commands({ log, clock: host.clock, auth });
    registerDeviceCommands(this.commands, { monitor: this.monitor, log, uptimeMs: () => this.#uptimeMs() });
    this.uplink.subscribe(this.topics.command, (payload, info) => {
      const answer = this.commands.handle(payload, info); // undefined: dropped by the rate limit
      if (answer !== undefined) this.uplink.reply(this.topics.result, answer);
    });
    this.round = firstRound({
      detector: this.monitor.detector,
      channelNames: this.sensors.channelNames,
      streams: this.monitor.streams,
      counters: this.stats,
      outbox: this.uplink.delivery,
      commands: this.commands.counters,
    });
    addFeatures(this);
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
  /** Starts of this device so far (kept in the store and the outbox's flash): with `seq`, messages are unique. */
  get boot(): number {
    return this.round.boot;
  }
  /** Every QoS 1 message is here, in flash when the host has it, from before it is sent until its PUBACK. */
  get outbox(): Outbox {
    return this.uplink.outbox;
  }

  /** The features added so far, in order. */
  get services(): readonly Service[] {
    return this.#services;
  }
  /** Adds a feature that runs with the app (started at once if the app is running). */
  use(service: Service): void {
    if (this.bootState?.safeMode && !service.runsInSafeMode) return; // safe mode: only what declares itself safe
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
    Object.assign(this.round, countBoot(host, this.uplink.delivery));
    host.log(this.uplink.delivery.summary());
    host.log(
      `telltale ${this.deviceId} on ${host.name}: ${c.sensors.length} sensor(s), every ${c.intervalMs} ms, broker ${c.broker.scheme}://${c.broker.host}:${c.broker.port}`,
    );
    this.sensors.probe();
    // Sampling does not wait for the network: a device without Wi-Fi still monitors (and logs) locally.
    if (!this.bootState?.safeMode) this.#schedule();
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
    const round = this.round,
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
      const event = alarmEvent(round, this.monitor.reason);
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
