// The detector's update() allocates nothing: a million updates trigger no young-generation collection.
import { test } from "node:test";
import assert from "node:assert/strict";
import { minorCollectionsDuring } from "./support/gc.js";
import { ZScoreDetector } from "telltale/detector/zscore";
import { MultivariateDetector } from "telltale/detector/multivariate";
import { NoveltyDetector } from "telltale/detector/novelty";
import { SLOW_MODEL_OPTIONS } from "telltale/detector/select";

test("detector-update-allocates-nothing", async () => {
  const det = new ZScoreDetector({ channels: 8, calibrationSamples: 50 });
  const v = new Int32Array(8);
  let s = 12345;
  const step = () => {
    for (let c = 0; c < 8; c++) {
      s ^= s << 13;
      s ^= s >> 17;
      s ^= s << 5;
      v[c] = 1000 + (s & 63);
    }
    det.update(v);
  };
  for (let i = 0; i < 20_000; i++) step(); // warm up and optimise
  const minor = await minorCollectionsDuring(() => {
    for (let i = 0; i < 1_000_000; i++) step();
  });
  assert.equal(minor, 0, `${minor} minor collections during 1,000,000 updates`);
});

test("multivariate-update-allocates-nothing", async () => {
  const det = new MultivariateDetector({ channels: 8 });
  const v = new Int32Array(8);
  let s = 777;
  const step = () => {
    for (let c = 0; c < 8; c++) {
      s ^= s << 13;
      s ^= s >> 17;
      s ^= s << 5;
      v[c] = 1000 * c + (s & 255);
    }
    det.update(v);
  };
  for (let i = 0; i < 20_000; i++) step(); // calibrates (400 samples), then warms up
  assert.ok(det.calibrated);
  const minor = await minorCollectionsDuring(() => {
    for (let i = 0; i < 300_000; i++) step();
  });
  assert.equal(minor, 0, `${minor} minor collections during 300,000 updates`);
});

test("multivariate-with-recovery-and-novelty-allocate-nothing", async () => {
  // The app's slow model (recovery with settling), through alarms, episodes and settling: a 40-update fault every
  // 500 updates.
  const det = new MultivariateDetector({ channels: 8, ...SLOW_MODEL_OPTIONS });
  const nov = new NoveltyDetector({ calibrationSamples: 400 });
  const v = new Int32Array(8);
  let s = 4242,
    t = 0,
    episodes = 0,
    settling = 0;
  const step = () => {
    for (let c = 0; c < 8; c++) {
      s ^= s << 13;
      s ^= s >> 17;
      s ^= s << 5;
      v[c] = 1000 * c + (s & 255) + (c === 2 && t % 500 > 460 ? 3000 : 0);
    }
    t++;
    det.update(v);
    nov.update(v[2]!);
    if (det.episodeChannels !== 0) episodes++;
    if (det.episodeChannels !== 0 && !det.alarm) settling++;
  };
  for (let i = 0; i < 20_000; i++) step();
  const minor = await minorCollectionsDuring(() => {
    for (let i = 0; i < 300_000; i++) step();
  });
  assert.ok(episodes > 0, "episodes were opened");
  assert.ok(settling > 0, "episodes settled");
  assert.equal(minor, 0, `${minor} minor collections during 300,000 updates`);
});
