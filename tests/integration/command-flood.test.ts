// A command flood through a real Mosquitto: a device process gets QoS 0 pings as fast as a client can send them, and
// keeps sampling and publishing; it answers at its rate limit only, and counts what it dropped in health telemetry.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { Mosquitto } from "./support/mosquitto.js";
import { waitFor } from "./support/firmware.js";
import { parseTelemetry } from "../support/wire.js";
import { COMMAND_BURST, COMMANDS_PER_SECOND } from "../../src/commands.js";

const DEVICE = new URL("./support/device.js", import.meta.url).pathname;
const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

test("a-command-flood-is-dropped-and-counted-while-telemetry-continues", async () => {
  const broker = await Mosquitto.start();
  cleanup.push(() => broker.stop());
  const url = `mqtt://127.0.0.1:${broker.port}`;
  const telemetry: { at: number; seq: number; dropped?: number }[] = [];
  const answers: number[] = [];
  const watcher = mqtt.connect(url, { reconnectPeriod: 200 });
  cleanup.push(() => watcher.end(true));
  watcher.on("message", (topic, payload) => {
    if (topic.endsWith("/command/result")) answers.push(Date.now());
    else {
      const t = parseTelemetry(payload.toString()) as ReturnType<typeof parseTelemetry> & {
        health: { commands?: { dropped: number } };
      };
      telemetry.push({ at: Date.now(), seq: t.seq, dropped: t.health.commands?.dropped });
    }
  });
  await new Promise<void>((resolve, reject) =>
    watcher.once("connect", () =>
      watcher.subscribe(["telltale/flood/telemetry", "telltale/flood/command/result"], { qos: 0 }, (e) =>
        e ? reject(e) : resolve(),
      ),
    ),
  );

  const log: string[] = [];
  const device: ChildProcess = spawn(
    process.execPath,
    [
      DEVICE,
      JSON.stringify({
        dir: mkdtempSync(join(tmpdir(), "telltale-flood-")),
        deviceId: "flood",
        config: { intervalMs: 100, broker: { url, telemetryQos: 0 }, detector: { calibrationSamples: 60 } },
      }),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  cleanup.push(() => device.kill("SIGKILL"));
  let buffered = "";
  device.stdout!.on("data", (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) if (line.startsWith("L ")) log.push(line.slice(2));
  });
  await waitFor("the device subscribed", () => log.some((l) => l.startsWith("mqtt: connected")));
  await new Promise((r) => setTimeout(r, 500)); // its SUBSCRIBE follows the CONNACK

  const flooder = mqtt.connect(url, { reconnectPeriod: 0 });
  cleanup.push(() => flooder.end(true));
  await new Promise<void>((resolve) => flooder.once("connect", () => resolve()));
  const start = Date.now(),
    floodMs = 5000;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const burst = () => {
      if (Date.now() - start >= floodMs) return resolve();
      for (let i = 0; i < 500; i++) flooder.publish("telltale/flood/command", "ping", { qos: 0 });
      sent += 500;
      setImmediate(burst);
    };
    burst();
  });
  const end = Date.now();
  await new Promise((r) => setTimeout(r, 1500)); // what Mosquitto still had queued arrives

  const during = telemetry.filter((t) => t.at >= start && t.at <= end);
  const answered = answers.filter((a) => a >= start).length;
  const seconds = (Date.now() - start) / 1000;
  console.log(
    `# flood: ${sent} QoS 0 pings in ${floodMs} ms; ${answered} answered; ${during.length} telemetry messages meanwhile; ` +
      `health.commands.dropped ${telemetry.at(-1)?.dropped}`,
  );
  assert.ok(sent >= 20_000, "a flood: " + sent);
  // The token bucket: the burst, then COMMANDS_PER_SECOND (one more for timing at the edges).
  assert.ok(
    answered <= COMMAND_BURST + Math.ceil(COMMANDS_PER_SECOND * seconds) + 1,
    `answered ${answered} in ${seconds} s`,
  );
  assert.ok(answered >= COMMAND_BURST, "the burst is answered: " + answered);
  assert.ok(during.length >= 5, "telemetry continues during the flood: " + during.length);
  const reported = telemetry.at(-1)?.dropped ?? 0;
  assert.ok(reported > 1000, "health.commands.dropped counts the flood: " + reported);
  const floodLines = log.filter((l) => l.startsWith("commands: more than"));
  assert.ok(
    floodLines.length >= 1 && floodLines.length <= 3,
    "a line per flood, not per message:\n" + floodLines.join("\n"),
  );
  assert.ok(!log.some((l) => l.startsWith("mqtt: connection lost")), "the session survives the flood");
});
