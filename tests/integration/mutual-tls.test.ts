// TLS errors and mutual TLS against a real Mosquitto: a broker with require_certificate, and one with an expired certificate.
import { test } from "node:test";
import assert from "node:assert/strict";
import mqtt from "mqtt";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeRsaPki } from "./support/pki.js";
import { createNodeHost } from "../../hosts/node/host.js";
import { startApp } from "../../src/start.js";
import { chooseConfig, parseConfig } from "../../modules/config/config.js";
import { loadConfigText } from "../../modules/config/saved.js";
import { mapStore } from "../support/test-host.js";
import { Mosquitto } from "./support/mosquitto.js";
import { brokerForFile } from "./support/test-broker.js";
import { startFirmware, waitFor, type Firmware } from "./support/firmware.js";

const mutual = brokerForFile({ requireCertificate: true });

function firmware(id: string, port: number, broker: Record<string, unknown> = {}): Firmware {
  const fw = startFirmware(id, {
    url: `mqtts://127.0.0.1:${port}`,
    ca: mutual.pki.caPem,
    backoffBaseMs: 200,
    backoffCapMs: 1000,
    ...broker,
  });
  mutual.atEnd(() => fw.app.stop());
  return fw;
}

test("mutual-tls-client-certificate-is-accepted-and-telemetry-flows", async () => {
  const got: string[] = [];
  const sub = mqtt.connect(mutual.clientOptions({ cert: mutual.pki.clientCertPem, key: mutual.pki.clientKeyPem }));
  try {
    sub.on("message", (_t, payload) => got.push(payload.toString()));
    await new Promise<void>((resolve, reject) => {
      sub.once("error", reject);
      sub.once("connect", () =>
        sub.subscribe("telltale/mtls-a/telemetry", { qos: 1 }, (e) => (e ? reject(e) : resolve())),
      );
    });
    const fw = firmware("mtls-a", mutual.port, { certificate: mutual.pki.clientCertPem, key: mutual.pki.clientKeyPem });
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
  const fw = firmware("mtls-c", mutual.port, {
    certificate: mutual.pki.rogueClientCertPem,
    key: mutual.pki.rogueClientKeyPem,
  });
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
  const expired = await Mosquitto.start({
    tls: { cert: mutual.pki.expiredCert, key: mutual.pki.expiredKey, ca: mutual.pki.caCert },
  });
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

test("rsa-2048-mutual-tls-configuration-fits-an-esp32-sized-store-and-connects", async (t) => {
  // The ESP32 keeps at most 3999 bytes a store value (NVS strings, hosts/esp32/host.ts); an all-RSA-2048 set is larger.
  const rsa = makeRsaPki();
  const items = rsa.caPem.length + rsa.clientCertPem.length + rsa.clientKeyPem.length;
  assert.ok(items > 3999, "CA + client certificate + key: " + items + " bytes");
  const broker = await Mosquitto.start({
    tls: { cert: rsa.serverCert, key: rsa.serverKey, ca: rsa.caCert, requireCertificate: true },
  });
  const map = new Map<string, string>();
  const store = mapStore(map, 3999);
  // The device ran a plain, weaker configuration before: the new one must replace it, not be replaced by it.
  chooseConfig({ broker: { url: "mqtt://127.0.0.1:1883" } }, store, () => {});
  const log: string[] = [];
  const host = {
    ...createNodeHost({
      storePath: join(mkdtempSync(join(tmpdir(), "telltale-flash-")), "store.json"),
      deviceId: "mtls-rsa",
      log: (line) => log.push(line),
      sensors: parseConfig({}).sensors,
    }),
    store,
  };
  const app = startApp(host, {
    deviceId: "mtls-rsa",
    intervalMs: 100,
    detector: { calibrationSamples: 60 },
    broker: {
      url: `mqtts://127.0.0.1:${broker.port}`,
      ca: rsa.caPem,
      certificate: rsa.clientCertPem,
      key: rsa.clientKeyPem,
      backoffBaseMs: 200,
      backoffCapMs: 1000,
    },
  });
  try {
    await waitFor(
      "a connection over mutual TLS",
      () => app.connected,
      15_000,
      () => log.join("\n"),
    );
    assert.equal(app.config.broker.scheme, "mqtts");
    assert.ok(!log.some((l) => /last good configuration|not kept/.test(l)), log.join("\n"));
    const saved = loadConfigText(store).text ?? "";
    for (const [key, value] of map) assert.ok(Buffer.byteLength(value) <= 3999, key + ": " + value.length);
    t.diagnostic(
      `CA + client certificate + key ${items} bytes; saved configuration ${saved.length} bytes in ${map.size} keys`,
    );
  } finally {
    app.stop();
    await broker.stop();
  }
});
