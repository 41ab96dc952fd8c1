// Remote configuration on the app: signed versioned patches applied live or by a restart, kept once healthy, rolled
// back after a crash or when the broker is never reached; stale, duplicate, replayed, forged and invalid ones refused.
import { suite, test, equal, deepEqual, ok, settle } from "../harness.js";
import { utf8Encode } from "telltale/text/utf8";
import { PENDING_RESULT_KEY, REDACTED, reportedConfig } from "telltale/config/remote";
import { loadConfigText, loadTrialText } from "telltale/config/saved";
import type { App } from "../../src/app.js";
import { startApp } from "../../src/start.js";
import { HEALTHY_ROUNDS, RemoteConfig, TRIAL_ROUNDS_MAX } from "../../src/remote-config.js";
import type { ManualClock } from "../support/manual-clock.js";
import { appRig, ticks } from "../support/app-rig.js";
import { hmacSha256 } from "../support/hmac.js";
import { KEY_HEX, VECTORS, signed, type Vector } from "../support/command-vectors.js";

const BUILT_IN = Object.freeze({
  intervalMs: 1000,
  broker: { url: "mqtt://192.0.2.1:1883", username: "t3", password: "s3cret" },
  detector: { calibrationSamples: 60 },
  commandKey: KEY_HEX,
});

interface Device {
  app: App;
  clock: ManualClock;
  log: string[];
  restarts: string[];
  remote: RemoteConfig;
  send(vector: Vector): Record<string, unknown>;
  rounds(count: number): Promise<void>;
}

/** One start of device "t3" on `store` (what survives a restart), with the built-in configuration `builtIn`. */
function boot(store: Map<string, string>, options: { restart?: boolean; builtIn?: unknown } = {}): Device {
  const { clock, log, restarts, host } = appRig({
    store,
    deviceId: "t3",
    restart: options.restart !== false,
    host: { hmacSha256 },
  });
  const app = startApp(host, options.builtIn ?? BUILT_IN);
  const remote = app.services.find((s) => s instanceof RemoteConfig) as RemoteConfig;
  ok(remote, "the remote configuration is one of the app's features");
  return {
    app,
    clock,
    log,
    restarts,
    remote,
    send: (vector) => JSON.parse(remote.handle(utf8Encode(signed(vector)))) as Record<string, unknown>,
    rounds: (count) => ticks(clock, count, app.config.intervalMs, 4),
  };
}

suite("remote configuration", () => {
  test("a-signed-interval-change-applies-live-and-is-kept-after-healthy-rounds", async () => {
    const store = new Map<string, string>();
    const d = boot(store);
    await settle(8);
    let rounds = 0;
    d.app.use({ round: () => rounds++ });
    await d.rounds(3);
    const answer = d.send(VECTORS.configInterval);
    deepEqual(answer, { version: 2, ok: true, applied: "live", changed: ["intervalMs"] }, d.log.join("\n"));
    equal(d.app.config.intervalMs, 2000, "the new interval is in use");
    equal(d.remote.state?.version, 2);
    equal(loadTrialText(store).boots, 1, "saved as a trial already running");
    // 20 s of clock now give about 10 rounds, not 20.
    const before = rounds;
    await ticks(d.clock, 20, 1000, 4);
    ok(rounds - before >= 9 && rounds - before <= 11, "rounds in 20 s at 2000 ms: " + (rounds - before));
    equal(loadTrialText(store).text, undefined, "kept after " + HEALTHY_ROUNDS + " rounds: no trial left");
    equal(loadConfigText(store).version, 2, "version 2 is the last good configuration");
    d.app.stop();
    const again = boot(store);
    equal(again.app.config.intervalMs, 2000, "and it is the configuration of the next start");
    equal(again.remote.state?.version, 2);
    again.app.stop();
  });

  test("detector-thresholds-apply-live-keeping-the-calibration", async () => {
    const d = boot(new Map());
    await settle(8);
    await d.rounds(70);
    ok(d.app.detector.calibrated, "calibrated on 60 samples");
    deepEqual(d.send(VECTORS.configThreshold), {
      version: 3,
      ok: true,
      applied: "live",
      changed: ["detector.on", "detector.off"],
    });
    equal(d.app.detector.on, 7);
    equal(d.app.detector.off, 2.8, "off follows on in the model's ratio (2 : 5)");
    ok(d.app.detector.calibrated, "what was learned is kept");
    deepEqual(d.restarts, []);
    d.app.stop();
  });

  test("duplicate-is-answered-idempotently-stale-and-replayed-are-refused", async () => {
    const d = boot(new Map());
    await settle(8);
    equal(d.send(VECTORS.configInterval).applied, "live");
    const replay = d.send(VECTORS.configInterval);
    equal(replay.ok, false);
    ok(/counter 1 is not above 1/.test(String(replay.error)), String(replay.error));
    deepEqual(d.send(VECTORS.configIntervalAgain), { version: 2, ok: true, applied: "duplicate" });
    deepEqual(d.send(VECTORS.configStale), { version: 1, ok: false, error: "version 1 is stale: version 2 is in use" });
    equal(d.app.config.intervalMs, 2000, "nothing changed");
    d.app.stop();
  });

  test("a-forged-or-invalid-change-is-refused-with-its-reason-and-the-last-good-runs-on", async () => {
    const store = new Map<string, string>();
    const d = boot(store);
    await settle(8);
    const forged = d.send(VECTORS.configThresholdOtherKey);
    ok(/mac does not match/.test(String(forged.error)), String(forged.error));
    const invalid = d.send(VECTORS.configInvalid);
    deepEqual(invalid, {
      version: 3,
      ok: false,
      error: "config.intervalMs: expected an integer from 100 to 3600000, got 5",
    });
    equal(d.app.config.intervalMs, 1000, "still on the last good configuration");
    equal(loadTrialText(store).text, undefined, "nothing saved");
    equal(d.remote.state?.version, 0);
    const unsigned = JSON.parse(
      d.remote.handle(utf8Encode('{"command":"config","version":5,"patch":{"intervalMs":100}}')),
    ) as Record<string, unknown>;
    ok(/"config" must be signed/.test(String(unsigned.error)), String(unsigned.error));
    const huge = JSON.parse(d.remote.handle(new Uint8Array(9000))) as Record<string, unknown>;
    equal(huge.error, "too large: 9000 bytes, at most 8192");
    d.app.stop();
  });

  test("the-reported-configuration-redacts-secrets-and-carries-the-version", async () => {
    const d = boot(new Map());
    await settle(8);
    d.send(VECTORS.configInterval);
    const reported = JSON.parse(reportedConfig(d.remote.state!)) as {
      version: number;
      config: { intervalMs: number; commandKey: string; broker: { password: string; username: string } };
    };
    equal(reported.version, 2);
    equal(reported.config.intervalMs, 2000);
    equal(reported.config.commandKey, REDACTED);
    equal(reported.config.broker.password, REDACTED);
    equal(reported.config.broker.username, "t3");
    d.app.stop();
  });

  test("a-change-that-needs-a-restart-is-applied-after-it-and-rolled-back-without-a-broker", async () => {
    const store = new Map<string, string>();
    const d = boot(store);
    await settle(8);
    deepEqual(d.send(VECTORS.configSensors), {
      version: 4,
      ok: true,
      applied: "restart",
      changed: ["sensors"],
    });
    equal(d.app.config.sensors[0]!.name, "sht3x", "not applied live");
    d.clock.advance(100);
    deepEqual(d.restarts, ["configuration version 4"]);
    equal(d.app.running, false, "stopped before the restart");
    // The restart: the trial runs, counted.
    const second = boot(store);
    equal(second.app.config.sensors[0]!.name, "cabinet", "applied after the restart");
    equal(second.remote.state?.version, 4);
    equal(loadTrialText(store).boots, 1);
    // The broker is never reached: not kept, and rolled back by another restart.
    await settle(8);
    await second.rounds(TRIAL_ROUNDS_MAX);
    second.clock.advance(100);
    deepEqual(second.restarts, ["version 4 rolled back: no broker connection in 60 rounds"]);
    const third = boot(store);
    equal(third.app.config.sensors[0]!.name, "sht3x", "the last good configuration again");
    equal(third.remote.state?.version, 0);
    ok(
      /rolled back: no broker connection/.test(store.get(PENDING_RESULT_KEY) ?? ""),
      "the result waits for the broker",
    );
    third.app.stop();
  });

  test("a-trial-that-crashes-the-device-is-rolled-back-at-the-next-start", async () => {
    const store = new Map<string, string>();
    const d = boot(store);
    await settle(8);
    d.send(VECTORS.configSensors);
    d.clock.advance(100);
    const trial = boot(store);
    equal(trial.app.config.sensors[0]!.name, "cabinet");
    // It crashes: the next start finds the trial already started once and not kept.
    const after = boot(store);
    equal(after.app.config.sensors[0]!.name, "sht3x");
    equal(after.remote.state?.version, 0);
    deepEqual(JSON.parse(store.get(PENDING_RESULT_KEY) ?? "null"), {
      version: 4,
      ok: false,
      error: "version 4 rolled back: the device restarted before it had proved healthy",
    });
    equal(loadTrialText(store).text, undefined, "the trial is gone");
    after.app.stop();
  });

  test("a-host-that-cannot-restart-applies-the-change-at-its-next-start", async () => {
    const store = new Map<string, string>();
    const d = boot(store, { restart: false });
    await settle(8);
    const answer = d.send(VECTORS.configSensors);
    equal(answer.restart, "at the next start (this host cannot restart itself)");
    d.clock.advance(200);
    equal(d.app.running, true, "keeps running on the configuration in use");
    equal(d.app.config.sensors[0]!.name, "sht3x");
    d.app.stop();
    const trial = boot(store, { restart: false });
    equal(trial.app.config.sensors[0]!.name, "cabinet");
    // Without a broker it is given up once, and the next start takes the last good configuration.
    await settle(8);
    await trial.rounds(TRIAL_ROUNDS_MAX + 20);
    equal(trial.log.filter((l) => /rolled back: no broker connection/.test(l)).length, 1, trial.log.join("\n"));
    equal(trial.app.running, true, "runs on until the next start");
    trial.app.stop();
    equal(boot(store, { restart: false }).app.config.sensors[0]!.name, "sht3x");
  });
});
