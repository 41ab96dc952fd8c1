// XS only: the vibration front end's native loop (vibration-native.c, linked into xsnap) against its TypeScript loops.
import { suite, test, equal, ok, throws } from "../harness.js";
import { VibrationFrontEnd, type VibrationOptions } from "telltale/detector/vibration";
import { vibrationNative } from "telltale/detector/vibration-native";
import { int16Noise } from "../support/xorshift.js";

/**
 * Frames of a machine-like signal that also reaches the edges: tones, noise, impulses, an offset, and stretches at
 * full scale (the high-pass saturating at ±32767, the Goertzel state at ±2^27 for a resonant tone in long windows).
 */
function signal(frames: number, axes: number, seed: number, rate: number, tone: number): Int16Array {
  const r = int16Noise(seed),
    out = new Int16Array(frames * axes);
  for (let i = 0; i < frames; i++)
    for (let a = 0; a < axes; a++) {
      const phase = Math.sin((2 * Math.PI * tone * (a + 1) * i) / rate);
      const loud = ((i >> 11) & 3) === 3; // every fourth stretch of 2048 frames at full scale
      let v = loud ? (phase >= 0 ? 32767 : -32768) : phase * 6000 + (r() >> (3 + a)) + (i % 97 === 0 ? 20000 : 0);
      v += a * 3000;
      out[i * axes + a] = v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v);
    }
  return out;
}

/**
 * Feeds the same frames to a TypeScript and a native front end in random block sizes, from an offset view, and
 * compares every return value, every `ready` and, after each call, every feature. Returns the windows compared.
 */
function compare(options: VibrationOptions, frames: number, seed: number): number {
  const ts = new VibrationFrontEnd(options),
    cc = new VibrationFrontEnd({ ...options, native: vibrationNative });
  ok(!ts.native && cc.native, "the native option selects the native loop");
  const axes = ts.axes;
  const data = signal(frames + 5, axes, seed, options.sampleRate ?? 1600, (options.bands ?? [50])[0] ?? 50);
  const view = data.subarray(5 * axes); // a byteOffset that is not 0
  const r = int16Noise(seed ^ 0x5a5a);
  for (let i = 0; i < frames;) {
    const n = 1 + ((r() & 0xffff) % 70); // past BLOCK too
    const a = ts.write(view, i, Math.min(n, frames - i)),
      b = cc.write(view, i, Math.min(n, frames - i));
    equal(b, a, "frames consumed at frame " + i);
    equal(cc.ready, ts.ready, "ready at frame " + i);
    for (let k = 0; k < ts.features.length; k++)
      if (cc.features[k] !== ts.features[k])
        equal(cc.features[k], ts.features[k], "feature " + k + " after window " + ts.windows + " (frame " + i + ")");
    i += a;
  }
  equal(cc.windows, ts.windows, "windows");
  return ts.windows;
}

suite("xs/vibration-native", () => {
  test("three-axes-four-bands-bit-identical", () => {
    ok(compare({ axes: 3, sampleRate: 1600, bands: [50, 100, 200, 400] }, 40000, 1) > 150);
  });

  test("every-axis-and-band-count-bit-identical", () => {
    for (let axes = 1; axes <= 3; axes++)
      for (const bands of [
        [],
        [60],
        [60, 310],
        [60, 310, 777],
        [50, 100, 200, 400, 700],
        [5, 9, 50, 100, 200, 400, 700, 790],
      ])
        compare(
          { axes, sampleRate: 1600, bands, windowShift: 6 + ((axes + bands.length) % 3) },
          6000,
          7 * axes + bands.length,
        );
  });

  test("saturation-and-long-windows-bit-identical", () => {
    // 4096-frame windows and a resonant 50 Hz full-scale tone drive the Goertzel state into its ±2^27 saturation.
    compare({ axes: 2, sampleRate: 1600, bands: [50, 100, 200, 400], windowShift: 12 }, 40000, 3);
    compare({ axes: 1, sampleRate: 3200, bands: [50, 1000], windowShift: 12, dcShift: 1 }, 30000, 4);
    compare({ axes: 3, sampleRate: 3200, bands: [50, 100, 200, 400, 800, 1600 - 1], dcShift: 14 }, 20000, 5);
  });

  test("saturation-in-every-band-position-bit-identical", () => {
    // Axis a carries its tone at (a + 1) × 50 Hz, so each axis drives a different band into saturation: the first and
    // second of a pair (the C runs bands two at a time) and a band left over on its own, in odd and even blocks.
    compare({ axes: 3, sampleRate: 3200, bands: [25, 50, 75], windowShift: 12 }, 40000, 6);
  });

  test("push-one-frame-bit-identical", () => {
    const ts = new VibrationFrontEnd({ axes: 3 }),
      cc = new VibrationFrontEnd({ axes: 3, native: vibrationNative });
    const r = int16Noise(9);
    for (let i = 0; i < 3000; i++) {
      const x = r(),
        y = r() >> 2,
        z = r() >> 4;
      equal(cc.push(x, y, z), ts.push(x, y, z), "push " + i);
    }
    for (let k = 0; k < ts.features.length; k++) equal(cc.features[k], ts.features[k], "feature " + k);
  });

  test("native-rejects-a-block-outside-its-buffers", () => {
    const shape = 1 | (1 << 2) | (6 << 6) | (7 << 10); // 1 axis, 1 band, 64-frame windows, dcShift 7
    const state = new Int32Array(8 + 2 + 2 + 1 + 5),
      samples = new Int16Array(4);
    const write = (offset: number, frames: number, s = state, sh = shape) =>
      vibrationNative.write(samples.buffer, offset, frames, s.buffer, sh);
    equal(write(0, 4), 4, "a block inside the buffers");
    throws(() => write(2, 4), /outside the samples/);
    throws(() => write(0, 2, new Int32Array(8 + 2 + 2 + 1 + 4)), /too short/);
    throws(() => write(0, 1, state, shape & ~3), /axes 1-3/);
  });

  test("a-native-option-without-write-is-named", () => {
    throws(() => new VibrationFrontEnd({ native: {} as never }), /"native"/);
  });
});
