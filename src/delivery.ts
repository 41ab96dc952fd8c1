// Delivery: QoS routing through the outbox, a paced pump within an in-flight window, and PUBACKs that remove messages.
import type { Clock, Flash } from "telltale/io/io";
import { utf8Decode, utf8Encode } from "telltale/text/utf8";
import { ALARM, Outbox, TELEMETRY } from "telltale/storage/outbox";
import { MemoryFlash } from "telltale/storage/memory-flash";
import { messageOf } from "telltale/errors/message";
import type { OutboxLosses, OutboxStatus } from "./telemetry.js";
import type { BootStamps } from "./identity.js";

/** Outbox messages awaiting PUBACK at once; telemetry leaves ALARM_RESERVE of them free for alarms. */
export const WINDOW = 8;
export const ALARM_RESERVE = 2;
/**
 * The largest message (topic + payload bytes) the outbox takes: segments are sized for it (two 4 KiB blocks on
 * ESP32). The largest telemetry a valid configuration makes is about 4.9 KB (16 sensors with 32-character names, four
 * of them accelerometers with every vibration feature; tests/src/app-outbox.suite.ts builds it), so this leaves room.
 */
export const MAX_MESSAGE_BYTES = 8000;
/** The outbox in RAM on a host without usable flash: it survives outages, not reboots. Three 8 KiB segments. */
const RAM_OUTBOX_BYTES = 3 * 8192;
const RAM_OUTBOX_BLOCK = 8192;

/** The session as delivery uses it: the MQTT client (or a test's fake). */
export interface Publisher {
  readonly connected: boolean;
  /** Returns the packet id (QoS 1); throws when the message cannot be queued now. */
  publish(topic: string, payload: string | Uint8Array, options: { qos: 0 | 1; retain?: boolean }): number;
}

/** Counters delivery keeps (shared with the app's health telemetry): `dropped` counts QoS 0 telemetry not sent. */
export interface DeliveryCounters {
  published: number;
  dropped: number;
}

export interface DeliveryOptions {
  /** The host's flash for a durable outbox; without one (or when it is unusable) the outbox lives in RAM. */
  readonly flash?: Flash;
  /** Why a host that should have flash has none: reported as the outbox's `error`. */
  readonly flashProblem?: string;
  readonly clock: Clock;
  log: (line: string) => void;
  readonly topics: { readonly telemetry: string; readonly alarm: string };
  /** 1: telemetry goes through the outbox like alarms; 0: it is sent only while connected. */
  readonly telemetryQos: 0 | 1;
  /** Telemetry sent per second while a backlog drains. */
  readonly drainPerSecond: number;
  readonly counters: DeliveryCounters;
}

/**
 * Every QoS 1 message goes to the outbox (in flash when the host has it) before it is sent, and leaves it only when its
 * PUBACK arrives. Pending alarms go first, all at once; telemetry follows in order, paced by a token bucket.
 */
export class Delivery implements OutboxStatus, BootStamps {
  readonly outbox: Outbox;
  /** False when the outbox lives in RAM; `error` then says why, if the host knows. */
  readonly durable: boolean;
  readonly error: string | undefined;
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  readonly #topics: { readonly telemetry: string; readonly alarm: string };
  readonly #topicBytes: { telemetry: Uint8Array; alarm: Uint8Array };
  #telemetryQos: 0 | 1;
  readonly #rate: number;
  readonly #counters: DeliveryCounters;
  #client: Publisher | undefined;
  /** QoS 1 messages waiting for their PUBACK: packet id → outbox sequence number, for the current connection. */
  readonly #inFlight = new Map<number, number>();
  #tokens = 0;
  #tokensAt = 0;
  #pumpTimer: unknown = undefined;
  // Messages lost before reaching the outbox: over its size limit, or its flash failed while the broker was away.
  #tooLarge = 0;
  #unwritable = 0;
  #lostAlarms = 0;

  constructor(options: DeliveryOptions) {
    this.#clock = options.clock;
    this.#log = options.log;
    this.#topics = options.topics;
    this.#topicBytes = { telemetry: utf8Encode(options.topics.telemetry), alarm: utf8Encode(options.topics.alarm) };
    this.#telemetryQos = options.telemetryQos;
    this.#rate = options.drainPerSecond;
    this.#counters = options.counters;
    let outbox: Outbox | undefined,
      error = options.flashProblem;
    if (options.flash) {
      try {
        outbox = new Outbox({ flash: options.flash, maxRecordBytes: MAX_MESSAGE_BYTES });
      } catch (e) {
        error = "flash unusable: " + messageOf(e);
      }
    }
    this.durable = outbox !== undefined;
    this.error = outbox ? undefined : error;
    this.outbox =
      outbox ??
      new Outbox({
        flash: new MemoryFlash({ byteLength: RAM_OUTBOX_BYTES, blockSize: RAM_OUTBOX_BLOCK }),
        maxRecordBytes: MAX_MESSAGE_BYTES,
      });
  }

  get pending(): number {
    return this.outbox.pending;
  }
  /** QoS 1 messages lost, for every reason (see `lost`). */
  get dropped(): number {
    return this.outbox.dropped + this.#tooLarge + this.#unwritable;
  }
  /** How many of those were alarms. */
  get droppedAlarms(): number {
    return this.outbox.droppedAlarms + this.#lostAlarms;
  }
  /** QoS 1 messages lost, by reason. */
  get lost(): OutboxLosses {
    const o = this.outbox;
    return {
      evicted: o.evicted,
      full: o.full,
      tooLarge: this.#tooLarge,
      damaged: o.damaged,
      unwritable: this.#unwritable,
    };
  }
  /** The highest boot counter in the outbox's flash (0: none, or the outbox is in RAM). */
  get bootStamp(): number {
    return this.durable ? this.outbox.boot : 0;
  }
  /** Keeps the boot counter in the outbox's flash too: false when the outbox is in RAM; throws when the write fails. */
  stampBoot(boot: number): boolean {
    if (!this.durable) return false;
    this.outbox.stampBoot(boot);
    return true;
  }
  /** Messages handed to the client and not yet acknowledged. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** The start log line: what recovery found (torn writes, damaged records and where), where the outbox lives. */
  summary(): string {
    const { pending, torn, damaged, damagedAlarms, problems } = this.outbox.recovery;
    const where = this.durable ? "" : ` (RAM only: ${this.error ?? "no flash"})`;
    const tornText = torn ? `, ${torn} torn write(s) skipped` : "";
    const damage = damaged
      ? `, ${damaged} damaged record(s) lost${damagedAlarms ? ` (${damagedAlarms} alarm(s))` : ""}: ${problems.join("; ")}`
      : "";
    return `outbox: ${pending} message(s) pending${where}${tornText}${damage}`;
  }

  /** The session's client from its creation; nothing is sent through it before `resume()`. */
  attach(client: Publisher): void {
    this.#client = client;
  }

  /** The session is up: everything unacknowledged is due again, from the start of the outbox. */
  resume(): void {
    this.#inFlight.clear();
    this.outbox.rewind();
    this.#tokensAt = this.#clock.now();
    this.#pump();
  }

  /** The session ended: nothing is in flight any more (the outbox keeps it all) and the pump stops. */
  detach(): void {
    this.#client = undefined;
    this.#inFlight.clear();
    if (this.#pumpTimer === undefined) return;
    this.#clock.clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
  }

  /** Telemetry's QoS from the next message on (a remote configuration change applies it live). */
  set telemetryQos(qos: 0 | 1) {
    this.#telemetryQos = qos;
  }

  /** QoS 1 messages go to the outbox first and are sent from there; QoS 0 telemetry is sent only while connected. */
  publish(kind: number, payload: string, line: string): void {
    const client = this.#client,
      counters = this.#counters;
    if (kind === TELEMETRY && this.#telemetryQos === 0) {
      if (client?.connected) {
        client.publish(this.#topics.telemetry, payload, { qos: 0 });
        counters.published++;
        this.#log(line);
      } else {
        counters.dropped++;
        this.#log(line + " (not sent: broker unreachable)");
      }
      return;
    }
    const topic = kind === ALARM ? this.#topicBytes.alarm : this.#topicBytes.telemetry;
    const bytes = utf8Encode(payload);
    if (topic.length + bytes.length > this.outbox.maxRecordBytes) {
      const size = `${topic.length + bytes.length} bytes is over the outbox's ${this.outbox.maxRecordBytes}-byte limit`;
      this.#unstored(kind, payload, line, size, true);
      return;
    }
    let seq: number;
    try {
      seq = this.outbox.append(kind, 1, false, topic, bytes);
    } catch (e) {
      // A flash that fails to write must not cost the message while the broker is there to take it.
      this.#log("outbox: " + messageOf(e));
      this.#unstored(kind, payload, line, "outbox failed", false);
      return;
    }
    if (seq < 0) this.#log(line + " (dropped: outbox full of alarms)");
    else this.#log(line + (client?.connected ? "" : " (stored: broker unreachable)"));
    this.#pump();
  }

  // A message the outbox could not take: sent at once while connected (not durable), otherwise lost and counted.
  #unstored(kind: number, payload: string, line: string, why: string, tooLarge: boolean): void {
    const client = this.#client;
    if (client?.connected) {
      try {
        client.publish(kind === ALARM ? this.#topics.alarm : this.#topics.telemetry, payload, { qos: 1 });
        this.#counters.published++;
        this.#log(line + " (sent without the outbox: " + why + ")");
        return;
      } catch (e) {
        why += "; " + messageOf(e);
      }
    }
    if (tooLarge) this.#tooLarge++;
    else this.#unwritable++;
    if (kind === ALARM) this.#lostAlarms++;
    this.#log(line + " (dropped: " + why + (client?.connected ? "" : " and broker unreachable") + ")");
  }

  /** A PUBACK: its message leaves the outbox (an id not in flight, like the status message's, is ignored). */
  acknowledged(id: number): void {
    const seq = this.#inFlight.get(id);
    if (seq === undefined) return;
    this.#inFlight.delete(id);
    try {
      this.outbox.ack(seq);
    } catch (e) {
      this.#log("outbox: " + messageOf(e));
    }
    this.#pump();
  }

  /**
   * Hands outbox messages to the client: every pending alarm at once (a live alarm never waits behind a backlog),
   * then telemetry in order, paced by a token bucket at drainPerSecond, within the in-flight window.
   */
  #pump(): void {
    const client = this.#client;
    if (!client?.connected) return;
    const outbox = this.outbox,
      inFlight = this.#inFlight;
    while (inFlight.size < WINDOW) {
      const seq = outbox.next(ALARM);
      if (seq < 0) break;
      if (!this.#send(client, seq)) return;
    }
    const rate = this.#rate;
    const now = this.#clock.now();
    this.#tokens = Math.min(rate, this.#tokens + ((now - this.#tokensAt) * rate) / 1000);
    this.#tokensAt = now;
    while (inFlight.size < WINDOW - ALARM_RESERVE && this.#tokens >= 1) {
      const seq = outbox.next(TELEMETRY);
      if (seq < 0) break;
      if (!this.#send(client, seq)) return;
      this.#tokens -= 1;
    }
    if (
      this.#tokens < 1 &&
      this.#pumpTimer === undefined &&
      inFlight.size < WINDOW - ALARM_RESERVE &&
      outbox.peek(TELEMETRY) >= 0
    ) {
      this.#pumpTimer = this.#clock.setTimeout(
        () => {
          this.#pumpTimer = undefined;
          this.#pump();
        },
        Math.ceil(((1 - this.#tokens) * 1000) / rate),
      );
    }
  }

  // Publishes one outbox record; false when the client cannot take it now (it stays due for the next pump).
  #send(client: Publisher, seq: number): boolean {
    let record;
    try {
      record = this.outbox.read(seq)!;
    } catch (e) {
      // Flash that rotted after the write: the outbox dropped and counted the record, so it blocks none behind it.
      this.#log("outbox: " + messageOf(e));
      return true;
    }
    try {
      const id = client.publish(utf8Decode(record.topic), record.payload, { qos: 1, retain: record.retain });
      this.#inFlight.set(id, seq);
      this.#counters.published++;
      return true;
    } catch {
      this.outbox.unsend(seq);
      return false;
    }
  }
}
