// The integer z-score detector: fixed-point helpers, calibration, detection, hysteresis, validation.
import { suite, test, equal, ok, throws } from "../../harness.js";
import { isqrt, udivSat16 } from "telltale/detector/fixed";
import { ZScoreDetector } from "telltale/detector/zscore";
import { noise } from "../../support/xorshift.js";

/** 100 noisy samples of two channels near 4000 and 4500 (the calibration and then some); the vector to go on with. */
function calibrated(det: ZScoreDetector): Int32Array {
  const n = noise(3);
  const v = new Int32Array(2);
  for (let i = 0; i < 100; i++) {
    v[0] = 4000 + n(20);
    v[1] = 4500 + n(20);
    det.update(v);
  }
  return v;
}

suite("detector/fixed", () => {
  test("isqrt-exact-on-squares-and-between", () => {
    for (const r of [0, 1, 2, 3, 100, 4095, 46340]) {
      equal(isqrt(r * r), r, "square of " + r);
      if (r > 0) equal(isqrt(r * r - 1), r - 1, "below square of " + r);
    }
    equal(isqrt(0x7fffffff), 46340);
  });
  test("udivsat16-matches-floor-and-saturates", () => {
    for (const [n, d] of [
      [0, 1],
      [100, 7],
      [65535, 1],
      [1 << 24, 300],
      [12345678, 4321],
    ] as [number, number][])
      equal(udivSat16(n, d), Math.min(65535, Math.floor(n / d)), n + "/" + d);
    equal(udivSat16(0x7fffffff, 1), 65535);
  });
});

suite("detector/zscore", () => {
  test("no-alarm-during-or-after-calibration-on-stationary-noise", () => {
    const det = new ZScoreDetector({ channels: 2, calibrationSamples: 30, floor: 5 });
    const n = noise(7);
    const v = new Int32Array(2);
    for (let i = 0; i < 2000; i++) {
      v[0] = 4000 + n(20);
      v[1] = 4500 + n(50);
      equal(det.update(v), false, "sample " + i);
    }
    ok(det.calibrated);
    ok(Math.abs((det.meanQ8(0) >> 8) - 4000) < 5, "mean " + (det.meanQ8(0) >> 8));
  });

  test("step-raises-alarm-naming-channel-then-clears", () => {
    const det = new ZScoreDetector({
      channels: 2,
      calibrationSamples: 20,
      on: 6,
      off: 3,
      holdSamples: 2,
      clearSamples: 3,
      floor: 5,
    });
    const v = calibrated(det);
    equal(det.alarm, false);
    v[0] = 4000;
    v[1] = 4900;
    equal(det.update(v), false, "one sample over the threshold is not enough (holdSamples 2)");
    equal(det.update(v), true);
    equal(det.channel, 1);
    ok(det.score > 6 * 256, "score " + det.score);
    v[1] = 4500;
    det.update(v);
    det.update(v);
    equal(det.alarm, true, "still raised before clearSamples");
    det.update(v);
    equal(det.alarm, false);
  });

  test("thresholds-change-while-running-and-keep-what-was-learned", () => {
    const det = new ZScoreDetector({ channels: 2, calibrationSamples: 20, holdSamples: 2, floor: 5 });
    const v = calibrated(det);
    throws(() => det.setThresholds({ on: 4, off: 5, holdSamples: 1, clearSamples: 1 }), /"off" must not exceed "on"/);
    det.setThresholds({ on: 64, off: 3, holdSamples: 1, clearSamples: 3 });
    v[0] = 4000;
    v[1] = 4900;
    equal(det.update(v), false, "below the raised threshold");
    ok(det.calibrated && det.score > 6 * 256, "still calibrated, score " + det.score);
    det.setThresholds({ on: 6, off: 3, holdSamples: 1, clearSamples: 3 });
    equal(det.update(v), true, "raised at once: holdSamples is now 1");
  });

  test("drift-is-detected", () => {
    const det = new ZScoreDetector({ channels: 1, calibrationSamples: 20, floor: 5 });
    const n = noise(11);
    const v = new Int32Array(1);
    let raisedAt = -1;
    for (let i = 0; i < 400 && raisedAt < 0; i++) {
      v[0] = 4000 + n(15) + (i > 100 ? (i - 100) * 8 : 0);
      if (det.update(v)) raisedAt = i;
    }
    ok(raisedAt > 100 && raisedAt < 200, "raised at " + raisedAt);
  });

  test("invalid-channel-is-skipped", () => {
    const det = new ZScoreDetector({ channels: 2, calibrationSamples: 5, floor: 5 });
    const v = new Int32Array([100, 100]);
    for (let i = 0; i < 20; i++) det.update(v);
    v[1] = 100000;
    equal(det.update(v, 0b01), false);
    equal(det.scores[1], 0);
    equal(det.variance(1), 0, "the skipped channel's baseline is unchanged");
  });

  test("extreme-inputs-saturate-without-wrapping", () => {
    const det = new ZScoreDetector({ channels: 1, calibrationSamples: 2, floor: 1 });
    const v = new Int32Array(1);
    for (let i = 0; i < 10; i++) {
      v[0] = -2147483648;
      det.update(v);
    }
    v[0] = 2147483647;
    det.update(v);
    equal(det.score, 65535);
    ok(det.variance(0) >= 0, "variance stays non-negative");
  });

  test("reset-recalibrates", () => {
    const det = new ZScoreDetector({ channels: 1, calibrationSamples: 3 });
    const v = new Int32Array([10]);
    for (let i = 0; i < 5; i++) det.update(v);
    det.reset();
    equal(det.calibrated, false);
    equal(det.samples, 0);
  });

  test("options-validated-with-names", () => {
    throws(() => new ZScoreDetector({ channels: 0 }), /"channels"/);
    throws(() => new ZScoreDetector({ channels: 1, on: 100 }), /"on"/);
    throws(() => new ZScoreDetector({ channels: 1, on: 3, off: 4 }), /"off"/);
    throws(() => new ZScoreDetector({ channels: 2, floor: [1] }), /"floor"/);
    throws(() => new ZScoreDetector({ channels: 1, alphaShift: 0 }), /"alphaShift"/);
  });

  test("state-bytes-declared", () => {
    equal(new ZScoreDetector({ channels: 8 }).stateBytes, 8 * 12 + 8 * 2);
  });
});
