// The captive portal on node:http, driven by a real HTTP client (fetch): the form, probes, settings stored in a real
// FileStore and read back by the next start, and refusals that store nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStore } from "../../hosts/node/store.js";
import { startNodePortal, type NodePortalServer } from "../../hosts/node/portal-server.js";
import { Portal } from "../../modules/provision/portal.js";
import { loadProvisioned, PROVISION_KEY, provisionedConfig } from "../../modules/provision/credentials.js";
import { chooseConfig } from "../../modules/config/config.js";

const BUILD = Object.freeze({ intervalMs: 5000, broker: Object.freeze({ url: "mqtt://127.0.0.1:1883" }) });

async function start(): Promise<{ server: NodePortalServer; path: string; saved: string[] }> {
  const path = join(mkdtempSync(join(tmpdir(), "telltale-portal-")), "store.json");
  const store = new FileStore(path, () => {});
  const saved: string[] = [];
  const server = await startNodePortal(
    (url) => new Portal({ store, url, base: BUILD, deviceId: "a4d18cdbc020" }),
    0,
    () => saved.push("restart"),
  );
  return { server, path, saved };
}

const FORM = { "content-type": "application/x-www-form-urlencoded" };
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const GOOD = { ssid: "Werkstatt 2", password: "sicher!123", broker: "mqtts://broker.example:8883", device: "press-7" };

test("portal-serves-the-form-and-redirects-probes", async () => {
  const { server } = await start();
  try {
    const page = await fetch(server.url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html; charset=utf-8/);
    const html = await page.text();
    for (const name of ["ssid", "password", "broker", "device"]) assert.ok(html.includes(`name="${name}"`), name);
    for (const probe of ["generate_204", "hotspot-detect.html", "connecttest.txt"]) {
      const r = await fetch(server.url + probe, { redirect: "manual" });
      assert.equal(r.status, 302, probe);
      assert.equal(r.headers.get("location"), server.url, probe);
    }
  } finally {
    await server.close();
  }
});

test("good-post-is-stored-in-the-file-store-and-the-next-start-reads-it", async () => {
  const { server, path, saved } = await start();
  try {
    const r = await fetch(server.url + "save", { method: "POST", headers: FORM, body: form(GOOD) });
    assert.equal(r.status, 200);
    assert.match(await r.text(), /restarts now and joins <b>Werkstatt 2<\/b>/);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(saved, ["restart"], "the adapter restarts once the answer is sent");
  } finally {
    await server.close();
  }
  // The next start: a new FileStore on the same file, the start's overlay, the validator.
  const store = new FileStore(path, () => {});
  assert.deepEqual(loadProvisioned(store).provisioned, {
    ssid: "Werkstatt 2",
    password: "sicher!123",
    broker: "mqtts://broker.example:8883",
    deviceId: "press-7",
  });
  const log: string[] = [];
  const { config } = chooseConfig(
    provisionedConfig(BUILD, store, (l) => log.push(l)),
    store,
    (l) => log.push(l),
  );
  assert.equal(config.deviceId, "press-7");
  assert.deepEqual([config.broker.scheme, config.broker.host, config.broker.port], ["mqtts", "broker.example", 8883]);
  assert.deepEqual(log, []);
});

/** A POST that sends more body than the portal reads; the answer comes before the body is all sent. */
function rawPost(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url + "save", { method: "POST", headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

test("bad-posts-are-refused-with-a-reason-and-nothing-is-stored", async () => {
  const { server, path, saved } = await start();
  try {
    const cases: [string, Promise<{ status: number; text: string }>, number, RegExp][] = [];
    const send = async (fields: Record<string, string>, headers: Record<string, string> = FORM) => {
      const r = await fetch(server.url + "save", { method: "POST", headers, body: form(fields) });
      return { status: r.status, text: await r.text() };
    };
    cases.push([
      "short password",
      send({ ...GOOD, password: "1234567" }),
      400,
      /Wi-Fi password: must be 8–63 characters/,
    ]);
    cases.push([
      "bad broker URL",
      send({ ...GOOD, broker: "http://broker.example" }),
      400,
      /MQTT broker URL: expected mqtt:\/\//,
    ]);
    cases.push([
      "wrong content type",
      send(GOOD, { "content-type": "text/plain" }),
      415,
      /expected content-type application\/x-www-form-urlencoded/,
    ]);
    cases.push([
      "oversized body",
      rawPost(server.url, FORM, Buffer.from(form({ ...GOOD, ssid: "x".repeat(4000) }))),
      413,
      /the body is \d+ bytes; at most 1024; nothing was stored/,
    ]);
    for (const [what, answer, status, reason] of cases) {
      const r = await answer;
      assert.equal(r.status, status, what);
      assert.match(r.text, reason, what);
    }
  } finally {
    await server.close();
  }
  assert.deepEqual(saved, []);
  const store = (existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : {}) as Record<string, string>;
  assert.equal(PROVISION_KEY in store, false, "nothing stored");
});
