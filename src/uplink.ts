// The uplink: the MQTT session (network, reconnect with backoff, availability and Last Will, subscriptions) over delivery and the host's socket.
import type { Host } from "telltale/io/host";
import type { BrokerConfig } from "telltale/config/config";
import { ConnectionRefusedError, MQTTClient, OversizedMessageError, type MQTTMessageInfo } from "telltale/mqtt/client";
import type { Outbox } from "telltale/storage/outbox";
import { messageOf } from "telltale/errors/message";
import { Delivery, type DeliveryCounters } from "./delivery.js";

/** A connection that lasted this long was healthy: the next outage starts the backoff from its base again. */
export const HEALTHY_SESSION_MS = 10_000;

/**
 * The wait before reconnect attempt `attempt` (0 first): exponential backoff with full jitter, so a fleet that lost
 * its broker together does not come back together. After a refusal (bad credentials, not authorised) at least half
 * the window passes, so a refusal is never retried in a tight loop. `random` returning 1 gives plain exponential backoff.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  capMs: number,
  refused = false,
  random: () => number = Math.random,
): number {
  const window = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  const floor = refused ? window / 2 : 0;
  return Math.floor(floor + random() * (window - floor)) + 100;
}

/** Counters the uplink keeps (shared with the app's health telemetry). */
export interface UplinkCounters extends DeliveryCounters {
  reconnects: number;
  /** Messages on subscribed topics over the client's packet limit: acknowledged, logged and discarded. */
  oversized: number;
}

/** A message on a subscribed topic; `retain` is set when the broker replays a retained message. */
export type MessageHandler = (payload: Uint8Array, info: { readonly retain: boolean }) => void;

export interface UplinkOptions {
  /** IO, time and logging; `connectNetwork` is looked up on each attempt. */
  readonly host: Pick<Host, "clock" | "tcp" | "flash" | "flashProblem" | "log" | "connectNetwork">;
  readonly broker: BrokerConfig;
  readonly clientId: string;
  /** Where telemetry and alarms go; `status` carries the availability ("online", and "offline" as the Last Will). */
  readonly topics: { readonly telemetry: string; readonly alarm: string; readonly status: string };
  readonly counters: UplinkCounters;
}

/**
 * Keeps one MQTT session up while running: brings up the network, connects, and after a loss reconnects with
 * exponential backoff and full jitter. Each connection announces the retained state (the availability first) and
 * subscribes to every registered topic; messages go through `delivery` (the outbox).
 */
export class Uplink {
  readonly delivery: Delivery;
  readonly #host: UplinkOptions["host"];
  readonly #broker: BrokerConfig;
  readonly #clientId: string;
  readonly #status: string;
  readonly #counters: UplinkCounters;
  /** Retained state published anew on every connection (it is state, not data: it is not stored). */
  readonly #announced = new Map<string, string>();
  readonly #subscribed = new Map<string, MessageHandler>();
  #client: MQTTClient | undefined;
  #running = false;
  #attempt = 0;
  #connectedAt = -1;
  #reconnectTimer: unknown;

  constructor(options: UplinkOptions) {
    const { host, broker, topics } = options;
    this.#host = host;
    this.#broker = broker;
    this.#clientId = options.clientId;
    this.#status = topics.status;
    this.#counters = options.counters;
    this.delivery = new Delivery({
      flash: host.flash,
      flashProblem: host.flashProblem,
      clock: host.clock,
      log: (line) => host.log(line),
      topics,
      telemetryQos: broker.telemetryQos,
      drainPerSecond: broker.drainPerSecond,
      counters: options.counters,
    });
    this.announce(topics.status, "online");
  }

  get running(): boolean {
    return this.#running;
  }
  get connected(): boolean {
    return this.#client?.connected ?? false;
  }
  get outbox(): Outbox {
    return this.delivery.outbox;
  }

  /** Publishes `payload` retained (QoS 1) on every connection, in the order announced. */
  announce(topic: string, payload: string): void {
    this.#announced.set(topic, payload);
    const client = this.#client;
    if (!client?.connected) return;
    try {
      client.publish(topic, payload, { qos: 1, retain: true });
    } catch {
      /* the next connection announces it */
    }
  }

  /** Subscribes (QoS 1) to `topic` on every connection; its messages go to `handler`. */
  subscribe(topic: string, handler: MessageHandler): void {
    this.#subscribed.set(topic, handler);
    const client = this.#client;
    if (client?.connected) client.subscribe([{ topic, qos: 1 }]);
  }

  /** Telemetry or an alarm: stored, then sent (see Delivery). */
  publish(kind: number, payload: string, line: string): void {
    this.delivery.publish(kind, payload, line);
  }

  /** A best-effort answer (QoS 0), lost when the session cannot take it now. */
  reply(topic: string, payload: string): void {
    try {
      this.#client?.publish(topic, payload, { qos: 0 });
    } catch {
      /* answered on the next request */
    }
  }

  /** Brings up the network and connects; keeps retrying both until stop(). */
  start(): Promise<void> {
    if (this.#running) return Promise.resolve();
    this.#running = true;
    return this.#bringUpNetwork();
  }

  /** Publishes "offline" and disconnects cleanly (the broker does not send the Will); no timer fires afterwards. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#host.clock.clearTimeout(this.#reconnectTimer);
    this.delivery.detach();
    const client = this.#client;
    this.#client = undefined;
    if (client?.connected) {
      client.publish(this.#status, "offline", { qos: 0, retain: true });
      client.disconnect();
    } else client?.close();
  }

  async #bringUpNetwork(): Promise<void> {
    try {
      await this.#host.connectNetwork();
    } catch (e) {
      if (!this.#running) return;
      const delay = this.#backoff();
      this.#host.log(`network: ${messageOf(e)}; retrying in ${delay} ms`);
      this.#reconnectTimer = this.#host.clock.setTimeout(() => {
        if (this.#running) void this.#bringUpNetwork();
      }, delay);
      return;
    }
    this.#attempt = 0;
    if (this.#running) this.#connect();
  }

  #backoff(refused = false): number {
    const { backoffBaseMs, backoffCapMs } = this.#broker;
    return backoffDelay(this.#attempt++, backoffBaseMs, backoffCapMs, refused);
  }

  #connect(): void {
    const b = this.#broker,
      host = this.#host,
      delivery = this.delivery;
    const client = new MQTTClient({
      host: b.host,
      port: b.port,
      clientId: this.#clientId,
      username: b.username,
      password: b.password,
      keepalive: b.keepalive,
      clean: true,
      will: { topic: this.#status, payload: "offline", qos: 1, retain: true },
      socket: {
        io: host.tcp,
        secure: b.scheme === "mqtts" ? { ca: b.ca, certificate: b.certificate, key: b.key } : undefined,
      },
      clock: host.clock,
      onConnect: () => {
        if (client !== this.#client) return;
        this.#connectedAt = host.clock.now();
        const backlog = delivery.pending;
        host.log(`mqtt: connected to ${b.host}:${b.port}${backlog ? `; sending ${backlog} stored message(s)` : ""}`);
        for (const [topic, payload] of this.#announced) client.publish(topic, payload, { qos: 1, retain: true });
        if (this.#subscribed.size > 0)
          client.subscribe([...this.#subscribed.keys()].map((topic) => ({ topic, qos: 1 as const })));
        delivery.resume();
      },
      onMessage: (topic: string, payload: Uint8Array, info: MQTTMessageInfo) => {
        const handler = this.#subscribed.get(topic);
        if (client === this.#client && handler) handler(payload, { retain: info.retain });
      },
      onPublished: (id: number) => {
        if (client === this.#client) delivery.acknowledged(id);
      },
      // Also how the client reports a message it discarded as oversized and one it resent for want of a PUBACK.
      onError: (error: Error) => {
        if (client !== this.#client) return;
        if (error instanceof OversizedMessageError) this.#counters.oversized++;
        host.log("mqtt: " + error.message);
      },
      onClose: (reason?: Error) => {
        if (client !== this.#client || !this.#running) return;
        this.#client = undefined;
        this.#counters.reconnects++;
        delivery.detach();
        // The backoff restarts from its base only after a session that lasted: a broker that accepts and
        // then drops every connection is not hammered.
        if (this.#connectedAt >= 0 && host.clock.now() - this.#connectedAt >= HEALTHY_SESSION_MS) this.#attempt = 0;
        this.#connectedAt = -1;
        const delay = this.#backoff(reason instanceof ConnectionRefusedError);
        host.log(`mqtt: connection lost${reason ? " (" + reason.message + ")" : ""}; retrying in ${delay} ms`);
        this.#reconnectTimer = host.clock.setTimeout(() => {
          if (this.#running) this.#connect();
        }, delay);
      },
    });
    this.#client = client;
    delivery.attach(client);
    client.connect();
  }
}
