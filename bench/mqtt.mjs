// bench:mqtt — the MQTT stack's costs: (1) QoS 1 messages per second over TLS to a real Mosquitto, our client and mqtt.js in
// the same run with the same payloads and in-flight window; (2) the codec's instructions per PUBLISH encode and decode in the
// real XS engine (valgrind callgrind on the unmetered xsnap, difference of two run lengths); (3) the decoder fuzzed with a
// million random and mutated inputs; (4) a reconnect storm: 200 devices, the broker killed and restarted, connection attempts
// per second with the app's jittered backoff and with plain exponential backoff.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import mqtt from "mqtt";
import { stage, xsnapBenchPath, buildDir } from "../scripts/xs-stage.mjs";

const b = (p) => join(buildDir, p);
if (!existsSync(b("modules/mqtt/client.js"))) {
  console.error("bench:mqtt: run `npm run build` first");
  process.exit(2);
}
const { MQTTClient } = await import(b("modules/mqtt/client.js"));
const { NodeTCPSocket } = await import(b("hosts/node/tcp.js"));
const { nodeClock } = await import(b("hosts/node/host.js"));
const { backoffDelay } = await import(b("src/app.js"));
const { makePki } = await import(b("tests/integration/support/pki.js"));
const { Mosquitto } = await import(b("tests/integration/support/mosquitto.js"));
const { Proxy } = await import(b("tests/integration/support/proxy.js"));
const { fuzzDecoder } = await import(b("tests/support/mqtt-fuzz.js"));

const only = process.argv[2]; // throughput | xs | fuzz | storm
const MESSAGES = 50000,
  WINDOW = 16,
  PAYLOAD = 256;
const payload = new Uint8Array(PAYLOAD).map((_, i) => 32 + (i % 90));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- 1. throughput
async function ours(port, ca) {
  return new Promise((resolve, reject) => {
    let sent = 0,
      acked = 0,
      started = 0;
    const client = new MQTTClient({
      host: "127.0.0.1",
      port,
      clientId: "bench-ours",
      keepalive: 60,
      maxInFlight: WINDOW,
      maxQueued: 1 << 20,
      socket: { io: NodeTCPSocket, secure: { ca, serverName: "localhost" } },
      clock: nodeClock,
      onConnect() {
        started = performance.now();
        pump();
      },
      onPublished() {
        if (++acked === MESSAGES) {
          const ms = performance.now() - started;
          client.close();
          resolve(ms);
        } else pump();
      },
      onClose(reason) {
        if (acked < MESSAGES) reject(reason ?? new Error("closed"));
      },
    });
    function pump() {
      while (sent < MESSAGES && client.inFlight < WINDOW) {
        client.publish("bench/ours", payload, { qos: 1 });
        sent++;
      }
    }
    client.connect();
  });
}

async function theirs(port, ca) {
  const client = mqtt.connect({
    host: "127.0.0.1",
    port,
    protocol: "mqtts",
    ca,
    servername: "localhost",
    clientId: "bench-mqttjs",
    keepalive: 60,
    reconnectPeriod: 0,
  });
  await new Promise((resolve, reject) => {
    client.once("connect", resolve);
    client.once("error", reject);
  });
  const buffer = Buffer.from(payload);
  const ms = await new Promise((resolve, reject) => {
    let sent = 0,
      acked = 0,
      outstanding = 0;
    const started = performance.now();
    const pump = () => {
      while (sent < MESSAGES && outstanding < WINDOW) {
        sent++;
        outstanding++;
        client.publish("bench/mqttjs", buffer, { qos: 1 }, (e) => {
          if (e) return reject(e);
          outstanding--;
          if (++acked === MESSAGES) resolve(performance.now() - started);
          else pump();
        });
      }
    };
    pump();
  });
  client.end(true);
  return ms;
}

async function throughput() {
  const pki = makePki();
  const broker = await Mosquitto.start({ tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert } });
  try {
    const rates = { ours: [], mqttjs: [] };
    for (let round = 0; round < 5; round++) {
      rates.ours.push(MESSAGES / ((await ours(broker.port, pki.caPem)) / 1000));
      rates.mqttjs.push(MESSAGES / ((await theirs(broker.port, pki.caPem)) / 1000));
    }
    const median = (xs) => xs.slice().sort((a, b) => a - b)[2];
    console.log(
      `1. QoS 1 over TLS 1.2 to Mosquitto on loopback: ${MESSAGES} messages of ${PAYLOAD} B, at most ${WINDOW} awaiting PUBACK, 5 rounds alternating (median):`,
    );
    console.log(
      `   telltale MQTTClient (Node host socket): ${Math.round(median(rates.ours))} msg/s   [${rates.ours.map(Math.round).join(", ")}]`,
    );
    console.log(
      `   mqtt.js ${JSON.parse((await import("node:fs")).readFileSync(new URL("../node_modules/mqtt/package.json", import.meta.url))).version}:                          ${Math.round(median(rates.mqttjs))} msg/s   [${rates.mqttjs.map(Math.round).join(", ")}]`,
    );
  } finally {
    await broker.stop();
  }
}

// ---------------------------------------------------------------- 2. codec cost in XS
function callgrind(file) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "valgrind",
      ["--tool=callgrind", "--callgrind-out-file=/dev/null", xsnapBenchPath, "-m", file],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "",
      err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err = (err + d).slice(-65536);
    });
    child.on("close", () => {
      const m = /refs:\s+([\d,]+)/.exec(err);
      if (!m) reject(new Error("no instruction count for " + file + "\n" + out + err.slice(-2000)));
      else resolve({ refs: Number(m[1].replace(/,/g, "")), out: out.trim() });
    });
  });
}

async function xsCost() {
  if (!existsSync(xsnapBenchPath)) {
    console.log("2. skipped: " + xsnapBenchPath + " is missing (npm install builds it)");
    return;
  }
  if (spawnSync("valgrind", ["--version"]).status !== 0) {
    console.log("2. skipped: valgrind is not installed");
    return;
  }
  const dir = stage();
  const encode = join(dir, "modules/mqtt/encode.js"),
    decode = join(dir, "modules/mqtt/decode.js");
  const program = (op, version, n) => `import { encodePublish } from "${encode}";
import { PacketDecoder } from "${decode}";
const payload = new Uint8Array(${PAYLOAD});
for (let i = 0; i < payload.length; i++) payload[i] = 32 + (i % 90);
const topic = "telltale/pump-3/telemetry";
const wire = encodePublish({ topic, payload, qos: 1, id: 1, version: ${version} });
const decoder = new PacketDecoder({ protocolVersion: ${version} });
let check = 0;
for (let i = 0; i < ${n}; i++) {
  ${
    op === "encode"
      ? `const p = encodePublish({ topic, payload, qos: 1, id: (i & 0xFFFF) || 1, version: ${version} }); check += p.length;`
      : `decoder.push(wire); const p = decoder.next(); check += p.payload.length;`
  }
}
print("${op} " + check);
`;
  const N1 = 2000,
    N2 = 6000;
  const jobs = [];
  for (const op of ["encode", "decode"])
    for (const version of [4, 5])
      for (const n of [N1, N2]) {
        const file = join(dir, `bench-mqtt-${op}-${version}-${n}.js`);
        writeFileSync(file, program(op, version, n));
        jobs.push({ op, version, n, file });
      }
  const results = {};
  for (let i = 0; i < jobs.length; i += 2) {
    const batch = jobs.slice(i, i + 2);
    const done = await Promise.all(batch.map((j) => callgrind(j.file)));
    batch.forEach((j, k) => {
      results[`${j.op}-${j.version}-${j.n}`] = done[k].refs;
    });
  }
  const per = (op, v) => (results[`${op}-${v}-${N2}`] - results[`${op}-${v}-${N1}`]) / (N2 - N1);
  console.log(
    `2. codec in the XS engine (${xsnapBenchPath.replace(/.*\/\.xsnap/, ".xsnap")}, unmetered), valgrind callgrind, (${N2} − ${N1} runs) difference; a QoS 1 PUBLISH, ${PAYLOAD}-byte payload, 25-byte topic:`,
  );
  console.log(
    `   encode (allocates the packet): ${Math.round(per("encode", 4))} instructions (3.1.1), ${Math.round(per("encode", 5))} (5.0, empty properties)`,
  );
  console.log(
    `   decode (payload copied out):   ${Math.round(per("decode", 4))} instructions (3.1.1), ${Math.round(per("decode", 5))} (5.0)`,
  );
}

// ---------------------------------------------------------------- 3. fuzz
function fuzz() {
  const started = performance.now();
  const r = fuzzDecoder(1_000_000, 0xc0ffee);
  const s = (performance.now() - started) / 1000;
  console.log(
    `3. decoder fuzz: ${r.inputs.toLocaleString("en")} inputs (half random bytes, half mutated valid 3.1.1/5.0 packets, both roles) in ${s.toFixed(1)} s:`,
  );
  console.log(
    `   ${r.decoded} decoded, ${r.rejected} rejected with a protocol error, ${r.inputs - r.decoded - r.rejected} incomplete, ${r.failures.length} other errors${r.failures.length ? ": " + r.failures.join(" | ") : ""}; at most ${r.maxSteps} packets per input`,
  );
  if (r.failures.length) process.exitCode = 1;
}

// ---------------------------------------------------------------- 4. reconnect storm
async function storm(jitter) {
  const broker = await Mosquitto.start({ extra: ["max_connections -1"] });
  const proxy = await Proxy.start(() => broker.port);
  const DEVICES = 200,
    BASE = 1000,
    CAP = 30_000;
  let connected = 0;
  const devices = [];
  for (let i = 0; i < DEVICES; i++) {
    const d = { attempt: 0, up: false, timer: undefined };
    d.client = new MQTTClient({
      host: "127.0.0.1",
      port: proxy.port,
      clientId: "storm-" + i,
      keepalive: 60,
      socket: { io: NodeTCPSocket },
      clock: nodeClock,
      onConnect() {
        d.up = true;
        d.attempt = 0;
        connected++;
      },
      onClose() {
        if (d.up) {
          d.up = false;
          connected--;
        }
        const delay = backoffDelay(d.attempt++, BASE, CAP, false, jitter ? Math.random : () => 1);
        d.timer = setTimeout(() => d.client.connect(), delay);
      },
      onError() {},
    });
    devices.push(d);
  }
  // Devices come up spread over 2 s, as a fleet does; the storm is what follows a broker restart.
  devices.forEach((d, i) => setTimeout(() => d.client.connect(), (i * 2000) / DEVICES));
  const until = Date.now() + 30_000;
  while (connected < DEVICES && Date.now() < until) await sleep(50);
  const before = connected;
  await sleep(500);
  const killedAt = Date.now();
  await broker.stop();
  await sleep(5000);
  await broker.resume();
  const resumedAt = Date.now();
  const deadline = Date.now() + 90_000;
  while (connected < DEVICES && Date.now() < deadline) await sleep(50);
  const allBackAt = Date.now();
  await sleep(1000);
  for (const d of devices) {
    clearTimeout(d.timer);
    d.client.close();
  }
  await proxy.close();
  await broker.stop();
  const attempts = proxy.times.filter((t) => t >= killedAt);
  const bins = new Map();
  for (const t of attempts) {
    const k = Math.floor((t - killedAt) / 1000);
    bins.set(k, (bins.get(k) ?? 0) + 1);
  }
  let peak100 = 0;
  for (let i = 0, j = 0; i < attempts.length; i++) {
    while (attempts[i] - attempts[j] >= 100) j++;
    peak100 = Math.max(peak100, i - j + 1);
  }
  return {
    before,
    after: connected,
    attempts: attempts.length,
    peak: Math.max(...bins.values()),
    peak100,
    recoverS: (allBackAt - resumedAt) / 1000,
  };
}

async function storms() {
  console.log(
    `4. reconnect storm: 200 devices (MQTTClient, plain TCP) on one Mosquitto, killed for 5 s and restarted; backoff base 1 s, cap 30 s:`,
  );
  for (const jitter of [true, false]) {
    const r = await storm(jitter);
    console.log(
      `   ${jitter ? "full jitter (the app's policy)" : "no jitter (plain exponential)  "}: peak ${String(r.peak).padStart(3)} attempts/s, ${String(r.peak100).padStart(3)} in the busiest 100 ms; ` +
        `${r.attempts} attempts in all; all ${r.after}/200 back ${r.recoverS.toFixed(1)} s after the restart`,
    );
  }
}

console.log("bench:mqtt");
if (!only || only === "throughput") await throughput();
if (!only || only === "xs") await xsCost();
if (!only || only === "fuzz") fuzz();
if (!only || only === "storm") await storms();
process.exit(process.exitCode ?? 0);
