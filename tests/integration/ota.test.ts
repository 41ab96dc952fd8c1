// Updates over the air against a real Mosquitto with TLS: the App on the Node host with two RAM slots, the publisher of
// tools/ota, images over MQTT blocks and over HTTPS Range (node:https, openssl certificates), and every refusal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { brokerForFile } from "./support/test-broker.js";
import { waitFor } from "./support/firmware.js";
import { createNodeHost } from "../../hosts/node/host.js";
import { NodeTCPSocket } from "../../hosts/node/tcp.js";
import { App } from "../../src/app.js";
import { parseConfig } from "../../modules/config/config.js";
import { MemorySlots } from "../support/memory-slots.js";
import { generateKeys, Publisher, serveImage, signManifest, type SignOptions } from "../../tools/ota/publisher.js";

const OTA_SCRIPT = new URL("../../../scripts/ota.mjs", import.meta.url).pathname;
const execFileAsync = promisify(execFile);
const SLOT = 64 * 1024;
const IMAGE = new Uint8Array(randomBytes(41_000)); // 11 blocks of 4096, the last 41000 − 40960 = 40 bytes
const KEY = generateKeys("k1");
const ROGUE = generateKeys("k1"); // same id, a key the devices do not trust

const broker = brokerForFile();

interface Device {
  id: string;
  slots: MemorySlots;
  log: string[];
  app: App;
  /** Starts the firmware again on the same store and slots: the bootloader runs first (slots.boot()). */
  reboot(): App;
  /** Resolves with the reason of the next host.restart(). */
  restarted: () => Promise<string>;
}

function device(id: string, ota: Record<string, unknown> = {}, running = 1): Device {
  const slots = new MemorySlots(SLOT, running);
  const log: string[] = [];
  const storePath = join(mkdtempSync(join(tmpdir(), "telltale-ota-")), "store.json");
  let waiters: ((reason: string) => void)[] = [];
  const config = parseConfig({
    deviceId: id,
    intervalMs: 100,
    broker: broker.deviceBroker({ keepalive: 10, backoffBaseMs: 200 }),
    detector: { calibrationSamples: 60 },
    homeAssistant: { enabled: false },
    ota: { keys: [KEY.publicEntry], selfTestMs: 8000, timeoutMs: 1500, retries: 3, ca: broker.pki.caPem, ...ota },
  });
  const d: Device = {
    id,
    slots,
    log,
    app: undefined as unknown as App,
    reboot() {
      const host = createNodeHost({
        storePath,
        deviceId: id,
        log: (line) => log.push(line),
        sensors: config.sensors,
        flash: false,
        updates: slots.boot(),
        restart: (reason) => {
          slots.restarts.push(reason);
          const w = waiters;
          waiters = [];
          for (const f of w) f(reason);
        },
      });
      const app = new App(host, config);
      broker.atEnd(() => app.stop());
      void app.start();
      d.app = app;
      return app;
    },
    restarted: () => new Promise((resolve) => waiters.push(resolve)),
  };
  d.reboot();
  return d;
}

async function publisher(manifest: Record<string, unknown>, image: Uint8Array = IMAGE): Promise<Publisher> {
  const p = new Publisher({ client: await broker.client(), manifest, image });
  await p.start();
  return p;
}

function sign(o: Partial<SignOptions>): Record<string, unknown> {
  return signManifest({ privatePem: KEY.privatePem, keyId: "k1", image: IMAGE, version: 2, ...o });
}

/** The device's last `…/ota` state, as the retained message on the broker says it. */
async function retainedState(id: string): Promise<Record<string, unknown>> {
  const c = await broker.client();
  const got: Record<string, unknown>[] = [];
  c.on("message", (_t, payload) => got.push(JSON.parse(payload.toString()) as Record<string, unknown>));
  c.subscribe(`telltale/${id}/ota`, { qos: 1 });
  return waitFor("retained ota state of " + id, () => got[0]);
}

function logOf(d: Device): () => string {
  return () =>
    d.log
      .filter((l) => l.startsWith("ota") || l.startsWith("mqtt"))
      .slice(-20)
      .join("\n");
}

/** After a refusal or a failure: still on version 1, nothing set to boot next, no restart, the reason logged. */
function assertGoodImageKept(d: Device, reason: RegExp): void {
  assert.equal(d.app.host.updates!.running.version, 1);
  assert.equal(d.slots.next, -1, "no image is set to boot next");
  assert.deepEqual(d.slots.restarts, []);
  assert.ok(d.app.running, "the device keeps running");
  assert.ok(
    d.log.some((l) => reason.test(l)),
    "reason logged: " + reason + "\n" + logOf(d)(),
  );
}

/** The update went in: restart asked, the other slot holds exactly IMAGE as version 2 for the next boot. */
async function assertInstalled(d: Device, restart: Promise<string>): Promise<void> {
  const reason = await Promise.race([
    restart,
    new Promise<string>((_, reject) => setTimeout(() => reject(new Error("no restart\n" + logOf(d)())), 30_000)),
  ]);
  assert.match(reason, /^ota: version 2 verified; restarting into it/);
  assert.equal(d.slots.next, 1);
  assert.equal(d.slots.slots[1].version, 2);
  assert.deepEqual(d.slots.image(1), IMAGE);
}

test("mqtt-blocks-install-version-2-which-commits-after-its-self-test", async () => {
  const d = device("ota-m");
  const restart = d.restarted();
  const p = await publisher(sign({ devices: ["ota-m"] }));
  await assertInstalled(d, restart);
  assert.ok(d.log.some((l) => /downloading version 2 \(41000 bytes, 11 blocks of 4096\) over mqtt/.test(l)));
  assert.equal(p.devices.get("ota-m")?.blocks, 11, "each block asked for once\n" + logOf(d)());
  // The bootloader starts version 2 pending; it passes its self-test and commits.
  const app = d.reboot();
  assert.deepEqual(app.host.updates!.running, { version: 2, slot: "slot1", pending: true });
  await waitFor(
    "committed",
    () => !d.slots.pending && d.log.some((l) => /passed its self-test/.test(l)),
    15_000,
    logOf(d),
  );
  await waitFor("committed state on the broker", () => p.devices.get("ota-m")?.state === "committed", 5000);
  assert.equal((await retainedState("ota-m")).version, 2);
});

test("https-range-installs-version-2", async () => {
  const ranges: string[] = [];
  const server = await serveImage(
    IMAGE,
    { cert: readFileSync(broker.pki.serverCert), key: readFileSync(broker.pki.serverKey) },
    (range) => ranges.push(String(range)),
  );
  broker.atEnd(() => server.close());
  const port = (server.address() as { port: number }).port;
  const d = device("ota-h");
  const restart = d.restarted();
  await publisher(sign({ devices: ["ota-h"], url: `https://127.0.0.1:${port}/telltale-2.bin` }));
  await assertInstalled(d, restart);
  assert.ok(d.log.some((l) => /over https/.test(l)));
  assert.deepEqual(ranges, ["bytes=0-40999"], "one Range request of 16 blocks covers the 11\n" + logOf(d)());
});

test("a-dropped-connection-mid-download-resumes-from-the-missing-block", async () => {
  const d = device("ota-d");
  const restart = d.restarted();
  const p = await publisher(sign({ devices: ["ota-d"], blockSize: 1024 })); // 41 blocks
  await waitFor("some blocks", () => (p.devices.get("ota-d")?.blocks ?? 0) >= 8, 15_000, logOf(d));
  for (const s of NodeTCPSocket.open) s.destroy(); // a pulled cable
  await assertInstalled(d, restart);
  assert.ok(d.log.some((l) => /mqtt: connection lost/.test(l)));
  assert.equal(d.slots.opens.length, 1, "the slot was opened once: the download went on");
  assert.ok(p.devices.get("ota-d")!.blocks < 41 + 2 * 4 + 4, "only blocks in flight are sent again");
});

test("an-app-restart-mid-download-resumes-from-the-store-and-the-slot", async () => {
  const d = device("ota-r");
  const p = await publisher(sign({ devices: ["ota-r"], blockSize: 1024 }));
  await waitFor("some blocks", () => (p.devices.get("ota-r")?.blocks ?? 0) >= 12, 15_000, logOf(d));
  d.app.stop(); // a reboot in the middle of the download
  const restart = d.restarted();
  d.reboot();
  await assertInstalled(d, restart);
  assert.deepEqual(
    d.slots.opens.map((o) => o.resume),
    [false, true],
  );
  assert.ok(
    d.log.some((l) => /resuming version 2: \d+ of 41 blocks are in the slot/.test(l)),
    logOf(d)(),
  );
  assert.ok(p.devices.get("ota-r")!.blocks < 41 + 8, "blocks already in the slot are not fetched again");
});

test("an-image-with-the-wrong-hash-is-discarded", async () => {
  const d = device("ota-x");
  const bad = IMAGE.slice();
  bad[5000]! ^= 1;
  const p = await publisher(sign({ devices: ["ota-x"] }), bad);
  await waitFor("failed", () => p.devices.get("ota-x")?.state === "failed", 15_000, logOf(d));
  assert.match(p.devices.get("ota-x")!.reason!, /image's SHA-256 is [0-9a-f]{64}, the manifest signs/);
  assertGoodImageKept(d, /ota: version 2 failed: the image's SHA-256 is/);
});

test("a-truncated-image-fails-after-the-retries", async () => {
  const d = device("ota-t", { timeoutMs: 300, retries: 2 });
  const p = await publisher(sign({ devices: ["ota-t"] }), IMAGE.subarray(0, 30_000));
  await waitFor("failed", () => p.devices.get("ota-t")?.state === "failed", 20_000, logOf(d));
  assertGoodImageKept(d, /ota: version 2 failed: block 7 is 1328 bytes, expected 4096; gave up after 3 attempts/);
});

for (const [name, options, reason] of [
  ["too-large", { image: new Uint8Array(SLOT + 1) }, /the image is 65537 bytes; the update slot holds 65536/],
  ["wrong-signature", { privatePem: ROGUE.privatePem }, /the signature does not match key "k1"/],
  ["unknown-key", { keyId: "k9" }, /signed with key "k9", which this device does not trust \(config\.ota\.keys: k1\)/],
  [
    "other-device",
    { devices: ["someone-else"] as string[] },
    /for devices someone-else, not ota-other-device \(no fleet\)/,
  ],
  ["older-version", { version: 1 }, /version 1 is not above the running 1/],
  ["below-minimum", { minVersion: 3 }, /applies to version 3 and later; this device runs 1/],
  ["not-in-rollout", { share: 0 }, /not in the 0% rollout/],
] as const)
  test(`a-manifest-refused-as-${name}-leaves-the-good-image`, async () => {
    const id = "ota-" + name;
    const d = device(id);
    const p = await publisher(sign({ devices: [id], ...options }));
    await waitFor("online", () => p.devices.get(id)?.state === "idle", 10_000, logOf(d));
    if (p.devices.get(id)!.sentAt === 0) p.send(id); // the publisher sends only to its targets
    await waitFor("refused", () => p.devices.get(id)?.state === "refused", 10_000, logOf(d));
    assert.match(p.devices.get(id)!.reason!, reason);
    assertGoodImageKept(d, new RegExp("ota: refused a manifest: " + reason.source));
    assert.equal(d.slots.opens.length, 0, "the slot is not touched");
  });

test("the-cli-makes-keys-signs-and-serves-with-a-progress-line-per-device", async () => {
  const dir = mkdtempSync(join(tmpdir(), "telltale-ota-cli-"));
  const run = (...args: string[]) => execFileAsync("node", [OTA_SCRIPT, ...args], { encoding: "utf8" });
  await run("keygen", "--out", dir, "--id", "cli1");
  const entry = JSON.parse(readFileSync(join(dir, "ota-key.json"), "utf8")) as { id: string; key: string };
  writeFileSync(join(dir, "image.bin"), IMAGE);
  const { stdout: manifest } = await run(
    "sign",
    ...["--key", join(dir, "ota-key.pem"), "--id", "cli1", "--image", join(dir, "image.bin")],
    ...["--version", "2", "--device", "ota-cli"],
  );
  writeFileSync(join(dir, "manifest.json"), manifest);
  const d = device("ota-cli", { keys: [entry] });
  const restart = d.restarted();
  const serve = spawn(
    "node",
    [OTA_SCRIPT, "serve", "--manifest", join(dir, "manifest.json"), "--image", join(dir, "image.bin")].concat([
      "--broker",
      `mqtts://localhost:${broker.port}`,
      "--ca",
      broker.pki.caCert,
    ]),
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  serve.stdout.on("data", (b: Buffer) => (out += b.toString()));
  serve.stderr.on("data", (b: Buffer) => (out += b.toString()));
  try {
    await assertInstalled(d, restart);
    await waitFor(
      "the progress line at verifying",
      () => /ota-cli .*\[#+\]\s+100%\s+verifying/.test(out),
      5000,
      () => out,
    );
    assert.match(out, /ota-cli .*\[#*\.+\]\s+\d+%\s+downloading over mqtt\s+\(v1 → v2\)/);
  } finally {
    serve.kill();
  }
});
