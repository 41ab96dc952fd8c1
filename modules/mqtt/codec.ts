// MQTT 3.1.1 and 5.0 packet codec: every packet type to bytes, and a streaming decoder for bytes to packets; no IO, no timers.
import { utf8Size, utf8Write, utf8Read, LONE_SURROGATE, NULL_CHARACTER } from "telltale/text/utf8";

/** Control packet types (MQTT 3.1.1 §2.2.1). */
export const CONNECT = 1;
export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const PUBREC = 5;
export const PUBREL = 6;
export const PUBCOMP = 7;
export const SUBSCRIBE = 8;
export const SUBACK = 9;
export const UNSUBSCRIBE = 10;
export const UNSUBACK = 11;
export const PINGREQ = 12;
export const PINGRESP = 13;
export const DISCONNECT = 14;
/** MQTT 5.0 only (§3.15). */
export const AUTH = 15;

/** Protocol levels: 4 is MQTT 3.1.1, 5 is MQTT 5.0 (§3.1.2.2 in each). */
export type ProtocolVersion = 4 | 5;

/** Largest Remaining Length a 4-byte varint can carry (§2.2.3). */
export const MAX_REMAINING_LENGTH = 268435455;
/** Largest whole packet: one type byte, four length bytes, the largest remaining length. */
export const MAX_PACKET_SIZE = MAX_REMAINING_LENGTH + 5;
/** Default limit for incoming packets: large enough for common brokers, small enough for a device heap. */
export const DEFAULT_MAX_PACKET_SIZE = 65536;

// Frozen so that on a device these tables stay in flash rather than being copied to RAM.
const NAMES: readonly string[] = Object.freeze([
  "reserved type 0", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
  "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH",
]);

// CONNACK return codes 1-5 (§3.2.2.3, table 3.1); 6-255 are reserved.
const REFUSALS: readonly string[] = Object.freeze([
  "accepted", "unacceptable protocol version", "identifier rejected", "server unavailable",
  "bad user name or password", "not authorized",
]);

/** The packet type's name as the spec writes it, for error messages. */
export function packetName(type: number): string {
  return NAMES[type & 15];
}

/** The spec's name for a CONNACK return code (3.1.1 §3.2.2.3) or, with version 5, reason code (5.0 §3.2.2.2). */
export function connackReason(code: number, version: ProtocolVersion = 4): string {
  if (version === 5) return reasonName(code);
  return code >= 0 && code < REFUSALS.length ? REFUSALS[code] : "reserved return code";
}

// MQTT 5.0 reason codes (§2.4, table 2-6), as code/name pairs.
const REASONS: readonly (number | string)[] = Object.freeze([
  0x00, "success", 0x01, "granted QoS 1", 0x02, "granted QoS 2", 0x04, "disconnect with Will message",
  0x10, "no matching subscribers", 0x11, "no subscription existed", 0x18, "continue authentication", 0x19, "re-authenticate",
  0x80, "unspecified error", 0x81, "malformed packet", 0x82, "protocol error", 0x83, "implementation specific error",
  0x84, "unsupported protocol version", 0x85, "client identifier not valid", 0x86, "bad user name or password",
  0x87, "not authorized", 0x88, "server unavailable", 0x89, "server busy", 0x8A, "banned", 0x8B, "server shutting down",
  0x8C, "bad authentication method", 0x8D, "keep alive timeout", 0x8E, "session taken over", 0x8F, "topic filter invalid",
  0x90, "topic name invalid", 0x91, "packet identifier in use", 0x92, "packet identifier not found",
  0x93, "receive maximum exceeded", 0x94, "topic alias invalid", 0x95, "packet too large", 0x96, "message rate too high",
  0x97, "quota exceeded", 0x98, "administrative action", 0x99, "payload format invalid", 0x9A, "retain not supported",
  0x9B, "QoS not supported", 0x9C, "use another server", 0x9D, "server moved", 0x9E, "shared subscriptions not supported",
  0x9F, "connection rate exceeded", 0xA0, "maximum connect time", 0xA1, "subscription identifiers not supported",
  0xA2, "wildcard subscriptions not supported",
]);

/** The MQTT 5.0 name of a reason code (§2.4). */
export function reasonName(code: number): string {
  for (let i = 0; i < REASONS.length; i += 2) if (REASONS[i] === code) return REASONS[i + 1] as string;
  return "unknown reason code 0x" + code.toString(16);
}

// The reason codes each MQTT 5.0 packet may carry (§3.2.2.2, §3.4.2.1, §3.5.2.1, §3.6.2.1, §3.7.2.1, §3.9.3,
// §3.11.3, §3.14.2.1, §3.15.2.1). Indexed by packet type.
const VALID_REASONS: readonly (readonly number[] | undefined)[] = Object.freeze([
  undefined, undefined,
  Object.freeze([0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F]),
  undefined,
  Object.freeze([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]),
  Object.freeze([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]),
  Object.freeze([0x00, 0x92]),
  Object.freeze([0x00, 0x92]),
  undefined,
  Object.freeze([0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2]),
  undefined,
  Object.freeze([0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91]),
  undefined, undefined,
  Object.freeze([0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2]),
  Object.freeze([0x00, 0x18, 0x19]),
]);

/** The reason codes an MQTT 5.0 packet of `type` may carry (an empty list for types without one). */
export function validReasons(type: number): readonly number[] {
  return VALID_REASONS[type & 15] ?? [];
}

// ---------------------------------------------------------------- MQTT 5.0 properties (§2.2.2)

/** MQTT 5.0 properties by name; a byte-valued flag is 0 or 1. */
export interface Properties {
  payloadFormatIndicator?: number;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Uint8Array;
  /** One in SUBSCRIBE; a PUBLISH may carry several. */
  subscriptionIdentifiers?: number[];
  sessionExpiryInterval?: number;
  assignedClientIdentifier?: string;
  serverKeepAlive?: number;
  authenticationMethod?: string;
  authenticationData?: Uint8Array;
  requestProblemInformation?: number;
  willDelayInterval?: number;
  requestResponseInformation?: number;
  responseInformation?: string;
  serverReference?: string;
  reasonString?: string;
  receiveMaximum?: number;
  topicAliasMaximum?: number;
  topicAlias?: number;
  maximumQoS?: number;
  retainAvailable?: number;
  /** Name/value pairs in order; a name may repeat. */
  userProperties?: [string, string][];
  maximumPacketSize?: number;
  wildcardSubscriptionAvailable?: number;
  subscriptionIdentifiersAvailable?: number;
  sharedSubscriptionAvailable?: number;
}

// Value types (§1.5).
const P_BYTE = 0, P_FLAG = 1, P_U16 = 2, P_U32 = 3, P_VBI = 4, P_STRING = 5, P_BINARY = 6, P_PAIR = 7;
/** The Will's properties are checked as if they were a packet of this (reserved) type. */
const WILL_PROPERTIES = 0;

interface PropertySpec { readonly id: number; readonly name: keyof Properties; readonly kind: number; readonly packets: number; }

function spec(id: number, name: keyof Properties, kind: number, ...packets: number[]): PropertySpec {
  let mask = 0;
  for (const p of packets) mask |= 1 << p;
  return Object.freeze({ id, name, kind, packets: mask });
}

// Table 2-4 (§2.2.2.2): identifier, name, type, and the packets that may carry it. In identifier order, which
// is also the order they are written in.
const PROPERTIES: readonly PropertySpec[] = Object.freeze([
  spec(0x01, "payloadFormatIndicator", P_FLAG, PUBLISH, WILL_PROPERTIES),
  spec(0x02, "messageExpiryInterval", P_U32, PUBLISH, WILL_PROPERTIES),
  spec(0x03, "contentType", P_STRING, PUBLISH, WILL_PROPERTIES),
  spec(0x08, "responseTopic", P_STRING, PUBLISH, WILL_PROPERTIES),
  spec(0x09, "correlationData", P_BINARY, PUBLISH, WILL_PROPERTIES),
  spec(0x0B, "subscriptionIdentifiers", P_VBI, PUBLISH, SUBSCRIBE),
  spec(0x11, "sessionExpiryInterval", P_U32, CONNECT, CONNACK, DISCONNECT),
  spec(0x12, "assignedClientIdentifier", P_STRING, CONNACK),
  spec(0x13, "serverKeepAlive", P_U16, CONNACK),
  spec(0x15, "authenticationMethod", P_STRING, CONNECT, CONNACK, AUTH),
  spec(0x16, "authenticationData", P_BINARY, CONNECT, CONNACK, AUTH),
  spec(0x17, "requestProblemInformation", P_FLAG, CONNECT),
  spec(0x18, "willDelayInterval", P_U32, WILL_PROPERTIES),
  spec(0x19, "requestResponseInformation", P_FLAG, CONNECT),
  spec(0x1A, "responseInformation", P_STRING, CONNACK),
  spec(0x1C, "serverReference", P_STRING, CONNACK, DISCONNECT),
  spec(0x1F, "reasonString", P_STRING, CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH),
  spec(0x21, "receiveMaximum", P_U16, CONNECT, CONNACK),
  spec(0x22, "topicAliasMaximum", P_U16, CONNECT, CONNACK),
  spec(0x23, "topicAlias", P_U16, PUBLISH),
  spec(0x24, "maximumQoS", P_FLAG, CONNACK),
  spec(0x25, "retainAvailable", P_FLAG, CONNACK),
  spec(0x26, "userProperties", P_PAIR, CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK,
    UNSUBSCRIBE, UNSUBACK, DISCONNECT, AUTH, WILL_PROPERTIES),
  spec(0x27, "maximumPacketSize", P_U32, CONNECT, CONNACK),
  spec(0x28, "wildcardSubscriptionAvailable", P_FLAG, CONNACK),
  spec(0x29, "subscriptionIdentifiersAvailable", P_FLAG, CONNACK),
  spec(0x2A, "sharedSubscriptionAvailable", P_FLAG, CONNACK),
]);

function propertyById(id: number): PropertySpec | undefined {
  for (let i = 0; i < PROPERTIES.length; i++) if (PROPERTIES[i].id === id) return PROPERTIES[i];
  return undefined;
}

const MAX_VBI = 268435455;

// Decoded packets. With MQTT 5.0, `properties` is present only when the packet carried at least one.
export interface ConnectPacket {
  type: typeof CONNECT;
  protocolVersion: ProtocolVersion;
  clientId: string;
  clean: boolean;
  keepalive: number;
  username?: string;
  password?: Uint8Array;
  will?: { topic: string; payload: Uint8Array; qos: 0 | 1 | 2; retain: boolean; properties?: Properties };
  properties?: Properties;
}
export interface ConnackPacket {
  type: typeof CONNACK;
  sessionPresent: boolean;
  /** The 3.1.1 return code, or the 5.0 reason code. */
  returnCode: number;
  properties?: Properties;
}
export interface PublishPacket {
  type: typeof PUBLISH;
  /** Empty only in MQTT 5.0 with a topic alias. */
  topic: string;
  /** A copy: the decoder reuses its buffers, so the payload is the receiver's to keep. */
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
  dup: boolean;
  /** Packet identifier; 0 for QoS 0, which carries none. */
  id: number;
  properties?: Properties;
}
/** PUBACK, PUBREC, PUBREL or PUBCOMP; `reasonCode` only with MQTT 5.0 (0 when the packet omitted it). */
export interface AckPacket {
  type: typeof PUBACK | typeof PUBREC | typeof PUBREL | typeof PUBCOMP;
  id: number;
  reasonCode?: number;
  properties?: Properties;
}
export type PubackPacket = AckPacket;
export interface SubscribePacket { type: typeof SUBSCRIBE; id: number; filters: SubscribeFilter[]; properties?: Properties; }
export interface SubackPacket {
  type: typeof SUBACK;
  id: number;
  /** One code per requested filter: the granted QoS 0-2, or 0x80 (3.1.1) / a reason code 0x80 or more (5.0) for failure (§3.9.3). */
  granted: number[];
  properties?: Properties;
}
export interface UnsubscribePacket { type: typeof UNSUBSCRIBE; id: number; topics: string[]; properties?: Properties; }
export interface UnsubackPacket { type: typeof UNSUBACK; id: number; /** MQTT 5.0: one per topic filter. */ reasonCodes?: number[]; properties?: Properties; }
export interface PingreqPacket { type: typeof PINGREQ; }
export interface PingrespPacket { type: typeof PINGRESP; }
export interface DisconnectPacket { type: typeof DISCONNECT; /** MQTT 5.0 only. */ reasonCode?: number; properties?: Properties; }
export interface AuthPacket { type: typeof AUTH; reasonCode: number; properties?: Properties; }

/** Every control packet. */
export type Packet = ConnectPacket | ConnackPacket | PublishPacket | AckPacket | SubscribePacket | SubackPacket |
  UnsubscribePacket | UnsubackPacket | PingreqPacket | PingrespPacket | DisconnectPacket | AuthPacket;

/** The packets a broker sends to a client (DISCONNECT and AUTH only with MQTT 5.0). */
export type IncomingPacket = ConnackPacket | PublishPacket | AckPacket | SubackPacket | UnsubackPacket | PingrespPacket |
  DisconnectPacket | AuthPacket;

export interface Will {
  topic: string;
  payload: string | Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** MQTT 5.0 Will properties (§3.1.3.2). */
  properties?: Properties;
}

export interface ConnectFields {
  clientId: string;
  clean: boolean;
  /** Seconds, 0-65535; 0 turns keepalive off (§3.1.2.10). */
  keepalive: number;
  username?: string;
  /** Binary data in 3.1.1 (§3.1.3.5); a string is sent as UTF-8. */
  password?: string | Uint8Array;
  will?: Will;
  /** 4 (3.1.1, the default) or 5. */
  protocolVersion?: ProtocolVersion;
  /** MQTT 5.0 CONNECT properties (§3.1.2.11). */
  properties?: Properties;
}

export interface SubscribeFilter {
  topic: string;
  qos: 0 | 1 | 2;
  /** MQTT 5.0 subscription options (§3.8.3.1). */
  noLocal?: boolean;
  retainAsPublished?: boolean;
  retainHandling?: 0 | 1 | 2;
}

// ---------------------------------------------------------------- UTF-8 (telltale/text/utf8)

export { utf8Encode, utf8Decode } from "telltale/text/utf8";

// ---------------------------------------------------------------- topics (§4.7)

// Why `topic` cannot be sent as an MQTT string, or undefined.
function stringProblem(text: string): string | undefined {
  const size = utf8Size(text, true);
  if (size === LONE_SURROGATE) return "has a lone surrogate, which UTF-8 cannot encode";
  if (size === NULL_CHARACTER) return "contains U+0000 (§1.5.3)";
  if (size > 65535) return "is longer than 65535 bytes in UTF-8 (§1.5.3)";
  return undefined;
}

/** Why `topic` cannot be a PUBLISH topic name (§4.7.1, §4.7.3), or undefined when it can. */
export function topicNameProblem(topic: string): string | undefined {
  if (typeof topic !== "string") return "is not a string";
  if (topic.length === 0) return "is empty (§4.7.3)";
  if (topic.indexOf("+") >= 0 || topic.indexOf("#") >= 0) return "contains a wildcard (§3.3.2.1)";
  return stringProblem(topic);
}

/** Why `filter` cannot be a SUBSCRIBE topic filter (§4.7.1), or undefined when it can. */
export function topicFilterProblem(filter: string): string | undefined {
  if (typeof filter !== "string") return "is not a string";
  if (filter.length === 0) return "is empty (§4.7.3)";
  for (let i = 0, length = filter.length; i < length; i++) {
    const c = filter.charCodeAt(i);
    // A wildcard occupies a whole level; '#' is also the last level (§4.7.1.2, §4.7.1.3).
    if (c === 0x23 /* # */ && (i !== length - 1 || (i > 0 && filter.charCodeAt(i - 1) !== 0x2F)))
      return "misplaces the multi-level wildcard '#' (§4.7.1.2)";
    if (c === 0x2B /* + */ && ((i > 0 && filter.charCodeAt(i - 1) !== 0x2F) || (i + 1 < length && filter.charCodeAt(i + 1) !== 0x2F)))
      return "misplaces the single-level wildcard '+' (§4.7.1.3)";
  }
  return stringProblem(filter);
}

// ---------------------------------------------------------------- encoding

function checkedString(text: string, what: string): number {
  const problem = typeof text === "string" ? stringProblem(text) : "is not a string";
  if (problem) throw new Error("MQTT: " + what + " " + problem);
  return utf8Size(text, true);
}

function checkedTopic(topic: string): number {
  const problem = topicNameProblem(topic);
  if (problem) throw new Error("MQTT: topic " + JSON.stringify(topic) + " " + problem);
  return utf8Size(topic, true);
}

// Size of binary data (a payload or password); a string is sent as its UTF-8 bytes.
function binarySize(data: string | Uint8Array, what: string): number {
  if (data instanceof Uint8Array) return data.length;
  if (typeof data !== "string") throw new Error("MQTT: " + what + " must be a string or a Uint8Array");
  const size = utf8Size(data, false);
  if (size < 0) throw new Error("MQTT: " + what + " has a lone surrogate, which UTF-8 cannot encode");
  return size;
}

function checkedId(id: number): void {
  if (typeof id !== "number" || id !== (id | 0) || id < 1 || id > 65535)
    throw new Error("MQTT: packet id must be an integer 1-65535 (§2.3.1), got " + String(id));
}

function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4;
}

// Allocates the packet (the one allocation per outgoing packet) and writes its fixed header (§2.2).
function allocate(first: number, remaining: number): Uint8Array {
  if (remaining > MAX_REMAINING_LENGTH)
    throw new Error("MQTT: " + packetName(first >> 4) + " of " + remaining + " bytes exceeds the largest remaining length " + MAX_REMAINING_LENGTH);
  const out = new Uint8Array(1 + varintSize(remaining) + remaining);
  out[0] = first;
  let at = 1;
  do {
    const digit = remaining & 0x7F;
    remaining >>= 7;
    out[at++] = remaining > 0 ? digit | 0x80 : digit;
  } while (remaining > 0);
  return out;
}

function headerSize(remaining: number): number {
  return 1 + varintSize(remaining);
}

function writeString(out: Uint8Array, at: number, text: string, size: number): number {
  out[at] = size >> 8;
  out[at + 1] = size & 0xFF;
  return utf8Write(text, out, at + 2);
}

function writeBinary(out: Uint8Array, at: number, data: string | Uint8Array, size: number, prefixed: boolean): number {
  if (prefixed) {
    out[at++] = size >> 8;
    out[at++] = size & 0xFF;
  }
  if (typeof data === "string") return utf8Write(data, out, at);
  out.set(data, at);
  return at + size;
}

// A growable byte writer for the packets whose size is not worth computing ahead (CONNECT, MQTT 5.0 packets).
class Writer {
  bytes = new Uint8Array(64);
  at = 0;

  room(n: number): void {
    if (this.at + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.at + n) size *= 2;
    const bytes = new Uint8Array(size);
    bytes.set(this.bytes.subarray(0, this.at));
    this.bytes = bytes;
  }
  u8(v: number): void { this.room(1); this.bytes[this.at++] = v; }
  u16(v: number): void { this.room(2); this.bytes[this.at++] = v >> 8; this.bytes[this.at++] = v & 0xFF; }
  u32(v: number): void {
    this.room(4);
    this.bytes[this.at++] = v >>> 24; this.bytes[this.at++] = (v >>> 16) & 0xFF;
    this.bytes[this.at++] = (v >>> 8) & 0xFF; this.bytes[this.at++] = v & 0xFF;
  }
  vbi(v: number): void {
    do {
      let digit = v & 0x7F;
      v = Math.floor(v / 128);
      if (v > 0) digit |= 0x80;
      this.u8(digit);
    } while (v > 0);
  }
  /** A length-prefixed UTF-8 string, checked as an MQTT string (§1.5.4). */
  string(text: string, what: string): void {
    const size = checkedString(text, what);
    this.room(2 + size);
    this.at = writeString(this.bytes, this.at, text, size);
  }
  /** Length-prefixed binary data (§1.5.6); a string is sent as UTF-8. */
  binary(data: string | Uint8Array, what: string): void {
    const size = binarySize(data, what);
    if (size > 65535) throw new Error("MQTT: " + what + " is longer than 65535 bytes (§1.5.6)");
    this.room(2 + size);
    this.at = writeBinary(this.bytes, this.at, data, size, true);
  }
  raw(data: string | Uint8Array, what: string): void {
    const size = binarySize(data, what);
    this.room(size);
    this.at = writeBinary(this.bytes, this.at, data, size, false);
  }
  /** The packet: fixed header (§2.2) then what was written. */
  packet(first: number): Uint8Array {
    const out = allocate(first, this.at);
    out.set(this.bytes.subarray(0, this.at), headerSize(this.at));
    return out;
  }
}

function checkInteger(value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== "number" || value !== Math.floor(value) || value < min || value > max)
    throw new Error("MQTT: " + what + " must be an integer " + min + "-" + max + ", got " + String(value));
  return value;
}

/** Writes the property length and the properties allowed in a packet of `type` (§2.2.2); throws on any other. */
function writeProperties(w: Writer, properties: Properties | undefined, type: number): void {
  if (properties === undefined || properties === null) { w.u8(0); return; }
  if (typeof properties !== "object") throw new Error("MQTT: properties must be an object");
  const p = new Writer();
  const where = type === WILL_PROPERTIES ? "the Will" : packetName(type);
  for (const name of Object.keys(properties) as (keyof Properties)[]) {
    if (properties[name] === undefined) continue;
    let found: PropertySpec | undefined;
    for (let i = 0; i < PROPERTIES.length; i++) if (PROPERTIES[i].name === name) found = PROPERTIES[i];
    if (!found) throw new Error("MQTT: unknown property " + JSON.stringify(name));
    if (!(found.packets & (1 << type))) throw new Error("MQTT: property " + name + " is not allowed in " + where + " (§2.2.2.2)");
  }
  for (let i = 0; i < PROPERTIES.length; i++) {
    const { id, name, kind } = PROPERTIES[i];
    const value = properties[name];
    if (value === undefined) continue;
    switch (kind) {
      case P_FLAG: p.u8(id); p.u8(checkInteger(value, 0, 1, "property " + name)); break;
      case P_BYTE: p.u8(id); p.u8(checkInteger(value, 0, 255, "property " + name)); break;
      case P_U16: p.u8(id); p.u16(checkInteger(value, name === "receiveMaximum" || name === "topicAlias" ? 1 : 0, 65535, "property " + name)); break;
      case P_U32: p.u8(id); p.u32(checkInteger(value, name === "maximumPacketSize" ? 1 : 0, 0xFFFFFFFF, "property " + name)); break;
      case P_STRING: p.u8(id); p.string(value as string, "property " + name); break;
      case P_BINARY:
        if (!(value instanceof Uint8Array)) throw new Error("MQTT: property " + name + " must be a Uint8Array");
        p.u8(id); p.binary(value, "property " + name); break;
      case P_VBI: {
        const ids = value as number[];
        if (!Array.isArray(ids) || ids.length === 0 || (type !== PUBLISH && ids.length > 1))
          throw new Error("MQTT: property " + name + " must be an array of " + (type === PUBLISH ? "identifiers" : "one identifier"));
        for (const v of ids) { p.u8(id); p.vbi(checkInteger(v, 1, MAX_VBI, "subscription identifier")); }
        break;
      }
      case P_PAIR: {
        const pairs = value as [string, string][];
        if (!Array.isArray(pairs)) throw new Error("MQTT: property userProperties must be an array of [name, value] pairs");
        for (const pair of pairs) {
          if (!Array.isArray(pair) || pair.length !== 2) throw new Error("MQTT: a user property must be a [name, value] pair");
          p.u8(id); p.string(pair[0], "user property name"); p.string(pair[1], "user property value");
        }
        break;
      }
    }
  }
  w.vbi(p.at);
  w.room(p.at);
  w.bytes.set(p.bytes.subarray(0, p.at), w.at);
  w.at += p.at;
}

function checkVersion(version: unknown): ProtocolVersion {
  if (version !== 4 && version !== 5) throw new Error("MQTT: protocol version must be 4 (3.1.1) or 5 (5.0), got " + String(version));
  return version;
}

function noProperties(properties: Properties | undefined, version: ProtocolVersion, where: string): void {
  if (version === 4 && properties !== undefined) throw new Error("MQTT: " + where + " properties need MQTT 5.0");
}

function checkReason(type: number, code: number | undefined, version: ProtocolVersion): number {
  if (code === undefined) return 0;
  if (version === 4) throw new Error("MQTT: " + packetName(type) + " reason codes need MQTT 5.0");
  if (validReasons(type).indexOf(code) < 0) throw new Error("MQTT: reason code " + String(code) + " is not valid in " + packetName(type));
  return code;
}

/** CONNECT (§3.1): protocol "MQTT" level 4 or 5, then client id, Will, user name, password in that order. */
export function encodeConnect(fields: ConnectFields): Uint8Array {
  const { clientId, clean, keepalive, username, password, will } = fields;
  const version = checkVersion(fields.protocolVersion ?? 4);
  checkedString(clientId, "client id");
  if (typeof keepalive !== "number" || keepalive !== (keepalive | 0) || keepalive < 0 || keepalive > 65535)
    throw new Error("MQTT: keepalive must be an integer 0-65535 seconds (§3.1.2.10), got " + String(keepalive));
  // 5.0 lets a password go without a user name (§3.1.2.9); 3.1.1 does not.
  if (password !== undefined && username === undefined && version === 4)
    throw new Error("MQTT: a password requires a user name (§3.1.2.9)");
  noProperties(fields.properties, version, "CONNECT");
  let flags = clean ? 0x02 : 0;
  if (will) {
    if (will.qos !== 0 && will.qos !== 1 && will.qos !== 2) throw new Error("MQTT: Will QoS must be 0, 1 or 2, got " + String(will.qos));
    noProperties(will.properties, version, "Will");
    flags |= 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0);
  }
  if (username !== undefined) flags |= 0x80;
  if (password !== undefined) flags |= 0x40;
  const w = new Writer();
  w.u16(4);
  w.u8(0x4D); w.u8(0x51); w.u8(0x54); w.u8(0x54); // "MQTT" (§3.1.2.1)
  w.u8(version);
  w.u8(flags);
  w.u16(keepalive);
  if (version === 5) writeProperties(w, fields.properties, CONNECT);
  w.string(clientId, "client id");
  if (will) {
    if (version === 5) writeProperties(w, will.properties, WILL_PROPERTIES);
    const problem = topicNameProblem(will.topic);
    if (problem) throw new Error("MQTT: topic " + JSON.stringify(will.topic) + " " + problem);
    w.string(will.topic, "Will topic");
    if (binarySize(will.payload, "Will payload") > 65535) throw new Error("MQTT: Will payload is longer than 65535 bytes (§3.1.3.3)");
    w.binary(will.payload, "Will payload");
  }
  if (username !== undefined) w.string(username, "user name");
  if (password !== undefined) {
    if (binarySize(password, "password") > 65535) throw new Error("MQTT: password is longer than 65535 bytes (§3.1.3.5)");
    w.binary(password, "password");
  }
  return w.packet(0x10);
}

/**
 * PUBLISH (§3.3). `id` is required for QoS 1 and 2 and ignored for QoS 0; DUP is only legal with QoS 1 or 2
 * (§3.3.1.1). Positional arguments keep the hot publish path free of option objects.
 */
export function encodePublish(topic: string, payload: string | Uint8Array, qos: 0 | 1 | 2 = 0, id = 0, retain = false, dup = false,
  version: ProtocolVersion = 4, properties?: Properties): Uint8Array {
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new Error("MQTT: PUBLISH QoS must be 0, 1 or 2, got " + String(qos));
  if (qos > 0) checkedId(id);
  else if (dup) throw new Error("MQTT: DUP must be 0 for QoS 0 (§3.3.1.1)");
  const first = 0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 0x01 : 0);
  if (version === 5) {
    // An empty topic is legal in 5.0 when a topic alias stands for it (§3.3.2.3.4).
    const w = new Writer();
    if (topic === "" && properties?.topicAlias !== undefined) w.u16(0);
    else {
      checkedTopic(topic);
      w.string(topic, "topic");
    }
    if (qos > 0) w.u16(id);
    writeProperties(w, properties, PUBLISH);
    w.raw(payload, "payload");
    return w.packet(first);
  }
  checkVersion(version);
  noProperties(properties, version, "PUBLISH");
  const topicSize = checkedTopic(topic);
  const payloadSize = binarySize(payload, "payload");
  const remaining = 2 + topicSize + (qos > 0 ? 2 : 0) + payloadSize;
  const out = allocate(first, remaining);
  let at = writeString(out, headerSize(remaining), topic, topicSize);
  if (qos > 0) {
    out[at++] = id >> 8;
    out[at++] = id & 0xFF;
  }
  writeBinary(out, at, payload, payloadSize, false);
  return out;
}

/** Sets the DUP flag on an encoded QoS 1 or 2 PUBLISH, for a resend (§3.3.1.1, §4.4). */
export function markDuplicate(packet: Uint8Array): void {
  if ((packet[0] & 0xF0) === 0x30 && (packet[0] & 0x06) !== 0) packet[0] |= 0x08;
}

/**
 * PUBACK, PUBREC, PUBREL or PUBCOMP (§3.4-3.7). With MQTT 5.0 a reason code 0 without properties takes the
 * short 2-byte form the spec allows (§3.4.2.1).
 */
export function encodeAck(type: number, id: number, version: ProtocolVersion = 4, reasonCode?: number, properties?: Properties): Uint8Array {
  if (type !== PUBACK && type !== PUBREC && type !== PUBREL && type !== PUBCOMP) throw new Error("MQTT: " + packetName(type) + " is not an acknowledgement");
  checkedId(id);
  const first = (type << 4) | (type === PUBREL ? 0x02 : 0);
  const code = checkReason(type, reasonCode, checkVersion(version));
  noProperties(properties, version, packetName(type));
  if (code === 0 && properties === undefined) return Uint8Array.of(first, 2, id >> 8, id & 0xFF);
  const w = new Writer();
  w.u16(id);
  w.u8(code);
  if (properties !== undefined) writeProperties(w, properties, type);
  return w.packet(first);
}

/** PUBACK (§3.4). */
export function encodePuback(id: number): Uint8Array {
  checkedId(id);
  return Uint8Array.of(0x40, 2, id >> 8, id & 0xFF);
}

/** SUBSCRIBE (§3.8): fixed-header flags 0b0010, packet id, (5.0: properties), then each filter with its options. */
export function encodeSubscribe(id: number, filters: readonly SubscribeFilter[], version: ProtocolVersion = 4, properties?: Properties): Uint8Array {
  checkedId(id);
  checkVersion(version);
  noProperties(properties, version, "SUBSCRIBE");
  if (!Array.isArray(filters) || filters.length === 0) throw new Error("MQTT: SUBSCRIBE needs at least one topic filter (§3.8.3)");
  const w = new Writer();
  w.u16(id);
  if (version === 5) writeProperties(w, properties, SUBSCRIBE);
  for (let i = 0; i < filters.length; i++) {
    const { topic, qos, noLocal, retainAsPublished, retainHandling } = filters[i];
    const problem = topicFilterProblem(topic);
    if (problem) throw new Error("MQTT: topic filter " + JSON.stringify(topic) + " " + problem);
    if (qos !== 0 && qos !== 1 && qos !== 2) throw new Error("MQTT: subscription QoS must be 0, 1 or 2, got " + String(qos) + " for " + JSON.stringify(topic));
    let options: number = qos;
    if (noLocal || retainAsPublished || retainHandling) {
      if (version === 4) throw new Error("MQTT: subscription options need MQTT 5.0");
      if (retainHandling !== undefined && retainHandling !== 0 && retainHandling !== 1 && retainHandling !== 2)
        throw new Error("MQTT: retainHandling must be 0, 1 or 2 (§3.8.3.1)");
      options |= (noLocal ? 0x04 : 0) | (retainAsPublished ? 0x08 : 0) | ((retainHandling ?? 0) << 4);
    }
    w.string(topic, "topic filter");
    w.u8(options);
  }
  return w.packet(0x82);
}

/** UNSUBSCRIBE (§3.10): flags 0b0010, packet id, (5.0: properties), topic filters. */
export function encodeUnsubscribe(id: number, topics: readonly string[], version: ProtocolVersion = 4, properties?: Properties): Uint8Array {
  checkedId(id);
  checkVersion(version);
  noProperties(properties, version, "UNSUBSCRIBE");
  if (!Array.isArray(topics) || topics.length === 0) throw new Error("MQTT: UNSUBSCRIBE needs at least one topic filter (§3.10.3)");
  const w = new Writer();
  w.u16(id);
  if (version === 5) writeProperties(w, properties, UNSUBSCRIBE);
  for (const topic of topics) {
    const problem = topicFilterProblem(topic);
    if (problem) throw new Error("MQTT: topic filter " + JSON.stringify(topic) + " " + problem);
    w.string(topic, "topic filter");
  }
  return w.packet(0xA2);
}

/** PINGREQ (§3.12). */
export function encodePingreq(): Uint8Array {
  return Uint8Array.of(0xC0, 0);
}

/** DISCONNECT (§3.14); with MQTT 5.0 a reason code and properties, omitted when 0 and none (§3.14.2.1). */
export function encodeDisconnect(version: ProtocolVersion = 4, reasonCode?: number, properties?: Properties): Uint8Array {
  const code = checkReason(DISCONNECT, reasonCode, checkVersion(version));
  noProperties(properties, version, "DISCONNECT");
  if (code === 0 && properties === undefined) return Uint8Array.of(0xE0, 0);
  const w = new Writer();
  w.u8(code);
  if (properties !== undefined) writeProperties(w, properties, DISCONNECT);
  return w.packet(0xE0);
}

/**
 * Any packet, from either side of the connection (brokers' packets too, for tests and tools).
 * `version` applies to all but CONNECT, which names its own.
 */
export function encodePacket(packet: Packet, version: ProtocolVersion = 4): Uint8Array {
  checkVersion(version);
  switch (packet.type) {
    case CONNECT: return encodeConnect({ ...packet, protocolVersion: packet.protocolVersion ?? version });
    case CONNACK: {
      const code = packet.returnCode;
      if (version === 4) {
        noProperties(packet.properties, version, "CONNACK");
        checkInteger(code, 0, 5, "CONNACK return code");
        return Uint8Array.of(0x20, 2, packet.sessionPresent ? 1 : 0, code);
      }
      checkReason(CONNACK, code, version);
      const w = new Writer();
      w.u8(packet.sessionPresent ? 1 : 0);
      w.u8(code);
      writeProperties(w, packet.properties, CONNACK);
      return w.packet(0x20);
    }
    case PUBLISH:
      return encodePublish(packet.topic, packet.payload, packet.qos, packet.id, packet.retain, packet.dup, version, packet.properties);
    case PUBACK: case PUBREC: case PUBREL: case PUBCOMP:
      return encodeAck(packet.type, packet.id, version, version === 5 ? packet.reasonCode : undefined, packet.properties);
    case SUBSCRIBE: return encodeSubscribe(packet.id, packet.filters, version, packet.properties);
    case SUBACK: {
      checkedId(packet.id);
      noProperties(packet.properties, version, "SUBACK");
      if (!Array.isArray(packet.granted) || packet.granted.length === 0) throw new Error("MQTT: SUBACK needs at least one return code");
      const w = new Writer();
      w.u16(packet.id);
      if (version === 5) writeProperties(w, packet.properties, SUBACK);
      for (const code of packet.granted) {
        if (version === 4 ? code > 2 && code !== 0x80 : validReasons(SUBACK).indexOf(code) < 0)
          throw new Error("MQTT: SUBACK code " + String(code) + " is not valid");
        w.u8(code);
      }
      return w.packet(0x90);
    }
    case UNSUBSCRIBE: return encodeUnsubscribe(packet.id, packet.topics, version, packet.properties);
    case UNSUBACK: {
      checkedId(packet.id);
      noProperties(packet.properties, version, "UNSUBACK");
      const w = new Writer();
      w.u16(packet.id);
      if (version === 5) {
        writeProperties(w, packet.properties, UNSUBACK);
        const codes = packet.reasonCodes;
        if (!Array.isArray(codes) || codes.length === 0) throw new Error("MQTT: a 5.0 UNSUBACK needs one reason code per topic filter");
        for (const code of codes) w.u8(checkReason(UNSUBACK, code, version));
      } else if (packet.reasonCodes !== undefined) throw new Error("MQTT: UNSUBACK reason codes need MQTT 5.0");
      return w.packet(0xB0);
    }
    case PINGREQ: return encodePingreq();
    case PINGRESP: return Uint8Array.of(0xD0, 0);
    case DISCONNECT: return encodeDisconnect(version, version === 5 ? packet.reasonCode : undefined, packet.properties);
    case AUTH: {
      if (version !== 5) throw new Error("MQTT: AUTH needs MQTT 5.0");
      const code = checkReason(AUTH, packet.reasonCode, version);
      if (code === 0 && packet.properties === undefined) return Uint8Array.of(0xF0, 0);
      const w = new Writer();
      w.u8(code);
      writeProperties(w, packet.properties, AUTH);
      return w.packet(0xF0);
    }
    default: throw new Error("MQTT: unknown packet type " + String((packet as { type: unknown }).type));
  }
}

// ---------------------------------------------------------------- decoding

export interface DecoderOptions {
  /** Largest whole incoming packet in bytes (fixed header included); default 65536. */
  maxPacketSize?: number;
  /** 4 (3.1.1, the default) or 5. A "server" decoder switches to the version each CONNECT names. */
  protocolVersion?: ProtocolVersion;
  /** Whose packets are accepted: "client" (the default) decodes what a broker sends, "server" what a client sends. */
  role?: "client" | "server";
}

const EMPTY: Uint8Array = new Uint8Array(0);
const PINGRESP_PACKET: PingrespPacket = Object.freeze({ type: PINGRESP });
const PINGREQ_PACKET: PingreqPacket = Object.freeze({ type: PINGREQ });
const DISCONNECT_PACKET: DisconnectPacket = Object.freeze({ type: DISCONNECT });

const HEADER = 0, LENGTH = 1, BODY = 2;

// Packet types each side may send, as bit masks (§2.2.1, table 2-1).
const FROM_SERVER = (1 << CONNACK) | (1 << PUBLISH) | (1 << PUBACK) | (1 << PUBREC) | (1 << PUBREL) | (1 << PUBCOMP) |
  (1 << SUBACK) | (1 << UNSUBACK) | (1 << PINGRESP) | (1 << DISCONNECT) | (1 << AUTH);
const FROM_CLIENT = (1 << CONNECT) | (1 << PUBLISH) | (1 << PUBACK) | (1 << PUBREC) | (1 << PUBREL) | (1 << PUBCOMP) |
  (1 << SUBSCRIBE) | (1 << UNSUBSCRIBE) | (1 << PINGREQ) | (1 << DISCONNECT) | (1 << AUTH);

/**
 * Streaming decoder: `push()` a chunk as it arrives, then call `next()` until it returns undefined.
 * A packet that lies whole inside one chunk is decoded in place; only a packet split across chunks
 * is copied into a body buffer, grown on demand up to `maxPacketSize`. Malformed input throws an
 * Error naming the problem, after which the decoder refuses work until `reset()`, because the byte
 * stream can no longer be framed. Every read is bounds-checked against the packet's own length, so
 * no input makes it read past a packet, loop, or allocate more than the packet's size.
 */
export class PacketDecoder {
  readonly #maxPacketSize: number;
  readonly #server: boolean;
  #version: ProtocolVersion;
  #chunk: Uint8Array = EMPTY;
  #at = 0;
  #state = HEADER;
  #first = 0;
  #length = 0;
  #lengthBytes = 0;
  #body: Uint8Array = EMPTY;
  #filled = 0;
  #failed = false;
  // The packet body being decoded: bytes, read position, end.
  #b: Uint8Array = EMPTY;
  #p = 0;
  #e = 0;

  constructor(options?: DecoderOptions) {
    const max = options?.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
    if (typeof max !== "number" || !Number.isInteger(max) || max < 2 || max > MAX_PACKET_SIZE)
      throw new Error('PacketDecoder: option "maxPacketSize" must be an integer 2-' + MAX_PACKET_SIZE);
    const version = options?.protocolVersion ?? 4;
    if (version !== 4 && version !== 5) throw new Error('PacketDecoder: option "protocolVersion" must be 4 or 5');
    const role = options?.role ?? "client";
    if (role !== "client" && role !== "server") throw new Error('PacketDecoder: option "role" must be "client" or "server"');
    this.#maxPacketSize = max;
    this.#version = version;
    this.#server = role === "server";
  }

  /** The protocol version packets are decoded with. */
  get protocolVersion(): ProtocolVersion {
    return this.#version;
  }

  /** Hands the decoder the next chunk of the byte stream; the decoder reads it until drained. */
  push(chunk: Uint8Array | ArrayBuffer): void {
    if (this.#failed) throw this.#unusable();
    const bytes = chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk);
    const left = this.#chunk.length - this.#at;
    if (left > 0) {
      // Callers normally drain with next() first; joining keeps the stream intact when they did not.
      const joined = new Uint8Array(left + bytes.length);
      joined.set(this.#chunk.subarray(this.#at), 0);
      joined.set(bytes, left);
      this.#chunk = joined;
    } else this.#chunk = bytes;
    this.#at = 0;
  }

  /** The next whole packet from the pushed bytes, or undefined when more bytes are needed. */
  next(): IncomingPacket | undefined {
    return this.nextPacket() as IncomingPacket | undefined;
  }

  /** Like next(), typed for either role. */
  nextPacket(): Packet | undefined {
    if (this.#failed) throw this.#unusable();
    const chunk = this.#chunk;
    const end = chunk.length;
    let at = this.#at;
    while (at < end) {
      if (this.#state === HEADER) {
        this.#first = chunk[at++];
        this.#checkHeader(this.#first);
        this.#state = LENGTH;
        this.#length = 0;
        this.#lengthBytes = 0;
      } else if (this.#state === LENGTH) {
        const b = chunk[at++];
        this.#length |= (b & 0x7F) << (7 * this.#lengthBytes);
        this.#lengthBytes++;
        if (b & 0x80) {
          if (this.#lengthBytes === 4) throw this.#fail("MQTT: malformed remaining length");
          continue;
        }
        this.#checkLength();
        this.#filled = 0;
        if (this.#length === 0) {
          this.#state = HEADER;
          this.#at = at;
          return this.#decode(chunk, at);
        }
        this.#state = BODY;
      } else {
        const length = this.#length;
        const have = end - at;
        if (this.#filled === 0 && have >= length) {
          this.#state = HEADER;
          this.#at = at + length;
          return this.#decode(chunk, at);
        }
        const want = length - this.#filled;
        const n = have < want ? have : want;
        if (this.#body.length < length) this.#grow(length);
        this.#body.set(chunk.subarray(at, at + n), this.#filled);
        at += n;
        this.#filled += n;
        if (this.#filled === length) {
          this.#state = HEADER;
          this.#at = at;
          return this.#decode(this.#body, 0);
        }
      }
    }
    // Drop the drained chunk so the decoder does not keep the caller's buffer alive.
    this.#chunk = EMPTY;
    this.#at = 0;
    return undefined;
  }

  /** Forgets buffered bytes and any earlier error: call it for a new connection. */
  reset(): void {
    this.#chunk = EMPTY;
    this.#at = 0;
    this.#state = HEADER;
    this.#filled = 0;
    this.#failed = false;
    this.#b = EMPTY;
  }

  /** True between packets: no partial packet is buffered. */
  get idle(): boolean {
    return this.#state === HEADER && this.#at >= this.#chunk.length;
  }

  #grow(length: number): void {
    let size = this.#body.length || 128;
    while (size < length) size *= 2;
    if (size > this.#maxPacketSize) size = this.#maxPacketSize;
    const body = new Uint8Array(size);
    body.set(this.#body.subarray(0, this.#filled));
    this.#body = body;
  }

  #fail(message: string): Error {
    this.#failed = true;
    this.#chunk = EMPTY;
    this.#at = 0;
    this.#b = EMPTY;
    return new Error(message);
  }

  #unusable(): Error {
    return new Error("MQTT: the decoder failed earlier and needs reset()");
  }

  // Rejects a packet as soon as its first byte shows it is wrong (§2.2.1, §2.2.2).
  #checkHeader(first: number): void {
    const type = first >> 4;
    const flags = first & 0x0F;
    if (type === 0 || (type === AUTH && this.#version === 4)) throw this.#fail("MQTT: reserved packet type " + type);
    if (!((this.#server ? FROM_CLIENT : FROM_SERVER) & (1 << type)) || (type === DISCONNECT && !this.#server && this.#version === 4))
      throw this.#fail("MQTT: " + NAMES[type] + " is sent by " + (this.#server ? "a broker, not by clients" : "clients, not by a broker"));
    if (type === PUBLISH) {
      const qos = (flags >> 1) & 3;
      if (qos === 3) throw this.#fail("MQTT: invalid QoS 3 in PUBLISH (§3.3.1.2)");
      if (qos === 0 && (flags & 0x08)) throw this.#fail("MQTT: PUBLISH has DUP set with QoS 0 (§3.3.1.1)");
      return;
    }
    const expected = type === PUBREL || type === SUBSCRIBE || type === UNSUBSCRIBE ? 2 : 0;
    if (flags !== expected) throw this.#fail("MQTT: invalid flags 0x" + flags.toString(16) + " for " + NAMES[type]);
  }

  // Rejects a packet as soon as its remaining length is known, before any of its body is buffered.
  #checkLength(): void {
    const length = this.#length;
    const total = 1 + this.#lengthBytes + length;
    if (total > this.#maxPacketSize)
      throw this.#fail("MQTT: packet of " + total + " bytes exceeds the " + this.#maxPacketSize + "-byte limit");
    const type = this.#first >> 4;
    const v5 = this.#version === 5;
    let expected = 2, exact = true;
    switch (type) {
      case PINGREQ: case PINGRESP: expected = 0; break;
      case DISCONNECT: expected = 0; exact = !v5; break;
      case AUTH: expected = 0; exact = false; break;
      case CONNACK: expected = v5 ? 3 : 2; exact = !v5; break;
      case PUBACK: case PUBREC: case PUBREL: case PUBCOMP: exact = !v5; break;
      case UNSUBACK: expected = v5 ? 4 : 2; exact = !v5; break;
      case SUBACK: expected = v5 ? 4 : 3; exact = false; break;
      case SUBSCRIBE: expected = v5 ? 7 : 6; exact = false; break; // id, (properties), a 1-byte filter, options
      case UNSUBSCRIBE: expected = v5 ? 6 : 5; exact = false; break;
      case CONNECT: expected = 12; exact = false; break; // protocol name, level, flags, keepalive, client id length
      // Topic length, a 1-byte topic (3.1.1) or an empty one and the property length (5.0), packet id.
      case PUBLISH: expected = (this.#first & 0x06) ? 5 : 3; exact = false; break;
    }
    if (exact ? length !== expected : length < expected)
      throw this.#fail("MQTT: " + NAMES[type] + " has length " + length + ", expected " + (exact ? "" : "at least ") + expected);
  }

  #decode(bytes: Uint8Array, at: number): Packet {
    const first = this.#first;
    const length = this.#length;
    const type = first >> 4;
    this.#b = bytes;
    this.#p = at;
    this.#e = at + length;
    let packet: Packet;
    switch (type) {
      case PUBLISH: packet = this.#decodePublish(first); break;
      case CONNACK: packet = this.#decodeConnack(); break;
      case PUBACK: case PUBREC: case PUBREL: case PUBCOMP: packet = this.#decodeAck(type); break;
      case SUBACK: packet = this.#decodeSuback(); break;
      case UNSUBACK: packet = this.#decodeUnsuback(); break;
      case CONNECT: packet = this.#decodeConnect(); break;
      case SUBSCRIBE: packet = this.#decodeSubscribe(); break;
      case UNSUBSCRIBE: packet = this.#decodeUnsubscribe(); break;
      case PINGREQ: packet = PINGREQ_PACKET; break;
      case PINGRESP: packet = PINGRESP_PACKET; break;
      case DISCONNECT: packet = this.#decodeDisconnect(DISCONNECT); break;
      default: packet = this.#decodeDisconnect(AUTH); break;
    }
    // Every byte of the packet must have been consumed: trailing bytes mean the lengths disagree.
    if (this.#p !== this.#e) throw this.#fail("MQTT: " + NAMES[type] + " has " + (this.#e - this.#p) + " unexpected trailing bytes");
    this.#b = EMPTY;
    return packet;
  }

  // ------------------------------------------------------------ bounded reads

  #need(n: number, what: string): void {
    if (this.#p + n > this.#e) throw this.#fail("MQTT: " + NAMES[this.#first >> 4] + " ends inside its " + what);
  }
  #u8(what: string): number { this.#need(1, what); return this.#b[this.#p++]; }
  #u16(what: string): number { this.#need(2, what); const b = this.#b, p = this.#p; this.#p = p + 2; return (b[p] << 8) | b[p + 1]; }
  #u32(what: string): number {
    this.#need(4, what);
    const b = this.#b, p = this.#p;
    this.#p = p + 4;
    return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }
  #vbi(what: string): number {
    let value = 0, scale = 1;
    for (let i = 0; i < 4; i++) {
      const b = this.#u8(what);
      value += (b & 0x7F) * scale;
      if (!(b & 0x80)) return value;
      scale *= 128;
    }
    throw this.#fail("MQTT: malformed variable byte integer in " + what + " (§1.5.5)");
  }
  #string(what: string): string {
    const size = this.#u16(what);
    this.#need(size, what);
    const text = utf8Read(this.#b, this.#p, this.#p + size);
    if (text === undefined) throw this.#fail("MQTT: " + what + " is not valid UTF-8");
    if (text.indexOf("\u0000") >= 0) throw this.#fail("MQTT: " + what + " contains U+0000 (§1.5.3)");
    this.#p += size;
    return text;
  }
  #binary(what: string): Uint8Array {
    const size = this.#u16(what);
    this.#need(size, what);
    const out = this.#b.slice(this.#p, this.#p + size);
    this.#p += size;
    return out;
  }
  #id(): number {
    const id = this.#u16("packet id");
    if (id === 0) throw this.#fail("MQTT: " + NAMES[this.#first >> 4] + " has packet id 0 (§2.3.1)");
    return id;
  }
  #reason(type: number, code: number): number {
    if (validReasons(type).indexOf(code) < 0)
      throw this.#fail("MQTT: " + NAMES[type] + " reason code 0x" + code.toString(16) + " is invalid");
    return code;
  }

  // Properties of a packet of `type` (or the Will's): undefined when there are none (§2.2.2).
  #properties(type: number): Properties | undefined {
    const length = this.#vbi("property length");
    this.#need(length, "properties");
    const end = this.#p + length;
    if (length === 0) return undefined;
    const where = type === WILL_PROPERTIES ? "the Will" : NAMES[type];
    const result: Properties = {};
    let seen = 0, seenHigh = 0;
    const outer = this.#e;
    this.#e = end;
    while (this.#p < end) {
      const id = this.#vbi("property identifier");
      const found = propertyById(id);
      if (!found) throw this.#fail("MQTT: unknown property identifier 0x" + id.toString(16) + " in " + where);
      if (!(found.packets & (1 << type))) throw this.#fail("MQTT: property " + found.name + " is not allowed in " + where + " (§2.2.2.2)");
      const bit = 1 << (id & 31);
      const repeats = found.kind === P_PAIR || (found.kind === P_VBI && type === PUBLISH);
      if (!repeats) {
        if (id < 32 ? seen & bit : seenHigh & bit) throw this.#fail("MQTT: property " + found.name + " appears twice in " + where + " (§2.2.2.2)");
        if (id < 32) seen |= bit; else seenHigh |= bit;
      }
      const name = found.name;
      switch (found.kind) {
        case P_FLAG: {
          const v = this.#u8(name);
          if (v > 1) throw this.#fail("MQTT: property " + name + " must be 0 or 1, got " + v);
          (result as Record<string, unknown>)[name] = v;
          break;
        }
        case P_BYTE: (result as Record<string, unknown>)[name] = this.#u8(name); break;
        case P_U16: {
          const v = this.#u16(name);
          if (v === 0 && (name === "receiveMaximum" || name === "topicAlias")) throw this.#fail("MQTT: property " + name + " must not be 0");
          (result as Record<string, unknown>)[name] = v;
          break;
        }
        case P_U32: {
          const v = this.#u32(name);
          if (v === 0 && name === "maximumPacketSize") throw this.#fail("MQTT: property maximumPacketSize must not be 0");
          (result as Record<string, unknown>)[name] = v;
          break;
        }
        case P_STRING: (result as Record<string, unknown>)[name] = this.#string("property " + name); break;
        case P_BINARY: (result as Record<string, unknown>)[name] = this.#binary("property " + name); break;
        case P_VBI: {
          const v = this.#vbi("subscription identifier");
          if (v === 0) throw this.#fail("MQTT: subscription identifier must not be 0 (§3.3.2.3.8)");
          (result.subscriptionIdentifiers ??= []).push(v);
          break;
        }
        default: {
          const key = this.#string("user property name");
          const value = this.#string("user property value");
          (result.userProperties ??= []).push([key, value]);
        }
      }
    }
    this.#e = outer;
    return result;
  }

  // ------------------------------------------------------------ packets

  #decodeConnack(): ConnackPacket {
    const acknowledge = this.#u8("flags");
    const code = this.#u8("return code");
    if (acknowledge & 0xFE) throw this.#fail("MQTT: CONNACK has reserved flags 0x" + acknowledge.toString(16) + " (§3.2.2.1)");
    if (this.#version === 4) {
      if (code >= REFUSALS.length) throw this.#fail("MQTT: CONNACK return code " + code + " is reserved (§3.2.2.3)");
      return { type: CONNACK, sessionPresent: (acknowledge & 1) === 1, returnCode: code };
    }
    this.#reason(CONNACK, code);
    const packet: ConnackPacket = { type: CONNACK, sessionPresent: (acknowledge & 1) === 1, returnCode: code };
    const properties = this.#properties(CONNACK);
    if (properties) packet.properties = properties;
    return packet;
  }

  #decodeAck(type: number): AckPacket {
    const id = this.#id();
    const packet: AckPacket = { type: type as AckPacket["type"], id };
    if (this.#version === 5) {
      // The reason code and property length may be omitted (§3.4.2.1): success without properties.
      packet.reasonCode = this.#p < this.#e ? this.#reason(type, this.#u8("reason code")) : 0;
      if (this.#p < this.#e) {
        const properties = this.#properties(type);
        if (properties) packet.properties = properties;
      }
    }
    return packet;
  }

  #decodeSuback(): SubackPacket {
    const id = this.#id();
    const v5 = this.#version === 5;
    const properties = v5 ? this.#properties(SUBACK) : undefined;
    const count = this.#e - this.#p;
    if (count === 0) throw this.#fail("MQTT: SUBACK has no return codes (§3.9.3)");
    const granted: number[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const code = this.#b[this.#p++];
      if (v5) this.#reason(SUBACK, code);
      else if (code > 2 && code !== 0x80) throw this.#fail("MQTT: SUBACK return code 0x" + code.toString(16) + " is invalid (§3.9.3)");
      granted[i] = code;
    }
    const packet: SubackPacket = { type: SUBACK, id, granted };
    if (properties) packet.properties = properties;
    return packet;
  }

  #decodeUnsuback(): UnsubackPacket {
    const id = this.#id();
    if (this.#version === 4) return { type: UNSUBACK, id };
    const properties = this.#properties(UNSUBACK);
    const count = this.#e - this.#p;
    if (count === 0) throw this.#fail("MQTT: UNSUBACK has no reason codes (§3.11.3)");
    const reasonCodes: number[] = new Array(count);
    for (let i = 0; i < count; i++) reasonCodes[i] = this.#reason(UNSUBACK, this.#b[this.#p++]);
    const packet: UnsubackPacket = { type: UNSUBACK, id, reasonCodes };
    if (properties) packet.properties = properties;
    return packet;
  }

  #decodeDisconnect(type: typeof DISCONNECT | typeof AUTH): DisconnectPacket | AuthPacket {
    if (this.#version === 4) return DISCONNECT_PACKET;
    const code = this.#p < this.#e ? this.#reason(type, this.#u8("reason code")) : 0;
    const packet: DisconnectPacket | AuthPacket = type === AUTH ? { type: AUTH, reasonCode: code } : { type: DISCONNECT, reasonCode: code };
    if (this.#p < this.#e) {
      const properties = this.#properties(type);
      if (properties) packet.properties = properties;
    }
    return packet;
  }

  #decodeConnect(): ConnectPacket {
    if (this.#u16("protocol name") !== 4) throw this.#fail("MQTT: CONNECT protocol name is not \"MQTT\" (§3.1.2.1)");
    const b = this.#b;
    this.#need(4, "protocol name");
    if (b[this.#p] !== 0x4D || b[this.#p + 1] !== 0x51 || b[this.#p + 2] !== 0x54 || b[this.#p + 3] !== 0x54)
      throw this.#fail("MQTT: CONNECT protocol name is not \"MQTT\" (§3.1.2.1)");
    this.#p += 4;
    const level = this.#u8("protocol level");
    if (level !== 4 && level !== 5) throw this.#fail("MQTT: CONNECT protocol level " + level + " is not supported (4 or 5)");
    this.#version = level;
    const flags = this.#u8("flags");
    if (flags & 0x01) throw this.#fail("MQTT: CONNECT reserved flag is set (§3.1.2.3)");
    const willFlag = (flags & 0x04) !== 0;
    const willQos = (flags >> 3) & 3;
    if (willQos === 3 || (!willFlag && (willQos !== 0 || (flags & 0x20)))) throw this.#fail("MQTT: CONNECT Will flags are inconsistent (§3.1.2.6)");
    if (level === 4 && (flags & 0x40) && !(flags & 0x80)) throw this.#fail("MQTT: CONNECT has a password without a user name (§3.1.2.9)");
    const keepalive = this.#u16("keepalive");
    const packet: ConnectPacket = { type: CONNECT, protocolVersion: level, clientId: "", clean: (flags & 0x02) !== 0, keepalive };
    if (level === 5) {
      const properties = this.#properties(CONNECT);
      if (properties) packet.properties = properties;
    }
    packet.clientId = this.#string("client id");
    if (willFlag) {
      const willProperties = level === 5 ? this.#properties(WILL_PROPERTIES) : undefined;
      const topic = this.#string("Will topic");
      const problem = topicNameProblem(topic);
      if (problem) throw this.#fail("MQTT: Will topic " + problem);
      const payload = this.#binary("Will payload");
      packet.will = { topic, payload, qos: willQos as 0 | 1 | 2, retain: (flags & 0x20) !== 0 };
      if (willProperties) packet.will.properties = willProperties;
    }
    if (flags & 0x80) packet.username = this.#string("user name");
    if (flags & 0x40) packet.password = this.#binary("password");
    return packet;
  }

  #decodeSubscribe(): SubscribePacket {
    const id = this.#id();
    const v5 = this.#version === 5;
    const properties = v5 ? this.#properties(SUBSCRIBE) : undefined;
    const filters: SubscribeFilter[] = [];
    if (this.#p >= this.#e) throw this.#fail("MQTT: SUBSCRIBE has no topic filters (§3.8.3)");
    while (this.#p < this.#e) {
      const topic = this.#string("topic filter");
      const problem = topicFilterProblem(topic);
      if (problem) throw this.#fail("MQTT: topic filter " + JSON.stringify(topic) + " " + problem);
      const options = this.#u8("subscription options");
      const qos = options & 3;
      if (qos === 3) throw this.#fail("MQTT: SUBSCRIBE asks for QoS 3 (§3.8.3.1)");
      if (options & (v5 ? 0xC0 : 0xFC)) throw this.#fail("MQTT: SUBSCRIBE options have reserved bits set (§3.8.3.1)");
      const filter: SubscribeFilter = { topic, qos: qos as 0 | 1 | 2 };
      if (v5) {
        const handling = (options >> 4) & 3;
        if (handling === 3) throw this.#fail("MQTT: SUBSCRIBE retain handling 3 is reserved (§3.8.3.1)");
        filter.noLocal = (options & 0x04) !== 0;
        filter.retainAsPublished = (options & 0x08) !== 0;
        filter.retainHandling = handling as 0 | 1 | 2;
      }
      filters.push(filter);
    }
    const packet: SubscribePacket = { type: SUBSCRIBE, id, filters };
    if (properties) packet.properties = properties;
    return packet;
  }

  #decodeUnsubscribe(): UnsubscribePacket {
    const id = this.#id();
    const properties = this.#version === 5 ? this.#properties(UNSUBSCRIBE) : undefined;
    const topics: string[] = [];
    if (this.#p >= this.#e) throw this.#fail("MQTT: UNSUBSCRIBE has no topic filters (§3.10.3)");
    while (this.#p < this.#e) {
      const topic = this.#string("topic filter");
      const problem = topicFilterProblem(topic);
      if (problem) throw this.#fail("MQTT: topic filter " + JSON.stringify(topic) + " " + problem);
      topics.push(topic);
    }
    const packet: UnsubscribePacket = { type: UNSUBSCRIBE, id, topics };
    if (properties) packet.properties = properties;
    return packet;
  }

  #decodePublish(first: number): PublishPacket {
    const qos = (first >> 1) & 3;
    const bytes = this.#b;
    const end = this.#e;
    let at = this.#p;
    const topicSize = (bytes[at] << 8) | bytes[at + 1];
    at += 2;
    const v5 = this.#version === 5;
    if (topicSize === 0 && !v5) throw this.#fail("MQTT: PUBLISH topic is empty (§4.7.3)");
    if (at + topicSize + (qos ? 2 : 0) > end) throw this.#fail("MQTT: PUBLISH topic length " + topicSize + " exceeds the packet");
    const topic = utf8Read(bytes, at, at + topicSize);
    if (topic === undefined) throw this.#fail("MQTT: topic is not valid UTF-8");
    if (topic.indexOf("\u0000") >= 0) throw this.#fail("MQTT: topic contains U+0000 (§1.5.3)");
    if (topic.indexOf("+") >= 0 || topic.indexOf("#") >= 0) throw this.#fail("MQTT: topic " + JSON.stringify(topic) + " contains a wildcard (§3.3.2.1)");
    at += topicSize;
    let id = 0;
    if (qos) {
      id = (bytes[at] << 8) | bytes[at + 1];
      if (id === 0) throw this.#fail("MQTT: PUBLISH with QoS " + qos + " has packet id 0 (§2.3.1)");
      at += 2;
    }
    let properties: Properties | undefined;
    if (v5) {
      this.#p = at;
      properties = this.#properties(PUBLISH);
      at = this.#p;
      // An empty topic stands for the topic alias it carries (§3.3.2.3.4).
      if (topicSize === 0 && properties?.topicAlias === undefined) throw this.#fail("MQTT: PUBLISH topic is empty and has no topic alias (§3.3.2.3.4)");
    }
    this.#p = end;
    const packet: PublishPacket = {
      type: PUBLISH,
      topic,
      payload: bytes.slice(at, end),
      qos: qos as 0 | 1 | 2,
      retain: (first & 1) === 1,
      dup: (first & 0x08) !== 0,
      id,
    };
    if (properties) packet.properties = properties;
    return packet;
  }
}
