// MQTT 3.1.1/5.0 client session state machine (QoS 0/1/2, keepalive, acknowledgement timeouts, oversized messages skipped, sessions resumed with in-flight resend) over an injected ECMA-419 TCP socket and clock.
import type { Clock, TCPSocket, TCPSocketConstructor, TCPSocketOptions, TLSOptions } from "telltale/io/io";
import {
  CONNACK,
  PUBLISH,
  PUBACK,
  PUBREC,
  PUBREL,
  PUBCOMP,
  SUBACK,
  UNSUBACK,
  DISCONNECT,
  DEFAULT_MAX_PACKET_SIZE,
  MAX_PACKET_SIZE,
  connackReason,
  packetName,
  reasonName,
  type IncomingPacket,
  type OversizedPublishPacket,
  type Properties,
  type ProtocolVersion,
  type SubscribeFilter,
  type Will,
} from "telltale/mqtt/packets";
import { topicNameProblem } from "telltale/mqtt/topic";
import {
  encodeAck,
  encodeConnect,
  encodeDisconnect,
  encodePingreq,
  encodePuback,
  encodePublish,
  encodeSubscribe,
  markDuplicate,
} from "telltale/mqtt/encode";
import { PacketDecoder } from "telltale/mqtt/decode";
import { messageOf } from "telltale/errors/message";

export interface MQTTWill {
  topic: string;
  payload: string | Uint8Array;
  qos?: 0 | 1 | 2;
  retain?: boolean;
  /** MQTT 5.0 Will properties. */
  properties?: Properties;
}

export interface MQTTMessageInfo {
  qos: 0 | 1 | 2;
  retain: boolean;
  dup: boolean;
  /** MQTT 5.0 */ properties?: Properties;
}

export interface MQTTClientOptions {
  /** Broker host name or address, handed to the socket unchanged. */
  host: string;
  port: number;
  /** May be empty only with `clean: true` (§3.1.3.1). */
  clientId: string;
  username?: string;
  /** Requires `username` (§3.1.2.9). */
  password?: string | Uint8Array;
  /** Seconds, 0-65535, default 60; 0 turns keepalive (and the CONNACK timeout) off. */
  keepalive?: number;
  /** Clean session (3.1.1) / clean start (5.0), default true. With false the broker keeps the session, and
   *  messages still in flight are resent (DUP set) after the next CONNACK. */
  clean?: boolean;
  /** 4 (MQTT 3.1.1, the default) or 5 (MQTT 5.0). */
  protocolVersion?: ProtocolVersion;
  /** MQTT 5.0: seconds the broker keeps the session after the connection ends; default 0 with clean, else 0xFFFFFFFF (kept). */
  sessionExpiry?: number;
  /** MQTT 5.0: more CONNECT properties (user properties, ...); Maximum Packet Size comes from `maxPacketSize`. */
  connectProperties?: Properties;
  will?: MQTTWill;
  socket: { io: TCPSocketConstructor; secure?: TLSOptions };
  clock: Clock;
  /**
   * Largest incoming packet in bytes, default 65536. With 5.0 it is sent as CONNECT's Maximum Packet Size, so the
   * broker does not send a larger one (§3.1.2.11.4). A larger PUBLISH is still read as it streams in without being
   * buffered, acknowledged for its QoS so that the broker does not send it again, and discarded: the session goes on,
   * onError gets an OversizedMessageError naming its topic and size, and `oversized` counts it. Any other packet over
   * the limit closes the connection.
   */
  maxPacketSize?: number;
  /**
   * Milliseconds a QoS 1 or 2 message waits for its acknowledgement (PUBACK, PUBREC, PUBCOMP), counted once every byte
   * queued before it has been written; default the keepalive period (60 s with keepalive 0); 0 waits forever. With
   * 3.1.1 the message and those sent after it are then resent, DUP set; with 5.0, which allows resending only on a
   * new connection (§4.4), the connection is closed, and the next connect() resends them.
   */
  ackTimeout?: number;
  /** MQTT 3.1.1: how many times a message is resent on one connection before its next timeout closes it; default 2. */
  ackRetries?: number;
  /** QoS 1 and 2 messages not yet acknowledged, default 16 (with 5.0, at most the broker's Receive Maximum); publish() throws beyond it. */
  maxInFlight?: number;
  /** Bytes waiting to be written, default 16384; publish() and subscribe() throw beyond it. */
  maxQueued?: number;
  onConnect?: (this: MQTTClient, sessionPresent: boolean) => void;
  onMessage?: (this: MQTTClient, topic: string, payload: Uint8Array, info: MQTTMessageInfo) => void;
  /**
   * A QoS 1 message was acknowledged (PUBACK) or a QoS 2 one completed (PUBCOMP). With 5.0, a reason code of 0x80
   * or more means the broker refused it (it is not resent).
   */
  onPublished?: (this: MQTTClient, id: number, reasonCode: number) => void;
  /** A SUBACK arrived: one granted QoS per filter, 0x80 for a refused filter (§3.9.3). */
  onSubscribed?: (this: MQTTClient, id: number, granted: number[]) => void;
  /** The connection ended: undefined after disconnect(), otherwise why. */
  onClose?: (this: MQTTClient, reason: Error | undefined) => void;
  onError?: (this: MQTTClient, error: Error) => void;
}

export interface MQTTPublishOptions {
  qos?: 0 | 1 | 2;
  retain?: boolean;
  /** MQTT 5.0 PUBLISH properties. */ properties?: Properties;
}

/** An incoming message over `maxPacketSize`: acknowledged and discarded, the session kept (reported to onError). */
export class OversizedMessageError extends Error {
  /** Undefined when the topic alone was over the limit. */
  readonly topic: string | undefined;
  /** The whole packet in bytes. */
  readonly size: number;
  override name = "OversizedMessageError";
  constructor(packet: OversizedPublishPacket, limit: number) {
    super(
      "MQTT: discarded " +
        (packet.retain ? "a retained" : "a") +
        " message of " +
        packet.size +
        " bytes on " +
        (packet.topic === undefined ? "a topic of " + packet.topicSize + " bytes" : JSON.stringify(packet.topic)) +
        " (over the " +
        limit +
        "-byte limit)",
    );
    this.topic = packet.topic;
    this.size = packet.size;
  }
}

// Connection states. CLOSED is final (close() was called); IDLE can connect() again.
const IDLE = 0,
  CONNECTING = 1,
  CONNECTED = 2,
  DISCONNECTING = 3,
  CLOSED = 4;
const STATE_NAMES = Object.freeze(["idle", "connecting", "connected", "disconnecting", "closed"]);

/** How long disconnect() waits for queued bytes and DISCONNECT to be written before closing anyway. */
export const DISCONNECT_TIMEOUT_MS = 5000;

const NO_TIMER = -1;

// Shared by every client, and read-only once preloaded: the queue never modifies a packet other than an in-flight
// PUBLISH (markDuplicate), which each publish() encodes anew.
const PINGREQ_PACKET = encodePingreq();
const DISCONNECT_PACKET = encodeDisconnect();

/** The broker refused the connection (a CONNACK with a non-zero code): retrying soon rarely helps. */
export class ConnectionRefusedError extends Error {
  /** The CONNACK return code (3.1.1 §3.2.2.3) or reason code (5.0 §3.2.2.2). */
  readonly returnCode: number;
  override name = "ConnectionRefusedError";
  constructor(returnCode: number, version: ProtocolVersion = 4) {
    super(
      "MQTT: connection refused: " +
        connackReason(returnCode, version) +
        " (" +
        (version === 5 ? "0x" + returnCode.toString(16) : returnCode) +
        ")",
    );
    this.returnCode = returnCode;
  }
}

function optionError(name: string, rule: string): Error {
  return new Error('MQTTClient: option "' + name + '" ' + rule);
}

function isInteger(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

function isBinary(value: unknown): value is string | Uint8Array {
  return typeof value === "string" || value instanceof Uint8Array;
}

function checkCallback(options: MQTTClientOptions, name: keyof MQTTClientOptions): void {
  const value = options[name];
  if (value !== undefined && typeof value !== "function") throw optionError(name, "must be a function");
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * One MQTT session with one broker. Outgoing packets go through a byte-counted queue that is written
 * only as far as the socket's last onWritable count allows (ECMA-419). QoS 1 messages stay in the
 * in-flight map until PUBACK and are re-sent, DUP set, after the next CONNACK, or (3.1.1) on the same
 * connection when the acknowledgement is `ackTimeout` late; a broker that stays silent is left as one that
 * misses PINGRESP is. An incoming PUBLISH over `maxPacketSize` is acknowledged and discarded. User callbacks always
 * run from a promise job, never on the stack of a public method or a socket callback. Reconnecting
 * is the caller's job: after onClose, call connect() again.
 */
export class MQTTClient {
  readonly #host: string;
  readonly #port: number;
  readonly #io: TCPSocketConstructor;
  readonly #secure: TLSOptions | undefined;
  readonly #clock: Clock;
  #keepaliveMs: number;
  readonly #configuredKeepaliveMs: number;
  readonly #maxInFlight: number;
  readonly #version: ProtocolVersion;
  // Set by each CONNACK (5.0 properties): how many unacknowledged messages, which QoS and what size the broker takes.
  #window = 0;
  #maximumQoS = 2;
  #maximumPacketSize = MAX_PACKET_SIZE;
  #assignedClientId: string | undefined;
  readonly #maxQueued: number;
  readonly #packetLimit: number;
  readonly #ackTimeout: number;
  readonly #ackRetries: number;
  readonly #connectPacket: Uint8Array;
  readonly #decoder: PacketDecoder;
  readonly #onConnect: MQTTClientOptions["onConnect"];
  readonly #onMessage: MQTTClientOptions["onMessage"];
  readonly #onPublished: MQTTClientOptions["onPublished"];
  readonly #onSubscribed: MQTTClientOptions["onSubscribed"];
  readonly #onClose: MQTTClientOptions["onClose"];
  readonly #onError: MQTTClientOptions["onError"];

  #state = IDLE;
  #socket: TCPSocket | undefined;
  // Bumped whenever a socket is dropped, so late callbacks from an old socket are ignored.
  #generation = 0;
  // The current connection reached CONNECTED, so every in-flight message was handed to the socket.
  #reachedConnected = false;

  #queue: Uint8Array[] = [];
  #queueHead = 0;
  #queueOffset = 0;
  #queuedBytes = 0;
  #writable = 0;

  // Insertion order is publish order, which is the order resends must keep (§4.6). Each holds the packet to resend:
  // the PUBLISH until PUBACK or PUBREC, then (QoS 2) the PUBREL until PUBCOMP.
  readonly #inFlight = new Map<number, Uint8Array>();
  // QoS 2 messages received and delivered, awaiting their PUBREL: a resent PUBLISH is not delivered twice (§4.3.3).
  readonly #received = new Set<number>();
  readonly #pendingSubscribes = new Set<number>();
  #nextId = 1;
  // In-flight messages handed to the current connection: when each was last queued, and how often it was resent on it.
  readonly #sentAt = new Map<number, number>();
  readonly #resent = new Map<number, number>();
  // No earlier than the first acknowledgement deadline (NO_TIMER when nothing waits): the timer checks then.
  #ackCheckAt = NO_TIMER;
  #oversized = 0;

  #lastSent = 0;
  #lastReceived = 0;
  #pingOutstanding = false;
  #disconnectDeadline = 0;
  #timer: unknown = undefined;
  #timerAt = NO_TIMER;
  readonly #onTimer = (): void => this.#tick();

  #events: (() => void)[] = [];
  #eventsScheduled = false;
  readonly #deliverEvents = (): void => this.#deliver();

  constructor(options: MQTTClientOptions) {
    if (typeof options !== "object" || options === null) throw new Error("MQTTClient: options must be an object");
    const { host, port, clientId, username, password, will, socket, clock } = options;
    const keepalive = options.keepalive ?? 60;
    const clean = options.clean ?? true;
    const maxPacketSize = options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
    const maxInFlight = options.maxInFlight ?? 16;
    const maxQueued = options.maxQueued ?? 16384;
    const version = options.protocolVersion ?? 4;
    const sessionExpiry = options.sessionExpiry ?? (clean ? 0 : 0xffffffff);
    const ackTimeout = options.ackTimeout ?? (keepalive > 0 ? keepalive * 1000 : 60000);
    const ackRetries = options.ackRetries ?? (version === 5 ? 0 : 2);

    if (typeof host !== "string" || host.length === 0) throw optionError("host", "must be a non-empty string");
    if (!isInteger(port, 1, 65535)) throw optionError("port", "must be an integer 1-65535");
    if (typeof clean !== "boolean") throw optionError("clean", "must be a boolean");
    if (typeof clientId !== "string") throw optionError("clientId", "must be a string");
    if (clientId.length === 0 && !clean)
      throw optionError("clientId", 'must not be empty when "clean" is false (§3.1.3.1)');
    if (username !== undefined && typeof username !== "string") throw optionError("username", "must be a string");
    if (password !== undefined) {
      if (!isBinary(password)) throw optionError("password", "must be a string or a Uint8Array");
      if (username === undefined) throw optionError("password", 'requires "username" (§3.1.2.9)');
    }
    if (!isInteger(keepalive, 0, 65535)) throw optionError("keepalive", "must be an integer 0-65535 (seconds)");
    if (version !== 4 && version !== 5) throw optionError("protocolVersion", "must be 4 (3.1.1) or 5 (5.0)");
    if (!isInteger(sessionExpiry, 0, 0xffffffff))
      throw optionError("sessionExpiry", "must be an integer 0-4294967295 (seconds)");
    if (version === 4 && (options.sessionExpiry !== undefined || options.connectProperties !== undefined))
      throw optionError(
        options.sessionExpiry !== undefined ? "sessionExpiry" : "connectProperties",
        "needs protocolVersion 5",
      );
    let willFields: Will | undefined;
    if (will !== undefined) {
      if (typeof will !== "object" || will === null) throw optionError("will", "must be an object");
      const problem = topicNameProblem(will.topic);
      if (problem) throw optionError("will.topic", problem);
      if (!isBinary(will.payload)) throw optionError("will.payload", "must be a string or a Uint8Array");
      const qos = will.qos ?? 0;
      if (qos !== 0 && qos !== 1 && qos !== 2) throw optionError("will.qos", "must be 0, 1 or 2");
      const retain = will.retain ?? false;
      if (typeof retain !== "boolean") throw optionError("will.retain", "must be a boolean");
      willFields = { topic: will.topic, payload: will.payload, qos, retain };
      if (will.properties !== undefined) willFields.properties = will.properties;
    }
    if (typeof socket !== "object" || socket === null || typeof socket.io !== "function")
      throw optionError("socket", "must be an object whose io is a TCP socket constructor");
    if (socket.secure !== undefined && (typeof socket.secure !== "object" || socket.secure === null))
      throw optionError("socket.secure", "must be an object of TLS options");
    if (
      typeof clock !== "object" ||
      clock === null ||
      typeof clock.now !== "function" ||
      typeof clock.setTimeout !== "function" ||
      typeof clock.clearTimeout !== "function"
    )
      throw optionError("clock", "must provide now(), setTimeout() and clearTimeout()");
    if (!isInteger(maxPacketSize, 2, MAX_PACKET_SIZE))
      throw optionError("maxPacketSize", "must be an integer 2-" + MAX_PACKET_SIZE);
    if (!isInteger(maxInFlight, 1, 65535)) throw optionError("maxInFlight", "must be an integer 1-65535");
    if (!isInteger(maxQueued, 1, 0x7fffffff)) throw optionError("maxQueued", "must be a positive integer (bytes)");
    if (!isInteger(ackTimeout, 0, 0x7fffffff))
      throw optionError("ackTimeout", "must be an integer 0-2147483647 (milliseconds)");
    if (!isInteger(ackRetries, 0, 255)) throw optionError("ackRetries", "must be an integer 0-255");
    if (version === 5 && ackRetries !== 0)
      throw optionError("ackRetries", "needs protocolVersion 4: MQTT 5.0 resends only on a new connection (§4.4)");
    if (options.connectProperties?.maximumPacketSize !== undefined)
      throw optionError("connectProperties.maximumPacketSize", 'is set from option "maxPacketSize"');
    checkCallback(options, "onConnect");
    checkCallback(options, "onMessage");
    checkCallback(options, "onPublished");
    checkCallback(options, "onSubscribed");
    checkCallback(options, "onClose");
    checkCallback(options, "onError");

    // The CONNECT packet never changes, so it is built once; the codec also rejects what the
    // checks above cannot see (a client id longer than 65535 bytes, a lone surrogate).
    try {
      const properties: Properties | undefined = version === 5 ? { ...options.connectProperties } : undefined;
      if (properties && sessionExpiry > 0) properties.sessionExpiryInterval = sessionExpiry;
      if (properties && maxPacketSize !== MAX_PACKET_SIZE) properties.maximumPacketSize = maxPacketSize;
      this.#connectPacket = encodeConnect({
        clientId,
        clean,
        keepalive,
        username,
        password,
        will: willFields,
        protocolVersion: version,
        properties: properties && Object.keys(properties).length ? properties : undefined,
      });
    } catch (e) {
      throw new Error("MQTTClient: invalid options: " + messageOf(e), { cause: e });
    }
    this.#host = host;
    this.#port = port;
    this.#io = socket.io;
    this.#secure = socket.secure;
    this.#clock = clock;
    this.#keepaliveMs = this.#configuredKeepaliveMs = keepalive * 1000;
    this.#maxInFlight = this.#window = maxInFlight;
    this.#version = version;
    this.#maxQueued = maxQueued;
    this.#packetLimit = maxPacketSize;
    this.#ackTimeout = ackTimeout;
    this.#ackRetries = ackRetries;
    this.#decoder = new PacketDecoder({ maxPacketSize, protocolVersion: version });
    this.#onConnect = options.onConnect;
    this.#onMessage = options.onMessage;
    this.#onPublished = options.onPublished;
    this.#onSubscribed = options.onSubscribed;
    this.#onClose = options.onClose;
    this.#onError = options.onError;
  }

  /** True between an accepted CONNACK and the end of the connection. */
  get connected(): boolean {
    return this.#state === CONNECTED;
  }

  /** QoS 1 and 2 messages published and not yet acknowledged (or, for QoS 2, completed). */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Incoming messages discarded because they were over `maxPacketSize`, over the client's life. */
  get oversized(): number {
    return this.#oversized;
  }

  /** MQTT 5.0: the client identifier the broker assigned when the configured one was empty. */
  get assignedClientId(): string | undefined {
    return this.#assignedClientId;
  }

  /** Opens the socket and sends CONNECT; onConnect follows CONNACK, or onClose follows a failure. */
  connect(): void {
    this.#checkOpen();
    if (this.#state !== IDLE) throw new Error("MQTT: connect() while " + STATE_NAMES[this.#state]);
    this.#decoder.reset();
    this.#clearQueue();
    this.#clearAcks();
    this.#writable = 0;
    this.#pingOutstanding = false;
    this.#reachedConnected = false;
    this.#keepaliveMs = this.#configuredKeepaliveMs;
    this.#state = CONNECTING;
    this.#lastSent = this.#lastReceived = this.#clock.now();
    this.#enqueue(this.#connectPacket);

    const generation = ++this.#generation;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the socket calls these with itself as `this`
    const client = this;
    const options: TCPSocketOptions = {
      address: this.#host,
      port: this.#port,
      onReadable(count) {
        if (generation === client.#generation) client.#readable(client.#socket ?? this, count, generation);
      },
      onWritable(count) {
        if (generation !== client.#generation) return;
        client.#writable = count;
        // A host may report writable from inside the constructor; the flush then waits for #socket.
        if (client.#socket) client.#flush();
      },
      onError(error) {
        if (generation === client.#generation)
          client.#drop(error instanceof Error ? error : new Error("MQTT: connection lost"));
      },
    };
    if (this.#secure) options.secure = this.#secure;
    let socket: TCPSocket;
    try {
      socket = new this.#io(options);
    } catch (e) {
      // An unreachable address is a connection failure like any other: report it through onClose.
      this.#drop(toError(e));
      return;
    }
    if (generation !== this.#generation) {
      // The socket failed from inside its constructor; #drop has already reported it.
      try {
        socket.close();
      } catch {
        /* already failed */
      }
      return;
    }
    this.#socket = socket;
    this.#flush();
    this.#schedule();
  }

  /**
   * Publishes a message; returns its packet id for QoS 1 and 2 (see onPublished), 0 for QoS 0. QoS 0
   * needs a connection; QoS 1 and 2 are accepted while disconnected and sent after the next CONNACK.
   */
  publish(topic: string, payload: string | Uint8Array, options?: MQTTPublishOptions): number {
    this.#checkOpen();
    const qos = options?.qos ?? 0;
    const retain = options?.retain ?? false;
    const properties = options?.properties;
    if (qos !== 0 && qos !== 1 && qos !== 2) throw new Error("MQTT: publish qos must be 0, 1 or 2, got " + String(qos));
    if (qos > this.#maximumQoS)
      throw new Error("MQTT: the broker accepts QoS up to " + this.#maximumQoS + " (CONNACK Maximum QoS)");
    const connected = this.#state === CONNECTED;
    if (qos === 0) {
      if (!connected) throw new Error("MQTT: not connected");
      const packet = encodePublish({ topic, payload, retain: retain === true, version: this.#version, properties });
      this.#checkSize(packet);
      this.#checkRoom(packet.length);
      this.#enqueue(packet);
      this.#flush();
      return 0;
    }
    if (this.#inFlight.size >= this.#window)
      throw new Error(
        "MQTT: " +
          this.#inFlight.size +
          " messages already in flight (" +
          (this.#window < this.#maxInFlight ? "the broker's Receive Maximum" : 'option "maxInFlight"') +
          ")",
      );
    const id = this.#allocateId();
    const packet = encodePublish({
      topic,
      payload,
      qos,
      id,
      retain: retain === true,
      version: this.#version,
      properties,
    });
    this.#checkSize(packet);
    if (connected) this.#checkRoom(packet.length);
    this.#inFlight.set(id, packet);
    if (connected) {
      this.#enqueue(packet);
      this.#sent(id);
      this.#flush();
      if (this.#state === CONNECTED) this.#schedule();
    }
    return id;
  }

  /** Subscribes to topic filters at QoS 0 or 1; returns the packet id that onSubscribed reports. */
  subscribe(filters: readonly SubscribeFilter[]): number {
    this.#checkOpen();
    if (this.#state !== CONNECTED) throw new Error("MQTT: not connected");
    const id = this.#allocateId();
    const packet = encodeSubscribe(id, filters, this.#version);
    this.#checkRoom(packet.length);
    this.#pendingSubscribes.add(id);
    this.#enqueue(packet);
    this.#flush();
    return id;
  }

  /**
   * Ends the session in order: queued packets and DISCONNECT are written, then the socket closes and
   * onClose(undefined) follows; the broker discards the Will (§3.14.4). Unacknowledged QoS 1 messages
   * stay in flight for the next connect(). Does nothing when there is no connection.
   */
  disconnect(): void {
    this.#checkOpen();
    if (this.#state !== CONNECTING && this.#state !== CONNECTED) return;
    this.#state = DISCONNECTING;
    this.#disconnectDeadline = this.#clock.now() + DISCONNECT_TIMEOUT_MS;
    this.#enqueue(DISCONNECT_PACKET);
    this.#flush();
    if (this.#state === DISCONNECTING) this.#schedule();
  }

  /**
   * Releases the socket, timers and in-flight messages at once, without DISCONNECT (so the broker
   * publishes the Will). No callback runs afterwards; other methods throw. Safe to call twice.
   */
  close(): void {
    if (this.#state === CLOSED) return;
    const socket = this.#socket;
    this.#socket = undefined;
    this.#generation++;
    this.#state = CLOSED;
    this.#cancelTimer();
    this.#clearQueue();
    this.#clearAcks();
    this.#inFlight.clear();
    this.#received.clear();
    this.#pendingSubscribes.clear();
    this.#events.length = 0;
    this.#decoder.reset();
    if (socket) {
      try {
        socket.close();
      } catch {
        /* the socket may already be closed by the peer; nothing is left to release */
      }
    }
  }

  // ------------------------------------------------------------ socket side

  #readable(socket: TCPSocket, count: number, generation: number): void {
    try {
      const buffer = count > 0 ? socket.read(count) : socket.read();
      if (buffer === undefined) return;
      this.#decoder.push(buffer);
      let packet: IncomingPacket | undefined;
      while (generation === this.#generation && (packet = this.#decoder.next()) !== undefined) this.#handle(packet);
      if (generation === this.#generation) {
        this.#flush();
        this.#schedule();
      }
    } catch (e) {
      // A decode error (or any other fault) means the stream cannot be trusted: report, then drop.
      if (generation === this.#generation) this.#abort(toError(e));
    }
  }

  #handle(packet: IncomingPacket): void {
    this.#lastReceived = this.#clock.now();
    // Any packet proves the broker is alive, not only PINGRESP.
    this.#pingOutstanding = false;
    if (this.#state === CONNECTING) {
      // The broker's first packet must be CONNACK (§3.2).
      if (packet.type !== CONNACK)
        return this.#abort(new Error("MQTT: expected CONNACK, got " + packetName(packet.type)));
      const code = packet.returnCode;
      if (code !== 0) return this.#abort(new ConnectionRefusedError(code, this.#version));
      const p = packet.properties;
      // 5.0: the broker's limits for this connection (§3.2.2.3).
      this.#window = Math.min(this.#maxInFlight, p?.receiveMaximum ?? 65535);
      this.#maximumQoS = p?.maximumQoS ?? 2;
      this.#maximumPacketSize = p?.maximumPacketSize ?? MAX_PACKET_SIZE;
      if (p?.serverKeepAlive !== undefined) this.#keepaliveMs = p.serverKeepAlive * 1000;
      if (p?.assignedClientIdentifier !== undefined) this.#assignedClientId = p.assignedClientIdentifier;
      this.#state = CONNECTED;
      this.#reachedConnected = true;
      // A new session knows none of the QoS 2 messages we received before.
      if (!packet.sessionPresent) this.#received.clear();
      // Resent in order (§4.6), even with a clean session, where the broker treats them as new messages, so that
      // the at-least-once promise publish() made survives the dropped connection. A QoS 2 message past PUBREC
      // resends its PUBREL (§4.4).
      for (const [id, message] of this.#inFlight) {
        this.#enqueue(message);
        this.#sent(id);
      }
      const sessionPresent = packet.sessionPresent;
      if (this.#onConnect) this.#emit(() => this.#onConnect!.call(this, sessionPresent));
      return;
    }
    switch (packet.type) {
      case CONNACK:
        return this.#abort(new Error("MQTT: unexpected second CONNACK"));
      case PUBLISH: {
        // After disconnect() the application expects no more messages; without our PUBACK a QoS 1
        // message is redelivered by a persistent session.
        if (this.#state !== CONNECTED) return;
        if (packet.oversized) return this.#discard(packet);
        if (packet.properties?.topicAlias !== undefined)
          return this.#abort(
            new Error("MQTT: broker used a topic alias, which this client did not allow (§3.3.2.3.4)"),
          );
        const { id, qos } = packet;
        if (qos === 1) this.#enqueue(encodePuback(id));
        else if (qos === 2) {
          this.#enqueue(encodeAck(PUBREC, id));
          // Delivered once: a resend of a message already received waits only for its PUBREL.
          if (this.#received.has(id)) return;
          this.#received.add(id);
        }
        if (this.#onMessage) {
          const { topic, payload } = packet;
          const info: MQTTMessageInfo = { qos, retain: packet.retain, dup: packet.dup };
          if (packet.properties) info.properties = packet.properties;
          this.#emit(() => this.#onMessage!.call(this, topic, payload, info));
        }
        return;
      }
      case PUBACK:
      case PUBREC:
      case PUBCOMP: {
        const { id, type } = packet;
        const code = packet.reasonCode ?? 0;
        const sent = this.#inFlight.get(id);
        // What the entry holds must match the acknowledgement: a PUBLISH of QoS 1 for PUBACK, of QoS 2 for
        // PUBREC, a PUBREL for PUBCOMP. An unknown id harms nothing sent, but a broker bug should be visible.
        const expected =
          sent === undefined ? -1 : sent[0]! >> 4 === PUBREL ? PUBCOMP : ((sent[0]! >> 1) & 3) === 2 ? PUBREC : PUBACK;
        if (expected !== type)
          return this.#emitError(new Error("MQTT: " + packetName(type) + " for unknown packet id " + id));
        // An answer, even a refusal: the message is no longer waiting in silence.
        this.#resent.delete(id);
        if (code >= 0x80)
          this.#emitError(
            new Error(
              "MQTT: broker refused message " + id + ": " + reasonName(code) + " (0x" + code.toString(16) + ")",
            ),
          );
        if (type === PUBREC && code < 0x80) {
          // Keeps its place in the map, so resends after a reconnect stay in publish order.
          const release = encodeAck(PUBREL, id);
          this.#inFlight.set(id, release);
          this.#enqueue(release);
          this.#sent(id);
          return;
        }
        this.#inFlight.delete(id);
        this.#sentAt.delete(id);
        if (this.#sentAt.size === 0) this.#ackCheckAt = NO_TIMER;
        if (this.#onPublished) this.#emit(() => this.#onPublished!.call(this, id, code));
        return;
      }
      case PUBREL: {
        this.#received.delete(packet.id);
        // Answered even for an id we do not know: the broker may be resending after our PUBCOMP was lost (§4.3.3).
        this.#enqueue(encodeAck(PUBCOMP, packet.id));
        return;
      }
      case DISCONNECT: {
        const code = packet.reasonCode ?? 0;
        const why = packet.properties?.reasonString;
        return this.#abort(
          new Error(
            "MQTT: broker disconnected: " +
              reasonName(code) +
              " (0x" +
              code.toString(16) +
              ")" +
              (why ? ": " + why : ""),
          ),
        );
      }
      case SUBACK: {
        const { id, granted } = packet;
        if (!this.#pendingSubscribes.delete(id))
          return this.#emitError(new Error("MQTT: SUBACK for unknown packet id " + id));
        if (this.#onSubscribed) this.#emit(() => this.#onSubscribed!.call(this, id, granted));
        return;
      }
      case UNSUBACK:
        // This client never sends UNSUBSCRIBE.
        return this.#emitError(new Error("MQTT: UNSUBACK for unknown packet id " + packet.id));
      case 15:
        return this.#abort(new Error("MQTT: AUTH (enhanced authentication) is not supported by this client"));
      default:
        return; // PINGRESP: liveness is already recorded above
    }
  }

  // Writes as much of the queue as the socket's last onWritable count allows.
  #flush(): void {
    const socket = this.#socket;
    if (!socket) return;
    const queue = this.#queue;
    let writable = this.#writable;
    let head = this.#queueHead;
    let offset = this.#queueOffset;
    let wrote = 0;
    let failure: Error | undefined;
    try {
      while (head < queue.length && writable > 0) {
        const packet = queue[head]!;
        const left = packet.length - offset;
        const n = left < writable ? left : writable;
        socket.write(offset === 0 && n === left ? packet : packet.subarray(offset, offset + n));
        writable -= n;
        wrote += n;
        if (n === left) {
          head++;
          offset = 0;
        } else offset += n;
      }
    } catch (e) {
      failure = toError(e);
    }
    if (failure) return this.#drop(failure);
    this.#writable = writable;
    this.#queuedBytes -= wrote;
    this.#queueOffset = offset;
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    } else if (head >= 32) {
      // Under steady traffic the queue may never empty; drop written packets so they can be freed.
      queue.splice(0, head);
      head = 0;
    }
    this.#queueHead = head;
    if (wrote > 0) this.#lastSent = this.#clock.now();
    // DISCONNECT is the last packet queued, so an empty queue means it has been written.
    if (this.#state === DISCONNECTING && queue.length === 0) this.#drop(undefined);
  }

  #enqueue(packet: Uint8Array): void {
    this.#queue.push(packet);
    this.#queuedBytes += packet.length;
  }

  #clearQueue(): void {
    this.#queue.length = 0;
    this.#queueHead = 0;
    this.#queueOffset = 0;
    this.#queuedBytes = 0;
  }

  // A PUBLISH over maxPacketSize, skipped by the decoder: acknowledged like any other (§4.3), so the broker neither
  // resends it nor replays a retained one on a reconnect the client would otherwise need, then discarded.
  #discard(packet: OversizedPublishPacket): void {
    const { id, qos } = packet;
    // 5.0: an empty topic stands for a topic alias, which this client never allows.
    if (packet.topic === "")
      return this.#abort(new Error("MQTT: broker used a topic alias, which this client did not allow (§3.3.2.3.4)"));
    if (qos === 1) this.#enqueue(encodePuback(id));
    else if (qos === 2) {
      this.#enqueue(encodeAck(PUBREC, id));
      // A resend of one already discarded waits only for its PUBREL, as a delivered one does.
      if (this.#received.has(id)) return;
      this.#received.add(id);
    }
    this.#oversized++;
    this.#emitError(new OversizedMessageError(packet, this.#packetLimit));
  }

  #checkSize(packet: Uint8Array): void {
    if (packet.length > this.#maximumPacketSize)
      throw new Error(
        "MQTT: a packet of " +
          packet.length +
          " bytes exceeds the broker's Maximum Packet Size " +
          this.#maximumPacketSize,
      );
  }

  #checkRoom(size: number): void {
    if (this.#queuedBytes > 0 && this.#queuedBytes + size > this.#maxQueued)
      throw new Error("MQTT: output queue is full (" + this.#queuedBytes + ' bytes waiting, option "maxQueued")');
  }

  // A fatal protocol error: report it, then end the connection.
  #abort(error: Error): void {
    this.#emitError(error);
    this.#drop(error);
  }

  // Ends the current connection (if any) and reports onClose(reason). The client can connect() again.
  #drop(reason: Error | undefined): void {
    if (this.#state === IDLE || this.#state === CLOSED) return;
    const socket = this.#socket;
    this.#socket = undefined;
    this.#generation++;
    // Every in-flight message was handed to this connection, so a resend may be a duplicate (§4.4).
    if (this.#reachedConnected) for (const message of this.#inFlight.values()) markDuplicate(message);
    this.#state = IDLE;
    this.#cancelTimer();
    this.#clearQueue();
    this.#clearAcks();
    this.#pendingSubscribes.clear();
    this.#decoder.reset();
    if (socket) {
      try {
        socket.close();
      } catch {
        /* a socket that failed may refuse close(); it is gone either way */
      }
    }
    if (this.#onClose) this.#emit(() => this.#onClose!.call(this, reason));
  }

  #allocateId(): number {
    for (let tries = 0; tries < 65535; tries++) {
      const id = this.#nextId;
      this.#nextId = id === 65535 ? 1 : id + 1;
      if (!this.#inFlight.has(id) && !this.#pendingSubscribes.has(id)) return id;
    }
    throw new Error("MQTT: no free packet id");
  }

  #checkOpen(): void {
    if (this.#state === CLOSED) throw new Error("MQTT: client is closed");
  }

  // ------------------------------------------------------------ keepalive (§3.1.2.10)
  // One lazy timer: sends and receipts only move deadlines later, so they never touch the timer;
  // when it fires early it just re-arms. A PINGREQ goes out when nothing was sent, or nothing was
  // received, for keepalive seconds (the second catches a half-open connection while we publish).
  // The connection is dead when a PINGREQ, or CONNECT, has seen no packet back for keepalive x 1.5
  // seconds since the last packet received: the same window the broker allows us (§3.1.2.10), and
  // never less than keepalive / 2 after the PINGREQ.

  #due(): number {
    const k = this.#keepaliveMs;
    switch (this.#state) {
      case DISCONNECTING:
        return this.#disconnectDeadline;
      case CONNECTING:
        return k > 0 ? this.#lastReceived + k + k / 2 : NO_TIMER;
      case CONNECTED: {
        const ack = this.#ackCheckAt;
        if (k === 0) return ack;
        const due = this.#pingOutstanding
          ? this.#lastReceived + k + k / 2
          : (this.#lastSent < this.#lastReceived ? this.#lastSent : this.#lastReceived) + k;
        return ack !== NO_TIMER && ack < due ? ack : due;
      }
      default:
        return NO_TIMER;
    }
  }

  #schedule(): void {
    const due = this.#due();
    if (due === NO_TIMER) return this.#cancelTimer();
    if (this.#timerAt !== NO_TIMER && this.#timerAt <= due) return;
    this.#cancelTimer();
    this.#timerAt = due;
    const delay = due - this.#clock.now();
    this.#timer = this.#clock.setTimeout(this.#onTimer, delay > 0 ? delay : 0);
  }

  #cancelTimer(): void {
    if (this.#timerAt === NO_TIMER) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = NO_TIMER;
  }

  #tick(): void {
    this.#timer = undefined;
    this.#timerAt = NO_TIMER;
    const now = this.#clock.now();
    const k = this.#keepaliveMs;
    const state = this.#state;
    if (state === DISCONNECTING) {
      if (now >= this.#disconnectDeadline)
        return this.#drop(
          new Error("MQTT: DISCONNECT could not be written within " + DISCONNECT_TIMEOUT_MS / 1000 + " s"),
        );
    } else if (state === CONNECTING || state === CONNECTED) {
      if (k > 0 && (state === CONNECTING || this.#pingOutstanding) && now >= this.#lastReceived + k + k / 2)
        return this.#abort(new Error("MQTT: no response from broker within " + (k + k / 2) / 1000 + " s"));
      if (state === CONNECTED && this.#ackCheckAt !== NO_TIMER && now >= this.#ackCheckAt) {
        this.#checkAcks(now);
        if (this.#state !== CONNECTED) return;
      }
      const idleSince = this.#lastSent < this.#lastReceived ? this.#lastSent : this.#lastReceived;
      if (state === CONNECTED && k > 0 && !this.#pingOutstanding && now >= idleSince + k) {
        this.#pingOutstanding = true;
        this.#enqueue(PINGREQ_PACKET);
        this.#flush();
      }
    }
    this.#schedule();
  }

  // ------------------------------------------------------------ acknowledgement timeouts
  // A broker can answer PINGREQ and still never acknowledge: keepalive then sees a live connection while messages
  // wait forever. Each in-flight message handed to the connection is stamped when queued; the lazy timer checks at
  // #ackCheckAt (never later than the first deadline). A message whose acknowledgement is ackTimeout late is resent
  // with the ones sent after it, in publish order (§4.6), DUP set (3.1.1 allows it; 5.0 does not, §4.4); after
  // ackRetries resends, or at once with 5.0, the connection is closed, so that the caller reconnects and the
  // messages go again on the new one.

  #sent(id: number): void {
    if (this.#ackTimeout === 0) return;
    const now = this.#clock.now();
    this.#sentAt.set(id, now);
    if (this.#ackCheckAt === NO_TIMER) this.#ackCheckAt = now + this.#ackTimeout;
  }

  #clearAcks(): void {
    this.#sentAt.clear();
    this.#resent.clear();
    this.#ackCheckAt = NO_TIMER;
  }

  #checkAcks(now: number): void {
    const timeout = this.#ackTimeout,
      sentAt = this.#sentAt,
      resent = this.#resent;
    // Until every queued byte is written the broker may not have a message yet: its wait starts once it has.
    const drained = this.#queueHead >= this.#queue.length;
    let late = 0,
      first = 0,
      tries = 0,
      next = NO_TIMER;
    for (const id of this.#inFlight.keys()) {
      const at = sentAt.get(id);
      if (at === undefined) continue;
      let due = at + timeout;
      if (due <= now) {
        if (drained) {
          if (late++ === 0) first = id;
          const n = resent.get(id) ?? 0;
          if (n > tries) tries = n;
          continue;
        }
        sentAt.set(id, now);
        due = now + timeout;
      }
      if (next === NO_TIMER || due < next) next = due;
    }
    if (late === 0) {
      this.#ackCheckAt = next;
      return;
    }
    const which = "message " + first + (late > 1 ? " and " + (late - 1) + " more" : "");
    const seconds = timeout / 1000 + " s";
    if (this.#version === 5 || tries >= this.#ackRetries)
      return this.#abort(
        new Error(
          "MQTT: " +
            which +
            " not acknowledged within " +
            seconds +
            (this.#version === 5
              ? " (MQTT 5.0 resends only on a new connection)"
              : tries > 0
                ? " after " + tries + " resend(s)"
                : "") +
            "; closing the connection",
        ),
      );
    let resending = false,
      count = 0;
    for (const [id, packet] of this.#inFlight) {
      if (!resending && id !== first) continue;
      resending = true;
      if (!sentAt.has(id)) continue;
      markDuplicate(packet);
      this.#enqueue(packet);
      sentAt.set(id, now);
      resent.set(id, (resent.get(id) ?? 0) + 1);
      count++;
    }
    this.#emitError(
      new Error(
        "MQTT: " +
          which +
          " not acknowledged within " +
          seconds +
          "; resent " +
          count +
          " message(s) with DUP (resend " +
          (tries + 1) +
          " of " +
          this.#ackRetries +
          ")",
      ),
    );
    this.#ackCheckAt = next !== NO_TIMER && next < now + timeout ? next : now + timeout;
    this.#flush();
  }

  // ------------------------------------------------------------ callbacks

  // Queues a user callback for a promise job: one job drains all callbacks queued in the same turn,
  // in order, so the client's state is settled before any user code runs.
  #emit(event: () => void): void {
    if (this.#state === CLOSED) return;
    this.#events.push(event);
    if (this.#eventsScheduled) return;
    this.#eventsScheduled = true;
    void Promise.resolve().then(this.#deliverEvents);
  }

  #emitError(error: Error): void {
    const onError = this.#onError;
    if (!onError) return;
    this.#emit(() => {
      try {
        onError.call(this, error);
      } catch {
        /* an onError that throws has nowhere left to report to */
      }
    });
  }

  #deliver(): void {
    const events = this.#events;
    // Callbacks queued while delivering run in this same pass; close() empties the list.
    for (let i = 0; i < events.length; i++) {
      try {
        events[i]!();
      } catch (e) {
        // A throwing callback must not reach the promise machinery (an unhandled rejection).
        this.#emitError(toError(e));
      }
    }
    events.length = 0;
    this.#eventsScheduled = false;
  }
}
// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(MQTTClient.prototype);
Object.freeze(ConnectionRefusedError.prototype);
Object.freeze(OversizedMessageError.prototype);
