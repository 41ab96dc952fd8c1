// MQTT 3.1.1 and 5.0 streaming decoder for the packets a broker sends a client: bytes in, packets out; no IO, no timers.
import { utf8Read } from "telltale/text/utf8";
import {
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
  CONNECT,
  DEFAULT_MAX_PACKET_SIZE,
  MAX_PACKET_SIZE,
  MAX_RETURN_CODE,
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
  propertyById,
  validReasons,
  type AckPacket,
  type AuthPacket,
  type ConnackPacket,
  type DisconnectPacket,
  type IncomingPacket,
  type Packet,
  type PingrespPacket,
  type Properties,
  type ProtocolVersion,
  type OversizedPublishPacket,
  type PublishPacket,
  type SubackPacket,
  type UnsubackPacket,
} from "telltale/mqtt/packets";

export interface DecoderOptions {
  /** Largest whole incoming packet in bytes (fixed header included); default 65536. */
  maxPacketSize?: number;
  /** 4 (3.1.1, the default) or 5. */
  protocolVersion?: ProtocolVersion;
}

// Frozen constants: shared by every decoder, never written (a zero-length array has no elements to write).
const EMPTY = Object.freeze(new Uint8Array(0)) as Uint8Array;
const PINGRESP_PACKET: PingrespPacket = Object.freeze({ type: PINGRESP });
const DISCONNECT_PACKET: DisconnectPacket = Object.freeze({ type: DISCONNECT });

const HEADER = 0,
  LENGTH = 1,
  BODY = 2,
  SKIP = 3;

// The parts of an oversized PUBLISH read while it is skipped (§3.3.2): topic length, topic, packet id, the rest.
const SKIP_TOPIC_LENGTH = 0,
  SKIP_TOPIC = 1,
  SKIP_ID = 2,
  SKIP_REST = 3;

// Packet types a broker may send (§2.2.1, table 2-1).
const FROM_SERVER =
  (1 << CONNACK) |
  (1 << PUBLISH) |
  (1 << PUBACK) |
  (1 << PUBREC) |
  (1 << PUBREL) |
  (1 << PUBCOMP) |
  (1 << SUBACK) |
  (1 << UNSUBACK) |
  (1 << PINGRESP) |
  (1 << DISCONNECT) |
  (1 << AUTH);

/**
 * Streaming decoder of what a broker sends: `push()` a chunk as it arrives, then call `next()` until it returns
 * undefined. A packet that lies whole inside one chunk is decoded in place; only a packet split across chunks
 * is copied into a body buffer, grown on demand up to `maxPacketSize`. A PUBLISH larger than `maxPacketSize` is
 * skipped as it streams in: its topic (when the topic alone fits the limit) and packet id are read, the rest is
 * passed over unbuffered, and next() returns an OversizedPublishPacket, so that a client can acknowledge it and keep
 * the connection; any other packet over the limit is an error. Malformed input throws an
 * Error naming the problem, after which the decoder refuses work until `reset()`, because the byte
 * stream can no longer be framed. Every read is bounds-checked against the packet's own length, so
 * no input makes it read past a packet, loop, or allocate more than the packet's size (or the limit).
 *
 * The protected members let a decoder of the other direction (the broker's, in tests/support/mqtt-broker.ts)
 * reuse the framing and the bounded reads; the device never needs one.
 */
export class PacketDecoder {
  readonly #maxPacketSize: number;
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
  // An oversized PUBLISH being skipped: its bytes not consumed yet, the part being read, the bytes left of that part,
  // the two-byte field being assembled, and what is kept of it.
  #skipLeft = 0;
  #skipPart = SKIP_TOPIC_LENGTH;
  #skipNeed = 0;
  #skipValue = 0;
  #skipTopicSize = 0;
  #skipTopic: string | undefined = undefined;
  #skipId = 0;

  constructor(options?: DecoderOptions) {
    const max = options?.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
    if (typeof max !== "number" || !Number.isInteger(max) || max < 2 || max > MAX_PACKET_SIZE)
      throw new Error('PacketDecoder: option "maxPacketSize" must be an integer 2-' + MAX_PACKET_SIZE);
    const version = options?.protocolVersion ?? 4;
    if (version !== 4 && version !== 5) throw new Error('PacketDecoder: option "protocolVersion" must be 4 or 5');
    this.#maxPacketSize = max;
    this.#version = version;
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

  /** Like next(), typed as any packet (for a decoder of the other direction). */
  nextPacket(): Packet | undefined {
    if (this.#failed) throw this.#unusable();
    const chunk = this.#chunk;
    const end = chunk.length;
    let at = this.#at;
    while (at < end) {
      if (this.#state === HEADER) {
        this.#first = chunk[at++]!;
        this.#checkHeader(this.#first);
        this.#state = LENGTH;
        this.#length = 0;
        this.#lengthBytes = 0;
      } else if (this.#state === LENGTH) {
        const b = chunk[at++]!;
        this.#length |= (b & 0x7f) << (7 * this.#lengthBytes);
        this.#lengthBytes++;
        if (b & 0x80) {
          if (this.#lengthBytes === 4) throw this.fail("MQTT: malformed remaining length");
          continue;
        }
        this.#filled = 0;
        if (this.#checkLength()) {
          this.#skipLeft = this.#length;
          this.#skipPart = SKIP_TOPIC_LENGTH;
          this.#skipNeed = 2;
          this.#skipValue = 0;
          this.#skipTopic = undefined;
          this.#skipId = 0;
          this.#state = SKIP;
          continue;
        }
        if (this.#length === 0) {
          this.#state = HEADER;
          this.#at = at;
          return this.#decode(chunk, at);
        }
        this.#state = BODY;
      } else if (this.#state === SKIP) {
        at = this.#skip(chunk, at, end);
        if (this.#skipLeft === 0) {
          this.#state = HEADER;
          this.#at = at;
          return this.#skipped();
        }
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

  // ------------------------------------------------------------ for a decoder of the other direction

  /** The error message refusing a packet of `type` that cannot arrive at this end, or undefined when it can. */
  protected refusal(type: number): string | undefined {
    if (!(FROM_SERVER & (1 << type)) || (type === DISCONNECT && this.#version === 4))
      return "MQTT: " + packetName(type) + " is sent by clients, not by a broker";
    return undefined;
  }

  /** Decodes the body of a packet of a type refusal() lets through and this class does not decode. */
  protected decodeOther(type: number): Packet {
    throw this.fail("MQTT: " + packetName(type) + " is not decoded here");
  }

  /** Decodes the rest of the stream with `version` (a CONNECT names it). */
  protected switchVersion(version: ProtocolVersion): void {
    this.#version = version;
  }

  /** Marks the decoder failed (the stream can no longer be framed) and returns the error to throw. */
  protected fail(message: string): Error {
    this.#failed = true;
    this.#chunk = EMPTY;
    this.#at = 0;
    this.#b = EMPTY;
    return new Error(message);
  }

  /** Bytes of the current packet not read yet. */
  protected left(): number {
    return this.#e - this.#p;
  }

  // Bounded reads of the current packet: each names what it reads, for the error when the packet ends first.
  protected u8(what: string): number {
    this.#need(1, what);
    return this.#b[this.#p++]!;
  }
  protected u16(what: string): number {
    this.#need(2, what);
    const b = this.#b,
      p = this.#p;
    this.#p = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }
  protected u32(what: string): number {
    this.#need(4, what);
    const b = this.#b,
      p = this.#p;
    this.#p = p + 4;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }
  protected vbi(what: string): number {
    let value = 0,
      scale = 1;
    for (let i = 0; i < 4; i++) {
      const b = this.u8(what);
      value += (b & 0x7f) * scale;
      if (!(b & 0x80)) return value;
      scale *= 128;
    }
    throw this.fail("MQTT: malformed variable byte integer in " + what + " (§1.5.5)");
  }
  protected string(what: string): string {
    const size = this.u16(what);
    this.#need(size, what);
    const text = utf8Read(this.#b, this.#p, this.#p + size);
    if (text === undefined) throw this.fail("MQTT: " + what + " is not valid UTF-8");
    if (text.indexOf("\u0000") >= 0) throw this.fail("MQTT: " + what + " contains U+0000 (§1.5.3)");
    this.#p += size;
    return text;
  }
  protected binary(what: string): Uint8Array {
    const size = this.u16(what);
    this.#need(size, what);
    const out = this.#b.slice(this.#p, this.#p + size);
    this.#p += size;
    return out;
  }
  protected id(): number {
    const id = this.u16("packet id");
    if (id === 0) throw this.fail("MQTT: " + packetName(this.#first >> 4) + " has packet id 0 (§2.3.1)");
    return id;
  }

  // Properties of a packet of `type` (or the Will's): undefined when there are none (§2.2.2).
  protected properties(type: number): Properties | undefined {
    const length = this.vbi("property length");
    this.#need(length, "properties");
    const end = this.#p + length;
    if (length === 0) return undefined;
    const where = type === WILL_PROPERTIES ? "the Will" : packetName(type);
    const result: Properties = {};
    let seen = 0,
      seenHigh = 0;
    const outer = this.#e;
    this.#e = end;
    while (this.#p < end) {
      const id = this.vbi("property identifier");
      const found = propertyById(id);
      if (!found) throw this.fail("MQTT: unknown property identifier 0x" + id.toString(16) + " in " + where);
      if (!(found.packets & (1 << type)))
        throw this.fail("MQTT: property " + found.name + " is not allowed in " + where + " (§2.2.2.2)");
      const bit = 1 << (id & 31);
      const repeats = found.kind === P_PAIR || (found.kind === P_VBI && type === PUBLISH);
      if (!repeats) {
        if (id < 32 ? seen & bit : seenHigh & bit)
          throw this.fail("MQTT: property " + found.name + " appears twice in " + where + " (§2.2.2.2)");
        if (id < 32) seen |= bit;
        else seenHigh |= bit;
      }
      const name = found.name;
      switch (found.kind) {
        case P_FLAG: {
          const v = this.u8(name);
          if (v > 1) throw this.fail("MQTT: property " + name + " must be 0 or 1, got " + v);
          (result as Record<string, unknown>)[name] = v;
          break;
        }
        case P_BYTE:
          (result as Record<string, unknown>)[name] = this.u8(name);
          break;
        case P_U16: {
          const v = this.u16(name);
          if (v === 0 && (name === "receiveMaximum" || name === "topicAlias"))
            throw this.fail("MQTT: property " + name + " must not be 0");
          (result as Record<string, unknown>)[name] = v;
          break;
        }
        case P_U32: {
          const v = this.u32(name);
          if (v === 0 && name === "maximumPacketSize")
            throw this.fail("MQTT: property maximumPacketSize must not be 0");
          (result as Record<string, unknown>)[name] = v;
          break;
        }
        case P_STRING:
          (result as Record<string, unknown>)[name] = this.string("property " + name);
          break;
        case P_BINARY:
          (result as Record<string, unknown>)[name] = this.binary("property " + name);
          break;
        case P_VBI: {
          const v = this.vbi("subscription identifier");
          if (v === 0) throw this.fail("MQTT: subscription identifier must not be 0 (§3.3.2.3.8)");
          (result.subscriptionIdentifiers ??= []).push(v);
          break;
        }
        default: {
          const key = this.string("user property name");
          const value = this.string("user property value");
          (result.userProperties ??= []).push([key, value]);
        }
      }
    }
    this.#e = outer;
    return result;
  }

  // ------------------------------------------------------------ framing

  #grow(length: number): void {
    let size = this.#body.length || 128;
    while (size < length) size *= 2;
    if (size > this.#maxPacketSize) size = this.#maxPacketSize;
    const body = new Uint8Array(size);
    body.set(this.#body.subarray(0, this.#filled));
    this.#body = body;
  }

  #unusable(): Error {
    return new Error("MQTT: the decoder failed earlier and needs reset()");
  }

  // Rejects a packet as soon as its first byte shows it is wrong (§2.2.1, §2.2.2).
  #checkHeader(first: number): void {
    const type = first >> 4;
    const flags = first & 0x0f;
    if (type === 0 || (type === AUTH && this.#version === 4)) throw this.fail("MQTT: reserved packet type " + type);
    const refusal = this.refusal(type);
    if (refusal !== undefined) throw this.fail(refusal);
    if (type === PUBLISH) {
      const qos = (flags >> 1) & 3;
      if (qos === 3) throw this.fail("MQTT: invalid QoS 3 in PUBLISH (§3.3.1.2)");
      if (qos === 0 && flags & 0x08) throw this.fail("MQTT: PUBLISH has DUP set with QoS 0 (§3.3.1.1)");
      return;
    }
    const expected = type === PUBREL || type === SUBSCRIBE || type === UNSUBSCRIBE ? 2 : 0;
    if (flags !== expected) throw this.fail("MQTT: invalid flags 0x" + flags.toString(16) + " for " + packetName(type));
  }

  // Rejects a packet as soon as its remaining length is known, before any of its body is buffered. The table has
  // every type, both directions: it is framing, and refusal() has already turned away the types this end never gets.
  // True for a PUBLISH over the size limit, which is then skipped.
  #checkLength(): boolean {
    const length = this.#length;
    const total = 1 + this.#lengthBytes + length;
    const type = this.#first >> 4;
    const oversized = total > this.#maxPacketSize;
    if (oversized && type !== PUBLISH)
      throw this.fail("MQTT: packet of " + total + " bytes exceeds the " + this.#maxPacketSize + "-byte limit");
    const v5 = this.#version === 5;
    let expected = 2,
      exact = true;
    switch (type) {
      case PINGREQ:
      case PINGRESP:
        expected = 0;
        break;
      case DISCONNECT:
        expected = 0;
        exact = !v5;
        break;
      case AUTH:
        expected = 0;
        exact = false;
        break;
      case CONNACK:
        expected = v5 ? 3 : 2;
        exact = !v5;
        break;
      case PUBACK:
      case PUBREC:
      case PUBREL:
      case PUBCOMP:
        exact = !v5;
        break;
      case UNSUBACK:
        expected = v5 ? 4 : 2;
        exact = !v5;
        break;
      case SUBACK:
        expected = v5 ? 4 : 3;
        exact = false;
        break;
      case SUBSCRIBE:
        expected = v5 ? 7 : 6;
        exact = false;
        break; // id, (properties), a 1-byte filter, options
      case UNSUBSCRIBE:
        expected = v5 ? 6 : 5;
        exact = false;
        break;
      case CONNECT:
        expected = 12;
        exact = false;
        break; // protocol name, level, flags, keepalive, client id length
      // Topic length, a 1-byte topic (3.1.1) or an empty one and the property length (5.0), packet id.
      case PUBLISH:
        expected = this.#first & 0x06 ? 5 : 3;
        exact = false;
        break;
    }
    if (exact ? length !== expected : length < expected)
      throw this.fail(
        "MQTT: " + packetName(type) + " has length " + length + ", expected " + (exact ? "" : "at least ") + expected,
      );
    return oversized;
  }

  // Consumes what `chunk` holds of an oversized PUBLISH: reads the topic length, the topic (kept only when it fits the
  // limit) and the packet id as they arrive, and passes over the rest. Returns the new read position.
  #skip(chunk: Uint8Array, at: number, end: number): number {
    while (at < end) {
      const part = this.#skipPart;
      if (part === SKIP_REST) {
        const have = end - at;
        const n = have < this.#skipLeft ? have : this.#skipLeft;
        this.#skipLeft -= n;
        return at + n;
      }
      if (part === SKIP_TOPIC) {
        const have = end - at;
        const n = have < this.#skipNeed ? have : this.#skipNeed;
        if (this.#skipTopicSize <= this.#maxPacketSize) {
          this.#body.set(chunk.subarray(at, at + n), this.#filled);
          this.#filled += n;
        }
        at += n;
        this.#skipLeft -= n;
        this.#skipNeed -= n;
        if (this.#skipNeed === 0) this.#skipTopicRead();
        continue;
      }
      // A two-byte field: the topic length or the packet id.
      this.#skipValue = (this.#skipValue << 8) | chunk[at++]!;
      this.#skipLeft--;
      if (--this.#skipNeed > 0) continue;
      if (part === SKIP_TOPIC_LENGTH) this.#skipTopicLength(this.#skipValue);
      else {
        if (this.#skipValue === 0)
          throw this.fail("MQTT: PUBLISH with QoS " + ((this.#first >> 1) & 3) + " has packet id 0 (§2.3.1)");
        this.#skipId = this.#skipValue;
        this.#skipPart = SKIP_REST;
      }
    }
    return at;
  }

  #skipTopicLength(size: number): void {
    const qos = (this.#first >> 1) & 3;
    if (size === 0 && this.#version === 4) throw this.fail("MQTT: PUBLISH topic is empty (§4.7.3)");
    if (2 + size + (qos ? 2 : 0) > this.#length)
      throw this.fail("MQTT: PUBLISH topic length " + size + " exceeds the packet");
    this.#skipTopicSize = size;
    this.#filled = 0;
    if (size <= this.#maxPacketSize && this.#body.length < size) this.#grow(size);
    this.#skipPart = SKIP_TOPIC;
    this.#skipNeed = size;
    if (size === 0) this.#skipTopicRead();
  }

  #skipTopicRead(): void {
    if (this.#skipTopicSize <= this.#maxPacketSize)
      this.#skipTopic = this.#topicName(this.#body, 0, this.#skipTopicSize);
    const qos = (this.#first >> 1) & 3;
    this.#skipPart = qos ? SKIP_ID : SKIP_REST;
    this.#skipNeed = 2;
    this.#skipValue = 0;
  }

  #skipped(): OversizedPublishPacket {
    const first = this.#first;
    return {
      type: PUBLISH,
      oversized: true,
      size: 1 + this.#lengthBytes + this.#length,
      topic: this.#skipTopic,
      topicSize: this.#skipTopicSize,
      qos: ((first >> 1) & 3) as 0 | 1 | 2,
      retain: (first & 1) === 1,
      dup: (first & 0x08) !== 0,
      id: this.#skipId,
    };
  }

  // A PUBLISH's topic name from `bytes[from, to)`, checked (§4.7, §3.3.2.1).
  #topicName(bytes: Uint8Array, from: number, to: number): string {
    const topic = utf8Read(bytes, from, to);
    if (topic === undefined) throw this.fail("MQTT: topic is not valid UTF-8");
    if (topic.indexOf("\u0000") >= 0) throw this.fail("MQTT: topic contains U+0000 (§1.5.3)");
    if (topic.indexOf("+") >= 0 || topic.indexOf("#") >= 0)
      throw this.fail("MQTT: topic " + JSON.stringify(topic) + " contains a wildcard (§3.3.2.1)");
    return topic;
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
      case PUBLISH:
        packet = this.#decodePublish(first);
        break;
      case CONNACK:
        packet = this.#decodeConnack();
        break;
      case PUBACK:
      case PUBREC:
      case PUBREL:
      case PUBCOMP:
        packet = this.#decodeAck(type);
        break;
      case SUBACK:
        packet = this.#decodeSuback();
        break;
      case UNSUBACK:
        packet = this.#decodeUnsuback();
        break;
      case PINGRESP:
        packet = PINGRESP_PACKET;
        break;
      case DISCONNECT:
        packet = this.#decodeDisconnect(DISCONNECT);
        break;
      case AUTH:
        packet = this.#decodeDisconnect(AUTH);
        break;
      default:
        packet = this.decodeOther(type);
        break;
    }
    // Every byte of the packet must have been consumed: trailing bytes mean the lengths disagree.
    if (this.#p !== this.#e)
      throw this.fail("MQTT: " + packetName(type) + " has " + (this.#e - this.#p) + " unexpected trailing bytes");
    this.#b = EMPTY;
    return packet;
  }

  #need(n: number, what: string): void {
    if (this.#p + n > this.#e) throw this.fail("MQTT: " + packetName(this.#first >> 4) + " ends inside its " + what);
  }

  #reason(type: number, code: number): number {
    if (validReasons(type).indexOf(code) < 0)
      throw this.fail("MQTT: " + packetName(type) + " reason code 0x" + code.toString(16) + " is invalid");
    return code;
  }

  // ------------------------------------------------------------ packets

  #decodeConnack(): ConnackPacket {
    const acknowledge = this.u8("flags");
    const code = this.u8("return code");
    if (acknowledge & 0xfe)
      throw this.fail("MQTT: CONNACK has reserved flags 0x" + acknowledge.toString(16) + " (§3.2.2.1)");
    if (this.#version === 4) {
      if (code > MAX_RETURN_CODE) throw this.fail("MQTT: CONNACK return code " + code + " is reserved (§3.2.2.3)");
      return { type: CONNACK, sessionPresent: (acknowledge & 1) === 1, returnCode: code };
    }
    this.#reason(CONNACK, code);
    const packet: ConnackPacket = { type: CONNACK, sessionPresent: (acknowledge & 1) === 1, returnCode: code };
    const properties = this.properties(CONNACK);
    if (properties) packet.properties = properties;
    return packet;
  }

  #decodeAck(type: number): AckPacket {
    const id = this.id();
    const packet: AckPacket = { type: type as AckPacket["type"], id };
    if (this.#version === 5) {
      // The reason code and property length may be omitted (§3.4.2.1): success without properties.
      packet.reasonCode = this.#p < this.#e ? this.#reason(type, this.u8("reason code")) : 0;
      if (this.#p < this.#e) {
        const properties = this.properties(type);
        if (properties) packet.properties = properties;
      }
    }
    return packet;
  }

  #decodeSuback(): SubackPacket {
    const id = this.id();
    const v5 = this.#version === 5;
    const properties = v5 ? this.properties(SUBACK) : undefined;
    const count = this.#e - this.#p;
    if (count === 0) throw this.fail("MQTT: SUBACK has no return codes (§3.9.3)");
    const granted: number[] = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      const code = this.#b[this.#p++]!;
      if (v5) this.#reason(SUBACK, code);
      else if (code > 2 && code !== 0x80)
        throw this.fail("MQTT: SUBACK return code 0x" + code.toString(16) + " is invalid (§3.9.3)");
      granted[i] = code;
    }
    const packet: SubackPacket = { type: SUBACK, id, granted };
    if (properties) packet.properties = properties;
    return packet;
  }

  #decodeUnsuback(): UnsubackPacket {
    const id = this.id();
    if (this.#version === 4) return { type: UNSUBACK, id };
    const properties = this.properties(UNSUBACK);
    const count = this.#e - this.#p;
    if (count === 0) throw this.fail("MQTT: UNSUBACK has no reason codes (§3.11.3)");
    const reasonCodes: number[] = new Array<number>(count);
    for (let i = 0; i < count; i++) reasonCodes[i] = this.#reason(UNSUBACK, this.#b[this.#p++]!);
    const packet: UnsubackPacket = { type: UNSUBACK, id, reasonCodes };
    if (properties) packet.properties = properties;
    return packet;
  }

  // DISCONNECT or AUTH; a 3.1.1 DISCONNECT (which only a broker receives) has no body.
  #decodeDisconnect(type: typeof DISCONNECT | typeof AUTH): DisconnectPacket | AuthPacket {
    if (this.#version === 4) return DISCONNECT_PACKET;
    const code = this.#p < this.#e ? this.#reason(type, this.u8("reason code")) : 0;
    const packet: DisconnectPacket | AuthPacket =
      type === AUTH ? { type: AUTH, reasonCode: code } : { type: DISCONNECT, reasonCode: code };
    if (this.#p < this.#e) {
      const properties = this.properties(type);
      if (properties) packet.properties = properties;
    }
    return packet;
  }

  #decodePublish(first: number): PublishPacket {
    const qos = (first >> 1) & 3;
    const bytes = this.#b;
    const end = this.#e;
    let at = this.#p;
    const topicSize = (bytes[at]! << 8) | bytes[at + 1]!;
    at += 2;
    const v5 = this.#version === 5;
    if (topicSize === 0 && !v5) throw this.fail("MQTT: PUBLISH topic is empty (§4.7.3)");
    if (at + topicSize + (qos ? 2 : 0) > end)
      throw this.fail("MQTT: PUBLISH topic length " + topicSize + " exceeds the packet");
    const topic = this.#topicName(bytes, at, at + topicSize);
    at += topicSize;
    let id = 0;
    if (qos) {
      id = (bytes[at]! << 8) | bytes[at + 1]!;
      if (id === 0) throw this.fail("MQTT: PUBLISH with QoS " + qos + " has packet id 0 (§2.3.1)");
      at += 2;
    }
    let properties: Properties | undefined;
    if (v5) {
      this.#p = at;
      properties = this.properties(PUBLISH);
      at = this.#p;
      // An empty topic stands for the topic alias it carries (§3.3.2.3.4).
      if (topicSize === 0 && properties?.topicAlias === undefined)
        throw this.fail("MQTT: PUBLISH topic is empty and has no topic alias (§3.3.2.3.4)");
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
// Frozen so that, preloaded, the prototype stays in flash; a subclass (the broker's decoder) has its own.
Object.freeze(PacketDecoder.prototype);
