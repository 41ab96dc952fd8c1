// The app's reporting path with the durable outbox, against a scripted broker: store first, PUBACK removes, backlog drains in order.
import { suite, test, equal, deepEqual, ok, settle } from "../harness.js";
import { App } from "../../src/app.js";
import { parseConfig } from "telltale/config/config";
import { SimI2CBus } from "telltale/sim/i2c-bus";
import { SHT3xModel } from "telltale/drivers/sht3x/model";
import { createSimWorld } from "telltale/sim/world";
import { SimFlash } from "telltale/sim/flash";
import { encodePuback } from "telltale/mqtt/encode";
import { utf8Decode } from "telltale/text/utf8";
import type { Flash, Store, TCPSocket, TCPSocketOptions } from "telltale/io/io";
import { ManualClock } from "../support/manual-clock.js";
import { mapStore } from "../support/test-host.js";
import { appRig, runFor } from "../support/app-rig.js";
import { parseTelemetry } from "../support/wire.js";
import { bytesOf, packetBounds } from "../support/mqtt-broker.js";

interface Sent {
  type: number;
  topic: string;
  id: number;
  payload: string;
  at: number;
}

/** A broker the test drives: it answers CONNECT as told, records every PUBLISH, and acknowledges when told. */
class Broker {
  online = true;
  connack = 0;
  autoAck = true;
  readonly sent: Sent[] = [];
  readonly unacked: number[] = [];
  connects = 0;
  socket: BrokerSocket | undefined;
  constructor(readonly clock: ManualClock) {}
}

class BrokerSocket implements TCPSocket {
  static broker: Broker;
  readonly #options: TCPSocketOptions;
  readonly #broker: Broker;
  #inbox: Uint8Array[] = [];
  #pending = new Uint8Array(0);
  closed = false;

  constructor(options: TCPSocketOptions) {
    this.#options = options;
    this.#broker = BrokerSocket.broker;
    const broker = this.#broker;
    if (!broker.online) {
      void Promise.resolve().then(() => options.onError?.call(this, new Error("TCP: connection refused")));
      return;
    }
    broker.socket = this;
    void Promise.resolve().then(() => {
      if (!this.closed) options.onWritable?.call(this, 65536);
    });
  }

  read(): ArrayBuffer | undefined {
    const chunk = this.#inbox.shift();
    return chunk ? chunk.slice().buffer : undefined;
  }

  write(buffer: ArrayBuffer | ArrayBufferView): void {
    if (this.closed) throw new Error("closed");
    const bytes = bytesOf(buffer);
    const all = new Uint8Array(this.#pending.length + bytes.length);
    all.set(this.#pending, 0);
    all.set(bytes, this.#pending.length);
    let at = 0;
    for (let p = packetBounds(all, at); p; at = p.end, p = packetBounds(all, at))
      this.#packet(all.subarray(at, p.end), all[at]! >> 4, p.body);
    this.#pending = all.slice(at);
    void Promise.resolve().then(() => {
      if (!this.closed) this.#options.onWritable?.call(this, 65536);
    });
  }

  #packet(packet: Uint8Array, type: number, body: number): void {
    const broker = this.#broker;
    if (type === 1) {
      broker.connects++;
      this.#reply(Uint8Array.of(0x20, 2, 0, broker.connack));
    } else if (type === 3) {
      const qos = (packet[0]! >> 1) & 3;
      const topicLength = (packet[body]! << 8) | packet[body + 1]!;
      const topic = utf8Decode(packet.subarray(body + 2, body + 2 + topicLength));
      let at = body + 2 + topicLength,
        id = 0;
      if (qos > 0) {
        id = (packet[at]! << 8) | packet[at + 1]!;
        at += 2;
      }
      broker.sent.push({ type, topic, id, payload: utf8Decode(packet.subarray(at)), at: broker.clock.now() });
      if (qos > 0) {
        if (broker.autoAck) this.#reply(encodePuback(id));
        else broker.unacked.push(id);
      }
    }
  }

  #reply(bytes: Uint8Array): void {
    void Promise.resolve().then(() => {
      if (this.closed) return;
      this.#inbox.push(bytes);
      this.#options.onReadable?.call(this, bytes.length);
    });
  }

  /** The broker's side: acknowledge everything held back. */
  ackAll(): void {
    for (const id of this.#broker.unacked.splice(0)) this.#reply(encodePuback(id));
  }

  /** The broker's side: the connection drops. */
  drop(): void {
    this.closed = true;
    void Promise.resolve().then(() => this.#options.onError?.call(this, new Error("connection reset")));
  }

  close(): void {
    this.closed = true;
  }
}

function rig(extra: Record<string, unknown> = {}, flash?: Flash, flashProblem?: string) {
  const clock = new ManualClock();
  const broker = new Broker(clock);
  BrokerSocket.broker = broker;
  const bus = new SimI2CBus(clock);
  let temperature = 30;
  bus.attach(0x44, new SHT3xModel({ environment: { temperature: () => temperature, humidity: () => 50 } }));
  const { host, log, store } = appRig({ clock, bus, host: { tcp: BrokerSocket, flash, flashProblem } });
  const config = parseConfig({
    intervalMs: 1000,
    broker: { url: "mqtt://broker.test:1883", backoffBaseMs: 500, backoffCapMs: 1000, drainPerSecond: 5 },
    detector: { model: "zscore", calibrationSamples: 5, holdSamples: 1 },
    ...extra,
  });
  const app = new App(host, config);
  return {
    clock,
    broker,
    log,
    app,
    store,
    setTemperature: (t: number) => {
      temperature = t;
    },
  };
}

/**
 * The largest telemetry a valid configuration makes: 16 sensors with 32-character names, four of them accelerometers
 * with six vibration bands, the 32 detector channels filled, the longest device id and topic prefix.
 */
function largestConfig(): Record<string, unknown> {
  const name = (s: string) => s + "x".repeat(32 - s.length);
  const power = { shunt: 0.01, maxCurrent: 8 };
  const sensors: Record<string, unknown>[] = [
    { part: "adxl345", address: 0x53, name: name("a1") },
    { part: "adxl345", address: 0x1d, name: name("a2") },
    { part: "mpu6050", address: 0x68, name: name("m1") },
    { part: "mpu6050", address: 0x69, name: name("m2") },
    {
      part: "ads1115",
      address: 0x48,
      name: name("d1"),
      inputs: [0, 1].map((c) => ({ name: name("in" + c), channel: c })),
    },
  ];
  for (let i = 0; i < 4; i++) sensors.push({ part: "ina226", address: 0x40 + i, name: name("i" + i), ...power });
  for (let i = 0; i < 2; i++) sensors.push({ part: "ina219", address: 0x4a + i, name: name("j" + i), ...power });
  for (let i = 0; i < 5; i++) sensors.push({ part: "relay", pin: i + 1, name: name("r" + i) });
  return {
    deviceId: "d".repeat(64),
    topicPrefix: "p".repeat(64),
    intervalMs: 1000,
    broker: { url: "mqtt://broker.test:1883", backoffBaseMs: 500, backoffCapMs: 1000, drainPerSecond: 5 },
    sensors,
    detector: { model: "zscore", calibrationSamples: 5, vibration: { bands: [50, 100, 200, 300, 400, 800] } },
  };
}

/** The app on a simulated world holding a chip model for every declared sensor. */
function worldRig(raw: Record<string, unknown>, flash: Flash, store: Map<string, string> | Store) {
  const clock = new ManualClock();
  const broker = new Broker(clock);
  BrokerSocket.broker = broker;
  const config = parseConfig(raw);
  const world = createSimWorld(clock, config.sensors);
  const { host, log } = appRig({
    clock,
    bus: world.bus,
    host: {
      digital: world.gpio.ioDigital(),
      pulseCount: world.gpio.ioPulseCount(),
      tcp: BrokerSocket,
      flash,
      store: store instanceof Map ? mapStore(store) : store,
    },
  });
  return { clock, broker, log, app: new App(host, config) };
}

/** Drives the clock in 50 ms steps (the broker's answers come within one). */
const run = (clock: ManualClock, ms: number, step = 50) => runFor(clock, ms, step, 12);

function seqs(sent: Sent[], topic: string): number[] {
  return sent.filter((m) => m.topic.endsWith(topic)).map((m) => parseTelemetry(m.payload).seq);
}

const NONE_LOST = { evicted: 0, full: 0, tooLarge: 0, damaged: 0, unwritable: 0 };

function lastTelemetry(sent: Sent[]) {
  return parseTelemetry(sent.filter((m) => m.topic.endsWith("telemetry")).pop()!.payload);
}

suite("app/outbox", () => {
  test("sixteen-sensor-telemetry-larger-than-a-flash-block-is-stored-through-an-outage-and-a-reboot", async () => {
    const flash = new SimFlash({ byteLength: 16 * 4096, blockSize: 4096 }),
      store = new Map<string, string>();
    const first = worldRig(largestConfig(), flash, store);
    first.broker.online = false;
    await first.app.start();
    await run(first.clock, 12_000);
    first.app.stop();
    // A 64 KiB flash holds seven such rounds (a 4.9 KB record per 8 KiB segment, one segment kept free): the older
    // ones are evicted, and every one is counted.
    const rounds = first.log.filter((l) => l.startsWith("telemetry #")).length,
      stored = first.app.outbox.pending,
      evicted = first.app.outbox.evicted;
    ok(rounds >= 12 && stored >= 7, rounds + " rounds, " + stored + " stored");
    equal(stored + evicted, rounds, "every round was stored, and the ones evicted for room are counted");
    const refused = first.log.filter((l) => /\(dropped|without the outbox/.test(l));
    deepEqual(refused, [], "nothing bypassed the outbox");
    const second = worldRig(largestConfig(), flash, store);
    await second.app.start();
    await run(second.clock, 6000);
    second.app.stop();
    const sent = second.broker.sent.filter((m) => m.topic.endsWith("/telemetry"));
    const firstBoot = sent.map((m) => parseTelemetry(m.payload)).filter((t) => t.boot === 1);
    deepEqual(
      firstBoot.map((t) => t.seq),
      Array.from({ length: stored }, (_, i) => evicted + i + 1),
      "the first boot's newest telemetry arrives whole and in order after the reboot",
    );
    const largest = Math.max(...sent.map((m) => m.payload.length));
    ok(largest > 4096, "records larger than a 4096-byte block: the largest is " + largest + " bytes");
    ok(largest < 8000 / 1.5, "and well inside the outbox's 8000-byte limit: " + largest);
    const health = firstBoot[firstBoot.length - 1]!.health.outbox;
    deepEqual([health.dropped, health.lost.evicted], [evicted - 1, evicted - 1], "counted in health telemetry");
  });

  test("the-boot-in-telemetry-never-repeats-when-the-store-is-read-only-or-garbage", async () => {
    const flash = new SimFlash({ byteLength: 16 * 4096, blockSize: 4096 });
    const readOnly: Store = {
      get: () => undefined,
      set: () => {
        throw new Error("NVS: read-only");
      },
      delete: () => {},
    };
    const boots: number[] = [],
      identities: unknown[] = [];
    const reboot = async (store: Map<string, string> | Store) => {
      const r = worldRig({ intervalMs: 1000, sensors: [{ part: "sht3x" }] }, flash, store);
      await r.app.start();
      await run(r.clock, 1100);
      r.app.stop();
      const t = parseTelemetry(r.broker.sent.find((m) => m.topic.endsWith("/telemetry"))!.payload);
      boots.push(t.boot);
      identities.push(t.health.identity);
      return r;
    };
    await reboot(readOnly);
    await reboot(readOnly);
    const map = new Map<string, string>();
    await reboot(map);
    map.set("boot", "garbage");
    const last = await reboot(map);
    deepEqual(boots, [1, 2, 3, 4], "a read-only store, then one that holds garbage");
    deepEqual(
      identities,
      [1, 2, 3, 4].map(() => ({ durable: true })),
      "the outbox's flash keeps the count",
    );
    ok(
      last.log.includes(
        "identity: the store's boot counter holds \"garbage\", not a count; counting on from the outbox's flash (boot 3)",
      ),
      last.log.join("\n"),
    );
  });

  test("qos1-telemetry-is-stored-before-it-is-sent-and-removed-after-puback", async () => {
    const r = rig();
    r.broker.autoAck = false;
    await r.app.start();
    await run(r.clock, 3100);
    const telemetry = r.broker.sent.filter((m) => m.topic === "telltale/t1/telemetry");
    equal(telemetry.length, 3);
    equal(r.app.outbox.pending, 3, "sent but unacknowledged messages stay in the outbox");
    r.broker.socket!.ackAll();
    await settle(12);
    equal(r.app.outbox.pending, 0, "each PUBACK removes its message");
    r.app.stop();
  });

  test("backlog-drains-in-order-at-the-configured-rate-after-reconnect", async () => {
    const r = rig();
    r.broker.online = false;
    await r.app.start();
    await run(r.clock, 20_000);
    ok(r.app.outbox.pending >= 19, "stored while offline: " + r.app.outbox.pending);
    equal(r.broker.sent.length, 0);
    r.broker.online = true;
    await run(r.clock, 10_000);
    const got = seqs(r.broker.sent, "telemetry");
    const sorted = got.slice().sort((a, b) => a - b);
    deepEqual(got, sorted, "in order");
    equal(got[0], 1);
    for (let i = 1; i < got.length; i++) equal(got[i], got[i - 1]! + 1, "no gap after " + got[i - 1]);
    // Paced: 5 per second, with at most one second's worth sent at once.
    const first = r.broker.sent[0]!.at;
    const inFirstTwoSeconds = r.broker.sent.filter((m) => m.topic.endsWith("telemetry") && m.at < first + 2000).length;
    ok(inFirstTwoSeconds <= 5 + 10 + 1, "drained at the configured rate: " + inFirstTwoSeconds + " in 2 s");
    ok(r.app.outbox.pending <= 1, "the backlog is gone: " + r.app.outbox.pending);
    r.app.stop();
  });

  test("live-alarm-is-not-delayed-by-a-backlog", async () => {
    // On flash: the 30-message backlog is all kept (a RAM outbox would evict some of it).
    const r = rig({}, new SimFlash({ byteLength: 16 * 4096, blockSize: 4096 }));
    r.broker.online = false;
    await r.app.start();
    await run(r.clock, 30_000);
    r.broker.online = true;
    // Reconnect, then raise an alarm while the 30-message backlog drains at 5 per second.
    await run(r.clock, 1500);
    ok(r.app.connected, r.log.join("\n"));
    r.setTemperature(60);
    await run(r.clock, 2000);
    const alarm = r.broker.sent.find((m) => m.topic.endsWith("alarm"));
    ok(alarm !== undefined, "alarm sent: " + r.log.slice(-5).join(" | "));
    ok(r.app.outbox.pendingOf(0) > 5, "while the backlog is still draining: " + r.app.outbox.pendingOf(0));
    r.app.stop();
  });

  test("unacknowledged-messages-are-sent-again-after-reconnect", async () => {
    const r = rig();
    r.broker.autoAck = false;
    await r.app.start();
    await run(r.clock, 2100);
    deepEqual(seqs(r.broker.sent, "telemetry"), [1, 2]);
    r.broker.autoAck = true;
    r.broker.socket!.drop();
    await run(r.clock, 2000);
    const again = seqs(r.broker.sent, "telemetry");
    deepEqual(again.slice(2, 4), [1, 2], "resent in order on the new connection: " + again.join(","));
    equal(r.app.outbox.pending, 0);
    r.app.stop();
  });

  test("stored-messages-survive-a-reboot-on-flash", async () => {
    const flash = new SimFlash({ byteLength: 16 * 4096, blockSize: 4096 });
    const first = rig({}, flash);
    first.broker.online = false;
    await first.app.start();
    await run(first.clock, 5000);
    first.app.stop();
    equal(first.app.outbox.pending, 5);
    const second = rig({}, flash);
    for (const [k, v] of first.store) second.store.set(k, v);
    await second.app.start();
    equal(second.app.boot, 2);
    ok(
      second.log.some((l) => l === "outbox: 5 message(s) pending"),
      second.log.join("\n"),
    );
    await run(second.clock, 3000);
    const sent = second.broker.sent.filter((m) => m.topic.endsWith("telemetry")).map((m) => parseTelemetry(m.payload));
    deepEqual(
      sent.slice(0, 5).map((m) => [m.boot, m.seq]),
      [
        [1, 1],
        [1, 2],
        [1, 3],
        [1, 4],
        [1, 5],
      ],
      "the first boot's telemetry goes first",
    );
    equal(sent[5]?.boot, 2);
    equal(second.app.outbox.pending, 0);
    second.app.stop();
  });

  test("health-telemetry-reports-outbox-pending-and-dropped", async () => {
    const r = rig();
    r.broker.online = false;
    await r.app.start();
    await run(r.clock, 3100);
    r.broker.online = true;
    await run(r.clock, 3000);
    const third = r.broker.sent
      .filter((m) => m.topic.endsWith("telemetry"))
      .map((m) => parseTelemetry(m.payload))
      .find((m) => m.seq === 3);
    deepEqual(
      third?.health.outbox,
      { pending: 2, dropped: 0, droppedAlarms: 0, lost: NONE_LOST, durable: false },
      "built while two earlier messages waited",
    );
    r.app.stop();
  });

  test("flash-outbox-is-reported-durable", async () => {
    const r = rig({}, new SimFlash({ byteLength: 8 * 4096, blockSize: 4096 }));
    await r.app.start();
    await run(r.clock, 1100);
    equal(r.app.uplink.delivery.durable, true);
    ok(r.log.includes("outbox: 0 message(s) pending"), r.log.join("\n"));
    deepEqual(lastTelemetry(r.broker.sent).health.outbox, {
      pending: 0,
      dropped: 0,
      droppedAlarms: 0,
      lost: NONE_LOST,
      durable: true,
    });
    r.app.stop();
  });

  test("host-flash-problem-is-reported-at-start-and-in-health", async () => {
    const problem = 'no "storage" partition in the partition table';
    const r = rig({}, undefined, problem);
    await r.app.start();
    await run(r.clock, 1100);
    equal(r.app.uplink.delivery.durable, false);
    ok(r.log.includes("outbox: 0 message(s) pending (RAM only: " + problem + ")"), r.log.join("\n"));
    deepEqual(lastTelemetry(r.broker.sent).health.outbox, {
      pending: 0,
      dropped: 0,
      droppedAlarms: 0,
      lost: NONE_LOST,
      durable: false,
      error: problem,
    });
    r.app.stop();
  });

  test("unusable-flash-keeps-the-outbox-in-ram-and-says-why", async () => {
    const broken: Flash = {
      byteLength: 16 * 4096,
      blockSize: 4096,
      read() {
        throw new Error("SPI flash: read timeout");
      },
      write() {},
      erase() {},
    };
    const r = rig({}, broken);
    await r.app.start();
    await run(r.clock, 2100);
    equal(r.app.uplink.delivery.durable, false);
    ok(
      r.log.includes("outbox: 0 message(s) pending (RAM only: flash unusable: SPI flash: read timeout)"),
      r.log.join("\n"),
    );
    const health = lastTelemetry(r.broker.sent).health.outbox;
    deepEqual(health, {
      pending: 0,
      dropped: 0,
      droppedAlarms: 0,
      lost: NONE_LOST,
      durable: false,
      error: "flash unusable: SPI flash: read timeout",
    });
    equal(seqs(r.broker.sent, "telemetry").length, 2, "telemetry still flows through the RAM outbox");
    r.app.stop();
  });

  test("refused-connection-is-retried-after-at-least-half-the-backoff-window", async () => {
    const r = rig({ broker: { url: "mqtt://broker.test:1883", backoffBaseMs: 1000, backoffCapMs: 8000 } });
    r.broker.connack = 5;
    await r.app.start();
    await run(r.clock, 20_000, 100);
    const delays = r.log
      .filter((l) => /connection refused: not authorized \(5\)\); retrying in/.test(l))
      .map((l) => Number(/retrying in (\d+) ms/.exec(l)![1]));
    ok(delays.length >= 3, r.log.join("\n"));
    // Windows 1, 2, 4, then 8 s (the cap); at least half of each passes, so 20 s hold at most 7 attempts
    // (the first at 0 s, then after waits of at least 0.6, 1.1, 2.1, 4.1, 4.1, 4.1 s), whatever the jitter draws.
    delays.forEach((d, i) => {
      const window = Math.min(8000, 1000 * 2 ** i);
      ok(d >= window / 2 && d <= window + 100, "attempt " + i + " waited " + d + " ms");
    });
    ok(r.broker.connects <= 7, "not a tight loop: " + r.broker.connects + " attempts in 20 s");
    r.app.stop();
  });
});
