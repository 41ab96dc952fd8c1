// MQTT client session: the real state machine against an in-memory socket that plays the broker (only the transport is replaced).
import { suite, test, equal, deepEqual, ok, throws, settle } from "../../harness.js";
import { ManualClock } from "../../support/manual-clock.js";
import type { TCPSocket, TCPSocketConstructor, TCPSocketOptions } from "telltale/io/io";
import { MQTTClient, type MQTTClientOptions } from "telltale/mqtt/client";
import { encodeAck, encodeConnect, encodePublish, encodePuback, encodeSubscribe } from "telltale/mqtt/encode";
import { PUBCOMP, PUBREC, PUBREL } from "telltale/mqtt/packets";
import { utf8Decode } from "telltale/text/utf8";
import { bytesOf, packetBounds } from "../../support/mqtt-broker.js";

const CONNACK_OK = Uint8Array.of(0x20, 2, 0, 0);
const PINGRESP = Uint8Array.of(0xd0, 0);

/** The broker's end of one connection: records what the client wrote and injects what the broker sends. */
class BrokerSocket implements TCPSocket {
  readonly options: TCPSocketOptions;
  readonly writes: Uint8Array[] = [];
  closed = false;
  // Bytes the client may still write: the count last reported through onWritable, minus writes since.
  #allowance = 0;
  #inbox: Uint8Array[] = [];

  constructor(options: TCPSocketOptions) {
    this.options = options;
  }

  read(count?: number): ArrayBuffer | undefined {
    const chunk = this.#inbox[0];
    if (!chunk) return undefined;
    const n = count === undefined || count > chunk.length ? chunk.length : count;
    if (n === chunk.length) this.#inbox.shift();
    else this.#inbox[0] = chunk.slice(n);
    return chunk.slice(0, n).buffer;
  }

  write(buffer: ArrayBuffer | ArrayBufferView): void {
    if (this.closed) throw new Error("socket: write after close");
    const bytes = bytesOf(buffer);
    if (bytes.length > this.#allowance)
      throw new Error("socket: wrote " + bytes.length + " bytes, only " + this.#allowance + " writable");
    this.#allowance -= bytes.length;
    this.writes.push(bytes.slice());
  }

  close(): void {
    this.closed = true;
  }

  // ---- the broker's side
  writable(count: number): void {
    this.#allowance = count;
    this.options.onWritable?.call(this, count);
  }
  /** Delivers each argument as one chunk with its own onReadable. */
  send(...chunks: Uint8Array[]): void {
    for (const chunk of chunks) {
      this.#inbox.push(chunk);
      this.options.onReadable?.call(this, chunk.length);
    }
  }
  fail(message: string): void {
    this.options.onError?.call(this, new Error(message));
  }

  /** Everything written, concatenated. */
  get written(): Uint8Array {
    let size = 0;
    for (const w of this.writes) size += w.length;
    const out = new Uint8Array(size);
    let at = 0;
    for (const w of this.writes) {
      out.set(w, at);
      at += w.length;
    }
    return out;
  }
  /** The written bytes split into whole MQTT packets (fixed header §2.2). */
  packets(): Uint8Array[] {
    const all = this.written;
    const out: Uint8Array[] = [];
    for (let at = 0, p = packetBounds(all, at); p; at = p.end, p = packetBounds(all, at))
      out.push(all.slice(at, p.end));
    return out;
  }
  clear(): void {
    this.writes.length = 0;
  }
}

function network(): { io: TCPSocketConstructor; sockets: BrokerSocket[] } {
  const sockets: BrokerSocket[] = [];
  class Io extends BrokerSocket {
    constructor(options: TCPSocketOptions) {
      super(options);
      sockets.push(this);
    }
  }
  return { io: Io, sockets };
}

type Log = unknown[][];

function setup(extra: Partial<MQTTClientOptions> = {}) {
  const clock = new ManualClock();
  const net = network();
  const log: Log = [];
  const client = new MQTTClient({
    host: "broker.test",
    port: 1883,
    clientId: "dev1",
    keepalive: 10,
    socket: { io: net.io },
    clock,
    onConnect(sessionPresent) {
      log.push(["connect", sessionPresent]);
    },
    onMessage(topic, payload, info) {
      log.push(["message", topic, utf8Decode(payload), info]);
    },
    onPublished(id) {
      log.push(["published", id]);
    },
    onSubscribed(id, granted) {
      log.push(["subscribed", id, granted]);
    },
    onClose(reason) {
      log.push(["close", reason?.message]);
    },
    onError(error) {
      log.push(["error", error.message]);
    },
    ...extra,
  });
  return {
    clock,
    net,
    log,
    client,
    get socket(): BrokerSocket {
      const socket = net.sockets[net.sockets.length - 1];
      if (!socket) throw new Error("no socket opened yet");
      return socket;
    },
  };
}

/** A client past CONNACK with an empty log and nothing recorded as written. */
async function connected(extra: Partial<MQTTClientOptions> = {}) {
  const t = setup(extra);
  t.client.connect();
  t.socket.writable(4096);
  t.socket.send(CONNACK_OK);
  await settle();
  t.log.length = 0;
  t.socket.clear();
  return t;
}

/** Sets DUP on a QoS 1/2 PUBLISH, as a broker resending it does (§3.3.1.1). */
function markDup(packet: Uint8Array): void {
  packet[0]! |= 0x08;
}

function validOptions(): MQTTClientOptions {
  return { host: "h", port: 1883, clientId: "c", socket: { io: network().io }, clock: new ManualClock() };
}

suite("mqtt/client", () => {
  test("connect-sends-connect-once-writable", () => {
    const t = setup({
      username: "u",
      password: "p",
      will: { topic: "dev1/status", payload: "offline", qos: 1, retain: true },
    });
    t.client.connect();
    equal(t.socket.writes.length, 0, "nothing written before onWritable");
    t.socket.writable(4096);
    deepEqual(
      t.socket.written,
      encodeConnect({
        clientId: "dev1",
        clean: true,
        keepalive: 10,
        username: "u",
        password: "p",
        will: { topic: "dev1/status", payload: "offline", qos: 1, retain: true },
      }),
    );
  });

  test("connect-passes-address-port-and-tls-options", () => {
    const secure = { serverName: "broker.test" };
    const net = network();
    setup({ port: 8883, socket: { io: net.io, secure } }).client.connect();
    equal(net.sockets[0]?.options.address, "broker.test");
    equal(net.sockets[0]?.options.port, 8883);
    equal(net.sockets[0]?.options.secure, secure);
  });

  test("connack-accepted-reports-session-present", async () => {
    const t = setup({ clean: false });
    t.client.connect();
    t.socket.writable(4096);
    equal(t.client.connected, false);
    t.socket.send(Uint8Array.of(0x20, 2, 1, 0));
    equal(t.client.connected, true);
    await settle();
    deepEqual(t.log, [["connect", true]]);
  });

  test("connack-refusal-reports-reason", async () => {
    const t = setup();
    t.client.connect();
    t.socket.writable(4096);
    t.socket.send(Uint8Array.of(0x20, 2, 0, 5));
    await settle();
    const reason = "MQTT: connection refused: not authorized (5)";
    deepEqual(t.log, [
      ["error", reason],
      ["close", reason],
    ]);
    ok(t.socket.closed, "socket closed");
    equal(t.client.connected, false);
  });

  test("publish-qos0-writes-packet-and-returns-zero", async () => {
    const t = await connected();
    equal(t.client.publish("dev1/t", "21.5", { retain: true }), 0);
    deepEqual(t.socket.written, encodePublish({ topic: "dev1/t", payload: "21.5", qos: 0, id: 0, retain: true }));
    equal(t.client.inFlight, 0);
  });

  test("publish-qos1-stays-in-flight-until-puback", async () => {
    const t = await connected();
    const id = t.client.publish("dev1/t", Uint8Array.of(1, 2), { qos: 1 });
    equal(id, 1);
    deepEqual(t.socket.written, encodePublish({ topic: "dev1/t", payload: Uint8Array.of(1, 2), qos: 1, id: 1 }));
    equal(t.client.inFlight, 1);
    t.socket.send(encodePuback(1));
    equal(t.client.inFlight, 0);
    await settle();
    deepEqual(t.log, [["published", 1]]);
  });

  test("inflight-resent-with-dup-in-order-after-reconnect", async () => {
    const t = await connected();
    t.client.publish("a", "1", { qos: 1 });
    t.client.publish("b", "2", { qos: 1 });
    t.socket.fail("connection reset");
    await settle();
    deepEqual(t.log, [["close", "connection reset"]]);
    equal(t.client.inFlight, 2, "messages survive the drop");
    t.client.connect();
    t.socket.writable(4096);
    equal(t.socket.packets().length, 1, "only CONNECT before CONNACK");
    t.socket.send(CONNACK_OK);
    const [, first, second] = t.socket.packets();
    deepEqual(first, encodePublish({ topic: "a", payload: "1", qos: 1, id: 1, retain: false, dup: true }));
    deepEqual(second, encodePublish({ topic: "b", payload: "2", qos: 1, id: 2, retain: false, dup: true }));
    t.socket.send(encodePuback(1), encodePuback(2));
    equal(t.client.inFlight, 0);
  });

  test("qos1-published-offline-is-sent-after-connack-without-dup", () => {
    const t = setup();
    equal(t.client.publish("a", "x", { qos: 1 }), 1);
    t.client.connect();
    t.socket.writable(4096);
    t.socket.send(CONNACK_OK);
    deepEqual(t.socket.packets()[1], encodePublish({ topic: "a", payload: "x", qos: 1, id: 1 }));
  });

  test("subscribe-suback-reports-granted-including-failure", async () => {
    const t = await connected();
    const filters = [
      { topic: "cmd/+", qos: 1 as const },
      { topic: "cfg/#", qos: 0 as const },
    ];
    const id = t.client.subscribe(filters);
    deepEqual(t.socket.written, encodeSubscribe(id, filters));
    t.socket.send(Uint8Array.of(0x90, 4, 0, id, 1, 0x80));
    await settle();
    deepEqual(t.log, [["subscribed", id, [1, 0x80]]]);
  });

  test("incoming-publish-delivered-and-qos1-acknowledged", async () => {
    const t = await connected();
    t.socket.send(
      encodePublish({ topic: "cmd/reboot", payload: "now", qos: 1, id: 42, retain: true, dup: true }),
      encodePublish({ topic: "cmd/x", payload: "y" }),
    );
    deepEqual(t.socket.written, encodePuback(42));
    await settle();
    deepEqual(t.log, [
      ["message", "cmd/reboot", "now", { qos: 1, retain: true, dup: true }],
      ["message", "cmd/x", "y", { qos: 0, retain: false, dup: false }],
    ]);
  });

  test("keepalive-sends-pingreq-after-idle-period", async () => {
    const t = await connected();
    t.clock.advance(9999);
    equal(t.socket.writes.length, 0, "no ping before keepalive");
    t.clock.advance(1);
    deepEqual(t.socket.written, Uint8Array.of(0xc0, 0));
    t.socket.send(PINGRESP);
    t.socket.clear();
    t.clock.advance(10000);
    deepEqual(t.socket.written, Uint8Array.of(0xc0, 0), "the next ping one period later");
    await settle();
    deepEqual(t.log, []);
  });

  test("keepalive-pings-while-publishing-if-broker-silent", async () => {
    const t = await connected();
    for (let i = 0; i < 10; i++) {
      t.clock.advance(1000);
      t.client.publish("t", "x");
    }
    // Sending every second, but nothing received for 10 s: probe for a half-open connection.
    equal(t.socket.packets().filter((p) => p[0] === 0xc0).length, 1);
  });

  test("dead-connection-reported-without-pingresp", async () => {
    const t = await connected();
    t.clock.advance(10000); // PINGREQ
    t.clock.advance(4999);
    await settle();
    deepEqual(t.log, []);
    t.clock.advance(1);
    await settle();
    const reason = "MQTT: no response from broker within 15 s";
    deepEqual(t.log, [
      ["error", reason],
      ["close", reason],
    ]);
    ok(t.socket.closed);
    equal(t.clock.pendingCount, 0, "no timer left behind");
  });

  test("connack-timeout-uses-the-same-window", async () => {
    const t = setup();
    t.client.connect();
    t.socket.writable(4096);
    t.clock.advance(15000);
    await settle();
    deepEqual(t.log, [
      ["error", "MQTT: no response from broker within 15 s"],
      ["close", "MQTT: no response from broker within 15 s"],
    ]);
  });

  test("keepalive-zero-sets-no-timer", async () => {
    const t = await connected({ keepalive: 0 });
    equal(t.clock.pendingCount, 0);
  });

  test("malformed-packet-reports-error-and-closes", async () => {
    const t = await connected();
    t.socket.send(Uint8Array.of(0x40, 3, 0, 1, 0));
    await settle();
    const reason = "MQTT: PUBACK has length 3, expected 2";
    deepEqual(t.log, [
      ["error", reason],
      ["close", reason],
    ]);
    ok(t.socket.closed);
    // The decoder was reset: a new connection works.
    t.client.connect();
    t.socket.writable(4096);
    t.socket.send(CONNACK_OK);
    equal(t.client.connected, true);
  });

  test("packet-before-connack-is-a-protocol-error", async () => {
    const t = setup();
    t.client.connect();
    t.socket.writable(4096);
    t.socket.send(PINGRESP);
    await settle();
    deepEqual(t.log[0], ["error", "MQTT: expected CONNACK, got PINGRESP"]);
  });

  test("split-and-coalesced-chunks-decode", async () => {
    const t = setup();
    t.client.connect();
    t.socket.writable(4096);
    t.socket.send(CONNACK_OK.subarray(0, 1), CONNACK_OK.subarray(1, 3));
    equal(t.client.connected, false, "half a CONNACK is not a CONNACK");
    const a = encodePublish({ topic: "x", payload: "1" }),
      b = encodePublish({ topic: "y", payload: "2" });
    const tail = new Uint8Array(1 + a.length + 3);
    tail.set(CONNACK_OK.subarray(3));
    tail.set(a, 1);
    tail.set(b.subarray(0, 3), 1 + a.length);
    t.socket.send(tail, b.subarray(3));
    await settle();
    deepEqual(
      t.log.map((e) => (e[0] === "message" ? e[1] : e[0])),
      ["connect", "x", "y"],
    );
  });

  test("socket-error-reports-close-without-onerror", async () => {
    const t = await connected();
    t.socket.fail("connection closed by peer");
    await settle();
    deepEqual(t.log, [["close", "connection closed by peer"]]);
    equal(t.client.connected, false);
  });

  test("disconnect-sends-disconnect-then-closes", async () => {
    const t = await connected();
    t.client.disconnect();
    deepEqual(t.socket.written, Uint8Array.of(0xe0, 0));
    ok(t.socket.closed);
    await settle();
    deepEqual(t.log, [["close", undefined]]);
    t.client.connect();
    equal(t.net.sockets.length, 2, "a disconnected client can connect again");
  });

  test("disconnect-waits-for-queued-bytes", async () => {
    const t = await connected();
    t.socket.writable(0);
    t.client.publish("t", "last words");
    t.client.disconnect();
    ok(!t.socket.closed, "still flushing");
    t.socket.writable(4096);
    ok(t.socket.closed);
    const packets = t.socket.packets();
    deepEqual(packets[packets.length - 1], Uint8Array.of(0xe0, 0));
  });

  test("close-twice-is-harmless-and-silences-callbacks", async () => {
    const t = await connected();
    t.socket.send(encodePublish({ topic: "t", payload: "pending" }));
    t.client.close();
    t.client.close();
    ok(t.socket.closed);
    await settle();
    deepEqual(t.log, [], "no callback after close, not even one queued before it");
    equal(t.clock.pendingCount, 0);
  });

  test("methods-throw-after-close", () => {
    const t = setup();
    t.client.close();
    throws(() => t.client.connect(), /client is closed/);
    throws(() => t.client.publish("t", "x", { qos: 1 }), /client is closed/);
    throws(() => t.client.subscribe([{ topic: "t", qos: 0 }]), /client is closed/);
    throws(() => t.client.disconnect(), /client is closed/);
  });

  test("callbacks-deferred-out-of-public-methods-and-socket-callbacks", async () => {
    const t = await connected();
    t.socket.send(encodePuback(9)); // unknown id: reported through onError
    equal(t.log.length, 0, "not from inside onReadable");
    t.client.disconnect();
    equal(t.log.length, 0, "not from inside disconnect()");
    await settle();
    deepEqual(t.log, [
      ["error", "MQTT: PUBACK for unknown packet id 9"],
      ["close", undefined],
    ]);
  });

  test("connect-failure-reported-through-onclose", async () => {
    const t = setup({
      socket: {
        io: class {
          constructor() {
            throw new Error("no route to host");
          }
        } as unknown as TCPSocketConstructor,
      },
    });
    t.client.connect();
    equal(t.log.length, 0);
    await settle();
    deepEqual(t.log, [["close", "no route to host"]]);
    equal(t.client.connected, false);
  });

  test("write-discipline-respects-small-writable-counts", () => {
    const t = setup();
    t.client.connect();
    t.socket.writable(5);
    deepEqual(
      t.socket.writes.map((w) => w.length),
      [5],
    );
    t.socket.writable(3);
    deepEqual(
      t.socket.writes.map((w) => w.length),
      [5, 3],
    );
    t.socket.writable(1000);
    deepEqual(t.socket.written, encodeConnect({ clientId: "dev1", clean: true, keepalive: 10 }));
  });

  test("queued-packets-wait-for-onwritable", async () => {
    const t = await connected();
    t.socket.writable(0);
    t.client.publish("a", "1");
    t.client.publish("b", "2");
    equal(t.socket.writes.length, 0);
    t.socket.writable(4096);
    deepEqual(t.socket.packets(), [
      encodePublish({ topic: "a", payload: "1" }),
      encodePublish({ topic: "b", payload: "2" }),
    ]);
  });

  test("max-queued-bounds-the-output-queue", async () => {
    const t = await connected({ maxQueued: 20 });
    t.socket.writable(0);
    t.client.publish("t", "0123456789");
    throws(() => t.client.publish("t", "0123456789"), /output queue is full/);
  });

  test("qos0-publish-and-subscribe-need-a-connection", () => {
    const t = setup();
    throws(() => t.client.publish("t", "x"), /not connected/);
    throws(() => t.client.subscribe([{ topic: "t", qos: 0 }]), /not connected/);
  });

  test("max-in-flight-bounds-qos1-publishes", () => {
    const t = setup({ maxInFlight: 2 });
    t.client.publish("t", "1", { qos: 1 });
    t.client.publish("t", "2", { qos: 1 });
    throws(() => t.client.publish("t", "3", { qos: 1 }), /2 messages already in flight/);
  });

  test("invalid-topic-throws-from-publish", async () => {
    const t = await connected();
    throws(() => t.client.publish("a/+", "x"), /contains a wildcard/);
    throws(() => t.client.publish("t", "x", { qos: 3 as 1 }), /qos must be 0, 1 or 2/);
  });

  test("throwing-callback-reported-to-onerror", async () => {
    const t = setup({
      onConnect() {
        throw new Error("boom");
      },
    });
    t.client.connect();
    t.socket.writable(4096);
    t.socket.send(CONNACK_OK);
    await settle();
    deepEqual(t.log, [["error", "boom"]]);
    equal(t.client.connected, true);
  });

  // ---------------------------------------------------------------- messages over the packet limit

  test("oversized-qos1-message-is-acknowledged-discarded-and-named-keeping-the-session", async () => {
    const t = await connected({ maxPacketSize: 256 });
    const big = encodePublish({ topic: "dev1/command", payload: new Uint8Array(1000), qos: 1, id: 42, retain: true });
    t.socket.send(big.subarray(0, 100), big.subarray(100, 700), big.subarray(700));
    t.socket.send(encodePublish({ topic: "dev1/command", payload: "ping" }));
    deepEqual(t.socket.written, encodePuback(42), "acknowledged, so the broker does not send it again");
    await settle();
    deepEqual(t.log, [
      [
        "error",
        "MQTT: discarded a retained message of " + big.length + ' bytes on "dev1/command" (over the 256-byte limit)',
      ],
      ["message", "dev1/command", "ping", { qos: 0, retain: false, dup: false }],
    ]);
    ok(!t.socket.closed, "the connection is kept");
    equal(t.client.connected, true);
    equal(t.client.oversized, 1);
  });

  test("oversized-qos2-message-is-completed-and-counted-once", async () => {
    const t = await connected({ maxPacketSize: 128 });
    const big = encodePublish({ topic: "in", payload: new Uint8Array(500), qos: 2, id: 5 });
    t.socket.send(big);
    markDup(big);
    t.socket.send(big); // resent before our PUBREC arrived
    t.socket.send(encodeAck(PUBREL, 5));
    deepEqual(t.socket.packets(), [encodeAck(PUBREC, 5), encodeAck(PUBREC, 5), encodeAck(PUBCOMP, 5)]);
    await settle();
    equal(t.log.length, 1, JSON.stringify(t.log));
    equal(t.client.oversized, 1);
  });

  test("oversized-qos0-message-is-discarded-without-an-answer", async () => {
    const t = await connected({ maxPacketSize: 128 });
    const big = encodePublish({ topic: "in", payload: new Uint8Array(500) });
    t.socket.send(big);
    equal(t.socket.writes.length, 0);
    await settle();
    deepEqual(t.log, [
      ["error", "MQTT: discarded a message of " + big.length + ' bytes on "in" (over the 128-byte limit)'],
    ]);
  });

  test("oversized-packet-other-than-publish-still-closes", async () => {
    const t = await connected({ maxPacketSize: 128 });
    t.socket.send(Uint8Array.of(0x90, 0xac, 0x02));
    await settle();
    deepEqual(t.log[0], ["error", "MQTT: packet of 303 bytes exceeds the 128-byte limit"]);
    ok(t.socket.closed);
  });

  // ---------------------------------------------------------------- acknowledgement timeouts (3.1.1)

  test("unacknowledged-qos1-is-resent-with-dup-after-the-ack-timeout", async () => {
    const t = await connected();
    t.client.publish("a", "1", { qos: 1 });
    t.clock.advance(5000);
    t.client.publish("b", "2", { qos: 1 });
    t.socket.clear();
    t.clock.advance(4999);
    equal(t.socket.writes.length, 0, "nothing resent before 10 s (the keepalive period)");
    t.clock.advance(1);
    deepEqual(t.socket.packets(), [
      encodePublish({ topic: "a", payload: "1", qos: 1, id: 1, dup: true }),
      encodePublish({ topic: "b", payload: "2", qos: 1, id: 2, dup: true }),
      Uint8Array.of(0xc0, 0),
    ]);
    await settle();
    deepEqual(t.log, [
      ["error", "MQTT: message 1 not acknowledged within 10 s; resent 2 message(s) with DUP (resend 1 of 2)"],
    ]);
    t.socket.send(PINGRESP, encodePuback(1), encodePuback(2));
    equal(t.client.inFlight, 0);
    equal(t.client.connected, true);
  });

  test("broker-that-answers-pings-but-never-acknowledges-is-dropped-and-reconnect-resends", async () => {
    const t = await connected();
    t.client.publish("alarm", "raised", { qos: 1 });
    for (let i = 0; i < 3; i++) {
      t.clock.advance(10000);
      t.socket.send(PINGRESP);
    }
    await settle();
    const reason = "MQTT: message 1 not acknowledged within 10 s after 2 resend(s); closing the connection";
    deepEqual(t.log, [
      ["error", "MQTT: message 1 not acknowledged within 10 s; resent 1 message(s) with DUP (resend 1 of 2)"],
      ["error", "MQTT: message 1 not acknowledged within 10 s; resent 1 message(s) with DUP (resend 2 of 2)"],
      ["error", reason],
      ["close", reason],
    ]);
    ok(t.socket.closed);
    equal(t.client.inFlight, 1, "the message is kept for the next connection");
    t.client.connect();
    t.socket.writable(4096);
    t.socket.send(CONNACK_OK);
    deepEqual(t.socket.packets()[1], encodePublish({ topic: "alarm", payload: "raised", qos: 1, id: 1, dup: true }));
    t.socket.send(encodePuback(1));
    equal(t.client.inFlight, 0);
  });

  test("other-messages-acknowledged-do-not-save-one-never-acknowledged", async () => {
    const t = await connected();
    t.client.publish("alarm", "raised", { qos: 1 });
    t.clock.advance(10000); // resend 1
    t.socket.send(PINGRESP);
    t.clock.advance(2000);
    const other = t.client.publish("t", "x", { qos: 1 });
    t.socket.send(encodePuback(other));
    t.clock.advance(8000); // resend 2
    t.socket.send(PINGRESP);
    t.clock.advance(10000);
    await settle();
    deepEqual(t.log.slice(-1), [
      ["close", "MQTT: message 1 not acknowledged within 10 s after 2 resend(s); closing the connection"],
    ]);
  });

  test("ack-timeout-counts-from-when-the-output-queue-drained", async () => {
    const t = await connected();
    t.socket.writable(0);
    t.client.publish("a", "1", { qos: 1 });
    t.clock.advance(10000);
    await settle();
    deepEqual(t.log, [], "not resent while the first send is still queued");
    t.socket.writable(4096);
    t.socket.send(PINGRESP);
    t.socket.clear();
    t.clock.advance(9999);
    equal(t.socket.writes.length, 0);
    t.clock.advance(1);
    deepEqual(t.socket.packets()[0], encodePublish({ topic: "a", payload: "1", qos: 1, id: 1, dup: true }));
  });

  test("pubrel-waiting-for-pubcomp-is-resent-after-the-ack-timeout", async () => {
    const t = await connected();
    const id = t.client.publish("t", "x", { qos: 2 });
    t.clock.advance(4000);
    t.socket.send(encodeAck(PUBREC, id));
    t.socket.clear();
    t.clock.advance(9999);
    equal(t.socket.writes.length, 0, "the PUBREL went at 4 s: its wait starts then");
    t.clock.advance(1);
    deepEqual(t.socket.packets(), [encodeAck(PUBREL, id), Uint8Array.of(0xc0, 0)]);
  });

  test("ack-timeout-option-shorter-than-keepalive-and-zero-turns-it-off", async () => {
    const short = await connected({ ackTimeout: 1500 });
    short.client.publish("a", "1", { qos: 1 });
    short.socket.clear();
    short.clock.advance(1500);
    deepEqual(short.socket.packets(), [encodePublish({ topic: "a", payload: "1", qos: 1, id: 1, dup: true })]);
    const off = await connected({ ackTimeout: 0 });
    off.client.publish("a", "1", { qos: 1 });
    for (let i = 0; i < 10; i++) {
      off.clock.advance(10000);
      off.socket.send(PINGRESP);
    }
    await settle();
    deepEqual(off.log, []);
    equal(off.client.connected, true);
  });

  test("keepalive-zero-still-times-out-acknowledgements-after-60-s", async () => {
    const t = await connected({ keepalive: 0 });
    t.client.publish("a", "1", { qos: 1 });
    t.socket.clear();
    t.clock.advance(59999);
    equal(t.socket.writes.length, 0);
    t.clock.advance(1);
    deepEqual(t.socket.packets(), [encodePublish({ topic: "a", payload: "1", qos: 1, id: 1, dup: true })]);
    equal(t.client.connected, true, "no keepalive verdict without keepalive");
  });

  test("options-validated-with-option-names", () => {
    const cases: [Partial<MQTTClientOptions> & Record<string, unknown>, RegExp][] = [
      [{ port: 0 }, /^MQTTClient: option "port" must be an integer 1-65535$/],
      [{ host: "" }, /option "host"/],
      [{ clientId: "", clean: false }, /option "clientId" must not be empty when "clean" is false/],
      [{ password: "p" }, /option "password" requires "username"/],
      [{ keepalive: -1 }, /option "keepalive"/],
      [{ will: { topic: "a/#", payload: "x" } }, /option "will.topic" contains a wildcard/],
      [{ will: { topic: "a", payload: "x", qos: 3 as 0 } }, /option "will.qos"/],
      [{ socket: {} as MQTTClientOptions["socket"] }, /option "socket"/],
      [{ clock: {} as MQTTClientOptions["clock"] }, /option "clock"/],
      [{ maxPacketSize: 1 }, /option "maxPacketSize"/],
      [{ ackTimeout: -1 }, /^MQTTClient: option "ackTimeout" must be an integer 0-2147483647 \(milliseconds\)$/],
      [{ ackRetries: 1.5 }, /option "ackRetries" must be an integer 0-255/],
      [{ protocolVersion: 5, ackRetries: 1 }, /option "ackRetries" needs protocolVersion 4/],
      [
        { protocolVersion: 5, connectProperties: { maximumPacketSize: 100 } },
        /option "connectProperties.maximumPacketSize" is set from option "maxPacketSize"/,
      ],
      [{ onMessage: 5 as unknown as MQTTClientOptions["onMessage"] }, /option "onMessage" must be a function/],
    ];
    for (const [change, pattern] of cases)
      throws(() => new MQTTClient({ ...validOptions(), ...change }), pattern, JSON.stringify(Object.keys(change)));
  });

  test("options-not-mutated-and-unknown-ignored", () => {
    const options = Object.freeze({
      ...validOptions(),
      unknownOption: 1,
      will: Object.freeze({ topic: "w", payload: "x" }),
    });
    const client = new MQTTClient(options);
    equal(client.connected, false);
    deepEqual(Object.keys(options), ["host", "port", "clientId", "socket", "clock", "unknownOption", "will"]);
  });
});
