// MQTT 5.0 and QoS 2 in the codec: byte-exact packets from the 5.0 spec's layouts, properties, reason codes, and the server role.
import { suite, test, equal, deepEqual, throws } from "../../harness.js";
import {
  CONNECT,
  CONNACK,
  PUBLISH,
  PUBACK,
  PUBREC,
  PUBREL,
  PUBCOMP,
  SUBSCRIBE,
  UNSUBSCRIBE,
  DISCONNECT,
  AUTH,
  SUBACK,
  UNSUBACK,
  connackReason,
  type Packet,
  type ProtocolVersion,
} from "telltale/mqtt/packets";
import {
  encodeConnect,
  encodePublish,
  encodeAck,
  encodeSubscribe,
  encodeDisconnect,
  encodePacket,
  markDuplicate,
} from "telltale/mqtt/encode";
import { PacketDecoder } from "telltale/mqtt/decode";
import { BrokerDecoder } from "../../support/mqtt-broker.js";

function bytes(...parts: (number | string)[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    if (typeof part === "number") out.push(part);
    else for (let i = 0; i < part.length; i++) out.push(part.charCodeAt(i));
  }
  return Uint8Array.from(out);
}

function decode(input: Uint8Array, version: ProtocolVersion = 5, role: "client" | "server" = "client"): Packet {
  // The server role is the broker's decoder (tests/support), the client role the device's.
  const d =
    role === "server"
      ? new BrokerDecoder({ protocolVersion: version })
      : new PacketDecoder({ protocolVersion: version });
  d.push(input);
  const p = d.nextPacket();
  if (p === undefined) throw new Error("incomplete");
  equal(d.nextPacket(), undefined, "one packet");
  return p;
}

function rejects(
  input: Uint8Array,
  pattern: RegExp,
  version: ProtocolVersion = 5,
  role: "client" | "server" = "client",
): void {
  throws(() => decode(input, version, role), pattern);
}

suite("mqtt/codec5", () => {
  test("connect-v5-with-session-expiry-and-receive-maximum-matches-spec-3.1", () => {
    // §3.1.2.2 level 5; §3.1.2.11 property length then Session Expiry Interval (0x11, 4 bytes) and Receive Maximum (0x21, 2 bytes).
    deepEqual(
      encodeConnect({
        clientId: "d",
        clean: false,
        keepalive: 30,
        protocolVersion: 5,
        properties: { sessionExpiryInterval: 3600, receiveMaximum: 8 },
      }),
      bytes(0x10, 22, 0, 4, "MQTT", 5, 0x00, 0, 30, 8, 0x11, 0, 0, 0x0e, 0x10, 0x21, 0, 8, 0, 1, "d"),
    );
  });

  test("connect-v5-will-properties-come-before-will-topic", () => {
    const wire = encodeConnect({
      clientId: "d",
      clean: true,
      keepalive: 0,
      protocolVersion: 5,
      will: { topic: "s", payload: "x", qos: 1, retain: true, properties: { willDelayInterval: 5 } },
    });
    deepEqual(wire.subarray(13), bytes(0, 1, "d", 5, 0x18, 0, 0, 0, 5, 0, 1, "s", 0, 1, "x"));
    const back = decode(wire, 5, "server");
    deepEqual(back, {
      type: CONNECT,
      protocolVersion: 5,
      clientId: "d",
      clean: true,
      keepalive: 0,
      will: { topic: "s", payload: bytes("x"), qos: 1, retain: true, properties: { willDelayInterval: 5 } },
    });
  });

  test("connack-v5-decodes-reason-and-properties", () => {
    // Session present, success, properties: Receive Maximum 10, Maximum QoS 1, Assigned Client Identifier "a".
    const p = decode(bytes(0x20, 12, 1, 0, 9, 0x21, 0, 10, 0x24, 1, 0x12, 0, 1, "a"));
    deepEqual(p, {
      type: CONNACK,
      sessionPresent: true,
      returnCode: 0,
      properties: { receiveMaximum: 10, maximumQoS: 1, assignedClientIdentifier: "a" },
    });
  });

  test("connack-v5-refusal-reason-is-named", () => {
    const p = decode(bytes(0x20, 3, 0, 0x87, 0));
    equal((p as { returnCode: number }).returnCode, 0x87);
    equal(connackReason(0x87, 5), "not authorized");
    rejects(bytes(0x20, 3, 0, 0x05, 0), /CONNACK reason code 0x5 is invalid/);
  });

  test("qos2-publish-and-its-three-acknowledgements", () => {
    const wire = encodePublish({ topic: "t", payload: "x", qos: 2, id: 7 });
    deepEqual(wire, bytes(0x34, 6, 0, 1, "t", 0, 7, "x"));
    deepEqual(decode(wire, 4), {
      type: PUBLISH,
      topic: "t",
      payload: bytes("x"),
      qos: 2,
      retain: false,
      dup: false,
      id: 7,
    });
    markDuplicate(wire);
    equal(wire[0], 0x3c, "DUP is set on a QoS 2 resend");
    deepEqual(encodeAck(PUBREC, 7), bytes(0x50, 2, 0, 7));
    deepEqual(encodeAck(PUBREL, 7), bytes(0x62, 2, 0, 7), "PUBREL has flags 0b0010 (§3.6.1)");
    deepEqual(encodeAck(PUBCOMP, 7), bytes(0x70, 2, 0, 7));
    deepEqual(decode(bytes(0x62, 2, 0, 7), 4), { type: PUBREL, id: 7 });
    rejects(bytes(0x60, 2, 0, 7), /invalid flags 0x0 for PUBREL/, 4);
  });

  test("v5-acknowledgements-short-and-long-forms", () => {
    // §3.4.2.1: reason 0 without properties may be omitted; both forms decode alike.
    deepEqual(decode(bytes(0x40, 2, 0, 9)), { type: PUBACK, id: 9, reasonCode: 0 });
    deepEqual(decode(bytes(0x40, 3, 0, 9, 0x10)), { type: PUBACK, id: 9, reasonCode: 0x10 });
    deepEqual(decode(bytes(0x40, 4, 0, 9, 0x97, 0)), { type: PUBACK, id: 9, reasonCode: 0x97 });
    deepEqual(encodeAck(PUBACK, 9, 5, 0x87, { reasonString: "no" }), bytes(0x40, 9, 0, 9, 0x87, 5, 0x1f, 0, 2, "no"));
    deepEqual(decode(bytes(0x70, 3, 0, 9, 0x92)), { type: PUBCOMP, id: 9, reasonCode: 0x92 });
    rejects(bytes(0x70, 3, 0, 9, 0x10), /PUBCOMP reason code 0x10 is invalid/);
  });

  test("publish-v5-properties-round-trip", () => {
    const properties = {
      payloadFormatIndicator: 1,
      messageExpiryInterval: 60,
      contentType: "application/json",
      correlationData: bytes(1, 2),
      userProperties: [
        ["a", "1"],
        ["a", "2"],
      ] as [string, string][],
      subscriptionIdentifiers: [1, 300],
    };
    const wire = encodePublish({
      topic: "a/b",
      payload: "{}",
      qos: 1,
      id: 3,
      retain: true,
      dup: false,
      version: 5,
      properties,
    });
    deepEqual(decode(wire), {
      type: PUBLISH,
      topic: "a/b",
      payload: bytes("{}"),
      qos: 1,
      retain: true,
      dup: false,
      id: 3,
      properties,
    });
  });

  test("publish-v5-empty-topic-needs-a-topic-alias", () => {
    deepEqual(decode(bytes(0x30, 6, 0, 0, 3, 0x23, 0, 4)), {
      type: PUBLISH,
      topic: "",
      payload: new Uint8Array(0),
      qos: 0,
      retain: false,
      dup: false,
      id: 0,
      properties: { topicAlias: 4 },
    });
    rejects(bytes(0x30, 3, 0, 0, 0), /topic is empty and has no topic alias/);
  });

  test("subscribe-v5-options-and-identifier", () => {
    const wire = encodeSubscribe(
      5,
      [{ topic: "a/#", qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 2 }],
      5,
      { subscriptionIdentifiers: [7] },
    );
    deepEqual(wire, bytes(0x82, 11, 0, 5, 2, 0x0b, 7, 0, 3, "a/#", 0x2e));
    deepEqual(decode(wire, 5, "server"), {
      type: SUBSCRIBE,
      id: 5,
      filters: [{ topic: "a/#", qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 2 }],
      properties: { subscriptionIdentifiers: [7] },
    });
    throws(() => encodeSubscribe(5, [{ topic: "a", qos: 0, noLocal: true }]), /subscription options need MQTT 5.0/);
  });

  test("suback-unsuback-v5-reason-codes", () => {
    deepEqual(decode(bytes(0x90, 5, 0, 1, 0, 0x02, 0x97)), { type: SUBACK, id: 1, granted: [2, 0x97] });
    deepEqual(decode(bytes(0xb0, 5, 0, 1, 0, 0x00, 0x11)), { type: UNSUBACK, id: 1, reasonCodes: [0, 0x11] });
    rejects(bytes(0x90, 4, 0, 1, 0, 0x03), /SUBACK reason code 0x3 is invalid/);
  });

  test("disconnect-and-auth-v5", () => {
    deepEqual(encodeDisconnect(5), bytes(0xe0, 0));
    deepEqual(encodeDisconnect(5, 0x04, { sessionExpiryInterval: 0 }), bytes(0xe0, 7, 0x04, 5, 0x11, 0, 0, 0, 0));
    deepEqual(decode(bytes(0xe0, 2, 0x8e, 0)), { type: DISCONNECT, reasonCode: 0x8e });
    deepEqual(decode(bytes(0xf0, 0)), { type: AUTH, reasonCode: 0 });
    rejects(bytes(0xf0, 0), /reserved packet type 15/, 4);
  });

  test("property-errors-are-protocol-errors", () => {
    rejects(bytes(0x20, 8, 0, 0, 5, 0x21, 0, 1, 0x21, 0), /ends inside its receiveMaximum|appears twice/);
    rejects(bytes(0x20, 9, 0, 0, 6, 0x21, 0, 1, 0x21, 0, 2), /property receiveMaximum appears twice in CONNACK/);
    rejects(bytes(0x20, 5, 0, 0, 2, 0x23, 0), /ends inside|not allowed/);
    rejects(bytes(0x20, 6, 0, 0, 3, 0x23, 0, 1), /property topicAlias is not allowed in CONNACK/);
    rejects(bytes(0x20, 5, 0, 0, 2, 0x24, 2), /property maximumQoS must be 0 or 1, got 2/);
    rejects(bytes(0x20, 5, 0, 0, 2, 0x7f, 0), /unknown property identifier 0x7f in CONNACK/);
    rejects(bytes(0x20, 6, 0, 0, 3, 0x21, 0, 0), /property receiveMaximum must not be 0/);
    rejects(bytes(0x20, 4, 0, 0, 5, 0), /CONNACK ends inside its properties/);
    throws(() => encodeAck(PUBACK, 1, 5, 0, { topicAlias: 1 }), /property topicAlias is not allowed in PUBACK/);
    throws(() => encodeAck(PUBACK, 1, 4, 0x10), /reason codes need MQTT 5.0/);
  });

  test("trailing-bytes-are-rejected", () => {
    rejects(bytes(0xb0, 3, 0, 1, 0), /UNSUBACK has length 3, expected 2/, 4);
    rejects(bytes(0x40, 5, 0, 1, 0, 0, 0), /PUBACK has 1 unexpected trailing bytes/);
  });

  test("server-role-decodes-client-packets-and-refuses-broker-ones", () => {
    deepEqual(decode(bytes(0xa2, 6, 0, 2, 0, 2, "a", "b"), 4, "server"), { type: UNSUBSCRIBE, id: 2, topics: ["ab"] });
    deepEqual(decode(bytes(0xe0, 0), 4, "server"), { type: DISCONNECT });
    rejects(bytes(0x20, 2, 0, 0), /CONNACK is sent by a broker, not by clients/, 4, "server");
    rejects(bytes(0x10, 13, 0, 4, "MQTT", 3, 2, 0, 0, 0, 1, "c"), /protocol level 3 is not supported/, 4, "server");
  });

  test("encode-packet-covers-every-type-in-both-versions", () => {
    const packets: Packet[] = [
      { type: CONNECT, protocolVersion: 4, clientId: "c", clean: true, keepalive: 10 },
      { type: CONNACK, sessionPresent: false, returnCode: 0 },
      { type: PUBLISH, topic: "t", payload: bytes("p"), qos: 2, retain: false, dup: true, id: 1 },
      { type: PUBACK, id: 1 },
      { type: PUBREC, id: 1 },
      { type: PUBREL, id: 1 },
      { type: PUBCOMP, id: 1 },
      { type: SUBSCRIBE, id: 2, filters: [{ topic: "t/+", qos: 1 }] },
      { type: SUBACK, id: 2, granted: [1] },
      { type: UNSUBSCRIBE, id: 3, topics: ["t/+"] },
      { type: 12 },
      { type: 13 },
      { type: DISCONNECT },
    ];
    const client = (t: number) => t === CONNECT || t === SUBSCRIBE || t === UNSUBSCRIBE || t === 12 || t === DISCONNECT;
    for (const p of packets) {
      const back = decode(encodePacket(p, 4), 4, client(p.type) ? "server" : "client");
      deepEqual(back, p, "3.1.1 type " + p.type);
    }
    throws(() => encodePacket({ type: AUTH, reasonCode: 0 }, 4), /AUTH needs MQTT 5.0/);
  });
  test("v5-oversized-publish-is-skipped-past-its-properties", () => {
    const wire = encodePublish({
      topic: "cmd",
      payload: new Uint8Array(500),
      qos: 1,
      id: 3,
      version: 5,
      properties: { userProperties: [["k", "v".repeat(100)]], contentType: "application/json" },
    });
    const d = new PacketDecoder({ protocolVersion: 5, maxPacketSize: 64 });
    d.push(wire);
    deepEqual(d.nextPacket(), {
      type: PUBLISH,
      oversized: true,
      size: wire.length,
      topic: "cmd",
      topicSize: 3,
      qos: 1,
      retain: false,
      dup: false,
      id: 3,
    });
    // 5.0 lets a topic alias stand for an empty topic (§3.3.2.3.4): the topic is reported empty, not refused.
    const aliased = encodePublish({
      topic: "",
      payload: new Uint8Array(100),
      version: 5,
      properties: { topicAlias: 1 },
    });
    d.push(aliased);
    const p = d.nextPacket();
    equal(p?.type === PUBLISH && p.oversized && p.topic, "");
  });
});
