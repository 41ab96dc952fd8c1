// bench/lib/femto.mjs on small generated files in the FEMTO-ST format: reading, checks, and the part's decimation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

interface Femto {
  SNAPSHOT_FRAMES: number;
  listBearings(dir: string): string[];
  readTimes(text: string, what?: string): Float64Array;
  readSnapshots(gz: Buffer, expected?: number, what?: string): Int32Array;
  lowpassTaps(factor: number, length?: number): Float64Array;
  sensorFrames(
    snapshots: Int32Array,
    index: number,
    options: {
      factor: number;
      taps: Float64Array;
      frames: number;
      countsPerG: number;
      min: number;
      max: number;
      zCounts: number;
    },
    out: Int16Array,
    at: number,
  ): void;
}
const femto = (await import(new URL("../../../bench/lib/femto.mjs", import.meta.url).href)) as Femto;

/** Snapshots of (horizontal, vertical) milli-g: f(snapshot, frame) → [h, v]. */
function acc(count: number, f: (s: number, i: number) => [number, number]): Buffer {
  const b = Buffer.alloc(count * femto.SNAPSHOT_FRAMES * 8);
  for (let s = 0; s < count; s++)
    for (let i = 0; i < femto.SNAPSHOT_FRAMES; i++) {
      const [h, v] = f(s, i),
        o = (s * femto.SNAPSHOT_FRAMES + i) * 8;
      b.writeInt32LE(h, o);
      b.writeInt32LE(v, o + 4);
    }
  return gzipSync(b);
}

const OPTIONS = { factor: 8, frames: 256, countsPerG: 256, min: -4096, max: 4095, zCounts: 256 };

test("femto-reads-snapshots-little-endian-in-order", () => {
  const gz = acc(2, (s, i) => [s * 100000 + i, -(s * 100000 + i) - 1]);
  const data = femto.readSnapshots(gz, 2);
  assert.equal(data.length, 2 * femto.SNAPSHOT_FRAMES * 2);
  assert.deepEqual(Array.from(data.subarray(0, 4)), [0, -1, 1, -2]);
  const second = 2 * femto.SNAPSHOT_FRAMES;
  assert.deepEqual(Array.from(data.subarray(second, second + 2)), [100000, -100001]);
});

test("femto-refuses-a-partial-snapshot-and-a-count-mismatch", () => {
  assert.throws(
    () => femto.readSnapshots(gzipSync(Buffer.alloc(20480 + 8)), undefined, "B.acc.gz"),
    /B\.acc\.gz.*whole number/,
  );
  assert.throws(
    () =>
      femto.readSnapshots(
        acc(1, () => [0, 0]),
        2,
        "B.acc.gz",
      ),
    /1 snapshots, but its csv lists 2/,
  );
});

test("femto-times-from-the-csv-cross-midnight", () => {
  const t = femto.readTimes(
    "snapshot,hour,minute,second,microsecond\n0,23,59,50,500000\n1,0,0,0,500000\n2,0,0,10,500000\n",
  );
  assert.deepEqual(Array.from(t), [0, 10, 20]);
  assert.throws(
    () => femto.readTimes("snapshot,hour,minute,second,microsecond\n1,0,0,0,0\n", "B.csv"),
    /B\.csv: line 2/,
  );
});

test("femto-lists-bearings-and-needs-their-csv", () => {
  const dir = mkdtempSync(join(tmpdir(), "femto-"));
  writeFileSync(join(dir, "B2.acc.gz"), "");
  writeFileSync(join(dir, "B2.csv"), "");
  writeFileSync(join(dir, "B1.acc.gz"), "");
  assert.throws(() => femto.listBearings(dir), /B1\.acc\.gz has no B1\.csv/);
  writeFileSync(join(dir, "B1.csv"), "");
  assert.deepEqual(femto.listBearings(dir), ["B1", "B2"]);
});

test("femto-decimation-keeps-a-low-tone-and-removes-one-above-the-part-nyquist", () => {
  const taps = femto.lowpassTaps(8);
  assert.ok(Math.abs(taps.reduce((s, x) => s + x, 0) - 1) < 1e-12, "unit gain at DC");
  // 1 g at 100 Hz on the horizontal axis, 1 g at 3000 Hz (above 1600 Hz) on the vertical, 25.6 kHz.
  const gz = acc(1, (_, i) => [
    Math.round(1000 * Math.sin((2 * Math.PI * 100 * i) / 25600)),
    Math.round(1000 * Math.sin((2 * Math.PI * 3000 * i) / 25600)),
  ]);
  const out = new Int16Array(256 * 3);
  femto.sensorFrames(femto.readSnapshots(gz, 1), 0, { ...OPTIONS, taps }, out, 0);
  let h = 0,
    v = 0;
  for (let k = 0; k < 256; k++) {
    h = Math.max(h, Math.abs(out[3 * k]!));
    v = Math.max(v, Math.abs(out[3 * k + 1]!));
    assert.equal(out[3 * k + 2], 256, "z is the constant 1 g");
  }
  assert.ok(h >= 250 && h <= 257, "100 Hz passes at 256 counts per g, got " + h);
  assert.ok(v <= 2, "3000 Hz is filtered out, got " + v);
});

test("femto-decimation-clips-to-the-part-range-and-reads-the-right-samples", () => {
  // A step in the middle of the snapshot: 20 g before frame 1280, −1 g after. The output is the last 256 frames
  // whose filter lies in the snapshot, so it ends on −1 g and, with a 97-tap filter, starts before the step.
  const gz = acc(1, (_, i) => (i < 1280 ? [20000, 0] : [-1000, 0]));
  const out = new Int16Array(256 * 3);
  femto.sensorFrames(femto.readSnapshots(gz, 1), 0, { ...OPTIONS, taps: femto.lowpassTaps(8) }, out, 0);
  assert.equal(out[0], 4095, "20 g clips at +16 g (4095 counts)");
  assert.equal(out[3 * 255], -256, "−1 g is −256 counts");
  const last = Math.floor((femto.SNAPSHOT_FRAMES - 97) / 8),
    step = Math.ceil((1280 - 48) / 8) - (last - 255); // the first output whose filter centre is past the step
  assert.ok(out[3 * (step + 6)]! < 0 && out[3 * (step - 7)] === 4095, "the step is where the frames say");
});
