// The application: configuration → sensors → detector → MQTT reporter, on the host's timers.
import type { Host } from "telltale/io/host";
import { chooseConfig, type Config } from "telltale/config/config";
import { parts } from "telltale/drivers/registry";
import type { Channel, SensorInstance, SensorIO, StreamInfo } from "telltale/drivers/part";
import { createDetector, type Detector } from "telltale/detector/select";
import { VibrationMonitor } from "telltale/detector/vibration-monitor";
import { ConnectionRefusedError, MQTTClient } from "telltale/mqtt/client";
import { utf8Decode, utf8Encode } from "telltale/mqtt/codec";
import { ALARM, Outbox, TELEMETRY } from "telltale/storage/outbox";
import { MemoryFlash } from "telltale/storage/memory-flash";
import { decodeBase64, encodeBase64 } from "telltale/storage/base64";

/** Consecutive failed samples after which a sensor is marked failed and re-probed later. */
const FAIL_AFTER = 3;
/** Ticks between re-probes of a failed sensor. */
const REPROBE_TICKS = 10;
/** A connection that lasted this long was healthy: the next outage starts the backoff from its base again. */
const HEALTHY_SESSION_MS = 10_000;
/** Outbox messages awaiting PUBACK at once; telemetry leaves ALARM_RESERVE of them free for alarms. */
const WINDOW = 8;
const ALARM_RESERVE = 2;
/** The outbox in RAM on a host without flash: it survives outages, not reboots. */
const RAM_OUTBOX_BYTES = 16384;
const RAM_OUTBOX_BLOCK = 2048;
/** Ticks between saves of the learned baselines (multivariate and vibration models), so they survive a reboot. */
const BASELINE_SAVE_TICKS = 600;
/** Store keys of the saved baselines, base64 text (NVS keys are at most 15 characters, strings at most 4000 bytes):
 *  the slow channels' model, and each vibration stream's as "vib<sensor index>", prefixed with what it was learned on. */
const BASELINE_KEY = "baseline";
function vibrationKey(index: number): string { return "vib" + index; }

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
  /** The vibration detector on this part's raw stream (parts with a FIFO), kept across re-probes. */
  vibration?: { monitor: VibrationMonitor; info: StreamInfo; saved: boolean };
}

function round2(v: number): number { return Math.round(v * 100) / 100; }

/**
 * The wait before reconnect attempt `attempt` (0 first): exponential backoff with full jitter, so a fleet that lost
 * its broker together does not come back together. After a refusal (bad credentials, not authorised) at least half
 * the window passes, so a refusal is never retried in a tight loop. `random` returning 1 gives plain exponential backoff.
 */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, refused = false, random: () => number = Math.random): number {
  const window = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  const floor = refused ? window / 2 : 0;
  return Math.floor(floor + random() * (window - floor)) + 100;
}

export class App {
  readonly host: Host;
  readonly config: Config;
  readonly deviceId: string;
  readonly topics: { telemetry: string; alarm: string; status: string; command: string; result: string };
  readonly #sensors: SensorSlot[] = [];
  readonly #detector: Detector;
  readonly #values: Int32Array;
  readonly #channelNames: string[] = [];
  readonly #io: SensorIO;
  #client: MQTTClient | undefined;
  #tickTimer: unknown;
  #reconnectTimer: unknown;
  #attempt = 0;
  #running = false;
  #seq = 0;
  #boot = 0;
  /** The device's alarm: the slow channels' detector or any vibration stream's. */
  #alarm = false;
  #startedAt = 0;
  #connectedAt = -1;
  /** QoS 1 messages waiting for their PUBACK: packet id → outbox sequence number, for the current connection. */
  readonly #inFlight = new Map<number, number>();
  #tokens = 0;
  #tokensAt = 0;
  #pumpTimer: unknown = undefined;
  readonly #topicBytes: { telemetry: Uint8Array; alarm: Uint8Array };
  /** Every QoS 1 message is here, in flash when the host has it, from before it is sent until its PUBACK. */
  readonly outbox: Outbox;
  readonly durable: boolean;
  readonly stats = { published: 0, dropped: 0, reconnects: 0, alarms: 0 };

  constructor(host: Host, config: Config) {
    this.host = host;
    this.config = config;
    this.deviceId = config.deviceId ?? host.deviceId;
    this.#io = { i2c: host.i2c, digital: host.digital, pulseCount: host.pulseCount, clock: host.clock };
    const base = config.topicPrefix + "/" + this.deviceId + "/";
    this.topics = { telemetry: base + "telemetry", alarm: base + "alarm", status: base + "status", command: base + "command", result: base + "command/result" };
    this.#topicBytes = { telemetry: utf8Encode(this.topics.telemetry), alarm: utf8Encode(this.topics.alarm) };
    let outbox: Outbox | undefined;
    if (host.flash) {
      try { outbox = new Outbox({ flash: host.flash }); } catch (e) { host.log("outbox: flash unusable (" + (e as Error).message + "); keeping messages in RAM"); }
    }
    this.durable = outbox !== undefined;
    this.outbox = outbox ?? new Outbox({ flash: new MemoryFlash({ byteLength: RAM_OUTBOX_BYTES, blockSize: RAM_OUTBOX_BLOCK }) });
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
    this.#detector = createDetector(config.detector, Math.max(1, first), first ? floors : [1]);
    this.#restoreBaseline();
  }

  get running(): boolean { return this.#running; }
  get connected(): boolean { return this.#client?.connected ?? false; }
  get detector(): Detector { return this.#detector; }
  /** The device's alarm state as last published: the slow detector's or any vibration stream's. */
  get alarm(): boolean { return this.#alarm; }
  /** The vibration detector of a sensor with a raw stream, once it has been attached. */
  vibration(sensor: string): VibrationMonitor | undefined { return this.#sensors.find((s) => s.name === sensor)?.vibration?.monitor; }
  /** Starts of this device so far (kept in the store): with `seq`, telemetry and alarms are unique across reboots. */
  get boot(): number { return this.#boot; }

  /** Brings up the network, probes the sensors, connects to the broker and starts sampling. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#startedAt = this.host.clock.now();
    const boots = Number(this.host.store.get("boot"));
    this.#boot = (Number.isInteger(boots) && boots > 0 ? boots : 0) + 1;
    try { this.host.store.set("boot", String(this.#boot)); } catch (e) { this.host.log("store: " + (e as Error).message); }
    const { pending, torn } = this.outbox.recovery;
    this.host.log(`outbox: ${pending} message(s) pending${this.durable ? "" : " (RAM only: no flash)"}${torn ? `, ${torn} torn write(s) skipped` : ""}`);
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

  #backoff(refused = false): number {
    const { backoffBaseMs, backoffCapMs } = this.config.broker;
    return backoffDelay(this.#attempt++, backoffBaseMs, backoffCapMs, refused);
  }

  /** Stops sampling, publishes "offline" and disconnects cleanly (the broker does not send the Will). */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.host.clock.clearTimeout(this.#tickTimer);
    this.host.clock.clearTimeout(this.#reconnectTimer);
    this.#stopPump();
    this.#inFlight.clear();
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
      this.#attachStream(slot);
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

  /** Feeds a part's raw stream (an accelerometer FIFO) to its vibration detector; the learned baseline survives a re-probe. */
  #attachStream(slot: SensorSlot): void {
    const v = this.config.detector.vibration, instance = slot.instance;
    if (!v.enabled || !instance?.stream) return;
    const info = instance.stream(undefined);
    let current = slot.vibration;
    if (!current || current.info.rate !== info.rate || current.info.axes !== info.axes) {
      const monitor = new VibrationMonitor({ ...v, axes: info.axes, sampleRate: info.rate });
      if (monitor.bands.length < v.bands.length) this.host.log(`sensor ${slot.name}: vibration bands at or above ${info.rate / 2} Hz (half its rate) left out`);
      current = slot.vibration = { monitor, info, saved: false };
      this.host.log(`sensor ${slot.name}: vibration detector on ${info.axes} axes at ${info.rate} Hz, ${monitor.names.length} features per window of ${monitor.front.windowSamples} (${monitor.stateBytes} bytes of state)`);
      this.#restoreVibration(slot, current);
    } else {
      current.monitor.front.reset(); // a new window; the model keeps what it learned
      current.info = info;
    }
    instance.stream(current.monitor);
  }

  #sensorError(slot: SensorSlot, error: Error): void {
    slot.errors++;
    slot.lastError = error.message;
    this.host.log(`sensor ${slot.name}: ${error.message}`);
  }

  /** What a vibration baseline was learned on, as its saved prefix: it is used only by the same sensor, part, rate and features. */
  #vibrationPrefix(slot: SensorSlot, v: NonNullable<SensorSlot["vibration"]>): string {
    return `${slot.name}/${slot.part}/${v.info.axes}x${v.info.rate}Hz/${v.monitor.front.windowSamples}/${v.monitor.bands.join(",")} `;
  }

  /** Stores a learned baseline as `prefix` + base64; a store that refuses it (full, too long) costs a log line, not the tick. */
  #saveImage(key: string, who: string, noun: string, prefix: string, bytes: Uint8Array): void {
    try { this.host.store.set(key, prefix + encodeBase64(bytes)); } catch (e) { this.host.log(`${who}: ${noun} not saved: ${(e as Error).message}`); }
  }

  /**
   * Hands a saved baseline to `load` if it was saved with this `prefix` (what it was learned on; "" for none). A missing
   * one is silent; one that does not fit is logged with the reason, and the model calibrates anew. True if loaded.
   */
  #restoreImage(key: string, who: string, noun: string, prefix: string, load: (bytes: Uint8Array) => void): boolean {
    const text = this.host.store.get(key);
    if (text === undefined) return false;
    try {
      const cut = prefix === "" ? 0 : text.lastIndexOf(" ") + 1, made = text.slice(0, cut);
      if (made !== prefix) throw new Error("learned on " + (made === "" ? "an unknown stream" : made.trim()) + ", this stream is " + prefix.trim());
      const bytes = decodeBase64(text.slice(cut));
      load(bytes);
      this.host.log(`${who}: restored the learned ${noun} (${bytes.length} bytes)`);
      return true;
    } catch (e) {
      this.host.log(`${who}: saved ${noun} not used (${(e as Error).message}); calibrating anew`);
      return false;
    }
  }

  #saveBaseline(): void {
    const bytes = this.#detector.exportState();
    if (bytes) this.#saveImage(BASELINE_KEY, "detector", "baseline", "", bytes);
  }

  #restoreBaseline(): void {
    if (this.#detector.model === "multivariate") this.#restoreImage(BASELINE_KEY, "detector", "baseline", "", (bytes) => this.#detector.importState(bytes));
  }

  #saveVibration(slot: SensorSlot, v: NonNullable<SensorSlot["vibration"]>): void {
    this.#saveImage(vibrationKey(this.#sensors.indexOf(slot)), "sensor " + slot.name, "vibration baseline", this.#vibrationPrefix(slot, v), v.monitor.model.exportState());
    v.saved = true;
  }

  #restoreVibration(slot: SensorSlot, v: NonNullable<SensorSlot["vibration"]>): void {
    v.saved = this.#restoreImage(vibrationKey(this.#sensors.indexOf(slot)), "sensor " + slot.name, "vibration baseline", this.#vibrationPrefix(slot, v),
      (bytes) => v.monitor.model.importState(bytes));
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
    const wasCalibrated = det.calibrated;
    if (valid !== 0) det.update(this.#values, valid);
    if (det.calibrated && (!wasCalibrated || seq % BASELINE_SAVE_TICKS === 0)) this.#saveBaseline();
    const score = round2(det.score / 256);
    const top = det.topChannel();
    // Vibration streams: what each detector saw since the previous tick (an alarm shorter than a tick still counts).
    const vibration: Record<string, unknown> = {};
    let vibrationCause: { channel: string; value: number | null; score: number } | undefined;
    for (const slot of this.#sensors) {
      const v = slot.vibration;
      if (!v) continue;
      if (v.monitor.model.calibrated && (!v.saved || seq % BASELINE_SAVE_TICKS === 0)) this.#saveVibration(slot, v);
      const seen = v.monitor.take(), features = v.monitor.features(v.info.unitPerCount), name = v.monitor.topName();
      const vscore = round2(seen.peakScore / 256);
      vibration[slot.name] = { calibrated: v.monitor.model.calibrated, windows: seen.windows, score: vscore, alarm: seen.alarmSeen, top: name ?? null, features };
      if (seen.alarmSeen && !vibrationCause) {
        const [axis, feature] = (name ?? ".").split(".");
        vibrationCause = { channel: slot.name + "." + (name ?? ""), value: features[axis]?.[feature] ?? null, score: vscore };
      }
    }
    const alarmNow = det.alarm || vibrationCause !== undefined;
    const telemetry = {
      boot: this.#boot, seq, uptimeMs: Math.round(this.host.clock.now() - this.#startedAt), sensors: readings,
      detector: { model: det.model, calibrated: det.calibrated, score, alarm: det.alarm, changePoint: det.changePoint, top: top >= 0 ? this.#channelNames[top] : null },
      ...(Object.keys(vibration).length > 0 ? { vibration } : {}),
      health: { sensors: health, mqtt: { ...this.stats }, outbox: { pending: this.outbox.pending, dropped: this.outbox.dropped } },
    };
    const line = Object.keys(readings).filter((name) => Object.keys(readings[name]).length > 0).map((name) => name + " " + Object.entries(readings[name]).map(([k, v]) => k + "=" + v).join(" ")).join(", ");
    this.#publish(TELEMETRY, JSON.stringify(telemetry),
      `telemetry #${seq}: ${line || "no readings"}; score ${score}${det.calibrated ? "" : " (calibrating)"}${alarmNow ? " ALARM" : ""}`);
    if (alarmNow !== this.#alarm) {
      this.#alarm = alarmNow;
      this.stats.alarms++;
      for (const slot of this.#sensors) slot.instance?.onAlarm?.(alarmNow);
      let channel = "", value: number | null = null, alarmScore = score;
      if (det.alarm || !vibrationCause) {
        channel = top >= 0 ? this.#channelNames[top] : "";
        const [sensorName, key] = channel.split(".");
        value = readings[sensorName]?.[key] ?? null;
      } else ({ channel, value, score: alarmScore } = vibrationCause);
      const alarm = { state: alarmNow ? "raised" : "cleared", boot: this.#boot, seq, score: alarmScore, channel, value };
      const text = `ALARM ${alarm.state}: ${channel} = ${alarm.value} (score ${alarmScore})`;
      this.#publish(ALARM, JSON.stringify(alarm), text);
    }
  }

  /** QoS 1 messages go to the outbox first and are sent from there; QoS 0 telemetry is sent only while connected. */
  #publish(kind: number, payload: string, line: string): void {
    const client = this.#client;
    if (kind === TELEMETRY && this.config.broker.telemetryQos === 0) {
      if (client?.connected) {
        client.publish(this.topics.telemetry, payload, { qos: 0 });
        this.stats.published++;
        this.host.log(line);
      } else {
        this.stats.dropped++;
        this.host.log(line + " (not sent: broker unreachable)");
      }
      return;
    }
    let seq: number;
    try {
      seq = this.outbox.append(kind, 1, false, kind === ALARM ? this.#topicBytes.alarm : this.#topicBytes.telemetry, utf8Encode(payload));
    } catch (e) {
      // A flash that fails to write must not cost the message while the broker is there to take it.
      this.host.log("outbox: " + (e as Error).message);
      if (client?.connected) {
        client.publish(kind === ALARM ? this.topics.alarm : this.topics.telemetry, payload, { qos: 1 });
        this.stats.published++;
        this.host.log(line + " (sent without the outbox)");
      } else {
        this.stats.dropped++;
        this.host.log(line + " (dropped: outbox failed and broker unreachable)");
      }
      return;
    }
    if (seq < 0) this.host.log(line + " (dropped: outbox full of alarms)");
    else this.host.log(line + (client?.connected ? "" : " (stored: broker unreachable)"));
    this.#pump();
  }

  /**
   * Hands outbox messages to the client: every pending alarm at once (a live alarm never waits behind a backlog),
   * then telemetry in order, paced by a token bucket at drainPerSecond, within the in-flight window.
   */
  #pump(): void {
    const client = this.#client;
    if (!this.#running || !client?.connected) return;
    const outbox = this.outbox;
    while (this.#inFlight.size < WINDOW) {
      const seq = outbox.next(ALARM);
      if (seq < 0) break;
      if (!this.#send(client, seq)) return;
    }
    const rate = this.config.broker.drainPerSecond;
    const now = this.host.clock.now();
    this.#tokens = Math.min(rate, this.#tokens + ((now - this.#tokensAt) * rate) / 1000);
    this.#tokensAt = now;
    while (this.#inFlight.size < WINDOW - ALARM_RESERVE && this.#tokens >= 1) {
      const seq = outbox.next(TELEMETRY);
      if (seq < 0) break;
      if (!this.#send(client, seq)) return;
      this.#tokens -= 1;
    }
    if (this.#tokens < 1 && this.#pumpTimer === undefined && this.#inFlight.size < WINDOW - ALARM_RESERVE && outbox.peek(TELEMETRY) >= 0) {
      this.#pumpTimer = this.host.clock.setTimeout(() => {
        this.#pumpTimer = undefined;
        this.#pump();
      }, Math.ceil(((1 - this.#tokens) * 1000) / rate));
    }
  }

  // Publishes one outbox record; false when the client cannot take it now (it stays due for the next pump).
  #send(client: MQTTClient, seq: number): boolean {
    let record;
    try {
      record = this.outbox.read(seq)!;
    } catch (e) {
      // Flash that rotted after the write: the record cannot be sent, so it must not block the ones behind it.
      this.host.log("outbox: " + (e as Error).message + "; dropped");
      try { this.outbox.ack(seq); } catch { /* reported by the next append */ }
      this.stats.dropped++;
      return true;
    }
    try {
      const id = client.publish(utf8Decode(record.topic), record.payload, { qos: 1, retain: record.retain });
      this.#inFlight.set(id, seq);
      this.stats.published++;
      return true;
    } catch {
      this.outbox.unsend(seq);
      return false;
    }
  }

  #acknowledged(id: number): void {
    const seq = this.#inFlight.get(id);
    if (seq === undefined) return; // the status message, which is not kept in the outbox
    this.#inFlight.delete(id);
    try { this.outbox.ack(seq); } catch (e) { this.host.log("outbox: " + (e as Error).message); }
    this.#pump();
  }

  #stopPump(): void {
    if (this.#pumpTimer === undefined) return;
    this.host.clock.clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
  }

  /**
   * A command from `<prefix>/<id>/command`: "recalibrate" or "ping", as plain text or {"command": …}. The answer goes
   * to `<prefix>/<id>/command/result`; a command that cannot be understood is answered with the reason, never obeyed.
   */
  #command(client: MQTTClient, payload: Uint8Array): void {
    let text = "";
    for (let i = 0; i < payload.length && i < 256; i++) text += String.fromCharCode(payload[i]);
    let name: unknown = text.trim();
    if (text.trim().startsWith("{")) {
      try { name = (JSON.parse(text) as { command?: unknown }).command; } catch { name = undefined; }
    }
    let result: Record<string, unknown>;
    if (name === "recalibrate") {
      this.#detector.reset();
      this.host.store.delete(BASELINE_KEY);
      this.#sensors.forEach((slot, i) => {
        this.host.store.delete(vibrationKey(i));
        if (!slot.vibration) return;
        slot.vibration.monitor.reset();
        slot.vibration.saved = false;
      });
      this.host.log("detector: recalibrating on command");
      result = { command: name, ok: true };
    } else if (name === "ping") {
      result = { command: name, ok: true, uptimeMs: Math.round(this.host.clock.now() - this.#startedAt) };
    } else {
      const error = payload.length > 256 ? "command longer than 256 bytes"
        : typeof name === "string" && name !== "" ? "unknown command " + JSON.stringify(name.slice(0, 40)) + " (known: recalibrate, ping)"
        : "expected \"recalibrate\", \"ping\" or {\"command\": …}";
      this.host.log("command rejected: " + error);
      result = { ok: false, error };
    }
    try { client.publish(this.topics.result, JSON.stringify(result), { qos: 0 }); } catch { /* answered on the next command */ }
  }

  #connect(): void {
    const b = this.config.broker;
    const client = new MQTTClient({
      host: b.host, port: b.port, clientId: "telltale-" + this.deviceId,
      username: b.username, password: b.password, keepalive: b.keepalive, clean: true,
      will: { topic: this.topics.status, payload: "offline", qos: 1, retain: true },
      socket: { io: this.host.tcp, secure: b.scheme === "mqtts" ? { ca: b.ca, certificate: b.certificate, key: b.key } : undefined },
      clock: this.host.clock,
      onConnect: () => {
        if (client !== this.#client) return;
        this.#connectedAt = this.host.clock.now();
        const backlog = this.outbox.pending;
        this.host.log(`mqtt: connected to ${b.host}:${b.port}${backlog ? `; sending ${backlog} stored message(s)` : ""}`);
        // The availability is state, not data: it is published anew on every connection rather than stored.
        client.publish(this.topics.status, "online", { qos: 1, retain: true });
        client.subscribe([{ topic: this.topics.command, qos: 1 }]);
        this.#inFlight.clear();
        this.outbox.rewind();
        this.#tokensAt = this.host.clock.now();
        this.#pump();
      },
      onMessage: (topic: string, payload: Uint8Array) => {
        if (client === this.#client && topic === this.topics.command) this.#command(client, payload);
      },
      onPublished: (id: number) => {
        if (client === this.#client) this.#acknowledged(id);
      },
      onError: (error: Error) => {
        if (client === this.#client) this.host.log("mqtt: " + error.message);
      },
      onClose: (reason?: Error) => {
        if (client !== this.#client || !this.#running) return;
        this.#client = undefined;
        this.stats.reconnects++;
        this.#inFlight.clear();
        this.#stopPump();
        // The backoff restarts from its base only after a session that lasted: a broker that accepts and
        // then drops every connection is not hammered.
        if (this.#connectedAt >= 0 && this.host.clock.now() - this.#connectedAt >= HEALTHY_SESSION_MS) this.#attempt = 0;
        this.#connectedAt = -1;
        const delay = this.#backoff(reason instanceof ConnectionRefusedError);
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
