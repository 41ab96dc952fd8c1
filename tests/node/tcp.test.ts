// The Node host's ECMA-419 socket: a writer that respects onWritable counts can send megabytes without stalling.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { NodeTCPSocket } from "../../hosts/node/tcp.js";
import type { TLSOptions } from "../../modules/io/io.js";
import { makePki } from "../integration/support/pki.js";

test("writer-respecting-onwritable-never-stalls", async () => {
  let received = 0;
  const server = net.createServer((s) =>
    s.on("data", (d) => {
      received += d.length;
    }),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const total = 4 * 1024 * 1024,
    chunk = new Uint8Array(1000);
  let sent = 0;
  await new Promise<void>((resolve, reject) => {
    const socket = new NodeTCPSocket({
      address: "127.0.0.1",
      port,
      onWritable(count) {
        while (count >= chunk.length && sent < total) {
          this.write(chunk);
          sent += chunk.length;
          count -= chunk.length;
        }
        if (sent >= total) resolve();
      },
      onError(e) {
        reject(e ?? new Error("socket error without a reason"));
      },
    });
    setTimeout(() => {
      socket.close();
      reject(new Error(`stalled after ${sent} bytes`));
    }, 20_000).unref();
  });
  const until = Date.now() + 10_000;
  while (received < sent && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  server.close();
  assert.equal(received, sent);
});

test("refused-connection-names-address", async () => {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  const error = await new Promise<Error>((resolve) => {
    new NodeTCPSocket({ address: "127.0.0.1", port, onError: (e) => resolve(e!) });
  });
  assert.match(error.message, new RegExp(`TCP: connection refused by 127\\.0\\.0\\.1:${port}`));
});

test("untrusted-server-certificate-names-the-roots-it-was-checked-against", async () => {
  // A broker whose certificate comes from a private CA: without broker.ca, Node checks it against its built-in roots.
  const pki = makePki();
  const server = tls.createServer({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) });
  server.on("tlsClientError", () => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const attempt = (secure: TLSOptions) =>
    new Promise<Error>((resolve) => {
      new NodeTCPSocket({ address: "127.0.0.1", port, secure, onError: (e) => resolve(e!) });
    });
  try {
    assert.equal(
      (await attempt({})).message,
      `TLS: server certificate is not trusted by Node's built-in root CAs (no CA is configured) (UNABLE_TO_VERIFY_LEAF_SIGNATURE) at 127.0.0.1:${port}`,
    );
    // A CA that did not sign it: the configured one is named.
    const rogueCa = readFileSync(join(pki.dir, "rogue-ca.crt"), "utf8");
    assert.equal(
      (await attempt({ ca: rogueCa })).message,
      `TLS: server certificate is not trusted by the configured CA (UNABLE_TO_VERIFY_LEAF_SIGNATURE) at 127.0.0.1:${port}`,
    );
  } finally {
    server.close();
  }
});
