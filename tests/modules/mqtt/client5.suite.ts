// The client with MQTT 5.0, QoS 2 and persistent sessions, against an in-memory socket that plays the broker.
import { suite, test, equal, deepEqual, ok, throws, settle } from "../../harness.js";
import { ManualClock } from "../../support/manual-clock.js";
import type { TCPSocket, TCPSocketOptions } from "telltale/io/io";
import { MQTTClient, type MQTTClientOptions } from "telltale/mqtt/client";
import {
  CONNECT,
  PUBLISH,
  PUBREL,
  PUBCOMP,
  PUBREC,
  PINGREQ,
  PUBACK,
  MAX_PACKET_SIZE,
  type Packet,
  type ProtocolVersion,
} from "telltale/mqtt/packets";
import { encodeAck, encodePacket, encodePublish } from "telltale/mqtt/encode";
import { BrokerDecoder, bytesOf } from "../../support/mqtt-broker.js";

/** The broker's end: decodes what the client writes (as a server would) and injects what the broker sends. */
class BrokerSocket implements TCPSocket {
  readonly options: TCPSocketOptions;
  readonly received: Packet[] = [];
  readonly #decoder: BrokerDecoder;
  #inbox: Uint8Array[] = [];
  closed = false;
  constructor(options: TCPSocketOptions, version: ProtocolVersion) {
    this.options = options;
    this.#decoder = new BrokerDecoder({ protocolVersion: version });
  }
  read(): ArrayBuffer | undefined {
    const c = this.#inbox.shift();
    return c ? c.slice().buffer : undefined;
  }
  write(buffer: ArrayBuffer | ArrayBufferView): void {
    const bytes = bytesOf(buffer);
    this.#decoder.push(bytes.slice());
    for (let p = this.#decoder.nextPacket(); p; p = this.#decoder.nextPacket()) this.received.push(p);
  }
  close(): void {
    this.closed = true;
  }
  writable(): void {
    this.options.onWritable?.call(this, 65536);
  }
  send(packet: Packet | Uint8Array, version: ProtocolVersion = 5): void {
    const bytes = packet instanceof Uint8Array ? packet : encodePacket(packet, version);
    this.#inbox.push(bytes);
    this.options.onReadable?.call(this, bytes.length);
  }
  fail(message: string): void {
    this.options.onError?.call(this, new Error(message));
  }
  types(): number[] {
    return this.received.map((p) => p.type);
  }
}

function setup(extra: Partial<MQTTClientOptions> = {}) {
  const clock = new ManualClock();
  const sockets: BrokerSocket[] = [];
  const version = extra.protocolVersion ?? 5;
  class Io extends BrokerSocket {
    constructor(o: TCPSocketOptions) {
      super(o, version);
      sockets.push(this);
    }
  }
  const log: unknown[][] = [];
  const client = new MQTTClient({
    host: "b",
    port: 1883,
    clientId: "dev",
    keepalive: 10,
    protocolVersion: 5,
    socket: { io: Io },
    clock,
    onConnect(sp) {
      log.push(["connect", sp]);
    },
    onMessage(topic, _payload, info) {
      log.push(["message", topic, info.qos, info.dup]);
    },
    onPublished(id, code) {
      log.push(["published", id, code]);
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
    log,
    client,
    get socket(): BrokerSocket {
      const socket = sockets[sockets.length - 1];
      if (!socket) throw new Error("no socket opened yet");
      return socket;
    },
  };
}

async function connect(
  t: ReturnType<typeof setup>,
  connack: Packet = { type: 2, sessionPresent: false, returnCode: 0 },
  version: ProtocolVersion = 5,
) {
  t.client.connect();
  t.socket.writable();
  t.socket.send(connack, version);
  await settle();
}

suite("mqtt/client5", () => {
  test("qos2-publish-completes-after-pubrec-pubrel-pubcomp", async () => {
    const t = setup();
    await connect(t);
    const id = t.client.publish("t", "x", { qos: 2 });
    t.socket.send({ type: PUBREC, id, reasonCode: 0 });
    deepEqual(t.socket.types(), [CONNECT, PUBLISH, PUBREL]);
    equal(t.client.inFlight, 1, "in flight until PUBCOMP");
    t.socket.send({ type: PUBCOMP, id, reasonCode: 0 });
    await settle();
    equal(t.client.inFlight, 0);
    deepEqual(t.log.slice(-1), [["published", id, 0]]);
  });

  test("persistent-session-resends-pubrel-after-pubrec-and-publish-with-dup-before-it", async () => {
    const t = setup({ clean: false });
    await connect(t);
    const a = t.client.publish("a", "1", { qos: 2 });
    const b = t.client.publish("b", "2", { qos: 1 });
    t.socket.send({ type: PUBREC, id: a, reasonCode: 0 });
    t.socket.fail("connection reset");
    await settle();
    await connect(t, { type: 2, sessionPresent: true, returnCode: 0 });
    const resent = t.socket.received.slice(1);
    deepEqual(
      resent.map((p) => p.type),
      [PUBREL, PUBLISH],
      "PUBREL for the message past PUBREC, then the other PUBLISH",
    );
    equal(resent[0]?.type === PUBREL && resent[0].id, a);
    ok(resent[1]?.type === PUBLISH && resent[1].dup && resent[1].id === b, "resent with DUP and its packet id");
    const connect5 = t.socket.received[0];
    ok(
      connect5?.type === CONNECT && !connect5.clean && connect5.properties?.sessionExpiryInterval === 0xffffffff,
      "session kept by the broker",
    );
  });

  test("incoming-qos2-is-delivered-once-and-completed", async () => {
    const t = setup();
    await connect(t);
    t.socket.send(encodePublish({ topic: "in", payload: "m", qos: 2, id: 5, retain: false, dup: false, version: 5 }));
    t.socket.send(encodePublish({ topic: "in", payload: "m", qos: 2, id: 5, retain: false, dup: true, version: 5 })); // resent before our PUBREC arrived
    t.socket.send(encodeAck(PUBREL, 5));
    await settle();
    deepEqual(
      t.log.filter((e) => e[0] === "message"),
      [["message", "in", 2, false]],
    );
    deepEqual(t.socket.types().slice(1), [PUBREC, PUBREC, PUBCOMP]);
  });

  test("broker-receive-maximum-limits-the-window", async () => {
    const t = setup();
    await connect(t, {
      type: 2,
      sessionPresent: false,
      returnCode: 0,
      properties: { receiveMaximum: 2, maximumQoS: 1 },
    });
    t.client.publish("t", "1", { qos: 1 });
    t.client.publish("t", "2", { qos: 1 });
    throws(
      () => t.client.publish("t", "3", { qos: 1 }),
      /2 messages already in flight \(the broker's Receive Maximum\)/,
    );
    throws(() => t.client.publish("t", "4", { qos: 2 }), /accepts QoS up to 1/);
  });

  test("v5-refusal-names-its-reason-code", async () => {
    const t = setup();
    await connect(t, { type: 2, sessionPresent: false, returnCode: 0x86 });
    deepEqual(t.log.slice(-1), [["close", "MQTT: connection refused: bad user name or password (0x86)"]]);
  });

  test("v5-puback-refusal-is-reported-and-not-resent", async () => {
    const t = setup();
    await connect(t);
    const id = t.client.publish("t", "x", { qos: 1 });
    t.socket.send({ type: 4, id, reasonCode: 0x97 });
    await settle();
    deepEqual(t.log.slice(-2), [
      ["error", "MQTT: broker refused message 1: quota exceeded (0x97)"],
      ["published", id, 0x97],
    ]);
    equal(t.client.inFlight, 0);
  });

  test("broker-disconnect-reason-is-reported", async () => {
    const t = setup();
    await connect(t);
    t.socket.send({ type: 14, reasonCode: 0x8e, properties: { reasonString: "another device" } });
    await settle();
    deepEqual(t.log.slice(-1), [["close", "MQTT: broker disconnected: session taken over (0x8e): another device"]]);
  });

  test("server-keep-alive-replaces-ours", async () => {
    const t = setup();
    await connect(t, { type: 2, sessionPresent: false, returnCode: 0, properties: { serverKeepAlive: 2 } });
    t.clock.advance(2000);
    deepEqual(t.socket.types().slice(-1), [PINGREQ], "PINGREQ after the broker's 2 s, not our 10 s");
  });

  test("pubcomp-for-a-qos1-message-is-an-unknown-id", async () => {
    const t = setup();
    await connect(t);
    const id = t.client.publish("t", "x", { qos: 1 });
    t.socket.send({ type: PUBCOMP, id, reasonCode: 0 });
    await settle();
    deepEqual(t.log.slice(-1), [["error", "MQTT: PUBCOMP for unknown packet id 1"]]);
    equal(t.client.inFlight, 1);
  });

  test("mqtt311-qos2-flow-works-too", async () => {
    const t = setup({ protocolVersion: 4 });
    await connect(t, { type: 2, sessionPresent: false, returnCode: 0 }, 4);
    const id = t.client.publish("t", "x", { qos: 2 });
    t.socket.send(encodeAck(PUBREC, id));
    t.socket.send(encodeAck(PUBCOMP, id));
    await settle();
    deepEqual(t.log.slice(-1), [["published", id, 0]]);
  });
  test("connect-carries-maximum-packet-size-whenever-there-is-a-limit", () => {
    const sent = (extra: Partial<MQTTClientOptions>) => {
      const t = setup(extra);
      t.client.connect();
      t.socket.writable();
      const c = t.socket.received[0];
      return c?.type === CONNECT ? c.properties?.maximumPacketSize : "no CONNECT";
    };
    equal(sent({}), 65536, "the default limit");
    equal(sent({ maxPacketSize: 1024 }), 1024);
    equal(sent({ maxPacketSize: MAX_PACKET_SIZE }), undefined, "no limit: the property is left out (§3.1.2.11.4)");
  });

  test("v5-oversized-publish-is-discarded-too-if-the-broker-sends-one", async () => {
    const t = setup({ maxPacketSize: 128 });
    await connect(t);
    const big = encodePublish({ topic: "cmd", payload: new Uint8Array(400), qos: 1, id: 8, retain: true, version: 5 });
    t.socket.send(big);
    await settle();
    deepEqual(t.socket.types().slice(1), [PUBACK]);
    deepEqual(t.log.slice(-1), [
      ["error", "MQTT: discarded a retained message of " + big.length + ' bytes on "cmd" (over the 128-byte limit)'],
    ]);
    equal(t.client.connected, true);
    equal(t.client.oversized, 1);
    // An empty topic stands for a topic alias, which this client never allows.
    t.socket.send(
      encodePublish({ topic: "", payload: new Uint8Array(400), version: 5, properties: { topicAlias: 1 } }),
    );
    await settle();
    deepEqual(t.log.slice(-1), [
      ["close", "MQTT: broker used a topic alias, which this client did not allow (§3.3.2.3.4)"],
    ]);
  });

  test("v5-ack-timeout-closes-the-connection-instead-of-resending-and-reconnect-resends", async () => {
    const t = setup();
    await connect(t);
    const id = t.client.publish("alarm", "raised", { qos: 1 });
    t.clock.advance(9999);
    deepEqual(t.socket.types(), [CONNECT, PUBLISH]);
    t.clock.advance(1);
    await settle();
    const reason =
      "MQTT: message 1 not acknowledged within 10 s (MQTT 5.0 resends only on a new connection); closing the connection";
    deepEqual(t.log.slice(-2), [
      ["error", reason],
      ["close", reason],
    ]);
    equal(t.socket.received.filter((p) => p.type === PUBLISH).length, 1, "never resent on the same connection (§4.4)");
    await connect(t);
    const resent = t.socket.received[1];
    ok(
      resent?.type === PUBLISH && !resent.oversized && resent.dup && resent.id === id,
      "resent with DUP on the new one",
    );
  });
});
