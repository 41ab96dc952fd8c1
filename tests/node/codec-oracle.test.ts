// The codec against mqtt-packet (the parser/generator mqtt.js uses) as an oracle: random valid packets of every type,
// MQTT 3.1.1 and 5.0, encoded by one library and decoded by the other, in both directions.
import { test } from "node:test";
import assert from "node:assert/strict";
import mqttPacket from "mqtt-packet";
import {
  CONNECT,
  CONNACK,
  PUBLISH,
  PUBACK,
  PUBREC,
  PUBREL,
  PUBCOMP,
  SUBSCRIBE,
  SUBACK,
  UNSUBSCRIBE,
  UNSUBACK,
  PINGREQ,
  PINGRESP,
  DISCONNECT,
  AUTH,
  validReasons,
  type Packet,
  type Properties,
  type ProtocolVersion,
  type SubscribeFilter,
} from "../../modules/mqtt/packets.js";
import { encodePacket } from "../../modules/mqtt/encode.js";
import { PacketDecoder } from "../../modules/mqtt/decode.js";
import { BrokerDecoder } from "../support/mqtt-broker.js";
import { messageOf } from "telltale/errors/message";

const SEED = Number(process.env.ORACLE_SEED ?? 0x5eed) >>> 0;
const ROUNDS = Number(process.env.ORACLE_ROUNDS ?? 150);
let seed = SEED || 1;
function rnd(n: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}
function chance(p: number): boolean {
  return rnd(1000) < p * 1000;
}
function pick<T>(xs: readonly T[]): T {
  return xs[rnd(xs.length)]!;
}

// ---------------------------------------------------------------- random valid packets

const CHARS = ["a", "b", "z", "0", "9", "-", "_", " ", ".", "é", "€", "😀", "Ω", "x"];
function text(max: number, min = 0): string {
  let s = "";
  const n = min + rnd(max - min + 1);
  for (let i = 0; i < n; i++) s += pick(CHARS);
  return s;
}
function topic(): string {
  const levels = 1 + rnd(4);
  const parts: string[] = [];
  for (let i = 0; i < levels; i++) parts.push(text(6, i === 0 ? 1 : 0));
  return parts.join("/");
}
function filter(): string {
  const levels = 1 + rnd(4);
  const parts: string[] = [];
  for (let i = 0; i < levels; i++) parts.push(chance(0.2) ? "+" : text(5, 1));
  if (chance(0.3)) parts.push("#");
  return parts.join("/");
}
function binary(max: number): Uint8Array {
  const out = new Uint8Array(rnd(max + 1));
  for (let i = 0; i < out.length; i++) out[i] = rnd(256);
  return out;
}
const id = () => 1 + rnd(65535);
const u32 = () => (chance(0.2) ? pick([0, 1, 0xffffffff]) : rnd(0x7fffffff));

// Properties each packet may carry (§2.2.2.2), with random valid values; user properties grouped by name, since
// mqtt-packet keeps them in an object (a name's values stay in order, names in insertion order).
function properties(type: number | "will"): Properties | undefined {
  if (!chance(0.7)) return undefined;
  const p: Properties = {};
  const maybe = (f: () => void) => {
    if (chance(0.4)) f();
  };
  if (type === PUBLISH || type === "will") {
    maybe(() => {
      p.payloadFormatIndicator = rnd(2);
    });
    maybe(() => {
      p.messageExpiryInterval = u32();
    });
    maybe(() => {
      p.contentType = text(10);
    });
    maybe(() => {
      p.responseTopic = topic();
    });
    maybe(() => {
      p.correlationData = binary(12);
    });
  }
  if (type === "will")
    maybe(() => {
      p.willDelayInterval = u32();
    });
  if (type === PUBLISH) {
    maybe(() => {
      p.topicAlias = 1 + rnd(65535);
    });
    maybe(() => {
      p.subscriptionIdentifiers = Array.from({ length: 1 + rnd(3) }, () => 1 + rnd(268435455));
    });
  }
  if (type === SUBSCRIBE)
    maybe(() => {
      p.subscriptionIdentifiers = [1 + rnd(268435455)];
    });
  if (type === CONNECT || type === CONNACK || type === DISCONNECT)
    maybe(() => {
      p.sessionExpiryInterval = u32();
    });
  if (type === CONNECT || type === CONNACK) {
    maybe(() => {
      p.receiveMaximum = 1 + rnd(65535);
    });
    maybe(() => {
      p.maximumPacketSize = 1 + rnd(0x7fffffff);
    });
    maybe(() => {
      p.topicAliasMaximum = rnd(65536);
    });
  }
  if (type === CONNECT) {
    maybe(() => {
      p.requestResponseInformation = rnd(2);
    });
    maybe(() => {
      p.requestProblemInformation = rnd(2);
    });
  }
  if (type === CONNECT || type === CONNACK || type === AUTH) {
    maybe(() => {
      p.authenticationMethod = text(8, 1);
    });
    if (p.authenticationMethod !== undefined)
      maybe(() => {
        p.authenticationData = binary(10);
      });
  }
  if (type === CONNACK) {
    maybe(() => {
      p.maximumQoS = rnd(2);
    });
    maybe(() => {
      p.retainAvailable = rnd(2);
    });
    maybe(() => {
      p.assignedClientIdentifier = text(10);
    });
    maybe(() => {
      p.wildcardSubscriptionAvailable = rnd(2);
    });
    maybe(() => {
      p.subscriptionIdentifiersAvailable = rnd(2);
    });
    maybe(() => {
      p.sharedSubscriptionAvailable = rnd(2);
    });
    maybe(() => {
      p.serverKeepAlive = rnd(65536);
    });
    maybe(() => {
      p.responseInformation = text(10);
    });
  }
  if (type === CONNACK || type === DISCONNECT)
    maybe(() => {
      p.serverReference = text(10);
    });
  if (type !== PUBLISH && type !== "will" && type !== CONNECT && type !== SUBSCRIBE && type !== UNSUBSCRIBE)
    maybe(() => {
      p.reasonString = text(12);
    });
  maybe(() => {
    const pairs: [string, string][] = [];
    // Names start with a letter: in mqtt-packet's object, integer-like names ("9") would move to the front.
    const names = Array.from(new Set(Array.from({ length: 1 + rnd(3) }, () => "k" + text(5))));
    // Values are never empty: mqtt-packet's parser tests a repeated name's first value for truthiness and drops
    // an empty one (parser.js _parseProperties), which is its quirk, not the spec's (§3.3.2.3.7).
    for (const name of names) for (let k = 1 + rnd(2); k > 0; k--) pairs.push([name, text(6, 1)]);
    p.userProperties = pairs;
  });
  return Object.keys(p).length ? p : undefined;
}

function withProperties<T extends object>(packet: T, v: ProtocolVersion, type: number): T {
  if (v === 5) {
    const props = properties(type);
    if (props) (packet as { properties?: Properties }).properties = props;
  }
  return packet;
}

function reason(type: number, allowZero = true): number {
  const codes = validReasons(type).filter((c) => allowZero || c !== 0);
  return pick(codes);
}

function randomPacket(type: number, v: ProtocolVersion): Packet {
  switch (type) {
    case CONNECT: {
      const p: Packet = {
        type: CONNECT,
        protocolVersion: v,
        clientId: text(12),
        clean: chance(0.5),
        keepalive: rnd(65536),
      };
      if (p.clientId === "") p.clean = true;
      if (chance(0.5)) {
        p.will = { topic: topic(), payload: binary(20), qos: rnd(3) as 0 | 1 | 2, retain: chance(0.5) };
        if (v === 5) {
          const wp = properties("will");
          if (wp) p.will.properties = wp;
        }
      }
      if (chance(0.5)) p.username = text(8);
      if (p.username !== undefined && chance(0.6)) p.password = binary(12);
      return withProperties(p, v, CONNECT);
    }
    case CONNACK: {
      const code = v === 4 ? (chance(0.6) ? 0 : 1 + rnd(5)) : chance(0.6) ? 0 : reason(CONNACK, false);
      return withProperties({ type: CONNACK, sessionPresent: code === 0 && chance(0.5), returnCode: code }, v, CONNACK);
    }
    case PUBLISH: {
      const qos = rnd(3) as 0 | 1 | 2;
      const p: Packet = {
        type: PUBLISH,
        topic: topic(),
        payload: binary(40),
        qos,
        retain: chance(0.5),
        dup: qos > 0 && chance(0.3),
        id: qos ? id() : 0,
      };
      return withProperties(p, v, PUBLISH);
    }
    case PUBACK:
    case PUBREC:
    case PUBREL:
    case PUBCOMP: {
      const p: Packet = { type: type as typeof PUBACK, id: id() };
      if (v === 5) p.reasonCode = chance(0.5) ? 0 : reason(type);
      return withProperties(p, v, type);
    }
    case SUBSCRIBE: {
      const filters: SubscribeFilter[] = Array.from({ length: 1 + rnd(3) }, () => {
        const f: SubscribeFilter = { topic: filter(), qos: rnd(3) as 0 | 1 | 2 };
        if (v === 5) {
          f.noLocal = chance(0.5);
          f.retainAsPublished = chance(0.5);
          f.retainHandling = rnd(3) as 0 | 1 | 2;
        }
        return f;
      });
      return withProperties({ type: SUBSCRIBE, id: id(), filters }, v, SUBSCRIBE);
    }
    case SUBACK: {
      const granted = Array.from({ length: 1 + rnd(4) }, () => (v === 4 ? pick([0, 1, 2, 0x80]) : reason(SUBACK)));
      return withProperties({ type: SUBACK, id: id(), granted }, v, SUBACK);
    }
    case UNSUBSCRIBE:
      return withProperties(
        { type: UNSUBSCRIBE, id: id(), topics: Array.from({ length: 1 + rnd(3) }, filter) },
        v,
        UNSUBSCRIBE,
      );
    case UNSUBACK: {
      const p: Packet = { type: UNSUBACK, id: id() };
      if (v === 5) p.reasonCodes = Array.from({ length: 1 + rnd(3) }, () => reason(UNSUBACK));
      return withProperties(p, v, UNSUBACK);
    }
    case PINGREQ:
      return { type: PINGREQ };
    case PINGRESP:
      return { type: PINGRESP };
    case DISCONNECT: {
      if (v === 4) return { type: DISCONNECT };
      return withProperties({ type: DISCONNECT, reasonCode: chance(0.5) ? 0 : reason(DISCONNECT) }, v, DISCONNECT);
    }
    default: {
      // Not the short form (no reason code, remaining length 0, §3.15.2.1): mqtt-packet's parser reads a reason
      // code regardless and rejects it. Our own suite checks that form.
      const p = withProperties({ type: AUTH, reasonCode: reason(AUTH) }, v, AUTH) as Packet & {
        reasonCode: number;
        properties?: Properties;
      };
      if (p.reasonCode === 0 && !p.properties) p.reasonCode = 0x18;
      return p;
    }
  }
}

// ---------------------------------------------------------------- our packets <-> mqtt-packet's objects

const CMD = [
  "",
  "connect",
  "connack",
  "publish",
  "puback",
  "pubrec",
  "pubrel",
  "pubcomp",
  "subscribe",
  "suback",
  "unsubscribe",
  "unsuback",
  "pingreq",
  "pingresp",
  "disconnect",
  "auth",
] as const;
const FLAGS = [
  "payloadFormatIndicator",
  "requestProblemInformation",
  "requestResponseInformation",
  "retainAvailable",
  "wildcardSubscriptionAvailable",
  "subscriptionIdentifiersAvailable",
  "sharedSubscriptionAvailable",
];

type Theirs = Record<string, unknown>;

function propsToTheirs(p: Properties | undefined): Theirs | undefined {
  if (!p) return undefined;
  const out: Theirs = {};
  for (const [k, v] of Object.entries(p)) {
    if (FLAGS.includes(k)) out[k] = v === 1;
    else if (k === "subscriptionIdentifiers")
      out.subscriptionIdentifier = (v as number[]).length === 1 ? (v as number[])[0] : v;
    else if (k === "userProperties") {
      const o: Record<string, string | string[]> = {};
      for (const [name, value] of v as [string, string][]) {
        const had = o[name];
        o[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
      }
      out.userProperties = o;
    } else if (v instanceof Uint8Array) out[k] = Buffer.from(v);
    else out[k] = v;
  }
  return out;
}

function propsToOurs(p: Theirs | undefined): Properties | undefined {
  if (!p || Object.keys(p).length === 0) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    if (FLAGS.includes(k)) out[k] = v ? 1 : 0;
    else if (k === "subscriptionIdentifier") out.subscriptionIdentifiers = Array.isArray(v) ? v : [v];
    else if (k === "userProperties") {
      const pairs: [string, string][] = [];
      for (const [name, value] of Object.entries(v as Record<string, string | string[]>))
        for (const one of Array.isArray(value) ? value : [value]) pairs.push([name, one]);
      out.userProperties = pairs;
    } else if (Buffer.isBuffer(v)) out[k] = new Uint8Array(v);
    else out[k] = v;
  }
  return out;
}

function toTheirs(p: Packet, v: ProtocolVersion): Theirs {
  const cmd = CMD[p.type];
  const props = propsToTheirs((p as { properties?: Properties }).properties);
  const t: Theirs = { cmd };
  if (props) t.properties = props;
  switch (p.type) {
    case CONNECT:
      Object.assign(t, {
        protocolId: "MQTT",
        protocolVersion: p.protocolVersion,
        clean: p.clean,
        keepalive: p.keepalive,
        clientId: p.clientId,
      });
      if (p.username !== undefined) t.username = p.username;
      if (p.password !== undefined) t.password = Buffer.from(p.password);
      if (p.will) {
        t.will = { topic: p.will.topic, payload: Buffer.from(p.will.payload), qos: p.will.qos, retain: p.will.retain };
        const wp = propsToTheirs(p.will.properties);
        if (wp) (t.will as Theirs).properties = wp;
      }
      break;
    case CONNACK:
      t.sessionPresent = p.sessionPresent;
      t[v === 5 ? "reasonCode" : "returnCode"] = p.returnCode;
      break;
    case PUBLISH:
      if (p.oversized) throw new Error("an oversized PUBLISH has no payload to compare");
      Object.assign(t, { topic: p.topic, payload: Buffer.from(p.payload), qos: p.qos, retain: p.retain, dup: p.dup });
      if (p.qos) t.messageId = p.id;
      break;
    case PUBACK:
    case PUBREC:
    case PUBREL:
    case PUBCOMP:
      t.messageId = p.id;
      if (v === 5) t.reasonCode = p.reasonCode;
      break;
    case SUBSCRIBE:
      t.messageId = p.id;
      t.subscriptions = p.filters.map((f) =>
        v === 5
          ? { topic: f.topic, qos: f.qos, nl: f.noLocal, rap: f.retainAsPublished, rh: f.retainHandling }
          : { topic: f.topic, qos: f.qos },
      );
      break;
    case SUBACK:
      t.messageId = p.id;
      t.granted = p.granted;
      break;
    case UNSUBSCRIBE:
      t.messageId = p.id;
      t.unsubscriptions = p.topics;
      break;
    case UNSUBACK:
      t.messageId = p.id;
      if (v === 5) t.granted = p.reasonCodes;
      break;
    case DISCONNECT:
    case AUTH:
      if (v === 5) t.reasonCode = p.reasonCode;
      break;
  }
  return t;
}

function toOurs(t: Theirs, v: ProtocolVersion): Packet {
  const type = CMD.indexOf(t.cmd as (typeof CMD)[number]);
  const props = propsToOurs(t.properties as Theirs | undefined);
  const withProps = <T extends object>(p: T): T => {
    if (props) (p as { properties?: Properties }).properties = props;
    return p;
  };
  switch (type) {
    case CONNECT: {
      const p: Packet = {
        type: CONNECT,
        protocolVersion: t.protocolVersion as ProtocolVersion,
        clientId: t.clientId as string,
        clean: t.clean as boolean,
        keepalive: t.keepalive as number,
      };
      if (props) p.properties = props;
      if (t.will) {
        const w = t.will as Theirs;
        p.will = {
          topic: w.topic as string,
          payload: new Uint8Array(w.payload as Buffer),
          qos: w.qos as 0 | 1 | 2,
          retain: w.retain as boolean,
        };
        const wp = propsToOurs(w.properties as Theirs | undefined);
        if (wp) p.will.properties = wp;
      }
      if (t.username !== undefined) p.username = t.username as string;
      if (t.password !== undefined) p.password = new Uint8Array(t.password as Buffer);
      return p;
    }
    case CONNACK:
      return withProps({
        type: CONNACK,
        sessionPresent: t.sessionPresent as boolean,
        returnCode: (v === 5 ? t.reasonCode : t.returnCode) as number,
      });
    case PUBLISH:
      return withProps({
        type: PUBLISH,
        topic: t.topic as string,
        payload: new Uint8Array(t.payload as Buffer),
        qos: t.qos as 0 | 1 | 2,
        retain: t.retain as boolean,
        dup: t.dup as boolean,
        id: (t.qos ? t.messageId : 0) as number,
      });
    case PUBACK:
    case PUBREC:
    case PUBREL:
    case PUBCOMP: {
      const p: Packet = { type: type as typeof PUBACK, id: t.messageId as number };
      if (v === 5) p.reasonCode = (t.reasonCode ?? 0) as number;
      return withProps(p);
    }
    case SUBSCRIBE:
      return withProps({
        type: SUBSCRIBE,
        id: t.messageId as number,
        filters: (t.subscriptions as Theirs[]).map((s) => {
          const f: SubscribeFilter = { topic: s.topic as string, qos: s.qos as 0 | 1 | 2 };
          if (v === 5) {
            f.noLocal = !!s.nl;
            f.retainAsPublished = !!s.rap;
            f.retainHandling = (s.rh ?? 0) as 0 | 1 | 2;
          }
          return f;
        }),
      });
    case SUBACK:
      return withProps({ type: SUBACK, id: t.messageId as number, granted: t.granted as number[] });
    case UNSUBSCRIBE:
      return withProps({ type: UNSUBSCRIBE, id: t.messageId as number, topics: t.unsubscriptions as string[] });
    case UNSUBACK: {
      const p: Packet = { type: UNSUBACK, id: t.messageId as number };
      if (v === 5) p.reasonCodes = t.granted as number[];
      return withProps(p);
    }
    case PINGREQ:
      return { type: PINGREQ };
    case PINGRESP:
      return { type: PINGRESP };
    case DISCONNECT:
      return v === 5
        ? withProps({ type: DISCONNECT, reasonCode: (t.reasonCode ?? 0) as number })
        : { type: DISCONNECT };
    default:
      return withProps({ type: AUTH, reasonCode: (t.reasonCode ?? 0) as number });
  }
}

// ---------------------------------------------------------------- the two directions

const FROM_CLIENT = new Set([CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ]);

function oursDecode(bytes: Uint8Array, type: number, v: ProtocolVersion): Packet {
  // PUBLISH, the acknowledgements, DISCONNECT and AUTH go both ways: decode them with either role at random.
  const server =
    FROM_CLIENT.has(type) ||
    (type === DISCONNECT && v === 4) ||
    (type !== CONNACK && type !== SUBACK && type !== UNSUBACK && type !== PINGRESP && chance(0.5));
  const d = server
    ? new BrokerDecoder({ protocolVersion: v, maxPacketSize: 1 << 20 })
    : new PacketDecoder({ protocolVersion: v, maxPacketSize: 1 << 20 });
  // Fed in random pieces, to exercise the streaming path as well.
  const packets: Packet[] = [];
  for (let at = 0; at < bytes.length;) {
    const n = 1 + rnd(bytes.length);
    d.push(bytes.subarray(at, at + n));
    at += n;
    for (let p = d.nextPacket(); p; p = d.nextPacket()) packets.push(p);
  }
  assert.equal(packets.length, 1);
  return packets[0]!;
}

function theirsDecode(bytes: Uint8Array, v: ProtocolVersion): Theirs {
  const parser = mqttPacket.parser({ protocolVersion: v });
  const got: Theirs[] = [];
  let error: Error | undefined;
  parser.on("packet", (p) => got.push(p as unknown as Theirs));
  parser.on("error", (e: Error) => {
    error = e;
  });
  parser.parse(Buffer.from(bytes));
  if (error) throw error;
  assert.equal(got.length, 1, "mqtt-packet parsed one packet");
  return got[0]!;
}

// deepStrictEqual tells Buffer from Uint8Array, so binary fields are compared as plain arrays.
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = plain(v);
    return out;
  }
  return value;
}

const TYPES = [
  CONNECT,
  CONNACK,
  PUBLISH,
  PUBACK,
  PUBREC,
  PUBREL,
  PUBCOMP,
  SUBSCRIBE,
  SUBACK,
  UNSUBSCRIBE,
  UNSUBACK,
  PINGREQ,
  PINGRESP,
  DISCONNECT,
  AUTH,
];

for (const v of [4, 5] as const) {
  test(`ours-encode-mqtt-packet-decodes-every-type-mqtt-${v === 4 ? "3.1.1" : "5.0"}`, () => {
    let n = 0;
    for (const type of TYPES) {
      if (type === AUTH && v === 4) continue;
      for (let i = 0; i < ROUNDS; i++) {
        const packet = randomPacket(type, v);
        const bytes = encodePacket(packet, v);
        let back: Packet;
        try {
          back = toOurs(theirsDecode(bytes, v), v);
        } catch (e) {
          throw new Error(
            `seed ${SEED}: mqtt-packet could not parse our ${CMD[type]}: ${messageOf(e)}\n${JSON.stringify(plain(packet))}\n${Buffer.from(bytes).toString("hex")}`,
            { cause: e },
          );
        }
        assert.deepStrictEqual(
          plain(back),
          plain(packet),
          `seed ${SEED}, ${CMD[type]} #${i}, bytes ${Buffer.from(bytes).toString("hex")}`,
        );
        n++;
      }
    }
    assert.ok(n >= 13 * ROUNDS);
  });

  test(`mqtt-packet-encodes-ours-decodes-every-type-mqtt-${v === 4 ? "3.1.1" : "5.0"}`, () => {
    for (const type of TYPES) {
      if (type === AUTH && v === 4) continue;
      for (let i = 0; i < ROUNDS; i++) {
        const packet = randomPacket(type, v);
        const bytes = new Uint8Array(mqttPacket.generate(toTheirs(packet, v) as never, { protocolVersion: v }));
        let back: Packet;
        try {
          back = oursDecode(bytes, type, v);
        } catch (e) {
          throw new Error(
            `seed ${SEED}: we could not decode mqtt-packet's ${CMD[type]}: ${messageOf(e)}\n${JSON.stringify(plain(packet))}\n${Buffer.from(bytes).toString("hex")}`,
            { cause: e },
          );
        }
        assert.deepStrictEqual(
          plain(back),
          plain(packet),
          `seed ${SEED}, ${CMD[type]} #${i}, bytes ${Buffer.from(bytes).toString("hex")}`,
        );
      }
    }
  });
}
