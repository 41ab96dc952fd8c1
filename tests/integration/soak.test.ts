// Soak: a device process publishes QoS 1 telemetry at 10/s through TLS while the broker restarts, the TCP link drops and
// the device reboots (killed, some mid-write); a subscriber checks by (boot, seq) that every stored message arrived.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { TestBroker } from "./support/test-broker.js";
import { Proxy } from "./support/proxy.js";
import { waitFor } from "./support/firmware.js";
import { seededRandom, shuffle } from "./support/schedule.js";

const DEVICE = new URL("./support/device.js", import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// A fixed seed so a failure can be replayed; override with SOAK_SEED.
const random = seededRandom(20240605);

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

/** What the device publishes that the subscriber keys on. */
interface Telemetry {
  boot: number;
  seq: number;
}

type SoakEvent = "restart-broker" | "drop-link" | "kill-device" | "tear-write";

interface Device {
  child: ChildProcess;
  exited: Promise<void>;
}

test("soak-every-qos1-message-arrives-through-outages-and-reboots", { timeout: 240_000 }, async () => {
  const broker = await TestBroker.start({
    persistence: true,
    extra: ["max_queued_messages 100000", "max_inflight_messages 100"],
  });
  cleanup.push(() => broker.close());
  const pki = broker.pki;
  const proxy = await Proxy.start(() => broker.port);
  cleanup.push(() => proxy.close());

  // Received messages by "boot/seq": the first arrival time and how many times each came.
  const arrivals = new Map<string, { at: number; count: number }>();
  const subscriber = mqtt.connect(
    broker.clientOptions({ clientId: "soak-subscriber", clean: false, reconnectPeriod: 100 }),
  );
  cleanup.push(() => subscriber.end(true));
  subscriber.on("message", (_topic, payload) => {
    const m = JSON.parse(payload.toString()) as Telemetry;
    const key = m.boot + "/" + m.seq;
    const seen = arrivals.get(key);
    if (seen) seen.count++;
    else arrivals.set(key, { at: Date.now(), count: 1 });
  });
  subscriber.on("error", () => {
    /* reconnects on its own across broker restarts */
  });
  await new Promise<void>((resolve, reject) =>
    subscriber.once("connect", () =>
      subscriber.subscribe("telltale/soak/telemetry", { qos: 1 }, (e) => (e ? reject(e) : resolve())),
    ),
  );

  // What the device made durable: "boot/seq" -> wall time of the append.
  const stored = new Map<string, number>();
  const dir = mkdtempSync(join(tmpdir(), "telltale-soak-"));
  const config = {
    intervalMs: 100,
    broker: {
      url: `mqtts://127.0.0.1:${proxy.port}`,
      ca: pki.caPem,
      keepalive: 5,
      backoffBaseMs: 200,
      backoffCapMs: 2000,
      drainPerSecond: 100,
    },
  };
  const logTail: string[] = [];
  let tornFound = 0;
  function boot(tear?: { at: number; skip: number; minLength: number }): Device {
    const child = spawn(process.execPath, [DEVICE, JSON.stringify({ dir, deviceId: "soak", config, tear })], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let buffer = "";
    child.stdout.on("data", (d: Buffer) => {
      buffer += d.toString();
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith("S ")) {
          const [, b, s, at] = line.split(" ");
          stored.set(b + "/" + s, Number(at));
        } else {
          if (/torn write\(s\) skipped/.test(line)) tornFound++;
          logTail.push(line.slice(2));
          if (logTail.length > 40) logTail.shift();
        }
      }
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    return { child, exited };
  }
  let device = boot();
  cleanup.push(() => device.child.kill("SIGKILL"));
  const context = () => "device log:\n" + logTail.join("\n");
  await waitFor("first telemetry stored", () => stored.size > 0, 15_000, context);

  // 30 events, 2-3.5 s apart: 13 broker restarts and 11 dropped links (24 outages), 6 reboots (3 of them mid-write).
  const events: SoakEvent[] = [
    ...Array<SoakEvent>(13).fill("restart-broker"),
    ...Array<SoakEvent>(11).fill("drop-link"),
    ...Array<SoakEvent>(3).fill("kill-device"),
    ...Array<SoakEvent>(3).fill("tear-write"),
  ];
  shuffle(events, random);
  const counts: Record<SoakEvent, number> = { "restart-broker": 0, "drop-link": 0, "kill-device": 0, "tear-write": 0 };
  const started = Date.now();
  for (const event of events) {
    await sleep(2000 + random(1500));
    counts[event]++;
    switch (event) {
      case "restart-broker":
        await broker.stop(true);
        await sleep(500 + random(1500));
        await broker.resume();
        break;
      case "drop-link":
        proxy.up = false;
        proxy.dropAll();
        await sleep(300 + random(1500));
        proxy.up = true;
        break;
      case "kill-device":
        device.child.kill("SIGKILL");
        await device.exited;
        await sleep(200 + random(800));
        device = boot();
        break;
      case "tear-write": {
        // The next boot dies inside one of its first record writes, `at` bytes into it.
        device.child.kill("SIGKILL");
        await device.exited;
        device = boot({ at: 1 + random(200), skip: random(20), minLength: 64 });
        const died = await Promise.race([device.exited.then(() => true), sleep(15_000).then(() => false)]);
        assert.ok(died, "the torn write ended the boot\n" + context());
        device = boot();
        break;
      }
    }
  }
  await sleep(3000);
  const expected = Array.from(stored.keys());
  await waitFor(
    "every stored message delivered",
    () => expected.every((k) => arrivals.has(k)),
    60_000,
    () =>
      "missing " +
      expected
        .filter((k) => !arrivals.has(k))
        .slice(0, 20)
        .join(", ") +
      "\n" +
      context(),
  );
  const soakMs = Date.now() - started;

  device.child.kill("SIGTERM");
  await device.exited;
  const lost = expected.filter((k) => !arrivals.has(k));
  let duplicates = 0,
    worst = 0,
    worstKey = "";
  for (const { count } of arrivals.values()) duplicates += count - 1;
  for (const key of expected) {
    const delay = arrivals.get(key)!.at - stored.get(key)!;
    if (delay > worst) {
      worst = delay;
      worstKey = key;
    }
  }
  const perBoot = new Map<string, number>();
  for (const k of expected) {
    const b = k.slice(0, k.indexOf("/"));
    perBoot.set(b, (perBoot.get(b) ?? 0) + 1);
  }
  const boots = perBoot.size;
  console.log(
    `# soak: ${Math.round(soakMs / 1000)} s, ${expected.length} QoS 1 messages stored over ${boots} boots; ` +
      `outages: ${counts["restart-broker"]} broker restarts + ${counts["drop-link"]} dropped links; ` +
      `reboots: ${counts["kill-device"]} kill -9 + ${counts["tear-write"]} torn writes`,
  );
  console.log(
    `# soak: lost ${lost.length}, duplicated ${duplicates}, worst delivery delay ${worst} ms (message ${worstKey})`,
  );
  assert.equal(lost.length, 0, "lost: " + lost.slice(0, 20).join(", "));
  console.log(`# soak: recovery found ${tornFound} torn write(s)`);
  assert.ok(tornFound >= counts["tear-write"], "each torn write is found when the device starts again");
  console.log("# soak: messages stored per boot: " + Array.from(perBoot, ([b, n]) => b + ":" + n).join(" "));
  assert.ok(counts["kill-device"] + counts["tear-write"] >= 5, "the device rebooted at least 5 times");
  // Within each boot, sequence numbers have no gaps except where a torn write ended that boot.
  for (let b = 1; b <= boots; b++) {
    const seqs = expected
      .filter((k) => k.startsWith(b + "/"))
      .map((k) => Number(k.split("/")[1]))
      .sort((x, y) => x - y);
    for (let i = 1; i < seqs.length; i++)
      assert.equal(seqs[i], seqs[i - 1]! + 1, `boot ${b}: stored seq ${seqs[i - 1]} then ${seqs[i]}`);
  }
});
