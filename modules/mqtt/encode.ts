// MQTT 3.1.1 and 5.0 packet encoders: each checks its fields, computes the packet's exact size, allocates it once and writes it.
import { utf8Size, utf8Write } from "telltale/text/utf8";
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
  MAX_REMAINING_LENGTH,
  MAX_RETURN_CODE,
  MAX_VBI,
  PROPERTIES,
  WILL_PROPERTIES,
  P_BYTE,
  P_FLAG,
  P_U16,
  P_U32,
  P_VBI,
  P_STRING,
  P_BINARY,
  P_PAIR,
  packetName,
  validReasons,
  type ConnectFields,
  type Packet,
  type Properties,
  type PropertySpec,
  type ProtocolVersion,
  type PublishFields,
  type SubscribeFilter,
} from "telltale/mqtt/packets";
import { stringProblem, topicNameProblem, topicFilterProblem } from "telltale/mqtt/topic";

// Every encoder runs in two passes: the first checks every field in the order the packet holds them (so the
// first error is the first bad field) and adds up the size; the second writes into the one buffer, unchecked.

// The checked* helpers return the string's UTF-8 size, scanning it once for both the check and the size.

function mqttStringSize(text: string): number {
  return typeof text === "string" ? utf8Size(text, true) : 0;
}

function checkedString(text: string, what: string): number {
  const size = mqttStringSize(text);
  const problem = typeof text === "string" ? stringProblem(text, size) : "is not a string";
  if (problem) throw new Error("MQTT: " + what + " " + problem);
  return size;
}

function checkedTopic(topic: string): number {
  const size = mqttStringSize(topic);
  const problem = topicNameProblem(topic, size);
  if (problem) throw new Error("MQTT: topic " + JSON.stringify(topic) + " " + problem);
  return size;
}

function checkedFilter(topic: string): number {
  const size = mqttStringSize(topic);
  const problem = topicFilterProblem(topic, size);
  if (problem) throw new Error("MQTT: topic filter " + JSON.stringify(topic) + " " + problem);
  return size;
}

// Size of binary data (a payload or password); a string is sent as its UTF-8 bytes.
function binarySize(data: string | Uint8Array, what: string): number {
  if (data instanceof Uint8Array) return data.length;
  if (typeof data !== "string") throw new Error("MQTT: " + what + " must be a string or a Uint8Array");
  const size = utf8Size(data, false);
  if (size < 0) throw new Error("MQTT: " + what + " has a lone surrogate, which UTF-8 cannot encode");
  return size;
}

// Size of length-prefixed binary data (§1.5.6), whose prefix limits it to 65535 bytes.
function prefixedBinarySize(data: string | Uint8Array, what: string): number {
  const size = binarySize(data, what);
  if (size > 65535) throw new Error("MQTT: " + what + " is longer than 65535 bytes (§1.5.6)");
  return size;
}

function checkedId(id: number): void {
  if (typeof id !== "number" || id !== (id | 0) || id < 1 || id > 65535)
    throw new Error("MQTT: packet id must be an integer 1-65535 (§2.3.1), got " + String(id));
}

function checkInteger(value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== "number" || value !== Math.floor(value) || value < min || value > max)
    throw new Error("MQTT: " + what + " must be an integer " + min + "-" + max + ", got " + String(value));
  return value;
}

function checkVersion(version: unknown): ProtocolVersion {
  if (version !== 4 && version !== 5)
    throw new Error("MQTT: protocol version must be 4 (3.1.1) or 5 (5.0), got " + String(version));
  return version;
}

function noProperties(properties: Properties | undefined, version: ProtocolVersion, where: string): void {
  if (version === 4 && properties !== undefined) throw new Error("MQTT: " + where + " properties need MQTT 5.0");
}

function checkReason(type: number, code: number | undefined, version: ProtocolVersion): number {
  if (code === undefined) return 0;
  if (version === 4) throw new Error("MQTT: " + packetName(type) + " reason codes need MQTT 5.0");
  if (validReasons(type).indexOf(code) < 0)
    throw new Error("MQTT: reason code " + String(code) + " is not valid in " + packetName(type));
  return code;
}

function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4;
}

// The packet (the one allocation per outgoing packet) with its fixed header written (§2.2); the body starts at
// out.length - remaining.
function allocate(first: number, remaining: number): Uint8Array {
  if (remaining > MAX_REMAINING_LENGTH)
    throw new Error(
      "MQTT: " +
        packetName(first >> 4) +
        " of " +
        remaining +
        " bytes exceeds the largest remaining length " +
        MAX_REMAINING_LENGTH,
    );
  const out = new Uint8Array(1 + varintSize(remaining) + remaining);
  out[0] = first;
  writeVbi(out, 1, remaining);
  return out;
}

function writeVbi(out: Uint8Array, at: number, v: number): number {
  do {
    const digit = v & 0x7f;
    v >>= 7;
    out[at++] = v > 0 ? digit | 0x80 : digit;
  } while (v > 0);
  return at;
}

function writeU16(out: Uint8Array, at: number, v: number): number {
  out[at] = v >> 8;
  out[at + 1] = v & 0xff;
  return at + 2;
}

function writeU32(out: Uint8Array, at: number, v: number): number {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
  return at + 4;
}

// A length-prefixed UTF-8 string (§1.5.4), already checked and sized; the prefix is written after the text, so the
// string is not scanned a third time for its length.
function writeString(out: Uint8Array, at: number, text: string): number {
  const end = utf8Write(text, out, at + 2);
  writeU16(out, at, end - at - 2);
  return end;
}

// Binary data of `size` bytes, with the two-byte length prefix (§1.5.6) when `prefixed`.
function writeBinary(out: Uint8Array, at: number, data: string | Uint8Array, size: number, prefixed: boolean): number {
  if (prefixed) at = writeU16(out, at, size);
  if (typeof data === "string") return utf8Write(data, out, at);
  out.set(data, at);
  return at + size;
}

// ---------------------------------------------------------------- MQTT 5.0 properties (§2.2.2)

function propertyByName(name: string): PropertySpec | undefined {
  for (let i = 0; i < PROPERTIES.length; i++) if (PROPERTIES[i]!.name === name) return PROPERTIES[i];
  return undefined;
}

/**
 * Checks `properties` for a packet of `type` (or WILL_PROPERTIES) and returns the size of their encoding without
 * its length prefix; throws on an unknown property, one the packet may not carry, or a bad value.
 */
function propertiesSize(properties: Properties | undefined | null, type: number): number {
  if (properties === undefined || properties === null) return 0;
  if (typeof properties !== "object") throw new Error("MQTT: properties must be an object");
  const where = type === WILL_PROPERTIES ? "the Will" : packetName(type);
  for (const name of Object.keys(properties) as (keyof Properties)[]) {
    if (properties[name] === undefined) continue;
    const found = propertyByName(name);
    if (!found) throw new Error("MQTT: unknown property " + JSON.stringify(name));
    if (!(found.packets & (1 << type)))
      throw new Error("MQTT: property " + name + " is not allowed in " + where + " (§2.2.2.2)");
  }
  let size = 0;
  for (let i = 0; i < PROPERTIES.length; i++) {
    const { name, kind } = PROPERTIES[i]!;
    const value = properties[name];
    if (value === undefined) continue;
    switch (kind) {
      case P_FLAG:
        checkInteger(value, 0, 1, "property " + name);
        size += 2;
        break;
      case P_BYTE:
        checkInteger(value, 0, 255, "property " + name);
        size += 2;
        break;
      case P_U16:
        checkInteger(value, name === "receiveMaximum" || name === "topicAlias" ? 1 : 0, 65535, "property " + name);
        size += 3;
        break;
      case P_U32:
        checkInteger(value, name === "maximumPacketSize" ? 1 : 0, 0xffffffff, "property " + name);
        size += 5;
        break;
      case P_STRING:
        size += 3 + checkedString(value as string, "property " + name);
        break;
      case P_BINARY:
        if (!(value instanceof Uint8Array)) throw new Error("MQTT: property " + name + " must be a Uint8Array");
        size += 3 + prefixedBinarySize(value, "property " + name);
        break;
      case P_VBI: {
        const ids = value as number[];
        if (!Array.isArray(ids) || ids.length === 0 || (type !== PUBLISH && ids.length > 1))
          throw new Error(
            "MQTT: property " + name + " must be an array of " + (type === PUBLISH ? "identifiers" : "one identifier"),
          );
        for (const v of ids) size += 1 + varintSize(checkInteger(v, 1, MAX_VBI, "subscription identifier"));
        break;
      }
      case P_PAIR: {
        const pairs = value as [string, string][];
        if (!Array.isArray(pairs))
          throw new Error("MQTT: property userProperties must be an array of [name, value] pairs");
        for (const pair of pairs) {
          if (!Array.isArray(pair) || pair.length !== 2)
            throw new Error("MQTT: a user property must be a [name, value] pair");
          size += 5 + checkedString(pair[0], "user property name") + checkedString(pair[1], "user property value");
        }
        break;
      }
    }
  }
  return size;
}

/** Bytes the property block takes: its length (a variable byte integer) and the properties. */
function propertyBlockSize(size: number): number {
  return varintSize(size) + size;
}

// Writes the property length `size` (from propertiesSize) and the properties, in identifier order.
function writeProperties(out: Uint8Array, at: number, properties: Properties | undefined | null, size: number): number {
  at = writeVbi(out, at, size);
  if (properties === undefined || properties === null) return at;
  for (let i = 0; i < PROPERTIES.length; i++) {
    const { id, name, kind } = PROPERTIES[i]!;
    const value = properties[name];
    if (value === undefined) continue;
    switch (kind) {
      case P_FLAG:
      case P_BYTE:
        out[at++] = id;
        out[at++] = value as number;
        break;
      case P_U16:
        out[at++] = id;
        at = writeU16(out, at, value as number);
        break;
      case P_U32:
        out[at++] = id;
        at = writeU32(out, at, value as number);
        break;
      case P_STRING:
        out[at++] = id;
        at = writeString(out, at, value as string);
        break;
      case P_BINARY:
        out[at++] = id;
        at = writeBinary(out, at, value as Uint8Array, (value as Uint8Array).length, true);
        break;
      case P_VBI:
        for (const v of value as number[]) {
          out[at++] = id;
          at = writeVbi(out, at, v);
        }
        break;
      case P_PAIR:
        for (const [key, text] of value as [string, string][]) {
          out[at++] = id;
          at = writeString(out, at, key);
          at = writeString(out, at, text);
        }
        break;
    }
  }
  return at;
}

// ---------------------------------------------------------------- packets

/** CONNECT (§3.1): protocol "MQTT" level 4 or 5, then client id, Will, user name, password in that order. */
export function encodeConnect(fields: ConnectFields): Uint8Array {
  const { clientId, clean, keepalive, username, password, will } = fields;
  const version = checkVersion(fields.protocolVersion ?? 4);
  const clientIdSize = checkedString(clientId, "client id");
  if (typeof keepalive !== "number" || keepalive !== (keepalive | 0) || keepalive < 0 || keepalive > 65535)
    throw new Error("MQTT: keepalive must be an integer 0-65535 seconds (§3.1.2.10), got " + String(keepalive));
  // 5.0 lets a password go without a user name (§3.1.2.9); 3.1.1 does not.
  if (password !== undefined && username === undefined && version === 4)
    throw new Error("MQTT: a password requires a user name (§3.1.2.9)");
  noProperties(fields.properties, version, "CONNECT");
  let flags = clean ? 0x02 : 0;
  if (will) {
    if (will.qos !== 0 && will.qos !== 1 && will.qos !== 2)
      throw new Error("MQTT: Will QoS must be 0, 1 or 2, got " + String(will.qos));
    noProperties(will.properties, version, "Will");
    flags |= 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0);
  }
  if (username !== undefined) flags |= 0x80;
  if (password !== undefined) flags |= 0x40;
  // Protocol name (2 + 4), level, flags, keepalive (§3.1.2).
  let remaining = 10;
  const propertySize = version === 5 ? propertiesSize(fields.properties, CONNECT) : 0;
  if (version === 5) remaining += propertyBlockSize(propertySize);
  remaining += 2 + clientIdSize;
  let willPropertySize = 0,
    willPayloadSize = 0;
  if (will) {
    if (version === 5) {
      willPropertySize = propertiesSize(will.properties, WILL_PROPERTIES);
      remaining += propertyBlockSize(willPropertySize);
    }
    const willTopicSize = checkedTopic(will.topic);
    willPayloadSize = binarySize(will.payload, "Will payload");
    if (willPayloadSize > 65535) throw new Error("MQTT: Will payload is longer than 65535 bytes (§3.1.3.3)");
    remaining += 4 + willTopicSize + willPayloadSize;
  }
  const usernameSize = username !== undefined ? checkedString(username, "user name") : 0;
  if (username !== undefined) remaining += 2 + usernameSize;
  const passwordSize = password !== undefined ? binarySize(password, "password") : 0;
  if (password !== undefined) {
    if (passwordSize > 65535) throw new Error("MQTT: password is longer than 65535 bytes (§3.1.3.5)");
    remaining += 2 + passwordSize;
  }
  const out = allocate(0x10, remaining);
  let at = writeU16(out, out.length - remaining, 4);
  out[at++] = 0x4d;
  out[at++] = 0x51;
  out[at++] = 0x54;
  out[at++] = 0x54; // "MQTT" (§3.1.2.1)
  out[at++] = version;
  out[at++] = flags;
  at = writeU16(out, at, keepalive);
  if (version === 5) at = writeProperties(out, at, fields.properties, propertySize);
  at = writeString(out, at, clientId);
  if (will) {
    if (version === 5) at = writeProperties(out, at, will.properties, willPropertySize);
    at = writeString(out, at, will.topic);
    at = writeBinary(out, at, will.payload, willPayloadSize, true);
  }
  if (username !== undefined) at = writeString(out, at, username);
  if (password !== undefined) writeBinary(out, at, password, passwordSize, true);
  return out;
}

/**
 * PUBLISH (§3.3): `encodePublish({topic, payload, qos, id, retain, dup, version, properties})`; only `topic` and
 * `payload` are required (QoS 0, no retain, MQTT 3.1.1 otherwise). `id` is required for QoS 1 and 2 and ignored for
 * QoS 0; DUP is only legal with QoS 1 or 2 (§3.3.1.1). With MQTT 5.0 the topic may be empty when a topic alias
 * stands for it (§3.3.2.3.4).
 */
export function encodePublish(fields: PublishFields): Uint8Array {
  const { topic, payload, qos = 0, id = 0, retain = false, dup = false, version = 4, properties } = fields;
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new Error("MQTT: PUBLISH QoS must be 0, 1 or 2, got " + String(qos));
  if (qos > 0) checkedId(id);
  else if (dup) throw new Error("MQTT: DUP must be 0 for QoS 0 (§3.3.1.1)");
  const v5 = version === 5;
  if (!v5) {
    checkVersion(version);
    noProperties(properties, version, "PUBLISH");
  }
  const topicSize = v5 && topic === "" && properties?.topicAlias !== undefined ? 0 : checkedTopic(topic);
  const propertySize = v5 ? propertiesSize(properties, PUBLISH) : 0;
  const payloadSize = binarySize(payload, "payload");
  const remaining = 2 + topicSize + (qos > 0 ? 2 : 0) + (v5 ? propertyBlockSize(propertySize) : 0) + payloadSize;
  const out = allocate(0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 0x01 : 0), remaining);
  let at = writeString(out, out.length - remaining, topic);
  if (qos > 0) at = writeU16(out, at, id);
  if (v5) at = writeProperties(out, at, properties, propertySize);
  writeBinary(out, at, payload, payloadSize, false);
  return out;
}

/** Sets the DUP flag on an encoded QoS 1 or 2 PUBLISH, for a resend (§3.3.1.1, §4.4). */
export function markDuplicate(packet: Uint8Array): void {
  if ((packet[0]! & 0xf0) === 0x30 && (packet[0]! & 0x06) !== 0) packet[0]! |= 0x08;
}

// The packets whose body is `lead` bytes holding `leadValue` (a packet id: 2; a 5.0 CONNACK's flags: 1; none: 0),
// a reason code, then, when `withProperties`, the property block: acknowledgements, DISCONNECT, AUTH, 5.0 CONNACK.
function encodeCoded(
  first: number,
  type: number,
  lead: number,
  leadValue: number,
  code: number,
  properties: Properties | undefined,
  withProperties: boolean,
): Uint8Array {
  const propertySize = withProperties ? propertiesSize(properties, type) : 0;
  const remaining = lead + 1 + (withProperties ? propertyBlockSize(propertySize) : 0);
  const out = allocate(first, remaining);
  let at = out.length - remaining;
  if (lead === 2) at = writeU16(out, at, leadValue);
  else if (lead === 1) out[at++] = leadValue;
  out[at++] = code;
  if (withProperties) writeProperties(out, at, properties, propertySize);
  return out;
}

/**
 * PUBACK, PUBREC, PUBREL or PUBCOMP (§3.4-3.7). With MQTT 5.0 a reason code 0 without properties takes the
 * short 2-byte form the spec allows (§3.4.2.1).
 */
export function encodeAck(
  type: number,
  id: number,
  version: ProtocolVersion = 4,
  reasonCode?: number,
  properties?: Properties,
): Uint8Array {
  if (type !== PUBACK && type !== PUBREC && type !== PUBREL && type !== PUBCOMP)
    throw new Error("MQTT: " + packetName(type) + " is not an acknowledgement");
  checkedId(id);
  const first = (type << 4) | (type === PUBREL ? 0x02 : 0);
  const code = checkReason(type, reasonCode, checkVersion(version));
  noProperties(properties, version, packetName(type));
  if (code === 0 && properties === undefined) return Uint8Array.of(first, 2, id >> 8, id & 0xff);
  return encodeCoded(first, type, 2, id, code, properties, properties !== undefined);
}

/** PUBACK (§3.4). */
export function encodePuback(id: number): Uint8Array {
  checkedId(id);
  return Uint8Array.of(0x40, 2, id >> 8, id & 0xff);
}

// The subscription options byte (§3.8.3.1) of `filter`, checked.
function subscriptionOptions(filter: SubscribeFilter, version: ProtocolVersion): number {
  const { topic, qos, noLocal, retainAsPublished, retainHandling } = filter;
  if (qos !== 0 && qos !== 1 && qos !== 2)
    throw new Error("MQTT: subscription QoS must be 0, 1 or 2, got " + String(qos) + " for " + JSON.stringify(topic));
  let options: number = qos;
  if (noLocal || retainAsPublished || retainHandling) {
    if (version === 4) throw new Error("MQTT: subscription options need MQTT 5.0");
    if (retainHandling !== undefined && retainHandling !== 0 && retainHandling !== 1 && retainHandling !== 2)
      throw new Error("MQTT: retainHandling must be 0, 1 or 2 (§3.8.3.1)");
    options |= (noLocal ? 0x04 : 0) | (retainAsPublished ? 0x08 : 0) | ((retainHandling ?? 0) << 4);
  }
  return options;
}

/** SUBSCRIBE (§3.8): fixed-header flags 0b0010, packet id, (5.0: properties), then each filter with its options. */
export function encodeSubscribe(
  id: number,
  filters: readonly SubscribeFilter[],
  version: ProtocolVersion = 4,
  properties?: Properties,
): Uint8Array {
  checkedId(id);
  checkVersion(version);
  noProperties(properties, version, "SUBSCRIBE");
  const list: unknown = filters; // Array.isArray(filters) would narrow the readonly array to any[]
  if (!Array.isArray(list) || filters.length === 0)
    throw new Error("MQTT: SUBSCRIBE needs at least one topic filter (§3.8.3)");
  const propertySize = version === 5 ? propertiesSize(properties, SUBSCRIBE) : 0;
  let remaining = 2 + (version === 5 ? propertyBlockSize(propertySize) : 0);
  for (let i = 0; i < filters.length; i++) {
    remaining += 3 + checkedFilter(filters[i]!.topic);
    subscriptionOptions(filters[i]!, version);
  }
  const out = allocate(0x82, remaining);
  let at = writeU16(out, out.length - remaining, id);
  if (version === 5) at = writeProperties(out, at, properties, propertySize);
  for (let i = 0; i < filters.length; i++) {
    at = writeString(out, at, filters[i]!.topic);
    out[at++] = subscriptionOptions(filters[i]!, version);
  }
  return out;
}

/** UNSUBSCRIBE (§3.10): flags 0b0010, packet id, (5.0: properties), topic filters. */
export function encodeUnsubscribe(
  id: number,
  topics: readonly string[],
  version: ProtocolVersion = 4,
  properties?: Properties,
): Uint8Array {
  checkedId(id);
  checkVersion(version);
  noProperties(properties, version, "UNSUBSCRIBE");
  const list: unknown = topics; // Array.isArray(topics) would narrow the readonly array to any[]
  if (!Array.isArray(list) || topics.length === 0)
    throw new Error("MQTT: UNSUBSCRIBE needs at least one topic filter (§3.10.3)");
  const propertySize = version === 5 ? propertiesSize(properties, UNSUBSCRIBE) : 0;
  let remaining = 2 + (version === 5 ? propertyBlockSize(propertySize) : 0);
  for (let i = 0; i < topics.length; i++) remaining += 2 + checkedFilter(topics[i]!);
  const out = allocate(0xa2, remaining);
  let at = writeU16(out, out.length - remaining, id);
  if (version === 5) at = writeProperties(out, at, properties, propertySize);
  for (let i = 0; i < topics.length; i++) at = writeString(out, at, topics[i]!);
  return out;
}

/** PINGREQ (§3.12). */
export function encodePingreq(): Uint8Array {
  return Uint8Array.of(0xc0, 0);
}

/** DISCONNECT (§3.14); with MQTT 5.0 a reason code and properties, omitted when 0 and none (§3.14.2.1). */
export function encodeDisconnect(
  version: ProtocolVersion = 4,
  reasonCode?: number,
  properties?: Properties,
): Uint8Array {
  const code = checkReason(DISCONNECT, reasonCode, checkVersion(version));
  noProperties(properties, version, "DISCONNECT");
  if (code === 0 && properties === undefined) return Uint8Array.of(0xe0, 0);
  return encodeCoded(0xe0, DISCONNECT, 0, 0, code, properties, properties !== undefined);
}

/**
 * Any packet, from either side of the connection (brokers' packets too, for tests and tools).
 * `version` applies to all but CONNECT, which names its own.
 */
export function encodePacket(packet: Packet, version: ProtocolVersion = 4): Uint8Array {
  checkVersion(version);
  switch (packet.type) {
    case CONNECT:
      return encodeConnect({ ...packet, protocolVersion: packet.protocolVersion ?? version });
    case CONNACK: {
      const code = packet.returnCode;
      if (version === 4) {
        noProperties(packet.properties, version, "CONNACK");
        checkInteger(code, 0, MAX_RETURN_CODE, "CONNACK return code");
        return Uint8Array.of(0x20, 2, packet.sessionPresent ? 1 : 0, code);
      }
      checkReason(CONNACK, code, version);
      return encodeCoded(0x20, CONNACK, 1, packet.sessionPresent ? 1 : 0, code, packet.properties, true);
    }
    case PUBLISH:
      if (packet.oversized) throw new Error("MQTT: an oversized PUBLISH the decoder skipped has no payload to encode");
      return encodePublish({
        topic: packet.topic,
        payload: packet.payload,
        qos: packet.qos,
        id: packet.id,
        retain: packet.retain,
        dup: packet.dup,
        version,
        properties: packet.properties,
      });
    case PUBACK:
    case PUBREC:
    case PUBREL:
    case PUBCOMP:
      return encodeAck(
        packet.type,
        packet.id,
        version,
        version === 5 ? packet.reasonCode : undefined,
        packet.properties,
      );
    case SUBSCRIBE:
      return encodeSubscribe(packet.id, packet.filters, version, packet.properties);
    case SUBACK: {
      checkedId(packet.id);
      noProperties(packet.properties, version, "SUBACK");
      const granted = packet.granted;
      if (!Array.isArray(granted) || granted.length === 0)
        throw new Error("MQTT: SUBACK needs at least one return code");
      const propertySize = version === 5 ? propertiesSize(packet.properties, SUBACK) : 0;
      for (const code of granted) {
        if (version === 4 ? code > 2 && code !== 0x80 : validReasons(SUBACK).indexOf(code) < 0)
          throw new Error("MQTT: SUBACK code " + String(code) + " is not valid");
      }
      const remaining = 2 + (version === 5 ? propertyBlockSize(propertySize) : 0) + granted.length;
      const out = allocate(0x90, remaining);
      let at = writeU16(out, out.length - remaining, packet.id);
      if (version === 5) at = writeProperties(out, at, packet.properties, propertySize);
      for (const code of granted) out[at++] = code;
      return out;
    }
    case UNSUBSCRIBE:
      return encodeUnsubscribe(packet.id, packet.topics, version, packet.properties);
    case UNSUBACK: {
      checkedId(packet.id);
      noProperties(packet.properties, version, "UNSUBACK");
      const codes = packet.reasonCodes;
      if (version === 4) {
        if (codes !== undefined) throw new Error("MQTT: UNSUBACK reason codes need MQTT 5.0");
        return Uint8Array.of(0xb0, 2, packet.id >> 8, packet.id & 0xff);
      }
      const propertySize = propertiesSize(packet.properties, UNSUBACK);
      if (!Array.isArray(codes) || codes.length === 0)
        throw new Error("MQTT: a 5.0 UNSUBACK needs one reason code per topic filter");
      for (const code of codes) checkReason(UNSUBACK, code, version);
      const remaining = 2 + propertyBlockSize(propertySize) + codes.length;
      const out = allocate(0xb0, remaining);
      let at = writeU16(out, out.length - remaining, packet.id);
      at = writeProperties(out, at, packet.properties, propertySize);
      for (const code of codes) out[at++] = code;
      return out;
    }
    case PINGREQ:
      return encodePingreq();
    case PINGRESP:
      return Uint8Array.of(0xd0, 0);
    case DISCONNECT:
      return encodeDisconnect(version, version === 5 ? packet.reasonCode : undefined, packet.properties);
    case AUTH: {
      if (version !== 5) throw new Error("MQTT: AUTH needs MQTT 5.0");
      const code = checkReason(AUTH, packet.reasonCode, version);
      if (code === 0 && packet.properties === undefined) return Uint8Array.of(0xf0, 0);
      return encodeCoded(0xf0, AUTH, 0, 0, code, packet.properties, true);
    }
    default:
      throw new Error("MQTT: unknown packet type " + String((packet as { type: unknown }).type));
  }
}
