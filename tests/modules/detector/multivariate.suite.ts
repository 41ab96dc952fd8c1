// The integer multivariate detector: options, calibration, detection of steps and broken correlations, contributions, state images.
import { suite, test, equal, ok, throws, deepEqual } from "../../harness.js";
import { MultivariateDetector } from "telltale/detector/multivariate";
import { log2Q8 } from "telltale/detector/fixed";
import { noise } from "../../support/xorshift.js";

/** Four channels: 0 and 1 move together (a shared load that cycles every 64 samples), 2 and 3 are independent. */
function feed(
  det: MultivariateDetector,
  n: (amp: number) => number,
  v: Int32Array,
  count: number,
  mutate?: (v: Int32Array, i: number) => void,
): number {
  let alarms = 0;
  for (let i = 0; i < count; i++) {
    const ph = det.samples & 63,
      load = (ph < 32 ? ph : 64 - ph) * 25 - 400 + n(100);
    v[0] = 5000 + load + n(40);
    v[1] = 8000 + load + n(40);
    v[2] = 2000 + n(100);
    v[3] = -3000 + n(100);
    if (mutate) mutate(v, i);
    if (det.update(v)) alarms++;
  }
  return alarms;
}

suite("detector/multivariate", () => {
  test("options-are-validated-naming-the-option", () => {
    throws(() => new MultivariateDetector({} as never), /"channels"/);
    throws(() => new MultivariateDetector({ channels: 33 }), /"channels"/);
    throws(() => new MultivariateDetector({ channels: 2, ridge: 0 }), /"ridge"/);
    throws(() => new MultivariateDetector({ channels: 2, on: 4, off: 5 }), /"off"/);
    throws(() => new MultivariateDetector({ channels: 2, floor: [1] }), /"floor"/);
    throws(() => new MultivariateDetector({ channels: 2, floor: [1, 0] }), /"floor\[1\]"/);
    throws(
      () => new MultivariateDetector({ channels: 2, calibrationSamples: 100, warmupSamples: 16 }),
      /"warmupSamples"/,
    );
    throws(
      () => new MultivariateDetector({ channels: 8, calibrationSamples: 64, warmupSamples: 40 }),
      /"calibrationSamples"/,
    );
    throws(() => new MultivariateDetector({ channels: 2, topChannels: 3 }), /"topChannels"/);
    throws(() => new MultivariateDetector({ channels: 2, freezeSamples: -1 }), /"freezeSamples"/);
    throws(() => new MultivariateDetector({ channels: 2, changeDrift: 0 }), /"changeDrift"/);
    throws(() => new MultivariateDetector({ channels: 2, changeThreshold: -1 }), /"changeThreshold"/);
    throws(() => new MultivariateDetector({ channels: 2, changeRefractory: 0 }), /"changeRefractory"/);
  });

  test("declared-state-bytes-match-and-fit-the-budget", () => {
    for (const p of [1, 8, 24])
      equal(
        new MultivariateDetector({ channels: p }).stateBytes,
        MultivariateDetector.stateBytesFor(p),
        "channels " + p,
      );
    ok(
      MultivariateDetector.stateBytesFor(8) + MultivariateDetector.stateBytesFor(24) < 4096 - 512,
      "two models leave room for the front end",
    );
  });

  test("no-score-or-alarm-while-calibrating", () => {
    const det = new MultivariateDetector({ channels: 4, calibrationSamples: 200 });
    const v = new Int32Array(4);
    equal(feed(det, noise(1), v, 200), 0);
    equal(det.score, 0);
    ok(det.calibrated);
  });

  test("stationary-noise-stays-quiet", () => {
    const det = new MultivariateDetector({ channels: 4, calibrationSamples: 200 });
    const v = new Int32Array(4),
      n = noise(5);
    feed(det, n, v, 200);
    equal(feed(det, n, v, 3000), 0);
    ok(det.score < 16 * 256, "score " + det.score);
  });

  test("step-raises-alarm-naming-the-channel-with-a-change-point", () => {
    const det = new MultivariateDetector({ channels: 4, calibrationSamples: 200 });
    const v = new Int32Array(4),
      n = noise(9);
    feed(det, n, v, 400);
    let raisedAt = -1,
      edges = 0;
    feed(det, n, v, 100, (x, i) => {
      x[2]! += 600; // six standard deviations of channel 2
      if (det.changePoint) edges++;
      if (det.alarm && raisedAt < 0) raisedAt = i;
    });
    ok(det.alarm, "alarm raised");
    ok(raisedAt >= 0 && raisedAt < 40, "raised after " + raisedAt + " samples");
    equal(edges, 1, "one change point on the way up");
    equal(det.top[0], 2);
    ok(det.contributions[2]! > det.t2 / 2, "channel 2 carries most of T²");
  });

  test("broken-correlation-is-detected-though-each-channel-stays-in-range", () => {
    // A small ridge keeps the correlation sharp: a 1σ move against the shared load is an alarm.
    const det = new MultivariateDetector({ channels: 4, calibrationSamples: 200, ridge: 0.05, on: 16 });
    const v = new Int32Array(4),
      n = noise(13);
    feed(det, n, v, 400);
    // Channel 1 stops following the shared load: it moves against it, within its usual range.
    let named = 0;
    const alarms = feed(det, n, v, 200, (x) => {
      x[1] = 8000 - (x[0]! - 5000);
    });
    feed(det, n, v, 100, (x) => {
      x[1] = 8000 - (x[0]! - 5000);
      if (det.alarm && (det.top[0] === 0 || det.top[0] === 1)) named++;
    });
    ok(alarms > 50, "alarms " + alarms);
    ok(named > 40, "updates in alarm naming channel 0 or 1 first: " + named);
  });

  test("default-ridge-still-scores-a-broken-correlation-above-normal-running", () => {
    // The default ridge (1, in correlation units) shrinks the correlation's weight (SKAB's false alarms call for it),
    // yet moving against the load, with each channel's usual amplitude, still scores above normal running (1.7×).
    const mean = (mutate?: (x: Int32Array) => void): number => {
      const det = new MultivariateDetector({ channels: 4, calibrationSamples: 200 });
      const v = new Int32Array(4),
        n = noise(13);
      feed(det, n, v, 400);
      let sum = 0;
      for (let i = 0; i < 200; i++) {
        feed(det, n, v, 1, mutate);
        sum += det.score;
      }
      return sum / 200;
    };
    const normal = mean(),
      against = mean((x) => {
        x[1] = 8000 - (x[0]! - 5000);
      });
    ok(against > 1.5 * normal, "mean score against the load " + against + ", normal " + normal);
  });

  test("alarm-clears-with-hysteresis-after-the-fault-ends", () => {
    const det = new MultivariateDetector({ channels: 4, calibrationSamples: 200 });
    const v = new Int32Array(4),
      n = noise(17);
    feed(det, n, v, 400);
    feed(det, n, v, 60, (x) => {
      x[3]! -= 800;
    });
    ok(det.alarm);
    feed(det, n, v, 200);
    equal(det.alarm, false);
  });

  test("state-image-round-trip-continues-identically", () => {
    const a = new MultivariateDetector({ channels: 4, calibrationSamples: 200 });
    const v = new Int32Array(4),
      n = noise(21);
    feed(a, n, v, 300);
    // Thresholds are not part of the image, but they decide when the sensitivity adapts, so b uses a's.
    const b = new MultivariateDetector({ channels: 4, calibrationSamples: 200 });
    b.importState(a.exportState());
    deepEqual(b.exportState(), a.exportState());
    const m = noise(99);
    for (let i = 0; i < 200; i++) {
      v[0] = 5000 + m(500);
      v[1] = 8000 + m(500);
      v[2] = 2000 + m(300);
      v[3] = -3000 + m(300);
      a.update(v);
      b.update(v);
      equal(b.score, a.score, "score at " + i);
    }
  });

  test("bad-state-image-is-refused-with-a-reason", () => {
    const a = new MultivariateDetector({ channels: 4, calibrationSamples: 200 });
    const v = new Int32Array(4);
    feed(a, noise(3), v, 250);
    const image = a.exportState();
    const b = new MultivariateDetector({ channels: 4, calibrationSamples: 200 });
    throws(() => b.importState(image.subarray(0, image.length - 1)), /expected \d+ bytes/);
    const flipped = image.slice();
    flipped[40]! ^= 1;
    throws(() => b.importState(flipped), /checksum/);
    const magic = image.slice();
    magic[0] = 0;
    throws(() => b.importState(magic), /magic/);
    throws(() => new MultivariateDetector({ channels: 5, calibrationSamples: 200 }).importState(image), /bytes/);
    throws(
      () => new MultivariateDetector({ channels: 4, calibrationSamples: 200, fastShift: 3 }).importState(image),
      /learning options/,
    );
    throws(() => b.importState("nope" as unknown as Uint8Array), /Uint8Array/);
    equal(b.samples, 0, "a refused image leaves the detector untouched");
  });

  test("reset-starts-calibrating-again", () => {
    const det = new MultivariateDetector({ channels: 4, calibrationSamples: 200 });
    const v = new Int32Array(4);
    feed(det, noise(4), v, 300);
    det.reset();
    equal(det.calibrated, false);
    equal(det.samples, 0);
  });

  test("extreme-inputs-saturate-without-overflow", () => {
    const det = new MultivariateDetector({ channels: 2, calibrationSamples: 128 });
    const v = new Int32Array(2),
      n = noise(8);
    for (let i = 0; i < 128; i++) {
      v[0] = n(10);
      v[1] = n(10);
      det.update(v);
    }
    v[0] = 0x7fffffff;
    v[1] = -0x80000000;
    for (let i = 0; i < 50; i++) det.update(v);
    ok(det.alarm);
    ok(det.score > 0 && det.score <= 65535, "score " + det.score);
    ok(det.t2 > 0, "T² stays positive: " + det.t2);
  });

  test("log2q8-is-within-a-fiftieth-of-log2", () => {
    for (let v = 1; v < 0x7fffffff; v = v * 3 + 1) {
      const err = Math.abs(log2Q8(v) / 256 - Math.log2(v));
      ok(err < 0.02, "v " + v + " error " + err);
    }
    equal(log2Q8(1), 0);
    equal(log2Q8(1024), 10 * 256);
  });

  test("change-points-mark-the-start-and-the-end-of-a-fault-a-few-times-not-every-sample", () => {
    const det = new MultivariateDetector({ channels: 4, calibrationSamples: 200 });
    const v = new Int32Array(4),
      n = noise(31);
    feed(det, n, v, 600);
    let during = 0,
      after = 0;
    feed(det, n, v, 120, (x) => {
      x[2]! += 900;
      if (det.changePoint) during++;
    });
    feed(det, n, v, 200, () => {
      if (det.changePoint) after++;
    });
    ok(during >= 1 && during <= 3, "change points while the fault starts " + during);
    ok(after >= 1 && after <= 5, "change points when it ends " + after);
  });

  test("bounded-freeze-lets-a-continuing-drift-clear-the-alarm", () => {
    const run = (freezeSamples: number): boolean => {
      const det = new MultivariateDetector({ channels: 4, calibrationSamples: 200, freezeSamples });
      const v = new Int32Array(4),
        n = noise(37);
      feed(det, n, v, 400);
      // A step on channel 3 to a new level that then creeps on slowly: frozen, the baseline never catches up.
      feed(det, n, v, 4000, (x, i) => {
        x[3]! += 1000 + (i >> 6);
      });
      return det.alarm;
    };
    equal(run(0x3fffffff), true, "frozen for ever, the alarm latches");
    equal(run(240), false, "re-adapting after 240 updates, it clears");
  });

  /**
   * Four channels, one drifting slowly; a +10σ step on channel 0 for 800 updates, then normal again. Returns the
   * updates in alarm during the fault, in the first 60 after it and in the 340 after those.
   */
  function stepAndBack(det: MultivariateDetector, exportAt = -1, into?: MultivariateDetector) {
    const n = noise(11),
      v = new Int32Array(4);
    let during = 0,
      early = 0,
      late = 0,
      same = true,
      openAtExport = 0;
    for (let t = 0; t < 2200; t++) {
      for (let c = 0; c < 4; c++)
        v[c] = 1000 * c + n(200) + (t >= 700 && t < 1500 && c === 0 ? 2000 : 0) + (c === 3 ? t >> 3 : 0);
      det.update(v);
      if (t === exportAt && into) {
        into.importState(det.exportState());
        openAtExport = into.episodeChannels;
      }
      if (into && t > exportAt) {
        into.update(v);
        if (into.alarm !== det.alarm || into.score !== det.score || into.recoveryScore !== det.recoveryScore)
          same = false;
      }
      const a = det.alarm ? 1 : 0;
      if (t >= 700 && t < 1500) during += a;
      else if (t >= 1500 && t < 1560) early += a;
      else if (t >= 1560) late += a;
    }
    return { during, early, late, same, openAtExport };
  }

  test("recovery-clears-an-alarm-whose-cause-has-ended", () => {
    const without = stepAndBack(new MultivariateDetector({ channels: 4 }));
    ok(without.during > 600, "the fault is in alarm: " + without.during);
    ok(without.late > 300, "without recovery the return to normal holds the alarm: " + without.late);
    const det = new MultivariateDetector({ channels: 4, recovery: true });
    const r = stepAndBack(det);
    equal(r.during, without.during, "the fault itself is scored alike");
    equal(r.late, 0, "with recovery the alarm has cleared within 60 updates and is not raised again");
    ok(r.early < 60, "cleared after the fault: " + r.early);
    equal(det.episodeChannels, 0, "the episode has closed");
    equal(det.stateBytes, MultivariateDetector.stateBytesFor(4, 3, true));
  });

  test("recovery-episode-is-bounded", () => {
    // A fault that never ends: after episodeSamples in the episode its level becomes the new normal.
    const det = new MultivariateDetector({ channels: 4, recovery: true, episodeSamples: 300 });
    const n = noise(5),
      v = new Int32Array(4);
    let inAlarm = 0;
    for (let t = 0; t < 2000; t++) {
      for (let c = 0; c < 4; c++) v[c] = 1000 * c + n(200) + (t >= 700 && c === 1 ? 2000 : 0);
      det.update(v);
      if (t >= 1100) inAlarm += det.alarm ? 1 : 0;
    }
    equal(inAlarm, 0, "the episode ended at its bound and the new level is normal");
    throws(() => new MultivariateDetector({ channels: 4, recovery: "yes" as unknown as boolean }), /"recovery"/);
    throws(() => new MultivariateDetector({ channels: 4, recovery: true, recoverySamples: 0 }), /"recoverySamples"/);
  });

  test("recovery-state-image-round-trips-inside-an-episode", () => {
    const a = new MultivariateDetector({ channels: 4, recovery: true }),
      b = new MultivariateDetector({ channels: 4, recovery: true });
    // Exported in the middle of the fault (episode open, baselines frozen), imported, continued alike.
    const r = stepAndBack(a, 1000, b);
    equal(r.openAtExport, 1, "restored with the episode open, naming channel 0");
    ok(r.same, "the restored copy follows the original through the fault and the recovery");
    equal(b.episodeChannels, 0, "and closes it on recovery");
    throws(
      () => new MultivariateDetector({ channels: 4 }).importState(a.exportState()),
      /expected \d+ bytes|different channels or learning options/,
    );
  });

  // The app's slow model (modules/detector/select.ts SLOW_MODEL_OPTIONS), spelled out so this suite stands alone.
  const SETTLING = { recovery: true, returnShift: 3, settleSamples: 256, recoverTo: "current" } as const;

  /**
   * Four channels of noise (σ ≈ 115); from update 700 a fault of `step` on channel 0 for 800 updates that ramps off
   * over 60 and leaves `remainder` behind; with `heat`, channel 2 warms by up to that much during the fault and cools
   * linearly over 200 updates after it (a secondary effect that outlasts its cause, within the 256 of settling); with `again`, the fault comes
   * back at update 1700. Returns the updates in alarm during the fault and after update 1620 (the fault long over),
   * and the first update in alarm from 1700.
   */
  function faultAndReturn(det: MultivariateDetector, step: number, remainder: number, heat = 0, again = false) {
    const n = noise(23),
      v = new Int32Array(4);
    let during = 0,
      late = 0,
      back = -1;
    for (let t = 0; t < 2400; t++) {
      let f = 0,
        h = 0;
      if (t >= 700 && t < 1500) f = step;
      else if (t >= 1500 && t < 1560) f = (step - ((step - remainder) * (t - 1500)) / 60) | 0;
      else if (t >= 1560) f = remainder;
      if (again && t >= 1700) f = step;
      if (t >= 700 && t < 1500) h = ((heat * (t - 700)) / 800) | 0;
      else if (t >= 1500 && t < 1700) h = ((heat * (1700 - t)) / 200) | 0;
      for (let c = 0; c < 4; c++) v[c] = 1000 * c + n(200) + (c === 0 ? f : 0) + (c === 2 ? h : 0);
      const a = det.update(v);
      if (t >= 700 && t < 1500) during += a ? 1 : 0;
      if (t >= 1620 && !again) late += a ? 1 : 0;
      if (again && t >= 1700 && back < 0 && a) back = t - 1700;
    }
    return { during, late, back };
  }

  test("recovery-within-an-eighth-of-a-large-fault-that-leaves-a-remainder", () => {
    // A 64σ fault that comes back to 1/16 of itself: 4σ from the old normal, but 1/16 of the way it went.
    const plain = faultAndReturn(new MultivariateDetector({ channels: 4, recovery: true }), 7400, 460);
    ok(plain.during > 700, "the fault is in alarm: " + plain.during);
    ok(plain.late > 300, "the absolute level alone never sees it come back: " + plain.late);
    const det = new MultivariateDetector({ channels: 4, ...SETTLING });
    const r = faultAndReturn(det, 7400, 460);
    equal(r.during, plain.during, "the fault itself is scored alike");
    equal(r.late, 0, "within 1/8 of its excursion it has recovered, and the remainder is the new normal");
    equal(det.episodeChannels, 0, "the episode has closed after settling");
    equal(det.stateBytes, MultivariateDetector.stateBytesFor(4, 3, true));
  });

  test("settling-learns-a-secondary-effect-that-outlasts-its-cause", () => {
    // Channel 2 warms by 20σ during the fault on channel 0 and cools for 200 updates after it ends.
    const unsettled = faultAndReturn(
      new MultivariateDetector({ channels: 4, recovery: true, returnShift: 3, recoverTo: "current" }),
      7400,
      0,
      2300,
    );
    ok(unsettled.late > 100, "without settling the cooling raises the alarm again: " + unsettled.late);
    const r = faultAndReturn(new MultivariateDetector({ channels: 4, ...SETTLING }), 7400, 0, 2300);
    equal(r.late, 0, "settling learns the cooling as the machine's own");
  });

  test("settling-raises-the-alarm-again-when-the-fault-returns", () => {
    const r = faultAndReturn(new MultivariateDetector({ channels: 4, ...SETTLING }), 7400, 0, 0, true);
    ok(r.back >= 0 && r.back < 5, "the fault back during settling is in alarm within 5 updates: " + r.back);
  });

  test("settling-options-are-validated", () => {
    throws(() => new MultivariateDetector({ channels: 4, recovery: true, returnShift: 17 }), /"returnShift"/);
    throws(() => new MultivariateDetector({ channels: 4, recovery: true, settleSamples: -1 }), /"settleSamples"/);
    throws(
      () => new MultivariateDetector({ channels: 4, recovery: true, recoverTo: "old" as unknown as "copy" }),
      /"recoverTo" must be "copy" or "current"/,
    );
    throws(() => new MultivariateDetector({ channels: 4, recovery: true, settleShift: 2 }), /"settleShift"/);
  });

  test("settling-state-image-round-trips", () => {
    // Exported while settling (alarm off, episode open), imported into a fresh detector: both go on alike.
    const a = new MultivariateDetector({ channels: 4, ...SETTLING }),
      b = new MultivariateDetector({ channels: 4, ...SETTLING });
    const n = noise(29),
      v = new Int32Array(4);
    let exported = false,
      same = true,
      openAtExport = 0;
    for (let t = 0; t < 2200; t++) {
      for (let c = 0; c < 4; c++) v[c] = 1000 * c + n(200) + (c === 0 && t >= 700 && t < 1500 ? 7400 : 0);
      a.update(v);
      if (!exported && t > 1500 && !a.alarm && a.episodeChannels !== 0) {
        b.importState(a.exportState());
        openAtExport = b.episodeChannels;
        exported = true;
      } else if (exported) {
        b.update(v);
        if (b.alarm !== a.alarm || b.score !== a.score || b.episodeChannels !== a.episodeChannels) same = false;
      }
    }
    ok(exported, "the detector settled with the alarm off and the episode open");
    equal(openAtExport, 1, "restored settling, naming channel 0");
    ok(same, "the restored copy settles alike");
  });
});
