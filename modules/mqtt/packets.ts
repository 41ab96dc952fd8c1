// MQTT 3.1.1 and 5.0 packet vocabulary: control packet types, limits, reason codes, the property table, and packet shapes.

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
  "reserved type 0",
  "CONNECT",
  "CONNACK",
  "PUBLISH",
  "PUBACK",
  "PUBREC",
  "PUBREL",
  "PUBCOMP",
  "SUBSCRIBE",
  "SUBACK",
  "UNSUBSCRIBE",
  "UNSUBACK",
  "PINGREQ",
  "PINGRESP",
  "DISCONNECT",
  "AUTH",
]);

/** The highest MQTT 3.1.1 CONNACK return code; 6-255 are reserved (§3.2.2.3). */
export const MAX_RETURN_CODE = 5;

// CONNACK return codes 0-5 (§3.2.2.3, table 3.1).
const REFUSALS: readonly string[] = Object.freeze([
  "accepted",
  "unacceptable protocol version",
  "identifier rejected",
  "server unavailable",
  "bad user name or password",
  "not authorized",
]);

/** The packet type's name as the spec writes it, for error messages. */
export function packetName(type: number): string {
  return NAMES[type & 15]!;
}

/** The spec's name for a CONNACK return code (3.1.1 §3.2.2.3) or, with version 5, reason code (5.0 §3.2.2.2). */
export function connackReason(code: number, version: ProtocolVersion = 4): string {
  if (version === 5) return reasonName(code);
  return code >= 0 && code < REFUSALS.length ? REFUSALS[code]! : "reserved return code";
}

// MQTT 5.0 reason codes (§2.4, table 2-6), as code/name pairs.
const REASONS: readonly (number | string)[] = Object.freeze([
  0x00,
  "success",
  0x01,
  "granted QoS 1",
  0x02,
  "granted QoS 2",
  0x04,
  "disconnect with Will message",
  0x10,
  "no matching subscribers",
  0x11,
  "no subscription existed",
  0x18,
  "continue authentication",
  0x19,
  "re-authenticate",
  0x80,
  "unspecified error",
  0x81,
  "malformed packet",
  0x82,
  "protocol error",
  0x83,
  "implementation specific error",
  0x84,
  "unsupported protocol version",
  0x85,
  "client identifier not valid",
  0x86,
  "bad user name or password",
  0x87,
  "not authorized",
  0x88,
  "server unavailable",
  0x89,
  "server busy",
  0x8a,
  "banned",
  0x8b,
  "server shutting down",
  0x8c,
  "bad authentication method",
  0x8d,
  "keep alive timeout",
  0x8e,
  "session taken over",
  0x8f,
  "topic filter invalid",
  0x90,
  "topic name invalid",
  0x91,
  "packet identifier in use",
  0x92,
  "packet identifier not found",
  0x93,
  "receive maximum exceeded",
  0x94,
  "topic alias invalid",
  0x95,
  "packet too large",
  0x96,
  "message rate too high",
  0x97,
  "quota exceeded",
  0x98,
  "administrative action",
  0x99,
  "payload format invalid",
  0x9a,
  "retain not supported",
  0x9b,
  "QoS not supported",
  0x9c,
  "use another server",
  0x9d,
  "server moved",
  0x9e,
  "shared subscriptions not supported",
  0x9f,
  "connection rate exceeded",
  0xa0,
  "maximum connect time",
  0xa1,
  "subscription identifiers not supported",
  0xa2,
  "wildcard subscriptions not supported",
]);

/** The MQTT 5.0 name of a reason code (§2.4). */
export function reasonName(code: number): string {
  for (let i = 0; i < REASONS.length; i += 2) if (REASONS[i] === code) return REASONS[i + 1] as string;
  return "unknown reason code 0x" + code.toString(16);
}

// The reason codes each MQTT 5.0 packet may carry (§3.2.2.2, §3.4.2.1, §3.5.2.1, §3.6.2.1, §3.7.2.1, §3.9.3,
// §3.11.3, §3.14.2.1, §3.15.2.1). Indexed by packet type.
const VALID_REASONS: readonly (readonly number[] | undefined)[] = Object.freeze([
  undefined,
  undefined,
  Object.freeze([
    0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a, 0x9b,
    0x9c, 0x9d, 0x9f,
  ]),
  undefined,
  Object.freeze([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]),
  Object.freeze([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]),
  Object.freeze([0x00, 0x92]),
  Object.freeze([0x00, 0x92]),
  undefined,
  Object.freeze([0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2]),
  undefined,
  Object.freeze([0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91]),
  undefined,
  undefined,
  Object.freeze([
    0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98,
    0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2,
  ]),
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

/** Property value types (§1.5): byte, 0/1 byte, two-byte and four-byte integers, variable byte integer, string, binary, string pair. */
export const P_BYTE = 0,
  P_FLAG = 1,
  P_U16 = 2,
  P_U32 = 3,
  P_VBI = 4,
  P_STRING = 5,
  P_BINARY = 6,
  P_PAIR = 7;
/** The Will's properties are checked as if they were a packet of this (reserved) type. */
export const WILL_PROPERTIES = 0;

/** One row of the property table: identifier, name, value type, and a bit mask of the packet types that may carry it. */
export interface PropertySpec {
  readonly id: number;
  readonly name: keyof Properties;
  readonly kind: number;
  readonly packets: number;
}

function spec(id: number, name: keyof Properties, kind: number, ...packets: number[]): PropertySpec {
  let mask = 0;
  for (const p of packets) mask |= 1 << p;
  return Object.freeze({ id, name, kind, packets: mask });
}

/**
 * Table 2-4 (§2.2.2.2): identifier, name, type, and the packets that may carry it. In identifier order, which
 * is also the order the encoder writes them in.
 */
export const PROPERTIES: readonly PropertySpec[] = Object.freeze([
  spec(0x01, "payloadFormatIndicator", P_FLAG, PUBLISH, WILL_PROPERTIES),
  spec(0x02, "messageExpiryInterval", P_U32, PUBLISH, WILL_PROPERTIES),
  spec(0x03, "contentType", P_STRING, PUBLISH, WILL_PROPERTIES),
  spec(0x08, "responseTopic", P_STRING, PUBLISH, WILL_PROPERTIES),
  spec(0x09, "correlationData", P_BINARY, PUBLISH, WILL_PROPERTIES),
  spec(0x0b, "subscriptionIdentifiers", P_VBI, PUBLISH, SUBSCRIBE),
  spec(0x11, "sessionExpiryInterval", P_U32, CONNECT, CONNACK, DISCONNECT),
  spec(0x12, "assignedClientIdentifier", P_STRING, CONNACK),
  spec(0x13, "serverKeepAlive", P_U16, CONNACK),
  spec(0x15, "authenticationMethod", P_STRING, CONNECT, CONNACK, AUTH),
  spec(0x16, "authenticationData", P_BINARY, CONNECT, CONNACK, AUTH),
  spec(0x17, "requestProblemInformation", P_FLAG, CONNECT),
  spec(0x18, "willDelayInterval", P_U32, WILL_PROPERTIES),
  spec(0x19, "requestResponseInformation", P_FLAG, CONNECT),
  spec(0x1a, "responseInformation", P_STRING, CONNACK),
  spec(0x1c, "serverReference", P_STRING, CONNACK, DISCONNECT),
  spec(0x1f, "reasonString", P_STRING, CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH),
  spec(0x21, "receiveMaximum", P_U16, CONNECT, CONNACK),
  spec(0x22, "topicAliasMaximum", P_U16, CONNECT, CONNACK),
  spec(0x23, "topicAlias", P_U16, PUBLISH),
  spec(0x24, "maximumQoS", P_FLAG, CONNACK),
  spec(0x25, "retainAvailable", P_FLAG, CONNACK),
  spec(
    0x26,
    "userProperties",
    P_PAIR,
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
    DISCONNECT,
    AUTH,
    WILL_PROPERTIES,
  ),
  spec(0x27, "maximumPacketSize", P_U32, CONNECT, CONNACK),
  spec(0x28, "wildcardSubscriptionAvailable", P_FLAG, CONNACK),
  spec(0x29, "subscriptionIdentifiersAvailable", P_FLAG, CONNACK),
  spec(0x2a, "sharedSubscriptionAvailable", P_FLAG, CONNACK),
]);

/** The table row for property identifier `id`, or undefined for an unknown one. */
export function propertyById(id: number): PropertySpec | undefined {
  for (let i = 0; i < PROPERTIES.length; i++) if (PROPERTIES[i]!.id === id) return PROPERTIES[i];
  return undefined;
}

/** Largest variable byte integer (§1.5.5). */
export const MAX_VBI = 268435455;

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
  oversized?: false;
}
/**
 * A PUBLISH larger than the decoder's limit: its payload (and, with 5.0, its properties) was skipped as it streamed in,
 * never buffered. It keeps what acknowledging it (§4.3) and naming it take.
 */
export interface OversizedPublishPacket {
  type: typeof PUBLISH;
  oversized: true;
  /** The whole packet in bytes, fixed header included. */
  size: number;
  /** Undefined when the topic alone is longer than the decoder's limit (it is skipped too); `topicSize` is its length. */
  topic: string | undefined;
  topicSize: number;
  qos: 0 | 1 | 2;
  retain: boolean;
  dup: boolean;
  /** Packet identifier; 0 for QoS 0, which carries none. */
  id: number;
}
/** PUBACK, PUBREC, PUBREL or PUBCOMP; `reasonCode` only with MQTT 5.0 (0 when the packet omitted it). */
export interface AckPacket {
  type: typeof PUBACK | typeof PUBREC | typeof PUBREL | typeof PUBCOMP;
  id: number;
  reasonCode?: number;
  properties?: Properties;
}
export type PubackPacket = AckPacket;
export interface SubscribePacket {
  type: typeof SUBSCRIBE;
  id: number;
  filters: SubscribeFilter[];
  properties?: Properties;
}
export interface SubackPacket {
  type: typeof SUBACK;
  id: number;
  /** One code per requested filter: the granted QoS 0-2, or 0x80 (3.1.1) / a reason code 0x80 or more (5.0) for failure (§3.9.3). */
  granted: number[];
  properties?: Properties;
}
export interface UnsubscribePacket {
  type: typeof UNSUBSCRIBE;
  id: number;
  topics: string[];
  properties?: Properties;
}
export interface UnsubackPacket {
  type: typeof UNSUBACK;
  id: number;
  /** MQTT 5.0: one per topic filter. */ reasonCodes?: number[];
  properties?: Properties;
}
export interface PingreqPacket {
  type: typeof PINGREQ;
}
export interface PingrespPacket {
  type: typeof PINGRESP;
}
export interface DisconnectPacket {
  type: typeof DISCONNECT;
  /** MQTT 5.0 only. */ reasonCode?: number;
  properties?: Properties;
}
export interface AuthPacket {
  type: typeof AUTH;
  reasonCode: number;
  properties?: Properties;
}

/** Every control packet (and the decoder's record of an oversized PUBLISH it skipped). */
export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | OversizedPublishPacket
  | AckPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | UnsubackPacket
  | PingreqPacket
  | PingrespPacket
  | DisconnectPacket
  | AuthPacket;

/** The packets a broker sends to a client (DISCONNECT and AUTH only with MQTT 5.0). */
export type IncomingPacket =
  | ConnackPacket
  | PublishPacket
  | OversizedPublishPacket
  | AckPacket
  | SubackPacket
  | UnsubackPacket
  | PingrespPacket
  | DisconnectPacket
  | AuthPacket;

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

/** What encodePublish() sends (§3.3). */
export interface PublishFields {
  /** A topic name (§4.7); with MQTT 5.0 it may be empty when `properties.topicAlias` stands for it (§3.3.2.3.4). */
  topic: string;
  /** Binary data; a string is sent as UTF-8. */
  payload: string | Uint8Array;
  /** 0 (the default), 1 or 2. */
  qos?: 0 | 1 | 2;
  /** Packet identifier 1-65535, required for QoS 1 and 2 and ignored for QoS 0 (§2.3.1). */
  id?: number;
  retain?: boolean;
  /** A resend (§3.3.1.1): only with QoS 1 or 2. */
  dup?: boolean;
  /** 4 (3.1.1, the default) or 5. */
  version?: ProtocolVersion;
  /** MQTT 5.0 PUBLISH properties (§3.3.2.3). */
  properties?: Properties;
}
