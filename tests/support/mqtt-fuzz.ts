// Fuzzing the MQTT decoder with random and mutated bytes: shared by the portable suite and bench:mqtt (a million inputs).
import {
  CONNECT,
  CONNACK,
  PUBLISH,
  PUBACK,
  PUBREL,
  SUBSCRIBE,
  SUBACK,
  UNSUBACK,
  DISCONNECT,
  AUTH,
  type Packet,
  type ProtocolVersion,
} from "telltale/mqtt/packets";
import { encodePacket } from "telltale/mqtt/encode";
import { PacketDecoder } from "telltale/mqtt/decode";
import { messageOf } from "telltale/errors/message";
import { BrokerDecoder } from "./mqtt-broker.js";

export interface FuzzResult {
  inputs: number;
  /** Inputs that decoded to at least one packet. */
  decoded: number;
  /** Inputs rejected with a protocol error ("MQTT: ..."). */
  rejected: number;
  /** Anything else thrown: each is a bug. The first few are kept. */
  failures: string[];
  /** Most next() calls one input needed: bounded by its length, so no input loops. */
  maxSteps: number;
}

// Valid packets to mutate: both directions, both versions, with properties.
function seeds(): { bytes: Uint8Array; version: ProtocolVersion }[] {
  const u = (s: string) => {
    const b = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
    return b;
  };
  const list: [Packet, ProtocolVersion][] = [
    [
      {
        type: CONNECT,
        protocolVersion: 4,
        clientId: "dev",
        clean: true,
        keepalive: 30,
        username: "u",
        password: u("p"),
        will: { topic: "s/d", payload: u("off"), qos: 1, retain: true },
      },
      4,
    ],
    [
      {
        type: CONNECT,
        protocolVersion: 5,
        clientId: "dev",
        clean: false,
        keepalive: 30,
        properties: { sessionExpiryInterval: 60, receiveMaximum: 8, userProperties: [["a", "b"]] },
        will: { topic: "s", payload: u("x"), qos: 2, retain: false, properties: { willDelayInterval: 3 } },
      },
      5,
    ],
    [{ type: CONNACK, sessionPresent: true, returnCode: 0 }, 4],
    [
      {
        type: CONNACK,
        sessionPresent: false,
        returnCode: 0,
        properties: { receiveMaximum: 10, maximumQoS: 1, assignedClientIdentifier: "id", reasonString: "ok" },
      },
      5,
    ],
    [{ type: PUBLISH, topic: "a/b", payload: u('{"t":21.5}'), qos: 1, retain: false, dup: false, id: 7 }, 4],
    [
      {
        type: PUBLISH,
        topic: "a/€",
        payload: u("xyz"),
        qos: 2,
        retain: true,
        dup: true,
        id: 9,
        properties: { contentType: "json", subscriptionIdentifiers: [1, 300], correlationData: u("c") },
      },
      5,
    ],
    [{ type: PUBACK, id: 7 }, 4],
    [{ type: PUBREL, id: 7, reasonCode: 0x92, properties: { reasonString: "gone" } }, 5],
    [
      {
        type: SUBSCRIBE,
        id: 3,
        filters: [
          { topic: "a/+", qos: 1 },
          { topic: "#", qos: 2 },
        ],
      },
      4,
    ],
    [
      {
        type: SUBSCRIBE,
        id: 3,
        filters: [{ topic: "a/#", qos: 1, noLocal: true, retainHandling: 2 }],
        properties: { subscriptionIdentifiers: [5] },
      },
      5,
    ],
    [{ type: SUBACK, id: 3, granted: [0, 1, 0x80] }, 4],
    [{ type: UNSUBACK, id: 3, reasonCodes: [0, 0x11] }, 5],
    [{ type: DISCONNECT, reasonCode: 0x8e, properties: { serverReference: "other" } }, 5],
    [{ type: AUTH, reasonCode: 0x18, properties: { authenticationMethod: "m", authenticationData: u("d") } }, 5],
  ];
  return list.map(([p, v]) => ({ bytes: encodePacket(p, v), version: v }));
}

/** Feeds `count` inputs (half random bytes, half mutated valid packets) to fresh decoders of every role and version. */
export function fuzzDecoder(count: number, seed = 0x1f2e3d4c): FuzzResult {
  let s = seed >>> 0 || 1;
  const rnd = (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  const samples = seeds();
  const result: FuzzResult = { inputs: 0, decoded: 0, rejected: 0, failures: [], maxSteps: 0 };
  const decoders = [
    new PacketDecoder({ protocolVersion: 4, maxPacketSize: 4096 }),
    new PacketDecoder({ protocolVersion: 5, maxPacketSize: 4096 }),
    new BrokerDecoder({ protocolVersion: 4, maxPacketSize: 4096 }),
    new BrokerDecoder({ protocolVersion: 5, maxPacketSize: 4096 }),
  ];
  const buffer = new Uint8Array(512);
  for (let i = 0; i < count; i++) {
    let length: number;
    let version: ProtocolVersion;
    if (i & 1) {
      length = rnd(64);
      for (let k = 0; k < length; k++) buffer[k] = rnd(256);
      version = rnd(2) ? 5 : 4;
    } else {
      const sample = samples[rnd(samples.length)]!;
      version = sample.version;
      length = sample.bytes.length;
      buffer.set(sample.bytes);
      // 1-4 mutations: flip a bit, set a byte, drop a byte, duplicate a byte, or truncate.
      for (let m = 1 + rnd(4); m > 0 && length > 0; m--) {
        const at = rnd(length);
        switch (rnd(5)) {
          case 0:
            buffer[at]! ^= 1 << rnd(8);
            break;
          case 1:
            buffer[at] = rnd(4) === 0 ? 0xff : rnd(256);
            break;
          case 2:
            buffer.copyWithin(at, at + 1, length);
            length--;
            break;
          case 3:
            if (length < buffer.length) {
              buffer.copyWithin(at + 1, at, length);
              length++;
            }
            break;
          default:
            length = at;
            break;
        }
      }
    }
    const decoder = decoders[(version === 5 ? 1 : 0) + (rnd(2) ? 2 : 0)]!;
    decoder.reset();
    result.inputs++;
    let steps = 0,
      got = 0;
    try {
      // Sometimes in two pieces, so the buffering path is fuzzed too.
      const cut = rnd(3) === 0 ? rnd(length + 1) : length;
      decoder.push(buffer.slice(0, cut));
      while (decoder.nextPacket() !== undefined) {
        got++;
        if (++steps > length + 1) throw new Error("decoder loops");
      }
      if (cut < length) {
        decoder.push(buffer.slice(cut, length));
        while (decoder.nextPacket() !== undefined) {
          got++;
          if (++steps > length + 1) throw new Error("decoder loops");
        }
      }
      if (got > 0) result.decoded++;
    } catch (e) {
      const message = messageOf(e);
      if (e instanceof Error && message.startsWith("MQTT: ")) result.rejected++;
      else if (result.failures.length < 5)
        result.failures.push(
          message +
            " on " +
            Array.prototype.map
              .call(buffer.subarray(0, length), (b: number) => (b < 16 ? "0" : "") + b.toString(16))
              .join(""),
        );
      else result.failures.length++;
    }
    if (steps > result.maxSteps) result.maxSteps = steps;
  }
  return result;
}
