// The broker's end of the MQTT codec, for tests, the fuzzer and benches: decodes what a client sends. Not in the device build.
import { PacketDecoder } from "telltale/mqtt/decode";
import {
  CONNECT,
  PUBLISH,
  PUBACK,
  PUBREC,
  PUBREL,
  PUBCOMP,
  SUBSCRIBE,
  UNSUBSCRIBE,
  PINGREQ,
  DISCONNECT,
  AUTH,
  WILL_PROPERTIES,
  packetName,
  type ConnectPacket,
  type Packet,
  type PingreqPacket,
  type SubscribeFilter,
  type SubscribePacket,
  type UnsubscribePacket,
} from "telltale/mqtt/packets";
import { topicFilterProblem, topicNameProblem } from "telltale/mqtt/topic";

/** What a socket's write() was given, as bytes (a view of the same memory). */
export function bytesOf(buffer: ArrayBuffer | ArrayBufferView): Uint8Array {
  return ArrayBuffer.isView(buffer)
    ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
    : new Uint8Array(buffer);
}

/**
 * The packet that starts at `at` in `bytes`, read from its fixed header (§2.2: the Remaining Length is a variable byte
 * integer, §1.5.5): where its body starts and where the packet ends; undefined while the header or the body is
 * incomplete. For scripted brokers that split what a client writes into packets without decoding them.
 */
export function packetBounds(bytes: Uint8Array, at: number): { body: number; end: number } | undefined {
  let length = 0,
    shift = 0,
    i = at + 1;
  for (;;) {
    if (i >= bytes.length) return undefined;
    const b = bytes[i++]!;
    length |= (b & 0x7f) << shift;
    shift += 7;
    if (!(b & 0x80)) break;
  }
  return i + length <= bytes.length ? { body: i, end: i + length } : undefined;
}

const PINGREQ_PACKET: PingreqPacket = Object.freeze({ type: PINGREQ });

// Packet types a client may send (§2.2.1, table 2-1).
const FROM_CLIENT =
  (1 << CONNECT) |
  (1 << PUBLISH) |
  (1 << PUBACK) |
  (1 << PUBREC) |
  (1 << PUBREL) |
  (1 << PUBCOMP) |
  (1 << SUBSCRIBE) |
  (1 << UNSUBSCRIBE) |
  (1 << PINGREQ) |
  (1 << DISCONNECT) |
  (1 << AUTH);

/**
 * Decodes what a client sends a broker: CONNECT (whose protocol level then applies to the rest of the stream),
 * PUBLISH, the acknowledgements, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT and AUTH. Framing, bounds checks and
 * errors are PacketDecoder's; `protocolVersion` is the version assumed until a CONNECT names one.
 */
export class BrokerDecoder extends PacketDecoder {
  protected override refusal(type: number): string | undefined {
    return FROM_CLIENT & (1 << type) ? undefined : "MQTT: " + packetName(type) + " is sent by a broker, not by clients";
  }

  protected override decodeOther(type: number): Packet {
    switch (type) {
      case CONNECT:
        return this.#decodeConnect();
      case SUBSCRIBE:
        return this.#decodeSubscribe();
      case UNSUBSCRIBE:
        return this.#decodeUnsubscribe();
      case PINGREQ:
        return PINGREQ_PACKET;
      default:
        return super.decodeOther(type);
    }
  }

  #decodeConnect(): ConnectPacket {
    if (this.u16("protocol name") !== 4) throw this.fail('MQTT: CONNECT protocol name is not "MQTT" (§3.1.2.1)');
    const m = this.u8("protocol name"),
      q = this.u8("protocol name"),
      t = this.u8("protocol name"),
      t2 = this.u8("protocol name");
    if (m !== 0x4d || q !== 0x51 || t !== 0x54 || t2 !== 0x54)
      throw this.fail('MQTT: CONNECT protocol name is not "MQTT" (§3.1.2.1)');
    const level = this.u8("protocol level");
    if (level !== 4 && level !== 5)
      throw this.fail("MQTT: CONNECT protocol level " + level + " is not supported (4 or 5)");
    this.switchVersion(level);
    const flags = this.u8("flags");
    if (flags & 0x01) throw this.fail("MQTT: CONNECT reserved flag is set (§3.1.2.3)");
    const willFlag = (flags & 0x04) !== 0;
    const willQos = (flags >> 3) & 3;
    if (willQos === 3 || (!willFlag && (willQos !== 0 || flags & 0x20)))
      throw this.fail("MQTT: CONNECT Will flags are inconsistent (§3.1.2.6)");
    if (level === 4 && flags & 0x40 && !(flags & 0x80))
      throw this.fail("MQTT: CONNECT has a password without a user name (§3.1.2.9)");
    const keepalive = this.u16("keepalive");
    const packet: ConnectPacket = {
      type: CONNECT,
      protocolVersion: level,
      clientId: "",
      clean: (flags & 0x02) !== 0,
      keepalive,
    };
    if (level === 5) {
      const properties = this.properties(CONNECT);
      if (properties) packet.properties = properties;
    }
    packet.clientId = this.string("client id");
    if (willFlag) {
      const willProperties = level === 5 ? this.properties(WILL_PROPERTIES) : undefined;
      const topic = this.string("Will topic");
      const problem = topicNameProblem(topic);
      if (problem) throw this.fail("MQTT: Will topic " + problem);
      const payload = this.binary("Will payload");
      packet.will = { topic, payload, qos: willQos as 0 | 1 | 2, retain: (flags & 0x20) !== 0 };
      if (willProperties) packet.will.properties = willProperties;
    }
    if (flags & 0x80) packet.username = this.string("user name");
    if (flags & 0x40) packet.password = this.binary("password");
    return packet;
  }

  #decodeSubscribe(): SubscribePacket {
    const id = this.id();
    const v5 = this.protocolVersion === 5;
    const properties = v5 ? this.properties(SUBSCRIBE) : undefined;
    const filters: SubscribeFilter[] = [];
    if (this.left() <= 0) throw this.fail("MQTT: SUBSCRIBE has no topic filters (§3.8.3)");
    while (this.left() > 0) {
      const topic = this.string("topic filter");
      const problem = topicFilterProblem(topic);
      if (problem) throw this.fail("MQTT: topic filter " + JSON.stringify(topic) + " " + problem);
      const options = this.u8("subscription options");
      const qos = options & 3;
      if (qos === 3) throw this.fail("MQTT: SUBSCRIBE asks for QoS 3 (§3.8.3.1)");
      if (options & (v5 ? 0xc0 : 0xfc)) throw this.fail("MQTT: SUBSCRIBE options have reserved bits set (§3.8.3.1)");
      const filter: SubscribeFilter = { topic, qos: qos as 0 | 1 | 2 };
      if (v5) {
        const handling = (options >> 4) & 3;
        if (handling === 3) throw this.fail("MQTT: SUBSCRIBE retain handling 3 is reserved (§3.8.3.1)");
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
    const id = this.id();
    const properties = this.protocolVersion === 5 ? this.properties(UNSUBSCRIBE) : undefined;
    const topics: string[] = [];
    if (this.left() <= 0) throw this.fail("MQTT: UNSUBSCRIBE has no topic filters (§3.10.3)");
    while (this.left() > 0) {
      const topic = this.string("topic filter");
      const problem = topicFilterProblem(topic);
      if (problem) throw this.fail("MQTT: topic filter " + JSON.stringify(topic) + " " + problem);
      topics.push(topic);
    }
    const packet: UnsubscribePacket = { type: UNSUBSCRIBE, id, topics };
    if (properties) packet.properties = properties;
    return packet;
  }
}
