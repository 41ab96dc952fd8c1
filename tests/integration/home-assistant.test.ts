// Home Assistant discovery against a real Mosquitto: the retained device payload read back, its templates evaluated on real
// telemetry (and rendered by Jinja2 when python3 has it), re-sent on HA's birth, a removed sensor removed, discovery off.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brokerForFile, type Received } from "./support/test-broker.js";
import { waitFor } from "./support/firmware.js";
import { createNodeHost, type NodeHost } from "../../hosts/node/host.js";
import { App } from "../../src/app.js";
import { parseConfig } from "../../modules/config/config.js";
import { discoveryProblems } from "../support/ha-schema.js";
import { parseTelemetry, type TelemetryMessage } from "../support/wire.js";

type Component = Record<string, unknown> & { p: string; val_tpl?: string; uniq_id?: string };
interface Discovery {
  cmps: Record<string, Component>;
  stat_t: string;
  avty_t: string;
  pl_avail: string;
  pl_not_avail: string;
}

const ID = "ha-a";
const TOPIC = "homeassistant/device/telltale_ha-a/config";
const TELEMETRY = "telltale/ha-a/telemetry";
const WITH_BEARING = [{ part: "sht3x" }, { part: "adxl345", name: "bearing" }];

const broker = brokerForFile({ tls: false });
const apps: App[] = [];
broker.atEnd(() => {
  for (const app of apps) app.stop();
});
/** The device's flash across its reboots: the store remembers what discovery announced. */
const flash = mkdtempSync(join(tmpdir(), "telltale-ha-"));

function boot(config: Record<string, unknown>): { app: App; host: NodeHost; log: string[] } {
  for (const app of apps.splice(0)) app.stop();
  const log: string[] = [];
  const parsed = parseConfig({
    deviceId: ID,
    intervalMs: 100,
    broker: broker.deviceBroker({ keepalive: 10 }),
    detector: { calibrationSamples: 60 },
    ...config,
  });
  const host = createNodeHost({
    storePath: join(flash, "store.json"),
    deviceId: ID,
    log: (line) => log.push(line),
    sensors: parsed.sensors,
  });
  const app = new App(host, parsed);
  apps.push(app);
  void app.start();
  return { app, host, log };
}

/** `value_json` followed by `.name` or `['name']` segments: the keys it reads, in order. */
function pathOf(expression: string): string[] {
  assert.ok(expression.startsWith("value_json"), expression);
  const keys: string[] = [];
  const segment = /\.([A-Za-z_][A-Za-z0-9_]*)|\['([^']*)'\]/y;
  segment.lastIndex = "value_json".length;
  while (segment.lastIndex < expression.length) {
    const m = segment.exec(expression);
    assert.ok(m, "not a path: " + expression);
    keys.push(m[1] ?? m[2]!);
  }
  return keys;
}

function at(value: unknown, keys: readonly string[]): unknown {
  let v = value;
  for (const k of keys) v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/**
 * The forms discovery writes, read as Jinja would: a value, a value guarded by its sensor being in telemetry, and
 * ON/OFF of a truthy value (guarded or not). Returns what the template reads and renders.
 */
function evaluate(template: string, t: unknown): { path: string[]; rendered: string } {
  const m =
    /^\{\{ \(?(?:'ON' if )?(value_json[^ ]*)(?: else 'OFF'\))?(?: else 'OFF')?(?: if (value_json[^ ]*) is defined else None)? \}\}$/.exec(
      template,
    );
  assert.ok(m, "a template form discovery does not write: " + template);
  const path = pathOf(m[1]!);
  if (m[2] !== undefined) {
    const guard = pathOf(m[2]);
    assert.deepEqual(guard, path.slice(0, -1), "the guard is the value's sensor: " + template);
    if (at(t, guard) === undefined) return { path, rendered: "None" };
  }
  const value = at(t, path);
  if (template.includes("'ON'")) return { path, rendered: value ? "ON" : "OFF" };
  assert.equal(typeof value, "number", template + " reads a number");
  return { path, rendered: String(value) };
}

/** Renders each template with real Jinja2 (the engine of HA's templates, in its sandbox), or undefined without it. */
function jinja(cases: { template: string; value_json: unknown }[]): string[] | undefined {
  if (spawnSync("python3", ["-c", "import jinja2"]).status !== 0) return undefined;
  const script =
    "import json, sys\n" +
    "from jinja2.sandbox import ImmutableSandboxedEnvironment\n" +
    "env = ImmutableSandboxedEnvironment()\n" +
    "cases = json.load(sys.stdin)\n" +
    "print(json.dumps([env.from_string(c['template']).render(value_json=c['value_json']) for c in cases]))\n";
  const r = spawnSync("python3", ["-c", script], { input: JSON.stringify(cases), encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as string[];
}

function discoveries(got: Received[]): Received[] {
  return got.filter((m) => m.topic === TOPIC);
}

function parse(m: Received): Discovery {
  return JSON.parse(m.payload) as Discovery;
}

test("retained-device-payload-reads-real-telemetry-and-is-resent-on-ha-birth", async (t: TestContext) => {
  const telemetry = await broker.listen(TELEMETRY);
  const fw = boot({ sensors: WITH_BEARING });
  const dump = () => fw.log.slice(-15).join("\n");
  await waitFor("connected", () => fw.app.connected, 10_000, dump);
  const message = await waitFor(
    "telemetry with both sensors",
    () =>
      telemetry.got
        .map((m) => parseTelemetry(m.payload))
        .find((m) => m.sensors.sht3x !== undefined && m.sensors.bearing !== undefined),
    10_000,
    dump,
  );

  // A client that comes later reads the discovery back from the broker: retained.
  const ha = await broker.listen("homeassistant/#");
  const retained = await waitFor("retained discovery", () => discoveries(ha.got)[0], 5_000, dump);
  assert.equal(retained.retain, true);
  assert.deepEqual(discoveryProblems(retained.payload), []);
  const d = parse(retained);
  assert.deepEqual(Object.keys(d.cmps), [
    "sht3x-temperature",
    "sht3x-humidity",
    "bearing-rmsX",
    "bearing-rmsY",
    "bearing-rmsZ",
    "score",
    "alarm",
  ]);
  assert.deepEqual(d.cmps.alarm, {
    p: "binary_sensor",
    name: "alarm",
    dev_cla: "problem",
    val_tpl: "{{ 'ON' if value_json.alarm else 'OFF' }}",
    uniq_id: "telltale_ha-a_alarm",
  });
  // The state is the topic telemetry arrives on; availability is the status topic and its payloads.
  assert.equal(d.stat_t, TELEMETRY);
  const status = await broker.listen(d.avty_t);
  const online = await waitFor("retained status", () => status.got.find((m) => m.retain), 5_000);
  assert.equal(online.payload, d.pl_avail);
  assert.equal(d.pl_not_avail, "offline", "the Last Will's payload");

  // Every template reads the field of real telemetry it names, and a failed sensor (absent) renders None (unknown).
  const failed = JSON.parse(JSON.stringify(message)) as TelemetryMessage;
  delete failed.sensors.bearing;
  const cases: { template: string; value_json: unknown; expected: string }[] = [];
  for (const [id, c] of Object.entries(d.cmps)) {
    const { path, rendered } = evaluate(c.val_tpl!, message);
    const field = id === "score" ? ["detector", "score"] : id === "alarm" ? ["alarm"] : ["sensors", ...id.split("-")];
    assert.deepEqual(path, field, id + " reads " + field.join("."));
    assert.equal(rendered, id === "alarm" ? (message.alarm ? "ON" : "OFF") : String(at(message, field)), id);
    cases.push({ template: c.val_tpl!, value_json: message, expected: rendered });
    const absent = evaluate(c.val_tpl!, failed).rendered;
    if (id.startsWith("bearing-")) assert.equal(absent, "None", id + " while its sensor is failed");
    cases.push({ template: c.val_tpl!, value_json: failed, expected: absent });
  }
  const rendered = jinja(cases);
  if (rendered === undefined) t.diagnostic("python3 with jinja2 not found: templates evaluated by their paths only");
  else
    assert.deepEqual(
      rendered,
      cases.map((c) => c.expected),
      "Jinja2 renders what the paths say",
    );

  // Home Assistant restarts: its birth message brings the payload again (live, not a retained replay).
  const seen = discoveries(ha.got).length;
  ha.client.publish("homeassistant/status", "online", { qos: 1 });
  const again = await waitFor("discovery after HA's birth", () => discoveries(ha.got)[seen], 5_000, dump);
  assert.equal(again.retain, false);
  assert.equal(again.payload, retained.payload);
  // HA's will is no reason to announce.
  ha.client.publish("homeassistant/status", "offline", { qos: 1 });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(discoveries(ha.got).length, seen + 1);
});

test("a-sensor-left-out-of-the-configuration-is-removed-from-ha", async () => {
  const ha = await broker.listen(TOPIC);
  await waitFor("the first boot's payload", () => discoveries(ha.got)[0], 5_000);
  const fw = boot({ sensors: [{ part: "sht3x" }] });
  const dump = () => fw.log.slice(-15).join("\n");
  const removal = await waitFor(
    "payload removing the accelerometer",
    () => discoveries(ha.got).find((m) => parse(m).cmps["bearing-rmsX"]?.p === "sensor" && !m.retain),
    10_000,
    dump,
  );
  const c = parse(removal).cmps;
  for (const axis of ["X", "Y", "Z"]) assert.deepEqual(c["bearing-rms" + axis], { p: "sensor" });
  assert.equal(c["sht3x-temperature"]?.uniq_id, "telltale_ha-a_sht3x-temperature");
  assert.deepEqual(discoveryProblems(removal.payload), []);

  // HA comes online: the removal once more (it listens now), then the payload without the accelerometer.
  const seen = discoveries(ha.got).length;
  ha.client.publish("homeassistant/status", "online", { qos: 1 });
  const [first, second] = await waitFor(
    "removal and clean payload",
    () => {
      const next = discoveries(ha.got).slice(seen);
      return next.length >= 2 ? next : undefined;
    },
    5_000,
    dump,
  );
  assert.deepEqual(parse(first!).cmps["bearing-rmsY"], { p: "sensor" });
  assert.deepEqual(Object.keys(parse(second!).cmps), ["sht3x-temperature", "sht3x-humidity", "score", "alarm"]);
  const later = await broker.listen(TOPIC);
  const kept = await waitFor("retained", () => discoveries(later.got)[0], 5_000);
  assert.equal(kept.payload, second!.payload, "the broker keeps the clean payload");
});

test("discovery-switched-off-removes-the-device-and-the-retained-payload", async () => {
  const ha = await broker.listen(TOPIC);
  await waitFor("retained payload", () => discoveries(ha.got)[0], 5_000);
  const fw = boot({ sensors: [{ part: "sht3x" }], homeAssistant: { enabled: false } });
  const dump = () => fw.log.slice(-15).join("\n");
  await waitFor("empty payload", () => discoveries(ha.got).find((m) => m.payload === ""), 10_000, dump);
  await waitFor("store forgets the device", () => fw.host.store.get("ha") === undefined, 5_000, dump);
  const later = await broker.listen("homeassistant/#");
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(later.got, [], "nothing retained under homeassistant/");
  assert.ok(fw.log.includes("home assistant: discovery off; removing the device from " + TOPIC), dump());
});
