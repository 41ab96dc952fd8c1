// The dashboard's history (SQLite in WebAssembly, a real file) and the collector's checks of what it stores.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { History } from "../../dashboard/history.js";
import { Collector } from "../../dashboard/collector.js";

const T0 = 1_800_000_000_000;
const telemetry = (seq: number, boot = 1) =>
  JSON.stringify({ boot, seq, uptimeMs: seq * 1000, sensors: { sht3x: { temperature: 40 + seq / 100 } } });
const bytes = (text: string) => new TextEncoder().encode(text);

function tempDb(): string {
  return join(mkdtempSync(join(tmpdir(), "telltale-dashboard-")), "history.db");
}

test("history-survives-reopening-the-file", () => {
  const path = tempDb();
  const a = new History({ path });
  a.setStatus("pump-1", T0, "online");
  for (let seq = 1; seq <= 5; seq++) a.addTelemetry("pump-1", T0 + seq * 1000, 1, seq, telemetry(seq));
  a.addAlarm("pump-1", T0 + 4000, 1, 4, '{"state":"raised","boot":1,"seq":4}');
  a.close();
  const b = new History({ path });
  const [d] = b.since(T0);
  assert.equal(d?.id, "pump-1");
  assert.equal(d.status, "online");
  assert.deepEqual(
    d.telemetry.map(([at]) => at),
    [1, 2, 3, 4, 5].map((s) => T0 + s * 1000),
  );
  assert.equal(d.telemetry[2]![1], telemetry(3), "the payload is stored as received");
  assert.equal(d.alarms.length, 1);
  b.close();
});

test("history-stores-a-message-delivered-twice-once", () => {
  const h = new History({ path: ":memory:" });
  assert.equal(h.addTelemetry("pump-1", T0, 1, 7, telemetry(7)), true);
  assert.equal(h.addTelemetry("pump-1", T0 + 5000, 1, 7, telemetry(7)), false, "same boot and seq");
  assert.equal(h.addTelemetry("pump-1", T0 + 6000, 2, 7, telemetry(7, 2)), true, "after a reboot seq starts again");
  assert.equal(h.rows, 2);
  h.close();
});

test("since-returns-the-period-and-the-alarm-state-before-it", () => {
  const h = new History({ path: ":memory:" });
  h.addAlarm("pump-1", T0, 1, 1, '{"state":"raised","boot":1,"seq":1}');
  for (let seq = 1; seq <= 10; seq++) h.addTelemetry("pump-1", T0 + seq * 60_000, 1, seq, telemetry(seq));
  const [d] = h.since(T0 + 5 * 60_000);
  assert.equal(d?.telemetry.length, 6, "minutes 5 to 10");
  assert.deepEqual(d.alarms, []);
  assert.deepEqual(d.alarmBefore, [T0, '{"state":"raised","boot":1,"seq":1}'], "raised before the period began");
  h.close();
});

test("prune-applies-the-retention-and-the-row-limit", () => {
  const h = new History({ path: ":memory:", retentionMs: 3600_000, maxRows: 50 });
  for (let seq = 1; seq <= 120; seq++) h.addTelemetry("pump-1", T0 + seq * 60_000, 1, seq, telemetry(seq));
  h.addTelemetry("old-fan", T0, 1, 1, telemetry(1));
  h.addAlarm("pump-1", T0 + 60_000, 1, 1, '{"state":"raised","boot":1,"seq":1}');
  const now = T0 + 120 * 60_000;
  const deleted = h.prune(now);
  const devices = h.since(0);
  assert.deepEqual(
    devices.map((d) => d.id),
    ["pump-1"],
    "a device silent for longer than the retention is forgotten",
  );
  const at = devices[0]!.telemetry.map(([t]) => t);
  assert.equal(at.length, 50, "the row limit keeps the newest 50");
  assert.equal(at[0], T0 + 71 * 60_000);
  assert.ok(at[0] !== undefined && at[0] >= now - 3600_000);
  assert.deepEqual(devices[0]!.alarms, [], "alarms older than the retention go too");
  assert.equal(deleted, 70 + 1 + 1 + 1, "telemetry, the old device's row, the alarm and the device");
  h.close();
});

test("history-refuses-limits-that-are-not-positive-integers", () => {
  assert.throws(() => new History({ path: ":memory:", retentionMs: 0 }), /history: retentionMs must be a positive/);
  assert.throws(() => new History({ path: ":memory:", maxRows: 1.5 }), /history: maxRows must be a positive/);
});

test("collector-refuses-what-the-firmware-does-not-publish-and-keeps-the-rest", () => {
  const history = new History({ path: ":memory:" });
  const log: string[] = [];
  const c = new Collector({
    url: "mqtt://127.0.0.1:1",
    prefix: "telltale",
    history,
    log: (l) => log.push(l),
    now: () => T0,
  });
  c.receive("telltale/pump-1/telemetry", bytes(telemetry(1)));
  c.receive("telltale/pump-1/telemetry", bytes("{not json"));
  c.receive("telltale/pump-1/telemetry", bytes('{"boot":1,"seq":-2,"sensors":{}}'));
  c.receive("telltale/pump-1/telemetry", bytes('{"boot":1,"seq":3}'));
  c.receive("telltale/pump-1/alarm", bytes('{"state":"maybe","boot":1,"seq":4}'));
  c.receive("telltale/pump-1/status", bytes("sleeping"));
  c.receive("telltale/pump-1/telemetry", new Uint8Array(70_000));
  c.receive("telltale/pump-1/telemetry", bytes(telemetry(1)));
  c.receive("telltale/pump-1/status", bytes("online"));
  assert.deepEqual(
    { telemetry: c.stats.telemetry, duplicates: c.stats.duplicates, rejected: c.stats.rejected },
    { telemetry: 1, duplicates: 1, rejected: 6 },
  );
  assert.equal(c.stats.lastRejection, "telltale/pump-1/telemetry: larger than 65536 bytes");
  assert.ok(
    log.includes("dashboard: refused a message on telltale/pump-1/telemetry (not JSON); 1 refused so far"),
    log.join("\n"),
  );
  const [d] = history.since(0);
  assert.equal(d?.telemetry.length, 1, "the good message is kept");
  assert.equal(d.status, "online");
  history.close();
});

test("collector-logs-a-repeated-refusal-once", () => {
  const history = new History({ path: ":memory:" });
  const log: string[] = [];
  const c = new Collector({ url: "mqtt://127.0.0.1:1", prefix: "telltale", history, log: (l) => log.push(l) });
  for (let i = 0; i < 10; i++) c.receive("telltale/pump-1/telemetry", bytes("garbage"));
  assert.equal(c.stats.rejected, 10);
  assert.equal(log.length, 1);
  history.close();
});

test("collector-keeps-a-telltale-discovery-payload-and-ignores-other-makes", () => {
  const history = new History({ path: ":memory:" });
  const c = new Collector({
    url: "mqtt://127.0.0.1:1",
    prefix: "telltale",
    haPrefix: "homeassistant",
    history,
    log: () => {},
    now: () => T0,
  });
  const ours = JSON.stringify({
    dev: { sw: "0.1.0", hw: "node" },
    o: { name: "telltale" },
    stat_t: "telltale/pump-1/telemetry",
  });
  c.receive("homeassistant/device/telltale_pump-1/config", bytes(ours));
  c.receive("homeassistant/device/other/config", bytes(JSON.stringify({ o: { name: "tasmota" }, stat_t: "x/y" })));
  c.receive(
    "homeassistant/device/telltale_bad/config",
    bytes(JSON.stringify({ o: { name: "telltale" }, stat_t: "x" })),
  );
  c.receive("homeassistant/device/telltale_pump-1/config", new Uint8Array(0)); // a removal: not ours to act on
  assert.equal(c.stats.rejected, 1, c.stats.lastRejection ?? "");
  assert.match(c.stats.lastRejection ?? "", /stat_t is not a device's telemetry topic/);
  const devices = history.since(0);
  assert.deepEqual(
    devices.map((d) => [d.id, d.discovery]),
    [["pump-1", ours]],
  );
  history.close();
});
