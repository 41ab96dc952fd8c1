// MQTT codec: byte-exact encodings checked against hand-assembled MQTT 3.1.1 packets, streaming decode, and every malformed-input rejection.
import { suite, test, equal, deepEqual, ok, throws } from "../../harness.js";
import {
  CONNACK,
  PUBLISH,
  PUBACK,
  SUBACK,
  UNSUBACK,
  PINGRESP,
  connackReason,
  type IncomingPacket,
  type PublishPacket,
} from "telltale/mqtt/packets";
import { topicFilterProblem } from "telltale/mqtt/topic";
import {
  encodeConnect,
  encodePublish,
  encodePuback,
  encodeSubscribe,
  encodePingreq,
  encodeDisconnect,
  markDuplicate,
} from "telltale/mqtt/encode";
import { PacketDecoder } from "telltale/mqtt/decode";
import { utf8Decode } from "telltale/text/utf8";

// Bytes from numbers and ASCII strings, so expected packets read like the spec's tables.
function bytes(...parts: (number | string)[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    if (typeof part === "number") out.push(part);
    else for (let i = 0; i < part.length; i++) out.push(part.charCodeAt(i));
  }
  return Uint8Array.from(out);
}

function decodeAll(decoder: PacketDecoder, ...chunks: (Uint8Array | ArrayBuffer)[]): IncomingPacket[] {
  const packets: IncomingPacket[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let p = decoder.next(); p !== undefined; p = decoder.next()) packets.push(p);
  }
  return packets;
}

function decodeOne(input: Uint8Array, maxPacketSize?: number): IncomingPacket {
  const packets = decodeAll(new PacketDecoder({ maxPacketSize }), input);
  equal(packets.length, 1, "packets decoded");
  return packets[0]!;
}

function rejects(input: Uint8Array, pattern: RegExp, maxPacketSize?: number): void {
  throws(() => decodeAll(new PacketDecoder({ maxPacketSize }), input), pattern);
}

suite("mqtt/codec", () => {
  // ---------------------------------------------------------------- encoding

  test("connect-minimal-matches-spec-3.1", () => {
    // §3.1.1 fixed header, §3.1.2 variable header (protocol name, level 4, flags, keepalive), §3.1.3.1 client id.
    deepEqual(
      encodeConnect({ clientId: "abc", clean: true, keepalive: 60 }),
      bytes(
        0x10,
        15,
        0,
        4,
        "MQTT",
        4,
        0x02, // clean session (§3.1.2.4)
        0,
        60,
        0,
        3,
        "abc",
      ),
    );
  });

  test("connect-with-will-and-credentials-matches-spec-3.1", () => {
    // Flags (§3.1.2.3): user name 0x80, password 0x40, Will retain 0x20, Will QoS 1 0x08, Will 0x04; payload order §3.1.3.
    const packet = encodeConnect({
      clientId: "dev",
      clean: false,
      keepalive: 300,
      username: "u",
      password: Uint8Array.of(1, 2),
      will: { topic: "s/d", payload: "off", qos: 1, retain: true },
    });
    deepEqual(
      packet,
      bytes(0x10, 32, 0, 4, "MQTT", 4, 0xec, 0x01, 0x2c, 0, 3, "dev", 0, 3, "s/d", 0, 3, "off", 0, 1, "u", 0, 2, 1, 2),
    );
  });

  test("connect-password-without-username-rejected", () => {
    throws(() => encodeConnect({ clientId: "a", clean: true, keepalive: 0, password: "p" }), /requires a user name/);
  });

  test("connect-keepalive-out-of-range-rejected", () => {
    throws(
      () => encodeConnect({ clientId: "a", clean: true, keepalive: 65536 }),
      /keepalive must be an integer 0-65535/,
    );
  });

  test("publish-qos0-matches-spec-3.3", () => {
    // §3.3.1 flags 0, §3.3.2.1 topic, no packet id at QoS 0 (§3.3.2.2), §3.3.3 payload.
    deepEqual(encodePublish({ topic: "a/b", payload: "hi" }), bytes(0x30, 7, 0, 3, "a/b", "hi"));
  });

  test("publish-qos1-retain-dup-matches-spec-3.3", () => {
    // DUP 0x08, QoS 1 0x02, RETAIN 0x01 (§3.3.1.1-3), packet id after the topic (§3.3.2.2).
    deepEqual(
      encodePublish({ topic: "t", payload: Uint8Array.of(9), qos: 1, id: 0x1234, retain: true, dup: true }),
      bytes(0x3b, 6, 0, 1, "t", 0x12, 0x34, 9),
    );
  });

  test("publish-remaining-length-uses-two-byte-varint", () => {
    // §2.2.3: 205 = 0x4D + 1 * 128 is encoded as 0xCD 0x01.
    const packet = encodePublish({ topic: "abc", payload: new Uint8Array(200) });
    deepEqual(packet.subarray(0, 3), Uint8Array.of(0x30, 0xcd, 0x01));
    equal(packet.length, 208);
  });

  test("publish-string-payload-is-utf8", () => {
    deepEqual(encodePublish({ topic: "t", payload: "é" }).subarray(5), Uint8Array.of(0xc3, 0xa9));
  });

  test("mark-duplicate-sets-dup-on-qos1-only", () => {
    const qos1 = encodePublish({ topic: "t", payload: "", qos: 1, id: 1 });
    markDuplicate(qos1);
    equal(qos1[0], 0x3a);
    const qos0 = encodePublish({ topic: "t", payload: "" });
    markDuplicate(qos0);
    equal(qos0[0], 0x30);
  });

  test("publish-rejects-wildcard-topic", () => {
    throws(() => encodePublish({ topic: "a/+", payload: "x" }), /topic "a\/\+" contains a wildcard/);
    throws(() => encodePublish({ topic: "a/#", payload: "x" }), /contains a wildcard/);
  });

  test("publish-rejects-empty-topic-and-lone-surrogate", () => {
    throws(() => encodePublish({ topic: "", payload: "x" }), /is empty/);
    throws(() => encodePublish({ topic: "a\uD800", payload: "x" }), /lone surrogate/);
    throws(() => encodePublish({ topic: "a\u0000", payload: "x" }), /U\+0000/);
  });

  test("publish-qos1-needs-packet-id", () => {
    throws(() => encodePublish({ topic: "t", payload: "x", qos: 1, id: 0 }), /packet id must be an integer 1-65535/);
    throws(
      () => encodePublish({ topic: "t", payload: "x", qos: 0, id: 0, retain: false, dup: true }),
      /DUP must be 0 for QoS 0/,
    );
  });

  test("puback-pingreq-disconnect-match-spec", () => {
    deepEqual(encodePuback(513), Uint8Array.of(0x40, 2, 2, 1)); // §3.4
    deepEqual(encodePingreq(), Uint8Array.of(0xc0, 0)); // §3.12
    deepEqual(encodeDisconnect(), Uint8Array.of(0xe0, 0)); // §3.14
  });

  test("subscribe-matches-spec-3.8", () => {
    // §3.8.1 flags 0b0010, §3.8.2 packet id, §3.8.3 filter + requested QoS per entry.
    deepEqual(
      encodeSubscribe(10, [
        { topic: "a/+", qos: 1 },
        { topic: "#", qos: 0 },
      ]),
      bytes(0x82, 12, 0, 10, 0, 3, "a/+", 1, 0, 1, "#", 0),
    );
  });

  test("subscribe-rejects-bad-filters", () => {
    throws(() => encodeSubscribe(1, []), /at least one topic filter/);
    throws(() => encodeSubscribe(1, [{ topic: "a/#/b", qos: 0 }]), /misplaces the multi-level wildcard/);
    throws(() => encodeSubscribe(1, [{ topic: "a+", qos: 0 }]), /misplaces the single-level wildcard/);
    throws(() => encodeSubscribe(1, [{ topic: "a", qos: 3 as 0 }]), /QoS must be 0, 1 or 2/);
  });

  test("topic-filter-wildcards-accepted-where-spec-allows", () => {
    for (const filter of ["#", "+", "a/#", "+/b/+", "/+", "a//#"]) equal(topicFilterProblem(filter), undefined, filter);
  });

  test("connack-reason-names-match-spec-table", () => {
    equal(connackReason(5), "not authorized");
    equal(connackReason(1), "unacceptable protocol version");
  });

  // ---------------------------------------------------------------- decoding

  test("decodes-connack", () => {
    deepEqual(decodeOne(Uint8Array.of(0x20, 2, 1, 0)), { type: CONNACK, sessionPresent: true, returnCode: 0 });
    deepEqual(decodeOne(Uint8Array.of(0x20, 2, 0, 5)), { type: CONNACK, sessionPresent: false, returnCode: 5 });
  });

  test("decodes-what-encode-publish-wrote", () => {
    const p = decodeOne(
      encodePublish({ topic: "x/€", payload: Uint8Array.of(1, 2, 3), qos: 1, id: 77, retain: true, dup: true }),
    ) as PublishPacket;
    deepEqual(p, {
      type: PUBLISH,
      topic: "x/€",
      payload: Uint8Array.of(1, 2, 3),
      qos: 1,
      retain: true,
      dup: true,
      id: 77,
    });
  });

  test("decodes-puback-unsuback-pingresp", () => {
    deepEqual(decodeOne(Uint8Array.of(0x40, 2, 0, 7)), { type: PUBACK, id: 7 });
    deepEqual(decodeOne(Uint8Array.of(0xb0, 2, 1, 0)), { type: UNSUBACK, id: 256 });
    deepEqual(decodeOne(Uint8Array.of(0xd0, 0)), { type: PINGRESP });
  });

  test("decodes-suback-with-failure-code", () => {
    deepEqual(decodeOne(Uint8Array.of(0x90, 5, 0, 3, 0, 1, 0x80)), { type: SUBACK, id: 3, granted: [0, 1, 0x80] });
  });

  test("decodes-byte-at-a-time", () => {
    const wire = encodePublish({ topic: "a/b", payload: "hello", qos: 1, id: 5 });
    const decoder = new PacketDecoder();
    const packets: IncomingPacket[] = [];
    for (let i = 0; i < wire.length; i++) packets.push(...decodeAll(decoder, wire.subarray(i, i + 1)));
    equal(packets.length, 1);
    equal((packets[0] as PublishPacket).topic, "a/b");
    equal(utf8Decode((packets[0] as PublishPacket).payload), "hello");
    ok(decoder.idle);
  });

  test("decodes-several-packets-per-chunk-and-split-tail", () => {
    const a = Uint8Array.of(0x20, 2, 0, 0),
      b = Uint8Array.of(0xd0, 0),
      c = encodePublish({ topic: "t", payload: "xyz" });
    const wire = new Uint8Array(a.length + b.length + c.length);
    wire.set(a);
    wire.set(b, a.length);
    wire.set(c, a.length + b.length);
    const decoder = new PacketDecoder();
    const first = decodeAll(decoder, wire.subarray(0, wire.length - 2));
    deepEqual(
      first.map((p) => p.type),
      [CONNACK, PINGRESP],
    );
    ok(!decoder.idle, "a partial PUBLISH is buffered");
    const rest = decodeAll(decoder, wire.subarray(wire.length - 2));
    equal((rest[0] as PublishPacket).topic, "t");
  });

  test("decodes-large-packet-split-with-three-byte-length", () => {
    // 20000 bytes of payload needs a 3-byte remaining length (§2.2.3) and body buffering across chunks.
    const payload = new Uint8Array(20000);
    for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff;
    const wire = encodePublish({ topic: "big", payload });
    equal(wire[3]! & 0x80, 0, "third length byte ends the varint");
    const decoder = new PacketDecoder({ maxPacketSize: 32768 });
    const packets: IncomingPacket[] = [];
    for (let at = 0; at < wire.length; at += 1500) packets.push(...decodeAll(decoder, wire.subarray(at, at + 1500)));
    equal(packets.length, 1);
    deepEqual((packets[0] as PublishPacket).payload, payload);
  });

  test("payload-survives-decoder-reuse", () => {
    const decoder = new PacketDecoder();
    const wire = encodePublish({ topic: "t", payload: "first" });
    const [p] = decodeAll(decoder, wire.subarray(0, 3), wire.subarray(3)) as PublishPacket[];
    decodeAll(decoder, encodePublish({ topic: "t", payload: "other" }).subarray(0, 4));
    equal(utf8Decode(p!.payload), "first");
  });

  test("accepts-arraybuffer-chunks", () => {
    deepEqual(decodeAll(new PacketDecoder(), Uint8Array.of(0x40, 2, 0, 1).buffer), [
      { type: PUBACK, id: 1 },
    ] as IncomingPacket[]);
  });

  // ---------------------------------------------------------------- malformed input

  test("rejects-five-byte-remaining-length", () => {
    rejects(Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0xff, 0x01), /^MQTT: malformed remaining length$/);
  });

  test("rejects-packet-other-than-publish-over-size-limit-before-buffering", () => {
    // Remaining length 299996 (0xDC 0xA7 0x12) + 4 header bytes = 300000; only the header is supplied.
    rejects(Uint8Array.of(0x90, 0xdc, 0xa7, 0x12), /^MQTT: packet of 300000 bytes exceeds the 65536-byte limit$/);
    rejects(Uint8Array.of(0x90, 103), /packet of 105 bytes exceeds the 100-byte limit/, 100);
  });

  // ---------------------------------------------------------------- PUBLISH over the size limit

  test("oversized-publish-is-skipped-keeping-topic-and-id-then-decoding-goes-on", () => {
    const wire = encodePublish({
      topic: "dev/command",
      payload: new Uint8Array(5000).fill(0x61),
      qos: 1,
      id: 7,
      retain: true,
    });
    const decoder = new PacketDecoder({ maxPacketSize: 256 });
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < wire.length; at += 97) chunks.push(wire.subarray(at, at + 97));
    chunks.push(encodePuback(3));
    deepEqual(decodeAll(decoder, ...chunks), [
      {
        type: PUBLISH,
        oversized: true,
        size: wire.length,
        topic: "dev/command",
        topicSize: 11,
        qos: 1,
        retain: true,
        dup: false,
        id: 7,
      },
      { type: PUBACK, id: 3 },
    ] as IncomingPacket[]);
    ok(decoder.idle, "nothing of the skipped packet is left over");
  });

  test("oversized-publish-split-byte-by-byte-and-sharing-chunks", () => {
    const wire = encodePublish({ topic: "a/b", payload: new Uint8Array(300), qos: 2, id: 0x1234, dup: true });
    const before = encodePuback(1);
    const decoder = new PacketDecoder({ maxPacketSize: 64 });
    // The first chunk ends the PUBACK and starts the PUBLISH; then one byte at a time.
    const first = new Uint8Array(before.length + 3);
    first.set(before);
    first.set(wire.subarray(0, 3), before.length);
    const chunks: Uint8Array[] = [first];
    for (let i = 3; i < wire.length; i++) chunks.push(wire.subarray(i, i + 1));
    const packets = decodeAll(decoder, ...chunks);
    deepEqual(packets, [
      { type: PUBACK, id: 1 },
      {
        type: PUBLISH,
        oversized: true,
        size: wire.length,
        topic: "a/b",
        topicSize: 3,
        qos: 2,
        retain: false,
        dup: true,
        id: 0x1234,
      },
    ] as IncomingPacket[]);
  });

  test("oversized-publish-whose-topic-alone-is-over-the-limit-still-gives-its-id", () => {
    const topic = "t/".repeat(40);
    const wire = encodePublish({ topic, payload: "x", qos: 1, id: 9 });
    const [p] = decodeAll(new PacketDecoder({ maxPacketSize: 16 }), wire);
    deepEqual(p, {
      type: PUBLISH,
      oversized: true,
      size: wire.length,
      topic: undefined,
      topicSize: 80,
      qos: 1,
      retain: false,
      dup: false,
      id: 9,
    });
  });

  test("oversized-publish-qos0-has-no-id", () => {
    const wire = encodePublish({ topic: "t", payload: new Uint8Array(200) });
    const [p] = decodeAll(new PacketDecoder({ maxPacketSize: 100 }), wire);
    ok(p?.type === PUBLISH && p.oversized && p.id === 0 && p.qos === 0 && p.topic === "t");
  });

  test("oversized-publish-with-a-malformed-header-is-still-rejected", () => {
    // Remaining length 300 (0xAC 0x02), topic length 400: past the packet.
    rejects(Uint8Array.of(0x32, 0xac, 0x02, 0x01, 0x90), /^MQTT: PUBLISH topic length 400 exceeds the packet$/, 256);
    rejects(Uint8Array.of(0x30, 0xac, 0x02, 0, 2, 0xc3, 0x28), /^MQTT: topic is not valid UTF-8$/, 256);
    rejects(Uint8Array.of(0x30, 0xac, 0x02, 0, 1, 0x23), /contains a wildcard/, 256);
    rejects(Uint8Array.of(0x32, 0xac, 0x02, 0, 1, 0x74, 0, 0), /PUBLISH with QoS 1 has packet id 0/, 256);
    rejects(Uint8Array.of(0x30, 0xac, 0x02, 0, 0), /PUBLISH topic is empty/, 256);
    rejects(Uint8Array.of(0x32, 4, 0, 1, 0x74, 0), /PUBLISH has length 4, expected at least 5/, 4);
  });

  test("rejects-reserved-packet-types", () => {
    rejects(Uint8Array.of(0x00, 0), /^MQTT: reserved packet type 0$/);
    rejects(Uint8Array.of(0xf0, 0), /^MQTT: reserved packet type 15$/);
  });

  test("rejects-client-only-packet-types", () => {
    rejects(Uint8Array.of(0x10, 0), /CONNECT is sent by clients/);
    rejects(Uint8Array.of(0x82, 6, 0, 1, 0, 1, 0x61, 0), /SUBSCRIBE is sent by clients/);
    rejects(Uint8Array.of(0xe0, 0), /DISCONNECT is sent by clients, not by a broker/, undefined);
  });

  test("rejects-invalid-fixed-header-flags", () => {
    rejects(Uint8Array.of(0x43, 2, 0, 1), /^MQTT: invalid flags 0x3 for PUBACK$/);
    rejects(Uint8Array.of(0x21, 2, 0, 0), /invalid flags 0x1 for CONNACK/);
  });

  test("rejects-wrong-fixed-lengths", () => {
    rejects(Uint8Array.of(0x20, 3, 0, 0, 0), /^MQTT: CONNACK has length 3, expected 2$/);
    rejects(Uint8Array.of(0xd0, 1, 0), /PINGRESP has length 1, expected 0/);
    rejects(Uint8Array.of(0x90, 2, 0, 1), /SUBACK has length 2, expected at least 3/);
    rejects(Uint8Array.of(0x32, 4, 0, 1, 0x74, 0), /PUBLISH has length 4, expected at least 5/);
  });

  test("rejects-connack-reserved-flags-and-codes", () => {
    rejects(Uint8Array.of(0x20, 2, 2, 0), /CONNACK has reserved flags 0x2/);
    rejects(Uint8Array.of(0x20, 2, 0, 6), /CONNACK return code 6 is reserved/);
  });

  test("rejects-topic-not-utf8", () => {
    rejects(Uint8Array.of(0x30, 4, 0, 2, 0xc3, 0x28), /^MQTT: topic is not valid UTF-8$/);
    rejects(Uint8Array.of(0x30, 4, 0, 2, 0xc0, 0xaf), /topic is not valid UTF-8/); // overlong "/"
  });

  test("rejects-topic-with-wildcard-or-null-or-empty", () => {
    rejects(Uint8Array.of(0x30, 3, 0, 1, 0x23), /contains a wildcard/);
    rejects(Uint8Array.of(0x30, 3, 0, 1, 0x00), /topic contains U\+0000/);
    rejects(Uint8Array.of(0x30, 3, 0, 0, 0x41), /PUBLISH topic is empty/);
  });

  test("rejects-topic-length-beyond-packet", () => {
    rejects(Uint8Array.of(0x30, 4, 0, 9, 0x61, 0x62), /PUBLISH topic length 9 exceeds the packet/);
  });

  test("rejects-qos3-and-dup-at-qos0", () => {
    rejects(Uint8Array.of(0x36, 5, 0, 1, 0x74, 0, 1), /^MQTT: invalid QoS 3 in PUBLISH/);
    rejects(Uint8Array.of(0x38, 3, 0, 1, 0x74), /DUP set with QoS 0/);
  });

  test("rejects-packet-id-zero", () => {
    rejects(Uint8Array.of(0x32, 5, 0, 1, 0x74, 0, 0), /PUBLISH with QoS 1 has packet id 0/);
    rejects(Uint8Array.of(0x40, 2, 0, 0), /PUBACK has packet id 0/);
  });

  test("rejects-invalid-suback-code", () => {
    rejects(Uint8Array.of(0x90, 3, 0, 1, 3), /SUBACK return code 0x3 is invalid/);
  });

  test("unusable-after-error-until-reset", () => {
    const decoder = new PacketDecoder();
    decoder.push(Uint8Array.of(0x00, 0, 0x40, 2, 0, 1));
    throws(() => decoder.next(), /reserved packet type 0/);
    throws(() => decoder.next(), /needs reset\(\)/);
    throws(() => decoder.push(Uint8Array.of(0xd0, 0)), /needs reset\(\)/);
    decoder.reset();
    deepEqual(decodeAll(decoder, Uint8Array.of(0xd0, 0)), [{ type: PINGRESP }] as IncomingPacket[]);
  });

  test("max-packet-size-option-validated", () => {
    throws(() => new PacketDecoder({ maxPacketSize: 1 }), /option "maxPacketSize" must be an integer/);
    throws(() => new PacketDecoder({ maxPacketSize: 1.5 }), /maxPacketSize/);
  });
});
