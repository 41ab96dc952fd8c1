// MQTT 3.1.1 and 5.0 packet encoders: bytes for every packet type, each field checked; no IO.
import { utf8Size, utf8Write } from "telltale/text/utf8";
import {
  CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP,
  DISCONNECT, AUTH, MAX_REMAINING_LENGTH, MAX_RETURN_CODE, MAX_VBI, PROPERTIES, WILL_PROPERTIES,
  P_BYTE, P_FLAG, P_U16, P_U32, P_VBI, P_STRING, P_BINARY, P_PAIR,
  packetName, validReasons,
  type ConnectFields, type Packet, type Properties, type PropertySpec, type ProtocolVersion, type PublishFields,
  type SubscribeFilter,
} from "telltale/mqtt/packets";
import { stringProblem, topicNameProblem, topicFilterProblem } from "telltale/mqtt/topic";

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
        checkInteger(code, 0, MAX_RETURN_CODE, "CONNACK return code");
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
      return encodePublish({ topic: packet.topic, payload: packet.payload, qos: packet.qos, id: packet.id, retain: packet.retain,
        dup: packet.dup, version, properties: packet.properties });
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
