// bench:bandwidth — bytes per hour on the wire: the app's telemetry (deciding at the edge) versus streaming the raw samples
// of the same sensors. The telemetry side runs the real app for one simulated hour (a manual clock, the Node host's simulated
// sensors, a broker stand-in that acknowledges and counts every byte); the raw side encodes the packets a streaming device
// would send with the same codec. "On the wire" adds, per MQTT packet, a TLS 1.2 AES-GCM record (29 bytes: header, explicit
// nonce, tag) and one TCP/IPv4 segment (40 bytes of headers); TCP ACKs, retransmissions and the TLS handshake are left out.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const build = new URL("../build/", import.meta.url).pathname;
if (!existsSync(join(build, "src/app.js"))) {
  console.error("bench:bandwidth: run `npm run build` first");
  process.exit(2);
}
const { App } = await import(join(build, "src/app.js"));
const { createNodeHost } = await import(join(build, "hosts/node/host.js"));
const { parseConfig } = await import(join(build, "modules/config/config.js"));
const { ManualClock } = await import(join(build, "tests/support/manual-clock.js"));
const { encodePublish, encodePuback } = await import(join(build, "modules/mqtt/encode.js"));

const HOUR_MS = 3_600_000;
const TLS_RECORD = 29,
  TCP_IP = 40;

/** A broker stand-in: CONNACK, PUBACK for every QoS 1 PUBLISH, PINGRESP; counts bytes and packets both ways. */
function countingSocket(counts) {
  return class CountingSocket {
    #options;
    #inbox = [];
    #pending = new Uint8Array(0);
    constructor(options) {
      this.#options = options;
      Promise.resolve().then(() => options.onWritable?.call(this, 1 << 20));
    }
    read() {
      const c = this.#inbox.shift();
      return c ? c.buffer : undefined;
    }
    write(buffer) {
      const bytes = ArrayBuffer.isView(buffer)
        ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
        : new Uint8Array(buffer);
      const all = new Uint8Array(this.#pending.length + bytes.length);
      all.set(this.#pending);
      all.set(bytes, this.#pending.length);
      let at = 0;
      for (;;) {
        if (at + 2 > all.length) break;
        let length = 0,
          shift = 0,
          i = at + 1;
        for (;;) {
          const b = all[i++];
          length |= (b & 0x7f) << shift;
          shift += 7;
          if (!(b & 0x80)) break;
        }
        if (i + length > all.length) break;
        const type = all[at] >> 4;
        counts.up += i + length - at;
        counts.upPackets++;
        if (type === 3) counts.publishes++;
        if (type === 1) this.#reply(Uint8Array.of(0x20, 2, 0, 0));
        else if (type === 3 && all[at] & 0x06)
          this.#reply(
            Uint8Array.of(
              0x40,
              2,
              all[i + 2 + ((all[i] << 8) | all[i + 1])],
              all[i + 3 + ((all[i] << 8) | all[i + 1])],
            ),
          );
        else if (type === 12) this.#reply(Uint8Array.of(0xd0, 0));
        at = i + length;
      }
      this.#pending = all.slice(at);
      Promise.resolve().then(() => this.#options.onWritable?.call(this, 1 << 20));
    }
    #reply(bytes) {
      counts.down += bytes.length;
      counts.downPackets++;
      Promise.resolve().then(() => {
        this.#inbox.push(bytes);
        this.#options.onReadable?.call(this, bytes.length);
      });
    }
    close() {}
  };
}

async function telemetryHour(raw) {
  const config = parseConfig(raw);
  const clock = new ManualClock();
  const counts = { up: 0, down: 0, upPackets: 0, downPackets: 0, publishes: 0 };
  const base = createNodeHost({
    storePath: join(mkdtempSync(join(tmpdir(), "telltale-bw-")), "store.json"),
    deviceId: "pump-3",
    sensors: config.sensors,
    clock,
    flash: false,
    log: () => {},
    machine: { fault: { kind: "none", atMs: 0, size: 0 } },
  });
  const app = new App({ ...base, tcp: countingSocket(counts) }, config);
  await app.start();
  const step = Math.min(1000, config.intervalMs);
  for (let t = 0; t < HOUR_MS; t += step) {
    clock.advance(step);
    for (let k = 0; k < 6; k++) await Promise.resolve();
  }
  app.stop();
  return { counts, config };
}

function wire(bytes, packets) {
  return bytes + packets * (TLS_RECORD + TCP_IP);
}
const kb = (n) => (n / 1024).toFixed(1).padStart(9) + " KiB";
function line(name, mqttBytes, packets) {
  console.log(
    `${name.padEnd(58)} ${kb(mqttBytes)} MQTT   ${kb(wire(mqttBytes, packets))} on the wire   ${String(packets).padStart(7)} packets`,
  );
}

/** A raw stream: `perHour` PUBLISH packets of `payload` bytes (QoS 1 adds a PUBACK each). */
function rawStream(topic, payload, perHour, qos) {
  const publish = encodePublish({ topic, payload: new Uint8Array(payload), qos, id: qos ? 1 : 0 }).length;
  const ack = qos ? encodePuback(1).length : 0;
  return { bytes: perHour * (publish + ack), packets: perHour * (qos ? 2 : 1), publish };
}

console.log(
  "bench:bandwidth — one hour, device pump-3; MQTT bytes both directions, and with TLS 1.2 + TCP/IPv4 headers per packet",
);
console.log("");

// 1. The default configuration: one SHT3x, telemetry every 5 s at QoS 1.
const def = await telemetryHour({ deviceId: "pump-3" });
const d = def.counts;
const perMessage = Math.round((d.up - 0) / Math.max(1, d.publishes));
console.log(
  `default configuration: ${def.config.sensors.map((s) => s.part).join(", ")}, intervalMs ${def.config.intervalMs}, telemetry QoS ${def.config.broker.telemetryQos}, keepalive ${def.config.broker.keepalive} s`,
);
line(
  `  edge: JSON telemetry (${d.publishes} PUBLISH, ~${perMessage} B each, + PUBACKs)`,
  d.up + d.down,
  d.upPackets + d.downPackets,
);
const samples = HOUR_MS / def.config.intervalMs;
// An SHT3x measurement is 6 bytes on I2C: temperature and humidity words, each with its CRC-8 (datasheet §4.4).
const sht = rawStream("telltale/pump-3/raw/sht3x", 6, samples, 1);
line(`  raw: each SHT3x measurement (6 B) as its own PUBLISH, QoS 1`, sht.bytes, sht.packets);
const shtFast = rawStream("telltale/pump-3/raw/sht3x", 6, HOUR_MS / 1000, 1);
line(`  raw: the same at 1 Hz (a server-side detector's usual rate)`, shtFast.bytes, shtFast.packets);
console.log("");

// 2. A vibration channel: the edge sends the same telemetry; streaming sends every accelerometer frame.
let vib;
try {
  vib = await telemetryHour({ deviceId: "pump-3", sensors: [{ part: "adxl345" }] });
} catch (e) {
  vib = undefined;
  console.log(`(accelerometer configuration unavailable here: ${e.message})`);
}
if (vib) {
  const v = vib.counts;
  console.log(
    `accelerometer configuration: ${vib.config.sensors.map((s) => s.part).join(", ")}, intervalMs ${vib.config.intervalMs}`,
  );
  line(`  edge: JSON telemetry (${v.publishes} PUBLISH + PUBACKs)`, v.up + v.down, v.upPackets + v.downPackets);
}
// 3 axes × 16 bits at 1600 Hz, sent as the FIFO fills: 32 frames (192 B) per PUBLISH, QoS 0.
const accel = rawStream("telltale/pump-3/raw/accel", 32 * 6, (1600 / 32) * 3600, 0);
line(`  raw: 3-axis 16-bit frames at 1600 Hz, 32 per PUBLISH, QoS 0`, accel.bytes, accel.packets);
const edge = vib ? vib.counts.up + vib.counts.down : d.up + d.down;
const edgePackets = vib ? vib.counts.upPackets + vib.counts.downPackets : d.upPackets + d.downPackets;
console.log(`  raw / edge on the wire: ${(wire(accel.bytes, accel.packets) / wire(edge, edgePackets)).toFixed(0)}×`);
console.log("");
console.log(
  `per hour: edge telemetry ${(wire(d.up + d.down, d.upPackets + d.downPackets) / 1e6).toFixed(2)} MB; raw vibration stream ${(wire(accel.bytes, accel.packets) / 1e6).toFixed(1)} MB`,
);
