// The app with no reachable broker: sensor faults are logged, the part is marked failed, re-probed and recovers.
import { suite, test, equal, deepEqual, ok } from "../harness.js";
import { App } from "../../src/app.js";
import { appRig, offlineConfig, ticks } from "../support/app-rig.js";

function rig(extra: Record<string, unknown> = {}) {
  const { clock, host, log, sht3x } = appRig();
  return { clock, model: sht3x!, log, app: new App(host, offlineConfig(extra)) };
}

suite("app", () => {
  test("runs-and-counts-dropped-telemetry-without-broker", async () => {
    const r = rig();
    await r.app.start();
    await ticks(r.clock, 5);
    ok(
      r.log.some((l) =>
        /mqtt: connection lost \(TCP: connection refused by 192\.0\.2\.1:1883\); retrying in \d+ ms/.test(l),
      ),
      r.log.join("\n"),
    );
    ok(
      r.log.some((l) => /telemetry #5: sht3x temperature=30 humidity=50/.test(l)),
      r.log.join("\n"),
    );
    // Telemetry is QoS 1 by default: kept in the outbox for the broker's return, not dropped.
    ok(r.app.outbox.pending >= 5, "stored " + r.app.outbox.pending);
    equal(r.app.stats.dropped, 0);
    ok(r.app.running);
    r.app.stop();
  });

  test("qos0-telemetry-is-counted-as-dropped-without-broker", async () => {
    const r = rig({ broker: { url: "mqtt://192.0.2.1:1883", telemetryQos: 0 } });
    await r.app.start();
    await ticks(r.clock, 5);
    ok(
      r.log.some((l) => /telemetry #5: .*\(not sent: broker unreachable\)/.test(l)),
      r.log.join("\n"),
    );
    ok(r.app.stats.dropped >= 5, "dropped " + r.app.stats.dropped);
    equal(r.app.outbox.pending, 0);
    r.app.stop();
  });

  test("sensor-nack-marks-failed-then-reprobe-recovers", async () => {
    const r = rig();
    await r.app.start();
    await ticks(r.clock, 2);
    r.model.faults.nack = true;
    await ticks(r.clock, 4);
    ok(
      r.log.some((l) => /sensor sht3x: SHT3x: .*NACK/.test(l)),
      "the fault is logged with its cause",
    );
    ok(
      r.log.some((l) => /sensor sht3x: marked failed after 3 failed samples/.test(l)),
      r.log.join("\n"),
    );
    r.model.faults.nack = false;
    await ticks(r.clock, 12);
    ok(
      r.log.some((l) => /sensor sht3x: recovered/.test(l)),
      r.log.join("\n"),
    );
    const last = r.log.filter((l) => l.startsWith("telemetry #")).pop() ?? "";
    ok(/sht3x temperature=30/.test(last), "readings resume: " + last);
    r.app.stop();
  });

  test("samples-while-network-is-down-and-retries-it", async () => {
    const r = rig();
    let attempts = 0;
    (r.app.host as { connectNetwork: () => Promise<void> }).connectNetwork = () => {
      attempts++;
      return Promise.reject(new Error('Wi-Fi: no access point named "plant-7"'));
    };
    await r.app.start();
    await ticks(r.clock, 5);
    ok(
      r.log.some((l) => /network: Wi-Fi: no access point named "plant-7"; retrying in \d+ ms/.test(l)),
      r.log.join("\n"),
    );
    ok(
      r.log.some((l) => /telemetry #5: sht3x temperature=30/.test(l)),
      "sampling goes on: " + r.log.join("\n"),
    );
    ok(attempts >= 2, "the network is retried: " + attempts);
    r.app.stop();
  });

  test("service-runs-with-the-app-and-sees-every-round", async () => {
    const r = rig();
    const seen: string[] = [];
    r.app.use({
      start: () => seen.push("start"),
      round: (round) => seen.push("round " + round.seq + " " + round.readings.sht3x?.temperature),
      stop: () => seen.push("stop"),
    });
    await r.app.start();
    await ticks(r.clock, 2);
    r.app.use({ start: () => seen.push("late start"), stop: () => seen.push("late stop") });
    r.app.stop();
    deepEqual(
      seen,
      ["start", "round 1 30", "round 2 30", "late start", "late stop", "stop"],
      "started with the app or at once, stopped in reverse order",
    );
  });

  test("stop-twice-is-harmless-and-silences-timers", async () => {
    const r = rig();
    await r.app.start();
    await ticks(r.clock, 2);
    r.app.stop();
    r.app.stop();
    equal(r.app.running, false);
    const lines = r.log.length;
    await ticks(r.clock, 5);
    equal(r.log.length, lines, "nothing runs after stop: " + r.log.slice(lines).join(" | "));
  });
});
