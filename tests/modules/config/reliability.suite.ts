// Configuration of the reporting path: telemetry QoS, reconnect backoff, outbox drain rate, mutual TLS.
import { suite, test, equal, throws } from "../../harness.js";
import { parseConfig } from "telltale/config/config";

const CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n";

function broker(fields: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return parseConfig({ broker: { url: "mqtts://b.test", ...fields }, ...extra }).broker;
}

suite("config/reliability", () => {
  test("defaults-keep-telemetry-and-back-off-to-a-minute", () => {
    const b = broker({});
    equal(b.telemetryQos, 1);
    equal(b.backoffBaseMs, 1000);
    equal(b.backoffCapMs, 60000);
    equal(b.drainPerSecond, 20);
  });

  test("telemetry-qos-2-is-rejected-naming-the-field", () => {
    throws(() => broker({ telemetryQos: 2 }), /^config\.broker\.telemetryQos: expected an integer from 0 to 1, got 2$/);
  });

  test("backoff-cap-below-base-is-rejected", () => {
    throws(
      () => broker({ backoffBaseMs: 5000, backoffCapMs: 1000 }),
      /^config\.broker\.backoffCapMs: must be at least broker\.backoffBaseMs \(5000\), got 1000$/,
    );
  });

  test("drain-rate-must-exceed-the-telemetry-rate", () => {
    throws(
      () => broker({ drainPerSecond: 10 }, { intervalMs: 100 }),
      /^config\.broker\.drainPerSecond: must exceed the telemetry rate \(10 per second at intervalMs 100\), got 10$/,
    );
    equal(broker({ drainPerSecond: 11 }, { intervalMs: 100 }).drainPerSecond, 11);
    equal(
      broker({ drainPerSecond: 1, telemetryQos: 0 }, { intervalMs: 100 }).drainPerSecond,
      1,
      "irrelevant with QoS 0 telemetry",
    );
  });

  test("client-certificate-and-key-go-together", () => {
    const b = broker({ certificate: CERT, key: KEY });
    equal(b.certificate, CERT);
    equal(b.key, KEY);
    throws(() => broker({ certificate: CERT }), /^config\.broker\.key: a client certificate and its key go together$/);
    throws(() => broker({ key: KEY }), /^config\.broker\.certificate: a client certificate and its key go together$/);
    throws(
      () => broker({ certificate: CERT, key: "secret" }),
      /^config\.broker\.key: expected PEM text containing a private key/,
    );
  });

  test("client-certificate-needs-mqtts", () => {
    throws(
      () => parseConfig({ broker: { url: "mqtt://b.test", certificate: CERT, key: KEY } }),
      /^config\.broker\.certificate: a client certificate is only used with mqtts:\/\/ URLs$/,
    );
  });
});
