// Delivery against a fake client and fake flash: QoS routing, store before send, PUBACK removal, pacing, the window, flash faults.
import { suite, test, equal, deepEqual, ok } from "../harness.js";
import { Delivery, WINDOW, ALARM_RESERVE, MAX_MESSAGE_BYTES, type Publisher } from "../../src/delivery.js";
import { SimFlash } from "telltale/sim/flash";
import { ALARM, TELEMETRY } from "telltale/storage/outbox";
import { MemoryFlash } from "telltale/storage/memory-flash";
import type { Flash } from "telltale/io/io";
import { ManualClock } from "../support/manual-clock.js";

interface Sent {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  id: number;
  at: number;
}

/** The session as delivery sees it: records what it is handed, and can refuse. */
class FakeClient implements Publisher {
  connected = true;
  refuse = false;
  readonly sent: Sent[] = [];
  #id = 0;
  constructor(readonly clock: ManualClock) {}
  publish(topic: string, payload: string | Uint8Array, options: { qos: 0 | 1; retain?: boolean }): number {
    if (this.refuse) throw new Error("MQTTClient: queue full");
    const text = typeof payload === "string" ? payload : String.fromCharCode(...payload);
    const id = options.qos ? ++this.#id : 0;
    this.sent.push({
      topic,
      payload: text,
      qos: options.qos,
      retain: options.retain ?? false,
      id,
      at: this.clock.now(),
    });
    return id;
  }
}

/** Flash that works until told to fail its writes or reads. */
class FaultyFlash implements Flash {
  readonly #inner = new MemoryFlash({ byteLength: 8 * 4096, blockSize: 4096 });
  failWrites = false;
  failReads = false;
  get byteLength(): number {
    return this.#inner.byteLength;
  }
  get blockSize(): number {
    return this.#inner.blockSize;
  }
  read(offset: number, length: number): ArrayBuffer {
    if (this.failReads) throw new Error("flash: read failed");
    return this.#inner.read(offset, length);
  }
  write(offset: number, bytes: ArrayBuffer | ArrayBufferView): void {
    if (this.failWrites) throw new Error("flash: write failed");
    this.#inner.write(offset, bytes);
  }
  erase(sector: number): void {
    this.#inner.erase(sector);
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function rig(options: { telemetryQos?: 0 | 1; flash?: Flash; flashProblem?: string; drainPerSecond?: number } = {}) {
  const clock = new ManualClock(),
    log: string[] = [],
    counters = { published: 0, dropped: 0 };
  const delivery = new Delivery({
    flash: options.flash,
    flashProblem: options.flashProblem,
    clock,
    log: (line) => log.push(line),
    topics: { telemetry: "t/telemetry", alarm: "t/alarm" },
    telemetryQos: options.telemetryQos ?? 1,
    drainPerSecond: options.drainPerSecond ?? 5,
    counters,
  });
  const client = new FakeClient(clock);
  const connect = () => {
    delivery.attach(client);
    delivery.resume();
  };
  const ackAll = () => {
    for (const m of client.sent.splice(0)) delivery.acknowledged(m.id);
  };
  return { clock, log, counters, delivery, client, connect, ackAll };
}

suite("delivery", () => {
  test("qos1-is-stored-before-it-is-sent-and-removed-by-its-puback", () => {
    const r = rig();
    r.connect();
    r.clock.advance(1000);
    r.delivery.publish(TELEMETRY, '{"seq":1}', "telemetry #1");
    deepEqual(
      r.client.sent.map((m) => [m.topic, m.payload, m.qos]),
      [["t/telemetry", '{"seq":1}', 1]],
    );
    equal(r.delivery.pending, 1, "in the outbox until acknowledged");
    equal(r.delivery.inFlight, 1);
    deepEqual(r.log, ["telemetry #1"]);
    r.ackAll();
    equal(r.delivery.pending, 0);
    equal(r.counters.published, 1);
  });

  test("qos0-telemetry-bypasses-the-outbox-and-is-dropped-while-disconnected", () => {
    const r = rig({ telemetryQos: 0 });
    r.delivery.publish(TELEMETRY, "{}", "telemetry #1");
    deepEqual(r.log, ["telemetry #1 (not sent: broker unreachable)"]);
    equal(r.counters.dropped, 1);
    r.connect();
    r.delivery.publish(TELEMETRY, "{}", "telemetry #2");
    deepEqual(
      r.client.sent.map((m) => m.qos),
      [0],
    );
    equal(r.delivery.pending, 0);
    r.delivery.publish(ALARM, "{}", "ALARM raised");
    equal(r.client.sent[1]?.qos, 1, "alarms are QoS 1 whatever telemetry is");
  });

  test("stored-while-detached-and-sent-in-order-after-resume", () => {
    const r = rig({ drainPerSecond: 100 });
    for (let i = 1; i <= 3; i++) r.delivery.publish(TELEMETRY, String(i), "telemetry #" + i);
    equal(r.log[0], "telemetry #1 (stored: broker unreachable)");
    r.connect();
    r.clock.advance(1000);
    deepEqual(
      r.client.sent.map((m) => m.payload),
      ["1", "2", "3"],
    );
  });

  test("alarms-go-first-and-telemetry-drains-at-the-configured-rate", () => {
    const r = rig({ drainPerSecond: 5 });
    for (let i = 1; i <= 20; i++) r.delivery.publish(TELEMETRY, String(i), "");
    r.delivery.publish(ALARM, "alarm", "");
    r.connect();
    deepEqual(
      r.client.sent.map((m) => m.payload),
      ["alarm"],
      "the alarm at once, telemetry waits for a token",
    );
    for (let t = 0; t < 2000; t += 50) {
      r.clock.advance(50);
      r.ackAll();
    }
    equal(r.counters.published, 1 + 10, "5 per second for 2 s");
  });

  test("window-holds-eight-and-keeps-two-for-alarms", () => {
    const r = rig({ drainPerSecond: 1000 });
    r.connect();
    for (let i = 1; i <= 12; i++) {
      r.clock.advance(10);
      r.delivery.publish(TELEMETRY, String(i), "");
    }
    equal(r.delivery.inFlight, WINDOW - ALARM_RESERVE, "telemetry stops short of the window");
    for (let i = 1; i <= 4; i++) r.delivery.publish(ALARM, "a" + i, "");
    equal(r.delivery.inFlight, WINDOW, "alarms use the reserve");
    r.ackAll();
    deepEqual(
      r.client.sent.map((m) => m.payload),
      ["a3", "a4", "7", "8", "9", "10"],
      "as PUBACKs free the window: the alarms left first, then telemetry up to its share",
    );
    equal(r.delivery.inFlight, WINDOW - ALARM_RESERVE);
  });

  test("a-message-the-client-refuses-stays-due", () => {
    const r = rig({ drainPerSecond: 100 });
    r.connect();
    r.client.refuse = true;
    r.clock.advance(1000);
    r.delivery.publish(TELEMETRY, "1", "");
    equal(r.client.sent.length, 0);
    r.client.refuse = false;
    r.clock.advance(1000);
    r.delivery.publish(TELEMETRY, "2", "");
    deepEqual(
      r.client.sent.map((m) => m.payload),
      ["1", "2"],
    );
  });

  test("resume-sends-unacknowledged-messages-again", () => {
    const r = rig({ drainPerSecond: 100 });
    r.connect();
    r.clock.advance(1000);
    r.delivery.publish(TELEMETRY, "1", "");
    r.delivery.detach();
    equal(r.delivery.inFlight, 0);
    r.connect();
    r.clock.advance(1000);
    deepEqual(
      r.client.sent.map((m) => m.payload),
      ["1", "1"],
    );
    r.delivery.acknowledged(999);
    equal(r.delivery.pending, 1, "an id not in flight (the status message's) changes nothing");
  });

  test("flash-that-fails-a-write-costs-no-message-while-connected", () => {
    const flash = new FaultyFlash(),
      r = rig({ flash });
    r.connect();
    flash.failWrites = true;
    r.delivery.publish(ALARM, "a", "ALARM raised");
    deepEqual(
      r.client.sent.map((m) => [m.topic, m.qos]),
      [["t/alarm", 1]],
    );
    deepEqual(r.log, ["outbox: flash: write failed", "ALARM raised (sent without the outbox: outbox failed)"]);
    r.client.connected = false;
    r.delivery.publish(TELEMETRY, "t", "telemetry #2");
    equal(r.log[3], "telemetry #2 (dropped: outbox failed and broker unreachable)");
    deepEqual([r.delivery.dropped, r.delivery.lost.unwritable, r.counters.dropped], [1, 1, 0], "an outbox loss");
  });

  test("record-that-rotted-in-flash-is-dropped-and-does-not-block-the-rest", () => {
    const flash = new FaultyFlash(),
      r = rig({ flash, drainPerSecond: 100 });
    r.delivery.publish(TELEMETRY, "1", "");
    flash.failReads = true;
    r.connect();
    r.clock.advance(1000);
    ok(
      r.log.includes(
        "outbox: Outbox: record 1 (telemetry) at flash offset 0 could not be read (flash: read failed); dropped",
      ),
      r.log.join("\n"),
    );
    deepEqual([r.delivery.dropped, r.delivery.lost.damaged], [1, 1]);
    flash.failReads = false;
    r.delivery.publish(TELEMETRY, "2", "");
    deepEqual(
      r.client.sent.map((m) => m.payload),
      ["2"],
    );
  });

  test("outbox-says-whether-it-is-durable-and-why-not", () => {
    const good = rig({ flash: new FaultyFlash() }).delivery;
    deepEqual([good.durable, good.error, good.summary()], [true, undefined, "outbox: 0 message(s) pending"]);
    const none = rig().delivery;
    deepEqual(
      [none.durable, none.error, none.summary()],
      [false, undefined, "outbox: 0 message(s) pending (RAM only: no flash)"],
    );
    const missing = rig({ flashProblem: 'no "storage" partition' }).delivery;
    deepEqual([missing.durable, missing.error], [false, 'no "storage" partition']);
    const tiny: Flash = new MemoryFlash({ byteLength: 4096, blockSize: 4096 });
    const unusable = rig({ flash: tiny }).delivery;
    const why =
      "flash unusable: Outbox: flash must hold at least 2 segments of 8192 bytes (2 block(s) of 4096, for records of " +
      "up to 8000 bytes), got 4096";
    deepEqual([unusable.durable, unusable.error], [false, why]);
    equal(unusable.summary(), "outbox: 0 message(s) pending (RAM only: " + why + ")");
  });

  test("a-message-over-the-outbox-limit-is-sent-at-once-or-counted-as-too-large", () => {
    const r = rig();
    const big = "x".repeat(MAX_MESSAGE_BYTES);
    r.connect();
    r.delivery.publish(TELEMETRY, big, "telemetry #1");
    deepEqual(
      r.client.sent.map((m) => [m.topic, m.payload.length, m.qos]),
      [["t/telemetry", MAX_MESSAGE_BYTES, 1]],
    );
    equal(r.log[0], "telemetry #1 (sent without the outbox: 8011 bytes is over the outbox's 8000-byte limit)");
    r.client.connected = false;
    r.delivery.publish(ALARM, big, "ALARM raised");
    equal(r.log[1], "ALARM raised (dropped: 8007 bytes is over the outbox's 8000-byte limit and broker unreachable)");
    deepEqual([r.delivery.dropped, r.delivery.droppedAlarms, r.delivery.lost.tooLarge], [1, 1, 1]);
    r.delivery.publish(TELEMETRY, "x".repeat(MAX_MESSAGE_BYTES - 11), "telemetry #2");
    equal(r.delivery.pending, 1, "a message at the limit is stored");
  });

  test("damage-found-at-start-is-named-in-the-summary-and-counted", () => {
    const flash = new SimFlash({ byteLength: 8 * 4096, blockSize: 4096 });
    const first = rig({ flash }).delivery;
    first.publish(TELEMETRY, '{"seq":1}', "");
    first.publish(ALARM, '{"alarm":2}', "");
    first.publish(TELEMETRY, '{"seq":3}', "");
    // One bit flips in the alarm's payload (no boot was stamped, so the first record is at offset 0).
    const alarmAt = align4(16 + "t/telemetry".length + 9);
    flash.bytes[alarmAt + 16 + 3]! ^= 0x04;
    const second = rig({ flash }).delivery;
    equal(
      second.summary(),
      "outbox: 2 message(s) pending, 1 damaged record(s) lost (1 alarm(s)): record 2 (alarm) at offset " + alarmAt,
    );
    deepEqual([second.dropped, second.droppedAlarms, second.lost.damaged], [1, 1, 1]);
    equal(rig({ flash }).delivery.summary(), "outbox: 2 message(s) pending", "reported once");
  });
});
