// The README's Mosquitto acl_file, run as written: the device works under it, the operator commands it, and another
// account can neither command the device nor read it nor publish as it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { Mosquitto } from "./support/mosquitto.js";
import { startFirmware, waitFor, type Firmware } from "./support/firmware.js";
import { parseAnswer } from "../support/wire.js";

const README = new URL("../../../README.md", import.meta.url).pathname;
const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

/** The README's acl_file: the ```conf block that starts with "# acl_file". */
function readmeAcl(): string {
  const block = /```conf\n(# acl_file[\s\S]*?)```/.exec(readFileSync(README, "utf8"));
  assert.ok(block, "README.md has the acl_file example");
  return block[1]!;
}

interface Seen {
  topic: string;
  payload: string;
}

async function client(port: number, username: string, filter?: string): Promise<{ c: mqtt.MqttClient; seen: Seen[] }> {
  const c = mqtt.connect({ host: "127.0.0.1", port, username, password: username + "-pw", reconnectPeriod: 0 });
  cleanup.push(() => c.end(true));
  const seen: Seen[] = [];
  c.on("message", (topic, payload) => seen.push({ topic, payload: payload.toString() }));
  await new Promise<void>((resolve, reject) => {
    c.once("error", reject);
    c.once("connect", () => resolve());
  });
  if (filter) await c.subscribeAsync(filter, { qos: 1 });
  return { c, seen };
}

test("the-readme-acl-lets-the-device-and-operator-work-and-keeps-others-out", async () => {
  const dir = mkdtempSync(join(tmpdir(), "telltale-acl-"));
  chmodSync(dir, 0o755);
  const passwords = join(dir, "passwords"),
    acl = join(dir, "acl");
  for (const [i, user] of ["dev-acl", "operator", "intruder"].entries())
    execFileSync("mosquitto_passwd", [...(i === 0 ? ["-c"] : []), "-b", passwords, user, user + "-pw"]);
  writeFileSync(acl, readmeAcl());
  for (const f of [passwords, acl]) chmodSync(f, 0o644); // the broker drops to its own user
  const broker = await Mosquitto.start({
    extra: ["allow_anonymous false", `password_file ${passwords}`, `acl_file ${acl}`],
  });
  cleanup.push(() => broker.stop());

  const operator = await client(broker.port, "operator", "telltale/#");
  const intruder = await client(broker.port, "intruder", "telltale/#");
  const fw: Firmware = startFirmware("dev-acl", {
    url: `mqtt://127.0.0.1:${broker.port}`,
    username: "dev-acl",
    password: "dev-acl-pw",
  });
  cleanup.push(() => fw.app.stop());
  const dump = () => fw.log.slice(-10).join("\n") + "\n" + broker.log;
  await waitFor("the device's telemetry at the operator", () =>
    operator.seen.some((m) => m.topic === "telltale/dev-acl/telemetry"),
  );
  assert.ok(
    operator.seen.some((m) => m.topic === "telltale/dev-acl/status" && m.payload === "online"),
    "status allowed",
  );
  await new Promise((r) => setTimeout(r, 300)); // the device's SUBSCRIBE follows its CONNACK

  await intruder.c.publishAsync("telltale/dev-acl/command", "ping", { qos: 1 });
  await intruder.c.publishAsync("telltale/dev-acl/alarm", '{"state":"cleared"}', { qos: 1 });
  await operator.c.publishAsync("telltale/dev-acl/command", "ping", { qos: 1 });
  const results = () => operator.seen.filter((m) => m.topic === "telltale/dev-acl/command/result");
  await waitFor("the operator's answer", () => results().length >= 1, 10_000, dump);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(results().length, 1, "one answer: the intruder's ping never reached the device");
  assert.equal(parseAnswer(results()[0]!.payload).ok, true);
  assert.ok(!operator.seen.some((m) => m.topic === "telltale/dev-acl/alarm"), "no alarm published as the device");
  // The configuration topics: the operator's request reaches the device and its answer the operator; the intruder's not.
  await intruder.c.publishAsync("telltale/dev-acl/config/set", "{}", { qos: 1 });
  await operator.c.publishAsync("telltale/dev-acl/config/set", '{"command":"config","version":1,"patch":{}}', {
    qos: 1,
  });
  const configResults = () => operator.seen.filter((m) => m.topic === "telltale/dev-acl/config/result");
  await waitFor("the answer on config/result", () => configResults().length >= 1, 10_000, dump);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(configResults().length, 1, "one answer: the intruder's request never reached the device");
  assert.match(configResults()[0]!.payload, /started without its configuration's origin/);
  assert.deepEqual(intruder.seen, [], "the intruder reads nothing");
  assert.ok(fw.app.connected, "the device's session is fine");
});
