// The app with the multivariate detector: chosen by config, raises an alarm on a fault, keeps its baseline over a reboot.
import { suite, test, equal, deepEqual, ok, throws } from "../harness.js";
import { utf8Encode } from "telltale/text/utf8";
import { App } from "../../src/app.js";
import { parseConfig } from "telltale/config/config";
import { SimI2CBus } from "telltale/sim/i2c-bus";
import { SHT3xModel } from "telltale/drivers/sht3x/model";
import { ADS1115Model } from "telltale/drivers/ads1115/model";
import { ManualClock } from "../support/manual-clock.js";
import { appRig, offlineConfig, ticks } from "../support/app-rig.js";
import { createSimWorld } from "telltale/sim/world";
import { SimGPIO } from "telltale/sim/gpio";
import { hmacSha256 } from "../support/hmac.js";
import { KEY_HEX, VECTORS, signed } from "../support/command-vectors.js";

/** A cabinet at 30 °C / 50 %RH with a little deterministic noise, and a switchable fault. */
function boot(store: Map<string, string>, detector: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const clock = new ManualClock();
  const bus = new SimI2CBus(clock);
  const gpio = new SimGPIO(clock);
  let n = 1,
    fault = 0;
  const noise = () => {
    n ^= n << 13;
    n ^= n >> 17;
    n ^= n << 5;
    return ((n & 0xffff) - 32768) / 327680;
  };
  bus.attach(
    0x44,
    new SHT3xModel({ environment: { temperature: () => 30 + fault + noise(), humidity: () => 50 + 2 * noise() } }),
  );
  const r = appRig({ clock, bus, store, deviceId: "t2", host: { digital: gpio.ioDigital(), hmacSha256 } });
  const app = new App(r.host, offlineConfig({ detector, ...extra }));
  return {
    clock,
    log: r.log,
    app,
    gpio,
    setFault: (v: number) => {
      fault = v;
    },
  };
}

suite("app with the multivariate detector", () => {
  test("config-chooses-model-and-rejects-misfit-settings-by-field", () => {
    equal(parseConfig({ detector: { model: "multivariate" } }).detector.calibrationSamples, 400);
    equal(parseConfig({}).detector.model, "multivariate");
    throws(
      () => parseConfig({ detector: { model: "lstm" } }),
      /^config\.detector\.model: expected "zscore", "multivariate" or "novelty"/,
    );
    throws(
      () => parseConfig({ detector: { calibrationSamples: 40 } }),
      /^config\.detector\.calibrationSamples: option "calibrationSamples" must be at least warmupSamples \+ 2 × channels \+ 16 = 52 \(2 channels\), got 40$/,
    );
    throws(() => parseConfig({ detector: { calibrationSamples: 20 } }), /^config\.detector\.calibrationSamples: .*32/);
  });

  test("fault-after-calibration-raises-alarm-naming-channel", async () => {
    const r = boot(new Map(), { model: "multivariate", calibrationSamples: 160 });
    await r.app.start();
    await ticks(r.clock, 200);
    ok(r.app.detector.calibrated, "calibrated");
    equal(r.app.detector.alarm, false, "no alarm on normal data: " + r.log.filter((l) => /ALARM/.test(l)).join(" | "));
    r.setFault(5);
    await ticks(r.clock, 5);
    const raised = r.log.find((l) => /ALARM raised: sht3x\.temperature/.test(l));
    ok(raised, r.log.slice(-5).join("\n"));
    r.app.stop();
  });

  test("recalibrate-must-be-signed-and-during-an-alarm-forced-and-the-clear-says-why", async () => {
    const r = boot(
      new Map(),
      { model: "multivariate", calibrationSamples: 160 },
      {
        commandKey: KEY_HEX,
        sensors: [
          { part: "sht3x", address: 0x44 },
          { part: "relay", name: "siren", pin: 16, followAlarm: true },
        ],
      },
    );
    await r.app.start();
    await ticks(r.clock, 200);
    r.setFault(5);
    await ticks(r.clock, 5);
    ok(r.app.alarm, "the fault raised the alarm");
    ok(
      r.log.some((l) => /^ALARM raised: sht3x\.temperature = .*, reason: threshold\b/.test(l)),
      r.log.filter((l) => l.startsWith("ALARM")).join("\n"),
    );
    equal(r.gpio.level(16), 1, "the siren follows the alarm");
    const answer = (text: string) => JSON.parse(r.app.commands.handle(utf8Encode(text))!) as Record<string, unknown>;
    ok(/^"recalibrate" must be signed: send /.test(answer("recalibrate").error as string), "unsigned: refused");
    deepEqual(answer(signed(VECTORS.appRecalibrate1)), {
      command: "recalibrate",
      ok: false,
      error: 'the alarm is raised; to relearn anyway send {"command": "recalibrate", "force": true}',
    });
    ok(r.app.detector.calibrated && r.app.alarm, "the baseline and the alarm are kept");
    deepEqual(answer(signed(VECTORS.appRecalibrate2Forced)), { command: "recalibrate", ok: true });
    equal(r.app.detector.calibrated, false, "forced: the detector learns again");
    ok(r.log.includes("detector: recalibrating on command (forced during an alarm)"), r.log.slice(-3).join("\n"));
    equal(r.gpio.level(16), 1, "the siren changes only when the change is published");
    await ticks(r.clock, 1);
    equal(r.app.alarm, false);
    equal(r.gpio.level(16), 0);
    ok(
      r.log.some((l) => l.startsWith("ALARM cleared: no channel (score 0), reason: recalibrate command (forced)")),
      r.log.filter((l) => l.startsWith("ALARM")).join("\n"),
    );
    r.app.stop();
  });

  test("learned-baseline-survives-reboot", async () => {
    const store = new Map<string, string>();
    const first = boot(store, { model: "multivariate", calibrationSamples: 160 });
    await first.app.start();
    await ticks(first.clock, 170);
    first.app.stop();
    ok(store.has("baseline"), "baseline saved after calibration");
    const second = boot(store, { model: "multivariate", calibrationSamples: 160 });
    ok(
      second.log.some((l) => /detector: restored the learned baseline/.test(l)),
      second.log.join("\n"),
    );
    equal(second.app.detector.calibrated, true, "no second calibration after a reboot");
  });

  test("corrupt-baseline-is-refused-and-recalibrates", () => {
    const store = new Map<string, string>([["baseline", "00ff"]]);
    const r = boot(store, { model: "multivariate", calibrationSamples: 160 });
    ok(
      r.log.some((l) => /detector: saved baseline not used \(.+\); calibrating anew/.test(l)),
      r.log.join("\n"),
    );
    equal(r.app.detector.calibrated, false);
    const garbage = boot(new Map([["baseline", "not base64"]]), { model: "multivariate", calibrationSamples: 160 });
    ok(
      garbage.log.some((l) =>
        /saved baseline not used \(base64: length must be a multiple of 4\); calibrating anew/.test(l),
      ),
      garbage.log.join("\n"),
    );
  });

  test("accelerometer-stream-feeds-vibration-detector-and-wear-raises-alarm", async () => {
    // An ADXL345 at 400 Hz on the simulated pump; its bearing tone starts growing (wear) 30 s after boot.
    const config = offlineConfig({
      sensors: [{ part: "adxl345", name: "pump", address: 0x53, rate: 400, range: 2 }],
      detector: { vibration: { windowShift: 6 } },
    });
    const clock = new ManualClock();
    const world = createSimWorld(clock, config.sensors, { fault: { kind: "wear", atMs: 30_000, size: 1.5 } });
    const { host, log } = appRig({
      clock,
      bus: world.bus,
      deviceId: "t3",
      host: { store: { get: () => undefined, set: () => {}, delete: () => {} } },
    });
    const app = new App(host, config);
    await app.start();
    await ticks(clock, 28);
    const monitor = app.vibration("pump");
    ok(monitor, "vibration detector attached: " + log.join("\n"));
    ok(monitor.model.calibrated, "calibrated after 128 windows of 64 frames at 400 Hz");
    ok(
      log.some((l) => /sensor pump: vibration detector on 3 axes at 400 Hz, 18 features per window of 64/.test(l)),
      log.join("\n"),
    );
    equal(app.alarm, false, "no alarm before the wear: " + log.filter((l) => /ALARM/.test(l)).join(" | "));
    const telemetry = log.filter((l) => /^telemetry/.test(l)).length;
    ok(telemetry >= 27, "telemetry every tick");
    await ticks(clock, 30);
    const raised = log.find((l) => /ALARM raised: pump\.[xyz]\.\w+/.test(l));
    ok(raised, "wear raised a vibration alarm: " + log.slice(-4).join("\n"));
    app.stop();
  });

  test("vibration-baseline-survives-a-reboot-and-a-changed-stream-calibrates-anew", async () => {
    const store = new Map<string, string>();
    const run = async (rate: number, seconds: number) => {
      const config = offlineConfig({
        sensors: [{ part: "adxl345", name: "pump", address: 0x53, rate, range: 2 }],
        detector: { vibration: { windowShift: 6 } },
      });
      const clock = new ManualClock();
      const world = createSimWorld(clock, config.sensors, {});
      const { host, log } = appRig({ clock, bus: world.bus, store, deviceId: "t4" });
      const app = new App(host, config);
      await app.start();
      await ticks(clock, seconds);
      app.stop();
      return { app, log };
    };
    const first = await run(400, 24);
    ok(first.app.vibration("pump")!.model.calibrated, "calibrated in the first run");
    const saved = store.get("vib0");
    ok(
      saved !== undefined && saved.startsWith("pump/adxl345/3x400Hz/64/50,100 "),
      "saved with what it was learned on: " + saved?.slice(0, 40),
    );
    ok(saved.length < 3999, "fits an ESP32 NVS string: " + saved.length);
    const second = await run(400, 2);
    ok(
      second.log.some((l) => /sensor pump: restored the learned vibration baseline \(\d+ bytes\)/.test(l)),
      second.log.join("\n"),
    );
    ok(second.app.vibration("pump")!.model.calibrated, "scoring at once after the reboot");
    const third = await run(800, 2);
    ok(
      third.log.some((l) =>
        /saved vibration baseline not used \(learned on pump\/adxl345\/3x400Hz\/64\/50,100, this stream is pump\/adxl345\/3x800Hz\/64\/50,100,200\); calibrating anew/.test(
          l,
        ),
      ),
      third.log.join("\n"),
    );
    equal(third.app.vibration("pump")!.model.calibrated, false);
  });
});

/** A one-channel device: an ADS1115 input at about 2 V with a little deterministic noise, and a switchable spike. */
function bootOneChannel(store: Map<string, string>, detector: Record<string, unknown>) {
  const clock = new ManualClock();
  const bus = new SimI2CBus(clock);
  let n = 7,
    spike = 0;
  const noise = () => {
    n ^= n << 13;
    n ^= n >> 17;
    n ^= n << 5;
    return ((n & 0xffff) - 32768) / 3276800;
  };
  bus.attach(0x48, new ADS1115Model({ inputs: { voltage: () => 2 + spike + noise() }, clock }));
  const { host, log } = appRig({ clock, bus, store, deviceId: "t3", host: { hmacSha256 } });
  const sensors = [{ part: "ads1115", address: 0x48, name: "adc", inputs: [{ name: "level", channel: 0 }] }];
  const app = new App(host, offlineConfig({ sensors, detector }));
  return {
    clock,
    log,
    app,
    setSpike: (v: number) => {
      spike = v;
    },
  };
}

suite("app with the novelty detector", () => {
  test("novelty-needs-one-channel-and-a-threshold-it-takes", () => {
    throws(
      () => parseConfig({ detector: { model: "novelty" } }),
      /^config\.detector\.model: option "model": "novelty" is the univariate model and takes one channel; the sensors give 2/,
    );
    const one = { sensors: [{ part: "ads1115", address: 0x48, inputs: [{ name: "level", channel: 0 }] }] };
    equal(parseConfig({ ...one, detector: { model: "novelty" } }).detector.on, 2, "its own default threshold");
    throws(() => parseConfig({ ...one, detector: { model: "novelty", on: 9 } }), /^config\.detector\.on: .*at most 8/);
    throws(
      () => parseConfig({ ...one, detector: { model: "novelty", calibrationSamples: 40 } }),
      /^config\.detector\.calibrationSamples: option "calibrationSamples" must be an integer 64/,
    );
  });

  test("a-spike-raises-the-alarm-it-clears-and-the-baseline-survives-reboot", async () => {
    const store = new Map<string, string>();
    const r = bootOneChannel(store, { model: "novelty", calibrationSamples: 100, clearSamples: 10 });
    await r.app.start();
    await ticks(r.clock, 400);
    equal(r.app.detector.model, "novelty");
    ok(r.app.detector.calibrated, "calibrated");
    equal(r.app.alarm, false, "no alarm on steady noise: " + r.log.filter((l) => /ALARM/.test(l)).join(" | "));
    ok(store.has("baseline"), "the state image is saved once calibrated");
    r.setSpike(0.5);
    await ticks(r.clock, 3);
    r.setSpike(0);
    ok(r.app.alarm, "the spike raised the alarm: " + r.log.slice(-4).join(" | "));
    ok(
      r.log.some((l) => /^ALARM raised: adc\.level\b/.test(l)),
      r.log.filter((l) => /ALARM/.test(l)).join("\n"),
    );
    await ticks(r.clock, 15);
    equal(r.app.alarm, false, "cleared after clearSamples rounds without a detection");
    r.app.stop();
    const second = bootOneChannel(store, { model: "novelty", calibrationSamples: 100, clearSamples: 10 });
    ok(
      second.log.some((l) => /detector: restored the learned baseline \(1060 bytes\)/.test(l)),
      second.log.join("\n"),
    );
    equal(second.app.detector.calibrated, true, "no second calibration after a reboot");
    const other = bootOneChannel(store, { model: "novelty", calibrationSamples: 200 });
    ok(
      other.log.some((l) => /saved baseline not used \(.*different options.*\); calibrating anew/.test(l)),
      other.log.join("\n"),
    );
  });
});
