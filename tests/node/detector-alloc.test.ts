// The detector's update() allocates nothing: a million updates trigger no young-generation collection.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PerformanceObserver, constants } from "node:perf_hooks";
import { ZScoreDetector } from "telltale/detector/zscore";

test("detector-update-allocates-nothing", async () => {
  const det = new ZScoreDetector({ channels: 8, calibrationSamples: 50 });
  const v = new Int32Array(8);
  let s = 12345;
  const step = () => { for (let c = 0; c < 8; c++) { s ^= s << 13; s ^= s >> 17; s ^= s << 5; v[c] = 1000 + (s & 63); } det.update(v); };
  for (let i = 0; i < 20_000; i++) step(); // warm up and optimise
  let minor = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as unknown as { detail: { kind: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
  });
  obs.observe({ entryTypes: ["gc"] });
  for (let i = 0; i < 1_000_000; i++) step();
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  assert.equal(minor, 0, `${minor} minor collections during 1,000,000 updates`);
});
