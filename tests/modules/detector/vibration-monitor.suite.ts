// The vibration stream detector: front-end windows scored by their own model; a growing bearing tone raises its alarm.
import { suite, test, equal, ok, throws } from "../../harness.js";
import { VibrationMonitor } from "telltale/detector/vibration-monitor";
import { MultivariateDetector } from "telltale/detector/multivariate";
import { int16Noise } from "../../support/xorshift.js";

const FS = 1600;

/** A shaft tone at 25 Hz on every axis, optional bearing tone at 100 Hz of amplitude `bearing`, and noise (counts). */
function stream(seed: number) {
  let i = 0;
  const u = int16Noise(seed);
  const frames = new Int16Array(64 * 3);
  return (bearing: number): Int16Array => {
    for (let k = 0; k < 64; k++, i++) {
      for (let a = 0; a < 3; a++) {
        const shaft = Math.round(600 * Math.sin((2 * Math.PI * 25 * i) / FS + a));
        const tone = Math.round(bearing * Math.sin((2 * Math.PI * 100 * i) / FS + 2 * a));
        frames[k * 3 + a] = (a === 2 ? 256 : 0) + shaft + tone + (((u() + u()) >> 1) >> 9);
      }
    }
    return frames;
  };
}

suite("detector/vibration-monitor", () => {
  test("options-are-validated-naming-the-option", () => {
    throws(() => new VibrationMonitor({ sampleRate: 0 }), /"sampleRate"/);
    throws(() => new VibrationMonitor({ sampleRate: FS, windowShift: 5 }), /"windowShift"/);
    throws(
      () => new VibrationMonitor({ sampleRate: FS, calibrationWindows: 40 }),
      /"calibrationWindows" must be an integer of at least 128/,
    );
    throws(
      () => new VibrationMonitor({ sampleRate: FS, holdWindows: 0 }),
      /^RangeError: VibrationMonitor: option "holdWindows"|VibrationMonitor: option "holdWindows"/,
    );
    // Bands at or above half the rate are left out by default.
    equal(new VibrationMonitor({ sampleRate: 400 }).bands.join(","), "50,100");
    equal(new VibrationMonitor({ sampleRate: 400, bands: [60, 200, 120] }).bands.join(","), "60,120");
    // 3 axes × (4 + 7 bands) = 33 features: more than the model takes, named as the bands.
    throws(
      () => new VibrationMonitor({ sampleRate: FS, bands: [10, 20, 30, 40, 50, 60, 70] }),
      /"bands": at most 6 bands fit 3 axes/,
    );
  });

  test("names-and-state-bytes-match-the-model", () => {
    const m = new VibrationMonitor({ sampleRate: FS });
    equal(m.names.length, 24);
    equal(m.names[0], "x.rms");
    equal(m.names[4], "x.band50Hz");
    equal(m.names[23], "z.band400Hz");
    equal(m.model.stateBytes, MultivariateDetector.stateBytesFor(24));
    ok(m.stateBytes === m.front.stateBytes + m.model.stateBytes);
  });

  test("bearing-tone-raises-alarm-naming-its-band-among-top-and-take-reports-it-once", () => {
    const m = new VibrationMonitor({ sampleRate: FS, calibrationWindows: 128 });
    const next = stream(7);
    // 150 windows of normal running: calibration, then no alarm.
    for (let b = 0; b < 150 * 4; b++) equal(m.write(next(0), 0, 64), 64);
    let seen = m.take();
    equal(seen.windows, 150);
    ok(m.model.calibrated, "calibrated");
    equal(seen.alarmSeen, false, "alarm on normal running, score " + seen.peakScore);
    for (let b = 0; b < 20 * 4; b++) m.write(next(0), 0, 64);
    seen = m.take();
    equal(seen.alarmSeen, false, "alarm on normal running after calibration, score " + seen.peakScore);
    // The bearing tone appears (a quarter of the shaft's amplitude).
    for (let b = 0; b < 10 * 4; b++) {
      m.write(next(150), 0, 64);
    }
    seen = m.take();
    ok(seen.alarmSeen && seen.alarmChanged, "alarm raised by the bearing tone, score " + seen.peakScore);
    // The tone saturates several features at once (band, peak, RMS): its band is among the three named.
    const named = Array.from(m.model.top).map((c) => m.names[c]);
    ok(
      named.some((n) => n !== undefined && /band100Hz$/.test(n)),
      "top features " + named.join(", "),
    );
    ok(m.topName() === named[0]);
    const f = m.features(1);
    const band = f.x?.band100Hz;
    ok(band !== undefined && band > 120 && band < 180, "x 100 Hz band amplitude " + band);
    equal(m.take().windows, 0, "take() starts afresh");
  });

  test("write-stops-at-nothing-and-allocates-only-at-construction", () => {
    const m = new VibrationMonitor({ sampleRate: FS, windowShift: 6, bands: [100] });
    const frames = new Int16Array(300 * 3);
    // 300 frames in one call: the monitor loops over the front end's blocks and window ends itself.
    equal(m.write(frames, 0, 300), 300);
    equal(m.front.windows, 4);
    equal(m.write(frames, 290, 10), 10);
  });
});
