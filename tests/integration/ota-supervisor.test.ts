// Acceptance: `npm start`'s supervisor runs the real firmware against Mosquitto with TLS and updates it for real —
// N → N+1 over MQTT blocks, → N+2 over HTTPS Range, each committing after its self-test, then a broken N+3 that
// throws at start is rolled back to N+2 by the supervisor alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { brokerForFile } from "./support/test-broker.js";
import { waitFor } from "./support/firmware.js";
import { packBuild } from "../../hosts/node/image.js";
import { readBootState, slotPaths } from "../../hosts/node/boot-state.js";
import { generateKeys, Publisher, serveImage, signManifest } from "../../tools/ota/publisher.js";

/** The worktree (this file is build/tests/integration/ota-supervisor.test.js). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const ID = "ota-e2e";
const KEY = generateKeys("k1");

const broker = brokerForFile();
let firmware: ChildProcess | undefined;
broker.atEnd(() => firmware?.kill("SIGKILL"));

test("supervisor-updates-over-mqtt-then-https-and-rolls-back-a-broken-image", { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "telltale-e2e-"));
  const flashDir = join(dir, "flash");
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({
      deviceId: ID,
      intervalMs: 200,
      broker: broker.deviceBroker({ keepalive: 10, backoffBaseMs: 200 }),
      detector: { calibrationSamples: 60 },
      homeAssistant: { enabled: false },
      ota: { keys: [KEY.publicEntry], selfTestMs: 15_000, timeoutMs: 2000, retries: 5, ca: broker.pki.caPem },
    }),
  );
  const out: string[] = [];
  firmware = spawn(
    process.execPath,
    [
      join(ROOT, "build/hosts/node/boot.js"),
      "--config",
      "config.json",
      "--flash",
      flashDir,
      "--fault",
      "none",
      "--boot-tries",
      "2",
      "--confirm-within",
      "60",
    ],
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
  );
  let partial = "";
  const collect = (b: Buffer) => {
    const text = partial + b.toString();
    const lines = text.split("\n");
    partial = lines.pop()!;
    out.push(...lines);
  };
  firmware.stdout!.on("data", collect);
  firmware.stderr!.on("data", collect);
  let ended: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    firmware!.on("exit", (code) => {
      ended = code;
      resolve(code);
    }),
  );
  const tail = () => out.slice(-40).join("\n");

  // The device's retained `…/ota` states, as an operator's client sees them.
  const states: Record<string, unknown>[] = [];
  const watcher = await broker.client();
  watcher.on("message", (_t, payload) => states.push(JSON.parse(payload.toString()) as Record<string, unknown>));
  await new Promise((resolve) => watcher.subscribe(`telltale/${ID}/ota`, { qos: 1 }, resolve));
  const reached = (state: string, version: number, ms = 90_000) =>
    waitFor(
      `${state} at version ${version}`,
      () => {
        if (ended !== undefined) throw new Error(`the supervisor exited (${ended})\n${tail()}`);
        return states.find((s) => s.state === state && s.version === version);
      },
      ms,
      tail,
    );

  await reached("idle", 1000);
  assert.ok(out.includes("supervisor: first boot: the installed build becomes slot a"), tail());

  // N+1 over MQTT blocks.
  const image1 = packBuild(ROOT, 1001);
  const p1 = new Publisher({
    client: await broker.client(),
    manifest: signManifest({ privatePem: KEY.privatePem, keyId: "k1", image: image1, version: 1001, devices: [ID] }),
    image: image1,
  });
  await p1.start();
  await reached("committed", 1001);
  assert.ok(
    out.some((l) => l.startsWith("supervisor: booting slot b, version 1001 (pending verification")),
    tail(),
  );
  assert.ok(p1.devices.get(ID)!.blocks >= Math.ceil(image1.length / 4096), "the image came in MQTT blocks");
  assert.equal(readBootState(slotPaths(flashDir).state)!.committed.version, 1001);

  // N+2 over HTTPS Range.
  const image2 = packBuild(ROOT, 1002);
  const ranges: string[] = [];
  const server = await serveImage(
    image2,
    { cert: readFileSync(broker.pki.serverCert), key: readFileSync(broker.pki.serverKey) },
    (r) => ranges.push(String(r)),
  );
  broker.atEnd(() => server.close());
  const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/telltale-1002.bin`;
  const p2 = new Publisher({
    client: await broker.client(),
    manifest: signManifest({
      privatePem: KEY.privatePem,
      keyId: "k1",
      image: image2,
      version: 1002,
      devices: [ID],
      url,
    }),
    image: image2,
  });
  await p2.start();
  await reached("committed", 1002);
  assert.ok(ranges.length > 0 && ranges.every((r) => r.startsWith("bytes=")), "the image came by Range requests");
  assert.ok(
    out.some((l) => l.startsWith("supervisor: booting slot a, version 1002 (pending verification")),
    tail(),
  );

  // A broken N+3: it throws at start, so it never confirms; after its two tries the supervisor boots N+2 again.
  const image3 = packBuild(ROOT, 1003, {
    "build/src/main-node.js": 'throw new Error("broken image: throws at start");\n',
  });
  const p3 = new Publisher({
    client: await broker.client(),
    manifest: signManifest({ privatePem: KEY.privatePem, keyId: "k1", image: image3, version: 1003, devices: [ID] }),
    image: image3,
  });
  await p3.start();
  const rolledBack = await reached("rolled-back", 1002);
  assert.equal(rolledBack.reason, "version 1003 did not confirm itself in 2 boots (last: exit code 1)");
  assert.ok(
    out.some((l) => l.includes("broken image: throws at start")),
    tail(),
  );
  assert.equal(out.filter((l) => l.startsWith("supervisor: booting slot b, version 1003")).length, 2, tail());
  const state = readBootState(slotPaths(flashDir).state)!;
  assert.deepEqual([state.committed.slot, state.committed.version, state.pending], ["a", 1002, undefined]);

  console.log(
    `e2e: image ${image1.length} bytes; ${p1.devices.get(ID)!.blocks} MQTT blocks for 1001, ${ranges.length} Range ` +
      `requests for 1002; boots: ` +
      out
        .filter((l) => l.startsWith("supervisor: booting"))
        .map((l) => l.slice(20))
        .join(" | "),
  );
  firmware.kill("SIGTERM");
  assert.equal(await exited, 0, "the supervisor stops cleanly with the firmware\n" + tail());
  firmware = undefined;
});
