// The firmware against a raw TCP broker that misbehaves: each fault gives a clear error, and the device reconnects cleanly.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { FakeBroker, type Behaviour } from "./support/fake-broker.js";
import { startFirmware, waitFor, type Firmware } from "./support/firmware.js";
import { encodePublish } from "../../modules/mqtt/encode.js";
import { ALARM } from "../../modules/storage/outbox.js";
import { parseTelemetry } from "../support/wire.js";

const running: Firmware[] = [];
const brokers: FakeBroker[] = [];
after(async () => {
  for (const fw of running) fw.app.stop();
  for (const b of brokers) await b.close();
});

/** A PUBLISH the device sent, as the fake broker reads it (§3.3). */
function publishOf(packet: Buffer): { topic: string; payload: string; dup: boolean; id: number } {
  let i = 1;
  while (packet[i++]! & 0x80);
  const topicLength = packet.readUInt16BE(i);
  const topic = packet.subarray(i + 2, i + 2 + topicLength).toString();
  let at = i + 2 + topicLength,
    id = 0;
  if (packet[0]! & 0x06) {
    id = packet.readUInt16BE(at);
    at += 2;
  }
  return { topic, payload: packet.subarray(at).toString(), dup: (packet[0]! & 0x08) !== 0, id };
}

/** The first connection misbehaves, every later one is a well-behaved broker. */
async function rig(id: string, first: Behaviour, broker: Record<string, unknown> = {}) {
  const fake = await FakeBroker.start((n) => (n === 1 ? first : {}));
  brokers.push(fake);
  const fw = startFirmware(id, {
    url: `mqtt://127.0.0.1:${fake.port}`,
    backoffBaseMs: 200,
    backoffCapMs: 1000,
    ...broker,
  });
  running.push(fw);
  const dump = () => fw.log.slice(-20).join("\n");
  return { fake, fw, dump };
}

/** Waits for the logged error, then for a second connection on which telemetry is published and acknowledged. */
async function expectErrorThenRecovery(r: Awaited<ReturnType<typeof rig>>, error: RegExp): Promise<string> {
  const line = await waitFor("error " + error, () => r.fw.log.find((l) => error.test(l)), 15_000, r.dump);
  await waitFor("telemetry on a new connection", () => r.fake.published(2) >= 2 && r.fw.app.connected, 15_000, r.dump);
  await waitFor("outbox drained", () => r.fw.app.outbox.pending <= 1, 10_000, r.dump);
  assert.ok(
    r.fw.log.some((l) => /mqtt: connection lost \(.*\); retrying in \d+ ms/.test(l)),
    "the drop is logged",
  );
  r.fw.app.stop();
  return line;
}

test("malformed-remaining-length-is-a-clear-error-then-reconnect", async () => {
  const r = await rig("mis-a", {
    onPacket: (c, type) => {
      if (type === 1) {
        c.send([0x20, 0xff, 0xff, 0xff, 0xff, 0x01]);
        return true;
      }
    },
  });
  await expectErrorThenRecovery(r, /^mqtt: MQTT: malformed remaining length$/);
});

test("reserved-packet-type-is-a-clear-error-then-reconnect", async () => {
  const r = await rig("mis-b", {
    onPacket: (c, type) => {
      if (type === 1) {
        c.send([0x20, 2, 0, 0, 0x00, 0x00]);
        return true;
      }
    },
  });
  await expectErrorThenRecovery(r, /^mqtt: MQTT: reserved packet type 0$/);
});

test("publish-with-invalid-utf8-topic-is-a-clear-error-then-reconnect", async () => {
  const r = await rig("mis-c", {
    onPacket: (c, type) => {
      if (type === 1) {
        c.send([0x20, 2, 0, 0, 0x30, 5, 0, 2, 0xc3, 0x28, 0x41]);
        return true;
      }
    },
  });
  await expectErrorThenRecovery(r, /^mqtt: MQTT: topic is not valid UTF-8$/);
});

test("oversized-packet-other-than-publish-is-refused-before-it-is-buffered-then-reconnect", async () => {
  // A SUBACK announcing 100 000 bytes: refused from its header, with 64 KiB the device's limit. (An oversized PUBLISH
  // is skipped instead: see oversized-retained-command-… below.)
  const r = await rig("mis-d", {
    onPacket: (c, type) => {
      if (type === 1) {
        c.send([0x20, 2, 0, 0, 0x90, 0xa0, 0x8d, 0x06, 0, 1, 0x01]);
        return true;
      }
    },
  });
  await expectErrorThenRecovery(r, /^mqtt: MQTT: packet of 100004 bytes exceeds the 65536-byte limit$/);
});

test("puback-for-unknown-id-is-reported-and-the-session-goes-on", async () => {
  // A stray acknowledgement harms nothing already sent, so the connection is kept rather than dropped.
  const fake = await FakeBroker.start(() => ({
    onPacket: (c, type) => {
      if (type === 1) {
        c.send([0x20, 2, 0, 0, 0x40, 2, 0x10, 0x92]);
        return true;
      }
    },
  }));
  brokers.push(fake);
  const fw = startFirmware("mis-e", { url: `mqtt://127.0.0.1:${fake.port}`, backoffBaseMs: 200, backoffCapMs: 1000 });
  running.push(fw);
  await waitFor(
    "unknown PUBACK reported",
    () => fw.log.find((l) => l === "mqtt: MQTT: PUBACK for unknown packet id 4242"),
    10_000,
    () => fw.log.join("\n"),
  );
  await waitFor(
    "telemetry acknowledged on the same connection",
    () => fake.published(1) >= 5 && fw.app.outbox.pending <= 1,
    10_000,
    () => fw.log.join("\n"),
  );
  assert.equal(fake.connections.length, 1);
  fw.app.stop();
});

test("connack-refusal-is-reported-with-its-code-and-not-retried-in-a-tight-loop", async () => {
  const fake = await FakeBroker.start(() => ({
    onPacket: (c, type) => {
      if (type === 1) {
        c.send([0x20, 2, 0, 4]);
        return true;
      }
    },
  }));
  brokers.push(fake);
  const fw = startFirmware("mis-f", { url: `mqtt://127.0.0.1:${fake.port}`, backoffBaseMs: 500, backoffCapMs: 4000 });
  running.push(fw);
  await waitFor(
    "refusal reported",
    () => fw.log.find((l) => l === "mqtt: MQTT: connection refused: bad user name or password (4)"),
    10_000,
    () => fw.log.join("\n"),
  );
  await new Promise((r) => setTimeout(r, 6000));
  fw.app.stop();
  const gaps = fake.times.slice(1).map((t, i) => t - fake.times[i]!);
  console.log(`# refusal: ${fake.connections.length} attempts in 6 s, gaps ${gaps.join(", ")} ms`);
  assert.ok(fake.connections.length <= 5, "attempts: " + fake.connections.length);
  // Each retry waits at least half its backoff window: 250, 500, 1000, 2000 ms.
  gaps.forEach((gap, i) => assert.ok(gap >= Math.min(4000, 500 * 2 ** i) / 2 - 50, `retry ${i + 1} after ${gap} ms`));
});

test("broker-that-stops-answering-pingreq-is-detected-then-reconnect", async () => {
  // After CONNACK the broker reads everything and answers nothing (no PUBACK, no PINGRESP): a half-open link.
  const r = await rig(
    "mis-g",
    {
      onPacket: (c, type) => {
        if (type === 1) c.send([0x20, 2, 0, 0]);
        return true;
      },
    },
    { keepalive: 5 },
  );
  const line = await expectErrorThenRecovery(r, /^mqtt: MQTT: no response from broker within 7\.5 s$/);
  assert.ok(r.fake.connections[0]?.received.includes(12), "a PINGREQ was sent before giving up: " + line);
});

test("oversized-retained-command-is-acknowledged-and-discarded-and-the-session-goes-on", async () => {
  // On every SUBSCRIBE the broker replays a retained 100 KB QoS 1 command, as a real one would on every connection.
  const big = encodePublish({
    topic: "telltale/mis-h/command",
    payload: new Uint8Array(100_000).fill(0x20),
    qos: 1,
    id: 77,
    retain: true,
  });
  const telemetry: string[] = [];
  let pubacks = 0;
  const fake = await FakeBroker.start(() => ({
    onPacket: (c, type, packet) => {
      if (type === 8) {
        c.send([0x90, 3, packet[2]!, packet[3]!, 1]);
        c.send(big);
        return true;
      }
      if (type === 4 && packet.readUInt16BE(2) === 77) pubacks++;
      if (type === 3) {
        const p = publishOf(packet);
        if (p.topic === "telltale/mis-h/telemetry") telemetry.push(p.payload);
      }
    },
  }));
  brokers.push(fake);
  const fw = startFirmware("mis-h", { url: `mqtt://127.0.0.1:${fake.port}`, backoffBaseMs: 200, backoffCapMs: 1000 });
  running.push(fw);
  const dump = () => fw.log.slice(-20).join("\n");
  const line = `mqtt: MQTT: discarded a retained message of ${big.length} bytes on "telltale/mis-h/command" (over the 65536-byte limit)`;
  await waitFor("the discard logged with topic and size", () => fw.log.includes(line), 10_000, dump);
  const after = telemetry.length;
  await waitFor("telemetry goes on", () => telemetry.length >= after + 20, 15_000, dump);
  fw.app.stop();
  assert.equal(fake.connections.length, 1, "no reconnect: " + dump());
  assert.equal(pubacks, 1, "acknowledged once, so the broker does not send it again");
  assert.equal(fw.app.stats.oversized, 1);
  assert.equal(parseTelemetry(telemetry[telemetry.length - 1]!).health.mqtt.oversized, 1, "counted in health");
});

test("broker-that-answers-pings-but-never-acknowledges-gets-resends-then-a-new-connection-and-the-alarm-arrives", async () => {
  // Connections acknowledge nothing (PINGREQ is answered) until one has seen the alarm resent with DUP; the next
  // connection is a well-behaved broker.
  let alarmResent = false;
  const silent: number[] = [];
  const alarms: { n: number; dup: boolean }[] = [];
  const fake = await FakeBroker.start((n) => {
    if (alarmResent) return {};
    silent.push(n);
    return {
      onPacket: (c, type, packet) => {
        if (type === 1) {
          c.send([0x20, 2, 0, 0]);
          return true;
        }
        if (type !== 3) return;
        const p = publishOf(packet);
        if (p.topic === "telltale/mis-i/alarm") {
          alarms.push({ n, dup: p.dup });
          if (p.dup) alarmResent = true;
        }
        return true;
      },
    };
  });
  brokers.push(fake);
  const fw = startFirmware(
    "mis-i",
    { url: `mqtt://127.0.0.1:${fake.port}`, backoffBaseMs: 200, backoffCapMs: 1000, keepalive: 5 },
    { periodMs: 3000, fault: { kind: "step", atMs: 9000, size: 4 } },
  );
  running.push(fw);
  const dump = () =>
    fw.log
      .filter((l) => l.startsWith("mqtt") || l.startsWith("ALARM"))
      .slice(-20)
      .join("\n");
  await waitFor("the alarm resent with DUP on a silent connection", () => alarmResent, 45_000, dump);
  const good = silent[silent.length - 1]! + 1;
  await waitFor(
    "the alarm on a well-behaved connection",
    () => fake.connections[good - 1]?.received.includes(3),
    25_000,
    dump,
  );
  await waitFor("the alarm acknowledged", () => fw.app.outbox.pendingOf(ALARM) === 0, 10_000, dump);
  fw.app.stop();
  assert.ok(
    fw.log.some((l) =>
      /^mqtt: MQTT: message \d+( and \d+ more)? not acknowledged within 5 s; resent \d+ message\(s\) with DUP \(resend 1 of 2\)$/.test(
        l,
      ),
    ),
    "resends are logged: " + dump(),
  );
  assert.ok(
    fw.log.some((l) =>
      /^mqtt: connection lost \(MQTT: message \d+( and \d+ more)? not acknowledged within 5 s after 2 resend\(s\); closing the connection\)/.test(
        l,
      ),
    ),
    "the silent connection is closed as the PINGREQ rule would: " + dump(),
  );
  assert.ok(
    alarms.some((a) => !a.dup) && alarms.some((a) => a.dup),
    "sent, then resent with DUP: " + JSON.stringify(alarms),
  );
  assert.ok(fake.connections[0]!.received.includes(12), "PINGREQ was answered on the silent connection");
});
