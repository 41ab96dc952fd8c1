// The firmware against a real Mosquitto with TLS (certificates made by openssl at test time).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Mosquitto } from "./support/mosquitto.js";
import { brokerForFile } from "./support/test-broker.js";
import { startFirmware, waitFor, type Firmware } from "./support/firmware.js";

const COMMAND_SCRIPT = new URL("../../../scripts/command.mjs", import.meta.url).pathname;
import { NodeTCPSocket } from "../../hosts/node/tcp.js";
import { parseAlarm, parseAnswer, parseTelemetry } from "../support/wire.js";

const broker = brokerForFile();

function firmware(id: string, port: number, machine = {}): Firmware {
  const fw = startFirmware(id, { url: `mqtts://127.0.0.1:${port}`, ca: broker.pki.caPem }, machine);
  broker.atEnd(() => fw.app.stop());
  return fw;
}

before(async () => {
  await broker.start(); // top-level hooks start as they are declared: wait for brokerForFile's
  console.log(
    `# Mosquitto TLS integration: broker on 127.0.0.1:${broker.port}, certificates generated in ${broker.pki.dir}`,
  );
});

test("telemetry-availability-and-alarm-reach-mosquitto-over-tls", async () => {
  const { got } = await broker.listen("telltale/dev-a/#");
  const fw = firmware("dev-a", broker.port, { periodMs: 3000, fault: { kind: "step", atMs: 9000, size: 4 } });
  const dump = () => fw.log.slice(-15).join("\n");
  await waitFor(
    "retained online status",
    () => got.find((m) => m.topic === "telltale/dev-a/status" && m.payload === "online"),
    10_000,
    dump,
  );
  // The default (multivariate) detector calibrates on 60 samples (6 s at 100 ms: two of the machine's 3 s cycles); the step comes after.
  const alarm = await waitFor("alarm raised", () => got.find((m) => m.topic === "telltale/dev-a/alarm"), 20_000, dump);
  const body = parseAlarm(alarm.payload);
  assert.equal(body.state, "raised");
  assert.equal(body.channel, "sht3x.temperature");
  const telemetry = got.filter((m) => m.topic === "telltale/dev-a/telemetry").map((m) => parseTelemetry(m.payload));
  assert.ok(telemetry.length >= 10, `telemetry messages: ${telemetry.length}`);
  const t = telemetry[telemetry.length - 1]!;
  const temperature = t.sensors.sht3x?.temperature;
  assert.equal(typeof temperature, "number");
  assert.ok(temperature! > 30 && temperature! < 50, "temperature " + temperature);
  assert.equal(t.health.sensors.sht3x?.state, "ok");
  // A subscriber arriving later still learns the availability: the status is retained.
  const { got: late } = await broker.listen("telltale/dev-a/status");
  const retained = await waitFor("retained status for a late subscriber", () => late.find((m) => m.retain));
  assert.equal(retained.payload, "online");
  fw.app.stop();
  await waitFor("offline on clean stop", () =>
    got.some((m) => m.topic === "telltale/dev-a/status" && m.payload === "offline"),
  );
});

test("last-will-marks-device-offline-when-connection-drops-then-recovers", async () => {
  const { got } = await broker.listen("telltale/dev-b/status");
  const fw = firmware("dev-b", broker.port);
  await waitFor("online", () => fw.app.connected && got.some((m) => m.payload === "online"));
  const before = got.length;
  for (const s of NodeTCPSocket.open) s.destroy(); // a pulled cable: no DISCONNECT, so the broker sends the Will
  await waitFor("will (offline)", () => got.slice(before).find((m) => m.payload === "offline"));
  await waitFor(
    "online again after reconnect",
    () => got.slice(before).find((m) => m.payload === "online"),
    15_000,
    () => fw.log.slice(-10).join("\n"),
  );
  assert.ok(
    fw.log.some((l) => /mqtt: connection lost/.test(l)),
    "the loss is logged",
  );
  fw.app.stop();
});

test("broker-restart-is-reported-and-telemetry-resumes", async () => {
  const fw = firmware("dev-c", broker.port);
  await waitFor("connected", () => fw.app.connected);
  await broker.stop();
  // How the loss shows depends on timing: a QoS 1 PUBLISH written after the kill may meet a reset (or EPIPE) first.
  await waitFor(
    "loss reported",
    () =>
      fw.log.find((l) =>
        /mqtt: connection lost \((connection closed by peer|TCP: .*127\.0\.0\.1:\d+|TCP: .*EPIPE.*)\)/.test(l),
      ),
    10_000,
    () =>
      fw.log
        .filter((l) => l.startsWith("mqtt"))
        .slice(-10)
        .join("\n"),
  );
  await waitFor("telemetry kept in the outbox while down", () => fw.app.outbox.pending > 0);
  await broker.resume();
  const { got } = await broker.listen("telltale/dev-c/telemetry");
  await waitFor(
    "telemetry resumes after restart",
    () => got.length >= 3,
    20_000,
    () => fw.log.slice(-10).join("\n"),
  );
  assert.ok(fw.app.running);
  fw.app.stop();
});

test("commands-are-answered-and-bad-ones-refused-with-reason", async () => {
  const { got: results } = await broker.listen("telltale/dev-g/command/result");
  const fw = firmware("dev-g", broker.port);
  await waitFor("connected", () => fw.app.connected);
  await new Promise((r) => setTimeout(r, 300)); // the device's SUBSCRIBE is sent right after CONNACK
  const sender = await broker.client();
  for (const command of ["ping", JSON.stringify({ command: "recalibrate" }), "reboot", "{broken"])
    sender.publish("telltale/dev-g/command", command, { qos: 1 });
  await waitFor(
    "four answers",
    () => results.length >= 4,
    10_000,
    () => fw.log.slice(-10).join("\n"),
  );
  const answers = results.map((m) => parseAnswer(m.payload));
  assert.equal(answers[0]?.command, "ping");
  assert.equal(answers[0]?.ok, true);
  assert.equal(answers[1]?.command, "recalibrate");
  assert.equal(answers[1]?.ok, false, "recalibrate must be signed");
  assert.match(
    answers[1]?.error ?? "",
    /^"recalibrate" must be signed and this device has no key: set config\.commandKey/,
  );
  assert.ok(!fw.log.includes("detector: recalibrating on command"), "the detector keeps its baseline");
  assert.deepEqual([answers[2]?.ok, answers[2]?.error], [false, 'unknown command "reboot" (known: recalibrate, ping)']);
  assert.equal(answers[3]?.ok, false);
  assert.match(answers[3]?.error ?? "", /expected "recalibrate"/);
  assert.ok(fw.app.running, "bad commands do not stop the device");
  fw.app.stop();
});

test("a-signed-recalibrate-from-the-operator-script-clears-the-alarm-with-its-reason-once", async () => {
  const key = "5f".repeat(32);
  const { got } = await broker.listen("telltale/dev-s/#");
  const fw = startFirmware(
    "dev-s",
    broker.deviceBroker(),
    { periodMs: 3000, fault: { kind: "step", atMs: 9000, size: 4 } },
    { commandKey: key },
  );
  broker.atEnd(() => fw.app.stop());
  const dump = () => fw.log.slice(-15).join("\n");
  const raised = await waitFor("alarm raised", () => got.find((m) => m.topic === "telltale/dev-s/alarm"), 20_000, dump);
  assert.deepEqual([parseAlarm(raised.payload).state, parseAlarm(raised.payload).reason], ["raised", "threshold"]);
  // Asynchronous: the firmware runs in this process and must answer while the script waits.
  const script = async (...args: string[]) =>
    (await promisify(execFile)(process.execPath, [COMMAND_SCRIPT, "--key", key, "--device", "dev-s", ...args])).stdout;
  const signed = (await script("recalibrate", "force=true")).trim();
  const sender = await broker.client();
  await sender.publishAsync("telltale/dev-s/command", signed, { qos: 1 });
  const results = () =>
    got.filter((m) => m.topic === "telltale/dev-s/command/result").map((m) => parseAnswer(m.payload));
  await waitFor("the answer", () => results().length >= 1, 10_000, dump);
  assert.deepEqual(results()[0], { command: "recalibrate", ok: true });
  const cleared = await waitFor(
    "alarm cleared",
    () => got.find((m) => m.topic === "telltale/dev-s/alarm" && parseAlarm(m.payload).state === "cleared"),
    10_000,
    dump,
  );
  assert.equal(parseAlarm(cleared.payload).reason, "recalibrate command (forced)");
  // Someone who recorded the signed message sends it again.
  await sender.publishAsync("telltale/dev-s/command", signed, { qos: 1 });
  await waitFor("the replay's answer", () => results().length >= 2, 10_000, dump);
  assert.equal(results()[1]?.ok, false);
  assert.match(results()[1]?.error ?? "", /^counter \d+ is not above \d+, the highest used: a replay/);
  assert.equal(fw.log.filter((l) => l.startsWith("detector: recalibrating on command")).length, 1, "run once");
  // The script publishes and prints the answer itself.
  const answer = await script(
    "--publish",
    `mqtts://127.0.0.1:${broker.port}`,
    "--ca",
    broker.pki.caCert,
    "--servername",
    "localhost",
    "ping",
  );
  assert.match(answer, /^\{"command":"ping","ok":true,"uptimeMs":\d+\}/);
  fw.app.stop();
});

test("a-retained-command-is-ignored-and-answered-with-the-reason", async () => {
  // Someone left "recalibrate" retained on the command topic: the broker replays it to each new subscription.
  const sender = await broker.client();
  await sender.publishAsync("telltale/dev-r/command", "recalibrate", { qos: 1, retain: true });
  const { got: results } = await broker.listen("telltale/dev-r/command/result");
  const fw = firmware("dev-r", broker.port);
  await waitFor(
    "the refusal",
    () => results.length >= 1,
    10_000,
    () => fw.log.slice(-10).join("\n"),
  );
  assert.deepEqual(parseAnswer(results[0]!.payload), {
    ok: false,
    error: "retained commands are ignored (clear the retained message on the command topic)",
  });
  assert.ok(!fw.log.includes("detector: recalibrating on command"), "the detector keeps its baseline");
  assert.ok(
    fw.log.some((l) => l.startsWith("command rejected: retained commands are ignored")),
    "the log says so",
  );
  await sender.publishAsync("telltale/dev-r/command", "", { qos: 1, retain: true }); // clears it for later tests
  fw.app.stop();
});

test("an-oversized-retained-command-is-discarded-and-the-device-stays-connected", async () => {
  // 100 KB left retained on the command topic: over the device's 64 KiB packet limit, replayed on every subscription.
  const sender = await broker.client();
  await sender.publishAsync("telltale/dev-o/command", Buffer.alloc(100_000, 0x20), { qos: 1, retain: true });
  const { got } = await broker.listen("telltale/dev-o/telemetry");
  const fw = firmware("dev-o", broker.port);
  const dump = () =>
    fw.log
      .filter((l) => l.startsWith("mqtt"))
      .slice(-10)
      .join("\n");
  try {
    const line = await waitFor(
      "the discard, named",
      () => fw.log.find((l) => l.startsWith("mqtt: MQTT: discarded a retained message of ")),
      10_000,
      dump,
    );
    assert.match(
      line,
      /^mqtt: MQTT: discarded a retained message of 1000\d\d bytes on "telltale\/dev-o\/command" \(over the 65536-byte limit\)$/,
    );
    const after = got.length;
    await waitFor("telemetry goes on", () => got.length >= after + 30, 15_000, dump);
    assert.equal(fw.app.stats.reconnects, 0, "no reconnect: " + dump());
    assert.equal(fw.app.stats.oversized, 1, "discarded once: it was acknowledged, so Mosquitto did not resend it");
    assert.equal(parseTelemetry(got[got.length - 1]!.payload).health.mqtt.oversized, 1);
  } finally {
    await sender.publishAsync("telltale/dev-o/command", "", { qos: 1, retain: true });
    fw.app.stop();
  }
});

test("untrusted-broker-certificate-is-refused-with-clear-error", async () => {
  const rogue = await Mosquitto.start({
    tls: { cert: broker.pki.rogueCert, key: broker.pki.rogueKey, ca: broker.pki.caCert },
  });
  try {
    const fw = firmware("dev-d", rogue.port);
    const line = await waitFor(
      "TLS refusal",
      () => fw.log.find((l) => /TLS: server certificate is not trusted/.test(l)),
      10_000,
      () => fw.log.join("\n"),
    );
    assert.match(line, /127\.0\.0\.1:\d+/);
    assert.equal(fw.app.connected, false);
    assert.ok(fw.app.running, "the device keeps running and retrying");
    fw.app.stop();
  } finally {
    await rogue.stop();
  }
});

test("wrong-host-certificate-is-refused", async () => {
  const wrong = await Mosquitto.start({
    tls: { cert: broker.pki.wrongHostCert, key: broker.pki.wrongHostKey, ca: broker.pki.caCert },
  });
  try {
    const fw = firmware("dev-e", wrong.port);
    await waitFor(
      "host name refusal",
      () => fw.log.find((l) => /TLS: server certificate does not match the host name/.test(l)),
      10_000,
      () => fw.log.join("\n"),
    );
    assert.equal(fw.app.connected, false);
    fw.app.stop();
  } finally {
    await wrong.stop();
  }
});

test("malformed-packet-from-broker-gives-clear-error-and-reconnect", async () => {
  // A broker that answers the first CONNECT with a CONNACK of the wrong length, then behaves.
  let connections = 0;
  const server = net.createServer((sock) => {
    const n = ++connections;
    sock.once("data", () =>
      sock.write(n === 1 ? Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]) : Buffer.from([0x20, 0x02, 0x00, 0x00])),
    );
    sock.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const fw = startFirmware("dev-f", { url: `mqtt://127.0.0.1:${port}` });
    broker.atEnd(() => fw.app.stop());
    const line = await waitFor(
      "decode error logged",
      () => fw.log.find((l) => /^mqtt: .*CONNACK/.test(l)),
      10_000,
      () => fw.log.join("\n"),
    );
    assert.match(line, /length/);
    await waitFor(
      "connected on the second attempt",
      () => fw.app.connected,
      10_000,
      () => fw.log.join("\n"),
    );
    fw.app.stop();
  } finally {
    server.close();
  }
});
