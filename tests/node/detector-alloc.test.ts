// The detector's update() allocates nothing: a million updates trigger no young-generation collection.
import { test } from "node:test";
import assert from "node:assert/strict";
import { minorCollectionsDuring } from "./support/gc.js";
import { ZScoreDetector } from "telltale/detector/zscore";
import { MultivariateDetector } from "telltale/detector/multivariate";

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
