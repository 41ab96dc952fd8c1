// TLS errors and mutual TLS against a real Mosquitto: a broker with require_certificate, and one with an expired certificate.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import mqtt from "mqtt";
import { makePki, type Pki } from "./support/pki.js";
import { Mosquitto } from "./support/mosquitto.js";
import { startFirmware, waitFor, type Firmware } from "./support/firmware.js";

let pki: Pki;
let mutual: Mosquitto;
const running: Firmware[] = [];

before(async () => {
  pki = makePki();
  mutual = await Mosquitto.start({
    tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, requireCertificate: true },
  });
});

after(async () => {
  for (const fw of running) fw.app.stop();
  await mutual?.stop();
});

function firmware(id: string, port: number, broker: Record<string, unknown> = {}): Firmware {
  const fw = startFirmware(id, {
    url: `mqtts://127.0.0.1:${port}`,
    ca: pki.caPem,
    backoffBaseMs: 200,
    backoffCapMs: 1000,
    ...broker,
  });
  running.push(fw);
  return fw;
}

test("mutual-tls-client-certificate-is-accepted-and-telemetry-flows", async () => {
  const got: string[] = [];
  const sub = mqtt.connect({
    host: "127.0.0.1",
    port: mutual.port,
    protocol: "mqtts",
    ca: pki.caPem,
    servername: "localhost",
    cert: pki.clientCertPem,
    key: pki.clientKeyPem,
  });
  try {
    sub.on("message", (_t, payload) => got.push(payload.toString()));
    await new Promise<void>((resolve, reject) => {
      sub.once("error", reject);
      sub.once("connect", () =>
        sub.subscribe("telltale/mtls-a/telemetry", { qos: 1 }, (e) => (e ? reject(e) : resolve())),
      );
    });
    const fw = firmware("mtls-a", mutual.port, { certificate: pki.clientCertPem, key: pki.clientKeyPem });
    await waitFor(
      "telemetry over mutual TLS",
      () => got.length >= 3,
      15_000,
      () => fw.log.slice(-10).join("\n"),
    );
    assert.equal(fw.app.outbox.pending <= 1, true);
    fw.app.stop();
  } finally {
    sub.end(true);
  }
});

test("mutual-tls-without-client-certificate-gives-clear-error-and-keeps-data", async () => {
  const fw = firmware("mtls-b", mutual.port);
  const line = await waitFor(
    "refusal",
    () => fw.log.find((l) => /TLS: broker requires a client certificate/.test(l)),
    10_000,
    () => fw.log.join("\n"),
  );
  assert.match(line, /ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED/);
  await waitFor("telemetry kept in the outbox", () => fw.app.outbox.pending >= 3);
  assert.equal(fw.app.connected, false);
  fw.app.stop();
});

test("mutual-tls-with-untrusted-client-certificate-gives-clear-error", async () => {
  const fw = firmware("mtls-c", mutual.port, { certificate: pki.rogueClientCertPem, key: pki.rogueClientKeyPem });
  await waitFor(
    "refusal",
    () => fw.log.find((l) => /TLS: broker does not trust the client certificate/.test(l)),
    10_000,
    () => fw.log.join("\n"),
  );
  assert.equal(fw.app.connected, false);
  fw.app.stop();
});

test("expired-broker-certificate-is-refused-with-clear-error", async () => {
  const expired = await Mosquitto.start({ tls: { cert: pki.expiredCert, key: pki.expiredKey, ca: pki.caCert } });
  try {
    const fw = firmware("mtls-d", expired.port);
    const line = await waitFor(
      "expiry refusal",
      () => fw.log.find((l) => /TLS: server certificate has expired \(CERT_HAS_EXPIRED\)/.test(l)),
      10_000,
      () => fw.log.join("\n"),
    );
    assert.match(line, /127\.0\.0\.1:\d+/);
    assert.equal(fw.app.connected, false);
    assert.ok(fw.app.running, "the device keeps running and retrying");
    fw.app.stop();
  } finally {
    await expired.stop();
  }
});
