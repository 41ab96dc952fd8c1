// The uplink over a fake transport (a scripted broker behind the socket class): Last Will, availability, subscriptions, backoff, stop.
import { suite, test, equal, deepEqual, ok } from "../harness.js";
import { Uplink, backoffDelay, HEALTHY_SESSION_MS } from "../../src/uplink.js";
import { parseConfig } from "telltale/config/config";
import { TELEMETRY } from "telltale/storage/outbox";
import type { TCPSocket, TCPSocketConstructor, TCPSocketOptions } from "telltale/io/io";
import { ManualClock } from "../support/manual-clock.js";
import { runFor } from "../support/app-rig.js";
import { bytesOf, packetBounds } from "../support/mqtt-broker.js";
import { encodePublish } from "telltale/mqtt/encode";

interface Packet {
  type: number;
  flags: number;
  topic?: string;
  payload?: string;
  id?: number;
  topics?: string[];
  will?: { topic: string; payload: string; qos: number; retain: boolean };
}

const text = (b: Uint8Array) => String.fromCharCode(...b);
const u16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;

/** The broker end of the fake transport: decodes what the device writes, answers as the test says. */
class Broker {
  online = true;
  connack = 0;
  /** False: the broker answers PINGREQ but acknowledges no PUBLISH. */
  acks = true;
  readonly packets: Packet[] = [];
  socket: { deliver(bytes: Uint8Array): void; drop(): void } | undefined;
  connects = 0;

  receive(p: Uint8Array, type: number, body: number): Packet {
    const packet: Packet = { type, flags: p[0]! & 15 };
    if (type === 1) {
      let at = body + 2 + u16(p, body); // protocol name
      const flags = p[at + 1]!;
      at += 4;
      at += 2 + u16(p, at); // client id
      if (flags & 4) {
        const topic = text(p.subarray(at + 2, at + 2 + u16(p, at)));
        at += 2 + u16(p, at);
        packet.will = {
          topic,
          payload: text(p.subarray(at + 2, at + 2 + u16(p, at))),
          qos: (flags >> 3) & 3,
          retain: (flags & 32) !== 0,
        };
      }
    } else if (type === 3) {
      const length = u16(p, body);
      packet.topic = text(p.subarray(body + 2, body + 2 + length));
      let at = body + 2 + length;
      if (p[0]! & 6) {
        packet.id = u16(p, at);
        at += 2;
      }
      packet.payload = text(p.subarray(at));
    } else if (type === 8) {
      packet.id = u16(p, body);
      packet.topics = [];
      for (let at = body + 2; at < p.length;) {
        const n = u16(p, at);
        packet.topics.push(text(p.subarray(at + 2, at + 2 + n)));
        at += 3 + n;
      }
    }
    this.packets.push(packet);
    return packet;
  }

  /** Bytes from the broker, as they are. */
  deliver(bytes: Uint8Array): void {
    this.socket!.deliver(bytes);
  }

  /** A message from another client to the device. */
  send(topic: string, payload: string): void {
    const body = [
      topic.length >> 8,
      topic.length & 255,
      ...Array.from(topic, (c) => c.charCodeAt(0)),
      ...Array.from(payload, (c) => c.charCodeAt(0)),
    ];
    this.socket!.deliver(Uint8Array.from([0x30, body.length, ...body]));
  }

  of(type: number): Packet[] {
    return this.packets.filter((p) => p.type === type);
  }
}

function transport(broker: Broker): TCPSocketConstructor {
  return class FakeSocket implements TCPSocket {
    readonly #options: TCPSocketOptions;
    readonly #inbox: Uint8Array[] = [];
    #closed = false;
    constructor(options: TCPSocketOptions) {
      this.#options = options;
      if (!broker.online) {
        void Promise.resolve().then(() => options.onError?.call(this, new Error("TCP: connection refused")));
        return;
      }
      broker.socket = { deliver: (bytes) => this.#deliver(bytes), drop: () => this.#drop() };
      void Promise.resolve().then(() => {
        if (!this.#closed) options.onWritable?.call(this, 65536);
      });
    }
    read(): ArrayBuffer | undefined {
      return this.#inbox.shift()?.slice().buffer;
    }
    write(buffer: ArrayBuffer | ArrayBufferView): void {
      if (this.#closed) throw new Error("closed");
      const all = bytesOf(buffer);
      for (let at = 0, p = packetBounds(all, at); p; at = p.end, p = packetBounds(all, at)) {
        const packet = broker.receive(all.slice(at, p.end), all[at]! >> 4, p.body - at);
        if (packet.type === 1) {
          broker.connects++;
          this.#deliver(Uint8Array.of(0x20, 2, 0, broker.connack));
        }
        if (packet.type === 3 && packet.id && broker.acks)
          this.#deliver(Uint8Array.of(0x40, 2, packet.id >> 8, packet.id & 255));
        if (packet.type === 12) this.#deliver(Uint8Array.of(0xd0, 0));
        if (packet.type === 8) this.#deliver(Uint8Array.of(0x90, 3, packet.id! >> 8, packet.id! & 255, 1));
      }
      void Promise.resolve().then(() => {
        if (!this.#closed) this.#options.onWritable?.call(this, 65536);
      });
    }
    close(): void {
      this.#closed = true;
    }
    #deliver(bytes: Uint8Array): void {
      void Promise.resolve().then(() => {
        if (this.#closed) return;
        this.#inbox.push(bytes);
        this.#options.onReadable?.call(this, bytes.length);
      });
    }
    #drop(): void {
      this.#closed = true;
      void Promise.resolve().then(() => this.#options.onError?.call(this, new Error("connection reset")));
    }
  };
}

function rig(broker: Record<string, unknown> = {}) {
  const clock = new ManualClock(),
    log: string[] = [],
    fake = new Broker();
  let networkFailures = 0;
  const host = {
    clock,
    tcp: transport(fake),
    log: (line: string) => log.push(line),
    connectNetwork: () =>
      networkFailures-- > 0 ? Promise.reject(new Error("Wi-Fi: no access point")) : Promise.resolve(),
  };
  const config = parseConfig({
    broker: { url: "mqtt://broker.test:1883", backoffBaseMs: 1000, backoffCapMs: 8000, ...broker },
  });
  const counters = { published: 0, dropped: 0, reconnects: 0, oversized: 0 };
  const uplink = new Uplink({
    host,
    broker: config.broker,
    clientId: "telltale-u1",
    topics: { telemetry: "d/telemetry", alarm: "d/alarm", status: "d/status" },
    counters,
  });
  const run = (ms: number, step = 50) => runFor(clock, ms, step, 12);
  return {
    clock,
    log,
    broker: fake,
    uplink,
    counters,
    run,
    failNetwork: (n: number) => {
      networkFailures = n;
    },
  };
}

suite("uplink", () => {
  test("connect-carries-the-will-then-announces-online-and-subscribes", async () => {
    const r = rig();
    r.uplink.subscribe("d/command", () => {});
    await r.uplink.start();
    await r.run(100);
    ok(r.uplink.connected);
    deepEqual(
      r.broker.packets.map((p) => p.type),
      [1, 3, 8],
      "CONNECT, PUBLISH, SUBSCRIBE",
    );
    deepEqual(r.broker.packets[0]?.will, { topic: "d/status", payload: "offline", qos: 1, retain: true });
    deepEqual(
      [r.broker.packets[1]?.topic, r.broker.packets[1]?.payload, r.broker.packets[1]?.flags],
      ["d/status", "online", 0b0011],
      "retained, QoS 1",
    );
    deepEqual(r.broker.packets[2]?.topics, ["d/command"]);
    deepEqual(r.log, ["mqtt: connected to broker.test:1883"]);
    r.uplink.stop();
  });

  test("announced-state-is-published-on-every-connection", async () => {
    const r = rig();
    r.uplink.announce("homeassistant/sensor/u1/config", "{}");
    await r.uplink.start();
    await r.run(100);
    r.broker.socket!.drop();
    await r.run(3000);
    const retained = r.broker.of(3).map((p) => p.topic);
    deepEqual(retained, ["d/status", "homeassistant/sensor/u1/config", "d/status", "homeassistant/sensor/u1/config"]);
    r.uplink.announce("d/version", "1.2.0");
    await r.run(100);
    equal(r.broker.of(3).pop()!.topic, "d/version", "announced at once while connected");
    r.uplink.stop();
  });

  test("messages-reach-the-handler-of-their-topic-and-replies-are-qos0", async () => {
    const r = rig(),
      got: string[] = [];
    r.uplink.subscribe("d/command", (payload) => {
      got.push(text(payload));
      r.uplink.reply("d/command/result", "pong");
    });
    await r.uplink.start();
    await r.run(100);
    r.broker.send("d/command", "ping");
    r.broker.send("d/other", "ignored");
    await r.run(100);
    deepEqual(got, ["ping"]);
    const reply = r.broker.of(3).pop()!;
    deepEqual([reply.topic, reply.payload, reply.flags & 6], ["d/command/result", "pong", 0]);
    r.uplink.stop();
    r.uplink.reply("d/command/result", "lost");
  });

  test("publish-goes-through-delivery", async () => {
    const r = rig();
    r.uplink.publish(TELEMETRY, '{"seq":1}', "telemetry #1");
    deepEqual(r.log, ["telemetry #1 (stored: broker unreachable)"]);
    equal(r.uplink.outbox.pending, 1);
    await r.uplink.start();
    await r.run(2000);
    equal(r.broker.of(3).filter((p) => p.topic === "d/telemetry").length, 1);
    equal(r.uplink.outbox.pending, 0, "acknowledged");
    r.uplink.stop();
  });

  test("lost-connection-is-retried-with-backoff-and-counted", async () => {
    const r = rig();
    await r.uplink.start();
    await r.run(100);
    r.broker.online = false;
    r.broker.socket!.drop();
    await r.run(20_000);
    const delays = r.log
      .filter((l) => l.startsWith("mqtt: connection lost"))
      .map((l) => Number(/retrying in (\d+) ms/.exec(l)![1]));
    ok(delays.length >= 3, r.log.join("\n"));
    delays.forEach((d, i) =>
      ok(d >= 100 && d <= Math.min(8000, 1000 * 2 ** i) + 100, "attempt " + i + " waited " + d + " ms"),
    );
    equal(r.counters.reconnects, delays.length);
    r.broker.online = true;
    await r.run(9000);
    ok(r.uplink.connected, "back once the broker is");
    r.uplink.stop();
  });

  test("backoff-starts-again-from-its-base-only-after-a-healthy-session", async () => {
    // Refusals wait at least half the window, which makes the attempt number visible in the delay.
    const r = rig();
    r.broker.connack = 5;
    await r.uplink.start();
    await r.run(8000, 10);
    const refused = () =>
      r.log.filter((l) => /refused.*retrying in/.test(l)).map((l) => Number(/retrying in (\d+) ms/.exec(l)![1]));
    ok(refused().length >= 3, r.log.join("\n"));
    r.broker.connack = 0;
    await r.run(8000, 10);
    ok(r.uplink.connected);
    await r.run(HEALTHY_SESSION_MS, 100);
    r.broker.connack = 5;
    const before = refused().length;
    r.broker.socket!.drop();
    await r.run(2000, 10);
    // The drop takes attempt 0 again; the refusal that follows is attempt 1 (window 2 s), not attempt 4 or more (8 s).
    const after = refused()[before];
    ok(
      after !== undefined && after >= 1100 && after <= 2100,
      "the first refusal after a healthy session waits within the second window: " + after,
    );
    r.uplink.stop();
  });

  test("network-is-brought-up-first-and-retried", async () => {
    const r = rig();
    r.failNetwork(2);
    await r.uplink.start();
    await r.run(5000);
    equal(
      r.log.filter((l) => /^network: Wi-Fi: no access point; retrying in \d+ ms$/.test(l)).length,
      2,
      r.log.join("\n"),
    );
    ok(r.uplink.connected);
    equal(r.broker.connects, 1);
    r.uplink.stop();
  });

  test("stop-publishes-offline-and-disconnects-and-silences-timers", async () => {
    const r = rig();
    await r.uplink.start();
    await r.run(100);
    r.uplink.stop();
    r.uplink.stop();
    await r.run(100);
    const last = r.broker.packets.slice(-2);
    deepEqual(
      last.map((p) => [p.type, p.topic, p.payload, p.flags]),
      [
        [3, "d/status", "offline", 1],
        [14, undefined, undefined, 0],
      ],
      "retained QoS 0 offline, then DISCONNECT",
    );
    equal(r.uplink.connected, false);
    const packets = r.broker.packets.length,
      lines = r.log.length;
    await r.run(20_000, 500);
    equal(r.broker.packets.length, packets);
    equal(r.log.length, lines);
  });

  test("oversized-retained-command-is-acknowledged-discarded-counted-and-the-session-kept", async () => {
    const r = rig(),
      got: Uint8Array[] = [];
    r.uplink.subscribe("d/command", (payload) => got.push(payload));
    await r.uplink.start();
    await r.run(100);
    const big = encodePublish({ topic: "d/command", payload: new Uint8Array(70_000), qos: 1, id: 5, retain: true });
    r.broker.deliver(big);
    await r.run(5000);
    equal(r.counters.oversized, 1);
    ok(
      r.log.includes(
        `mqtt: MQTT: discarded a retained message of ${big.length} bytes on "d/command" (over the 65536-byte limit)`,
      ),
      r.log.join("\n"),
    );
    equal(r.broker.of(4).length, 1, "PUBACK sent, so the broker does not send it again");
    deepEqual(got, [], "not handed to the command handler");
    ok(r.uplink.connected);
    equal(r.counters.reconnects, 0);
    equal(r.broker.connects, 1);
    r.uplink.stop();
  });

  test("broker-that-never-acknowledges-is-left-and-the-outbox-delivers-on-the-next-connection", async () => {
    const r = rig({ keepalive: 5 });
    await r.uplink.start();
    await r.run(100);
    r.broker.acks = false;
    r.uplink.publish(TELEMETRY, '{"seq":1}', "telemetry #1");
    await r.run(4900);
    equal(r.broker.of(3).filter((p) => p.topic === "d/telemetry").length, 1);
    await r.run(10_200);
    const lines = r.log.filter((l) => l.startsWith("mqtt: MQTT: message"));
    deepEqual(lines, [
      "mqtt: MQTT: message 2 not acknowledged within 5 s; resent 1 message(s) with DUP (resend 1 of 2)",
      "mqtt: MQTT: message 2 not acknowledged within 5 s; resent 1 message(s) with DUP (resend 2 of 2)",
      "mqtt: MQTT: message 2 not acknowledged within 5 s after 2 resend(s); closing the connection",
    ]);
    const resent = r.broker.of(3).filter((p) => p.topic === "d/telemetry");
    deepEqual(
      resent.map((p) => p.flags & 8),
      [0, 8, 8],
      "resent with DUP on the same connection",
    );
    equal(r.counters.reconnects, 1);
    equal(r.uplink.outbox.pending, 1, "kept in the outbox");
    r.broker.acks = true;
    await r.run(3000);
    ok(r.uplink.connected);
    equal(r.broker.connects, 2);
    equal(r.uplink.outbox.pending, 0, "acknowledged on the new connection");
    r.uplink.stop();
  });

  test("backoff-delay-is-exponential-capped-and-jittered", () => {
    deepEqual(
      [0, 1, 2, 3, 4].map((a) => backoffDelay(a, 1000, 8000, false, () => 1)),
      [1100, 2100, 4100, 8100, 8100],
    );
    equal(
      backoffDelay(3, 1000, 8000, false, () => 0),
      100,
      "full jitter reaches down to nothing",
    );
    equal(
      backoffDelay(3, 1000, 8000, true, () => 0),
      4100,
      "a refusal waits at least half the window",
    );
  });
});
