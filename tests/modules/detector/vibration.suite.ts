// The integer vibration front end: RMS, peak, crest factor, kurtosis and Goertzel band amplitudes against known signals.
import { suite, test, equal, ok, throws } from "../../harness.js";
import { VibrationFrontEnd } from "telltale/detector/vibration";
import { int16Noise } from "../../support/xorshift.js";

const FS = 1600;

/** Integer triangle wave of amplitude `amp` and period `period` samples (exactly periodic, no floating point). */
function triangle(i: number, amp: number, period: number): number {
  const ph = i % period,
    q = period >> 2;
  return ph < q ? ((ph * amp) / q) | 0 : ph < 3 * q ? (((2 * q - ph) * amp) / q) | 0 : (((ph - period) * amp) / q) | 0;
}

/** Sum of four xorshift uniforms: close to Gaussian (kurtosis 2.7). */
function gauss(seed: number) {
  const u = int16Noise(seed);
  return (amp: number) => (((u() + u() + u() + u()) >> 2) * amp) >> 15;
}

function within(actual: number, expected: number, tolerance: number, what: string): void {
  ok(Math.abs(actual - expected) <= tolerance, what + ": expected " + expected + " ± " + tolerance + ", got " + actual);
}

suite("detector/vibration", () => {
  test("options-are-validated-naming-the-option", () => {
    throws(() => new VibrationFrontEnd({ axes: 4 }), /"axes"/);
    throws(() => new VibrationFrontEnd({ windowShift: 13 }), /"windowShift"/);
    throws(() => new VibrationFrontEnd({ sampleRate: 0 }), /"sampleRate"/);
    throws(() => new VibrationFrontEnd({ sampleRate: 1600, bands: [900] }), /"bands\[0\]"/);
    throws(() => new VibrationFrontEnd({ bands: [1, 2, 3, 4, 5, 6, 7, 8, 9] }), /"bands"/);
    throws(() => new VibrationFrontEnd({ native: {} as never }), /"native"/);
  });

  test("tone-gives-its-amplitude-in-its-band-only", () => {
    const fe = new VibrationFrontEnd({ axes: 1, sampleRate: FS, bands: [100, 400] });
    const per = fe.featuresPerAxis;
    for (let i = 0; i < 512; i++) fe.push(triangle(i, 8000, 16)); // 100 Hz triangle: fundamental 8/π² · 8000 ≈ 6485
    equal(fe.windows, 2);
    within(fe.features[4]!, 6485, 100, "100 Hz band");
    ok(fe.features[5]! < 200, "400 Hz band " + fe.features[5]);
    // A 16-sample triangle takes the values A·{0, ¼, ½, ¾, 1, …}: mean square 0.34375·A², mean fourth power 0.2207·A⁴.
    within(fe.features[0]! >> 4, 4690, 80, "RMS");
    within(fe.features[1]!, 8000, 40, "peak (after the DC high-pass)");
    within(fe.features[2]!, 437, 10, "crest 1.706 in Q8");
    within(fe.features[3]!, 478, 15, "kurtosis 1.868 in Q8");
    equal(per, 6);
  });

  test("noise-has-gaussian-kurtosis-and-impulses-raise-it", () => {
    const fe = new VibrationFrontEnd({ axes: 2, sampleRate: FS, bands: [] });
    const g = gauss(7);
    for (let i = 0; i < 1024; i++) fe.push(g(3000), g(3000) + (i % 64 === 0 ? 12000 : 0));
    within(fe.features[3]!, 691, 120, "kurtosis of near-Gaussian noise (2.7 in Q8)");
    ok(fe.features[4 + 3]! > 3 * 256, "impulses: kurtosis " + fe.features[7]);
    ok(fe.features[4 + 2]! > fe.features[2]!, "impulses: crest factor is higher");
  });

  test("write-stops-at-the-window-boundary-and-matches-push", () => {
    const a = new VibrationFrontEnd({ axes: 3 }),
      b = new VibrationFrontEnd({ axes: 3 });
    const g = gauss(3),
      frames = new Int16Array(300 * 3);
    for (let i = 0; i < frames.length; i++) frames[i] = g(5000);
    let i = 0,
      windows = 0;
    while (i < 300) {
      const used = a.write(frames, i, 300 - i);
      ok(used > 0 && used <= VibrationFrontEnd.BLOCK, "used " + used);
      if (a.ready) {
        windows++;
        equal(i + used, 256, "the window ends at frame 256");
      }
      i += used;
    }
    equal(windows, 1);
    for (let k = 0; k < 256; k++) b.push(frames[3 * k]!, frames[3 * k + 1], frames[3 * k + 2]);
    for (let k = 0; k < a.features.length; k++) equal(b.features[k], a.features[k], "feature " + k);
  });

  test("full-scale-input-saturates-without-overflow", () => {
    const fe = new VibrationFrontEnd({ axes: 1, bands: [400] });
    for (let i = 0; i < 2048; i++) fe.push(i & 1 ? 32767 : -32768);
    ok(fe.features[0]! > 0 && fe.features[1]! <= 32767, "rms " + fe.features[0] + " peak " + fe.features[1]);
    ok(fe.features[4]! >= 0, "band " + fe.features[4]);
  });
});
