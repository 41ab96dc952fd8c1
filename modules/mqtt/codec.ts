// MQTT 3.1.1 packet codec for a QoS 0/1 client: packets to bytes, and a streaming decoder for bytes to packets; no IO, no timers.

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

/** Largest Remaining Length a 4-byte varint can carry (§2.2.3). */
export const MAX_REMAINING_LENGTH = 268435455;
/** Largest whole packet: one type byte, four length bytes, the largest remaining length. */
export const MAX_PACKET_SIZE = MAX_REMAINING_LENGTH + 5;
/** Default limit for incoming packets: large enough for common brokers, small enough for a device heap. */
export const DEFAULT_MAX_PACKET_SIZE = 65536;

// Frozen so that on a device these tables stay in flash rather than being copied to RAM.
const NAMES: readonly string[] = Object.freeze([
  "reserved type 0", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
  "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "reserved type 15",
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

/** The spec's name for a CONNACK return code (§3.2.2.3). */
export function connackReason(code: number): string {
  return code >= 0 && code < REFUSALS.length ? REFUSALS[code] : "reserved return code";
}

export interface ConnackPacket { type: typeof CONNACK; sessionPresent: boolean; returnCode: number; }
export interface PublishPacket {
  type: typeof PUBLISH;
  topic: string;
  /** A copy: the decoder reuses its buffers, so the payload is the receiver's to keep. */
  payload: Uint8Array;
  qos: 0 | 1;
  retain: boolean;
  dup: boolean;
  /** Packet identifier; 0 for QoS 0, which carries none. */
  id: number;
}
export interface PubackPacket { type: typeof PUBACK; id: number; }
export interface SubackPacket {
  type: typeof SUBACK;
  id: number;
  /** One return code per requested filter: the granted QoS 0-2, or 0x80 for failure (§3.9.3). */
  granted: number[];
}
export interface UnsubackPacket { type: typeof UNSUBACK; id: number; }
export interface PingrespPacket { type: typeof PINGRESP; }

/** The packets a broker sends to a QoS 0/1 client. */
export type IncomingPacket = ConnackPacket | PublishPacket | PubackPacket | SubackPacket | UnsubackPacket | PingrespPacket;

export interface Will {
  topic: string;
  payload: string | Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
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
}

export interface SubscribeFilter { topic: string; qos: 0 | 1; }

// ---------------------------------------------------------------- UTF-8 (§1.5.3)
// TextEncoder/TextDecoder do not exist on Moddable devices, so strings are converted by hand.

const LONE_SURROGATE = -1;
const NULL_CHARACTER = -2;

// Bytes `text` takes as UTF-8, or LONE_SURROGATE, or NULL_CHARACTER when `strict` (MQTT strings
// may not contain U+0000, §1.5.3; binary payloads may).
function utf8Size(text: string, strict: boolean): number {
  let size = 0;
  for (let i = 0, length = text.length; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0 && strict) return NULL_CHARACTER;
      size += 1;
    } else if (c < 0x800) size += 2;
    else if (c >= 0xD800 && c <= 0xDFFF) {
      const d = c <= 0xDBFF && i + 1 < length ? text.charCodeAt(i + 1) : 0;
      if (d < 0xDC00 || d > 0xDFFF) return LONE_SURROGATE;
      i++;
      size += 4;
    } else size += 3;
  }
  return size;
}

// Writes `text` (already checked by utf8Size) at `at`; returns the offset after it.
function writeUtf8(text: string, out: Uint8Array, at: number): number {
  for (let i = 0, length = text.length; i < length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) out[at++] = c;
    else if (c < 0x800) {
      out[at++] = 0xC0 | (c >> 6);
      out[at++] = 0x80 | (c & 0x3F);
    } else if (c >= 0xD800 && c <= 0xDBFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (text.charCodeAt(++i) - 0xDC00);
      out[at++] = 0xF0 | (c >> 18);
      out[at++] = 0x80 | ((c >> 12) & 0x3F);
      out[at++] = 0x80 | ((c >> 6) & 0x3F);
      out[at++] = 0x80 | (c & 0x3F);
    } else {
      out[at++] = 0xE0 | (c >> 12);
      out[at++] = 0x80 | ((c >> 6) & 0x3F);
      out[at++] = 0x80 | (c & 0x3F);
    }
  }
  return at;
}

// Decodes bytes[start, end) as well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF), or returns undefined so the caller can name what was malformed.
function readUtf8(bytes: Uint8Array, start: number, end: number): string | undefined {
  let text = "";
  let at = start;
  while (at < end) {
    const a = bytes[at++];
    if (a < 0x80) { text += String.fromCharCode(a); continue; }
    let code: number, more: number, min: number;
    if (a >= 0xC2 && a <= 0xDF) { code = a & 0x1F; more = 1; min = 0x80; }
    else if (a >= 0xE0 && a <= 0xEF) { code = a & 0x0F; more = 2; min = 0x800; }
    else if (a >= 0xF0 && a <= 0xF4) { code = a & 0x07; more = 3; min = 0x10000; }
    else return undefined;
    if (at + more > end) return undefined;
    for (let i = 0; i < more; i++) {
      const b = bytes[at++];
      if ((b & 0xC0) !== 0x80) return undefined;
      code = (code << 6) | (b & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return undefined;
    if (code < 0x10000) text += String.fromCharCode(code);
    else text += String.fromCharCode(0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF));
  }
  return text;
}

/** `text` as UTF-8 bytes; throws on a lone surrogate, which has no UTF-8 form. */
export function utf8Encode(text: string): Uint8Array {
  const size = utf8Size(text, false);
  if (size < 0) throw new Error("MQTT: string has a lone surrogate, which UTF-8 cannot encode");
  const out = new Uint8Array(size);
  writeUtf8(text, out, 0);
  return out;
}

/** Decodes well-formed UTF-8 (a message payload, say); throws when the bytes are not UTF-8. */
export function utf8Decode(bytes: Uint8Array): string {
  const text = readUtf8(bytes, 0, bytes.length);
  if (text === undefined) throw new Error("MQTT: bytes are not valid UTF-8");
  return text;
}

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
  return writeUtf8(text, out, at + 2);
}

function writeBinary(out: Uint8Array, at: number, data: string | Uint8Array, size: number, prefixed: boolean): number {
  if (prefixed) {
    out[at++] = size >> 8;
    out[at++] = size & 0xFF;
  }
  if (typeof data === "string") return writeUtf8(data, out, at);
  out.set(data, at);
  return at + size;
}

/** CONNECT (§3.1): protocol "MQTT" level 4, then client id, Will, user name, password in that order. */
export function encodeConnect(fields: ConnectFields): Uint8Array {
  const { clientId, clean, keepalive, username, password, will } = fields;
  const idSize = checkedString(clientId, "client id");
  if (typeof keepalive !== "number" || keepalive !== (keepalive | 0) || keepalive < 0 || keepalive > 65535)
    throw new Error("MQTT: keepalive must be an integer 0-65535 seconds (§3.1.2.10), got " + String(keepalive));
  if (password !== undefined && username === undefined)
    throw new Error("MQTT: a password requires a user name (§3.1.2.9)");
  let remaining = 10 + 2 + idSize;
  let flags = clean ? 0x02 : 0;
  let willTopicSize = 0, willPayloadSize = 0, userSize = 0, passwordSize = 0;
  if (will) {
    willTopicSize = checkedTopic(will.topic);
    willPayloadSize = binarySize(will.payload, "Will payload");
    if (willPayloadSize > 65535) throw new Error("MQTT: Will payload is longer than 65535 bytes (§3.1.3.3)");
    if (will.qos !== 0 && will.qos !== 1 && will.qos !== 2) throw new Error("MQTT: Will QoS must be 0, 1 or 2, got " + String(will.qos));
    remaining += 2 + willTopicSize + 2 + willPayloadSize;
    flags |= 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0);
  }
  if (username !== undefined) {
    userSize = checkedString(username, "user name");
    remaining += 2 + userSize;
    flags |= 0x80;
  }
  if (password !== undefined) {
    passwordSize = binarySize(password, "password");
    if (passwordSize > 65535) throw new Error("MQTT: password is longer than 65535 bytes (§3.1.3.5)");
    remaining += 2 + passwordSize;
    flags |= 0x40;
  }
  const out = allocate(0x10, remaining);
  let at = headerSize(remaining);
  out[at++] = 0; out[at++] = 4;
  out[at++] = 0x4D; out[at++] = 0x51; out[at++] = 0x54; out[at++] = 0x54; // "MQTT" (§3.1.2.1)
  out[at++] = 4; // protocol level 4 is 3.1.1 (§3.1.2.2)
  out[at++] = flags;
  out[at++] = keepalive >> 8;
  out[at++] = keepalive & 0xFF;
  at = writeString(out, at, clientId, idSize);
  if (will) {
    at = writeString(out, at, will.topic, willTopicSize);
    at = writeBinary(out, at, will.payload, willPayloadSize, true);
  }
  if (username !== undefined) at = writeString(out, at, username, userSize);
  if (password !== undefined) writeBinary(out, at, password, passwordSize, true);
  return out;
}

/**
 * PUBLISH (§3.3). `id` is required for QoS 1 and ignored for QoS 0; DUP is only legal with QoS 1
 * (§3.3.1.1). Positional arguments keep the hot publish path free of option objects.
 */
export function encodePublish(topic: string, payload: string | Uint8Array, qos: 0 | 1 = 0, id = 0, retain = false, dup = false): Uint8Array {
  const topicSize = checkedTopic(topic);
  if (qos !== 0 && qos !== 1) throw new Error("MQTT: PUBLISH QoS must be 0 or 1, got " + String(qos));
  if (qos === 1) checkedId(id);
  else if (dup) throw new Error("MQTT: DUP must be 0 for QoS 0 (§3.3.1.1)");
  const payloadSize = binarySize(payload, "payload");
  const remaining = 2 + topicSize + (qos === 1 ? 2 : 0) + payloadSize;
  const out = allocate(0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 0x01 : 0), remaining);
  let at = writeString(out, headerSize(remaining), topic, topicSize);
  if (qos === 1) {
    out[at++] = id >> 8;
    out[at++] = id & 0xFF;
  }
  writeBinary(out, at, payload, payloadSize, false);
  return out;
}

/** Sets the DUP flag on an encoded QoS 1 PUBLISH, for a resend (§3.3.1.1, §4.4). */
export function markDuplicate(packet: Uint8Array): void {
  if ((packet[0] & 0xF6) === 0x32) packet[0] |= 0x08;
}

/** PUBACK (§3.4). */
export function encodePuback(id: number): Uint8Array {
  checkedId(id);
  return Uint8Array.of(0x40, 2, id >> 8, id & 0xFF);
}

/** SUBSCRIBE (§3.8): fixed-header flags 0b0010, packet id, then each filter with its requested QoS. */
export function encodeSubscribe(id: number, filters: readonly SubscribeFilter[]): Uint8Array {
  checkedId(id);
  if (!Array.isArray(filters) || filters.length === 0) throw new Error("MQTT: SUBSCRIBE needs at least one topic filter (§3.8.3)");
  let remaining = 2;
  for (let i = 0; i < filters.length; i++) {
    const { topic, qos } = filters[i];
    const problem = topicFilterProblem(topic);
    if (problem) throw new Error("MQTT: topic filter " + JSON.stringify(topic) + " " + problem);
    if (qos !== 0 && qos !== 1) throw new Error("MQTT: subscription QoS must be 0 or 1, got " + String(qos) + " for " + JSON.stringify(topic));
    remaining += 2 + utf8Size(topic, true) + 1;
  }
  const out = allocate(0x82, remaining);
  let at = headerSize(remaining);
  out[at++] = id >> 8;
  out[at++] = id & 0xFF;
  for (let i = 0; i < filters.length; i++) {
    const { topic, qos } = filters[i];
    at = writeString(out, at, topic, utf8Size(topic, true));
    out[at++] = qos;
  }
  return out;
}

/** PINGREQ (§3.12). */
export function encodePingreq(): Uint8Array {
  return Uint8Array.of(0xC0, 0);
}

/** DISCONNECT (§3.14). */
export function encodeDisconnect(): Uint8Array {
  return Uint8Array.of(0xE0, 0);
}

// ---------------------------------------------------------------- decoding

export interface DecoderOptions {
  /** Largest whole incoming packet in bytes (fixed header included); default 65536. */
  maxPacketSize?: number;
}

const EMPTY: Uint8Array = new Uint8Array(0);
const PINGRESP_PACKET: PingrespPacket = Object.freeze({ type: PINGRESP });

const HEADER = 0, LENGTH = 1, BODY = 2;

/**
 * Streaming decoder: `push()` a chunk as it arrives, then call `next()` until it returns undefined.
 * A packet that lies whole inside one chunk is decoded in place; only a packet split across chunks
 * is copied into a body buffer, grown on demand up to `maxPacketSize`. Malformed input throws an
 * Error naming the problem, after which the decoder refuses work until `reset()`, because the byte
 * stream can no longer be framed.
 */
export class PacketDecoder {
  readonly #maxPacketSize: number;
  #chunk: Uint8Array = EMPTY;
  #at = 0;
  #state = HEADER;
  #first = 0;
  #length = 0;
  #lengthBytes = 0;
  #body: Uint8Array = EMPTY;
  #filled = 0;
  #failed = false;

  constructor(options?: DecoderOptions) {
    const max = options?.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
    if (typeof max !== "number" || !Number.isInteger(max) || max < 2 || max > MAX_PACKET_SIZE)
      throw new Error('PacketDecoder: option "maxPacketSize" must be an integer 2-' + MAX_PACKET_SIZE);
    this.#maxPacketSize = max;
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
    return new Error(message);
  }

  #unusable(): Error {
    return new Error("MQTT: the decoder failed earlier and needs reset()");
  }

  // Rejects a packet as soon as its first byte shows it is wrong (§2.2.1, §2.2.2).
  #checkHeader(first: number): void {
    const type = first >> 4;
    const flags = first & 0x0F;
    switch (type) {
      case PUBLISH: {
        const qos = (flags >> 1) & 3;
        if (qos === 3) throw this.#fail("MQTT: invalid QoS 3 in PUBLISH (§3.3.1.2)");
        if (qos === 2) throw this.#fail("MQTT: QoS 2 PUBLISH is not supported by this client");
        if (qos === 0 && (flags & 0x08)) throw this.#fail("MQTT: PUBLISH has DUP set with QoS 0 (§3.3.1.1)");
        return;
      }
      case CONNACK: case PUBACK: case SUBACK: case UNSUBACK: case PINGRESP:
        if (flags !== 0) throw this.#fail("MQTT: invalid flags 0x" + flags.toString(16) + " for " + NAMES[type]);
        return;
      case 0: case 15:
        throw this.#fail("MQTT: reserved packet type " + type);
      case PUBREC: case PUBREL: case PUBCOMP:
        throw this.#fail("MQTT: " + NAMES[type] + " is not supported: this client does not use QoS 2");
      default:
        throw this.#fail("MQTT: " + NAMES[type] + " is sent by clients, not by a broker");
    }
  }

  // Rejects a packet as soon as its remaining length is known, before any of its body is buffered.
  #checkLength(): void {
    const length = this.#length;
    const total = 1 + this.#lengthBytes + length;
    if (total > this.#maxPacketSize)
      throw this.#fail("MQTT: packet of " + total + " bytes exceeds the " + this.#maxPacketSize + "-byte limit");
    const type = this.#first >> 4;
    let expected = 2, exact = true;
    switch (type) {
      case PINGRESP: expected = 0; break;
      case SUBACK: expected = 3; exact = false; break;
      case PUBLISH: expected = (this.#first & 0x06) ? 5 : 3; exact = false; break; // topic length, a 1-byte topic, packet id
    }
    if (exact ? length !== expected : length < expected)
      throw this.#fail("MQTT: " + NAMES[type] + " has length " + length + ", expected " + (exact ? "" : "at least ") + expected);
  }

  #decode(bytes: Uint8Array, at: number): IncomingPacket {
    const first = this.#first;
    const length = this.#length;
    const type = first >> 4;
    switch (type) {
      case PUBLISH: return this.#decodePublish(first, bytes, at, at + length);
      case CONNACK: {
        const acknowledge = bytes[at];
        const code = bytes[at + 1];
        if (acknowledge & 0xFE) throw this.#fail("MQTT: CONNACK has reserved flags 0x" + acknowledge.toString(16) + " (§3.2.2.1)");
        if (code >= REFUSALS.length) throw this.#fail("MQTT: CONNACK return code " + code + " is reserved (§3.2.2.3)");
        return { type: CONNACK, sessionPresent: (acknowledge & 1) === 1, returnCode: code };
      }
      case PUBACK: return { type: PUBACK, id: this.#readId(bytes, at) };
      case UNSUBACK: return { type: UNSUBACK, id: this.#readId(bytes, at) };
      case SUBACK: {
        const id = this.#readId(bytes, at);
        const granted: number[] = new Array(length - 2);
        for (let i = 0; i < length - 2; i++) {
          const code = bytes[at + 2 + i];
          if (code > 2 && code !== 0x80) throw this.#fail("MQTT: SUBACK return code 0x" + code.toString(16) + " is invalid (§3.9.3)");
          granted[i] = code;
        }
        return { type: SUBACK, id, granted };
      }
      default: return PINGRESP_PACKET;
    }
  }

  #readId(bytes: Uint8Array, at: number): number {
    const id = (bytes[at] << 8) | bytes[at + 1];
    if (id === 0) throw this.#fail("MQTT: " + NAMES[this.#first >> 4] + " has packet id 0 (§2.3.1)");
    return id;
  }

  #decodePublish(first: number, bytes: Uint8Array, at: number, end: number): PublishPacket {
    const qos = (first >> 1) & 1;
    const topicSize = (bytes[at] << 8) | bytes[at + 1];
    at += 2;
    if (topicSize === 0) throw this.#fail("MQTT: PUBLISH topic is empty (§4.7.3)");
    if (at + topicSize + (qos ? 2 : 0) > end) throw this.#fail("MQTT: PUBLISH topic length " + topicSize + " exceeds the packet");
    const topic = readUtf8(bytes, at, at + topicSize);
    if (topic === undefined) throw this.#fail("MQTT: topic is not valid UTF-8");
    if (topic.indexOf("\u0000") >= 0) throw this.#fail("MQTT: topic contains U+0000 (§1.5.3)");
    if (topic.indexOf("+") >= 0 || topic.indexOf("#") >= 0) throw this.#fail("MQTT: topic " + JSON.stringify(topic) + " contains a wildcard (§3.3.2.1)");
    at += topicSize;
    let id = 0;
    if (qos) {
      id = (bytes[at] << 8) | bytes[at + 1];
      if (id === 0) throw this.#fail("MQTT: PUBLISH with QoS 1 has packet id 0 (§2.3.1)");
      at += 2;
    }
    return {
      type: PUBLISH,
      topic,
      payload: bytes.slice(at, end),
      qos: qos as 0 | 1,
      retain: (first & 1) === 1,
      dup: (first & 0x08) !== 0,
      id,
    };
  }
}
