// Vibration front end on integers: per window and axis, RMS, peak, crest factor, kurtosis and Goertzel band amplitudes (Q15).
import { isqrt, udivFrac, bitLength } from "telltale/detector/fixed";

// Input: raw accelerometer samples, int16 counts (full scale = 2^15), `axes` values per frame, pushed one frame at a time.
// Per axis and sample (no allocation, no division; write() runs each quantity over a block of frames with locals):
//   dc_q8     DC estimate, counts × 2^8, EWMA 2^-dcShift (a first-order high-pass removes gravity and offset)
//   d         x − dc, counts, saturated to ±32767 so d² < 2^30
//   sq lo/hi  Σd² as a two-word accumulator (lo < 2^30, carries into hi), exact over any window ≤ 2^16 samples
//   peak      max |d|
//   q         (d·d) >> kShift, saturated to 2^15, with kShift chosen from the previous window so q ≈ 2^8 at 1 σ;
//             Σq and Σ((q·q) >> 8) (two-word) give the kurtosis as a ratio, independent of kShift (samples past ~11 σ saturate)
//   s1, s2    Goertzel state per band, counts, s0 = x + c·s1 − s2 with c = 2cos(2πf/fs) in Q14; c·s1 goes through a
//             16×16 split so it is exact, and s0 is saturated to ±2^27
// Per window (2^windowShift samples) and axis the features, all int32:
//   rms_q4    sqrt(Σd²/N), counts × 2^4 (Q15 of full scale × 2^4)
//   peak      max |d|, counts (= Q15 of full scale)
//   crest_q8  peak / rms, × 2^8
//   kurt_q8   N·Σd⁴ / (Σd²)², × 2^8 (3.0 = 768 for Gaussian noise)
//   band_k    amplitude of the band's sinusoid, counts (= Q15 of full scale): 2·|X_k| / N

export interface VibrationOptions {
  /** Axes per frame, 1–3 (default 3). */
  axes?: number;
  /** Window length 2^windowShift samples, 6–12 (default 8: 256 samples). */
  windowShift?: number;
  /** Sample rate in Hz (default 1600); only used to place the bands. */
  sampleRate?: number;
  /** Band centre frequencies in Hz, 0–8 of them, each below sampleRate / 2 (default [50, 100, 200, 400]). */
  bands?: readonly number[];
  /** DC-removal EWMA weight 2^-dcShift (default 7). */
  dcShift?: number;
}

const FEATURES = 4; // rms, peak, crest, kurtosis

function fail(name: string, what: string, value: unknown): never {
  throw new RangeError("VibrationFrontEnd: option \"" + name + "\" must be " + what + ", got " + String(value));
}

function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || value !== Math.floor(value) || value < min || value > max) fail(name, "an integer " + min + "–" + max, value);
  return value as number;
}

/** 2cos(2π f / fs) in Q14: the only double arithmetic, once per band at construction. */
function coefficientQ14(f: number, fs: number): number {
  return Math.round(2 * Math.cos(2 * Math.PI * f / fs) * 16384);
}

export class VibrationFrontEnd {
  readonly axes: number;
  readonly windowShift: number;
  readonly windowSamples: number;
  readonly bandCount: number;
  readonly dcShift: number;
  /** Goertzel coefficients, Q14. */
  readonly #coef: Int32Array;
  /** Per axis: dc_q8, sqLo, sqHi, peak, Σq, Σq² lo, kShift, Σq² hi, then s1, s2 per band. */
  readonly #acc: Int32Array;
  readonly #stride: number;
  readonly #block: Int16Array;
  readonly #one: Int16Array;
  #n = 0;
  #primed = false;
  /** True after the push()/write() call that completed a window. */
  ready = false;
  /** Features of the latest complete window: per axis [rms_q4, peak, crest_q8, kurt_q8, band_0 … band_{B−1}]. */
  readonly features: Int32Array;
  /** Completed windows so far. */
  windows = 0;

  constructor(options: VibrationOptions = {}) {
    this.axes = integer("axes", options.axes ?? 3, 1, 3);
    this.windowShift = integer("windowShift", options.windowShift ?? 8, 6, 12);
    const fs = options.sampleRate ?? 1600;
    if (typeof fs !== "number" || !(fs > 0) || fs > 100000) fail("sampleRate", "a number above 0 and at most 100000", fs);
    const bands = options.bands ?? [50, 100, 200, 400];
    if (!Array.isArray(bands) || bands.length > 8) fail("bands", "an array of at most 8 frequencies", bands);
    for (let k = 0; k < bands.length; k++) {
      const f = bands[k];
      if (typeof f !== "number" || !(f > 0) || !(f < fs / 2)) fail("bands[" + k + "]", "a frequency above 0 and below sampleRate / 2", f);
    }
    this.dcShift = integer("dcShift", options.dcShift ?? 7, 1, 14);
    this.windowSamples = 1 << this.windowShift;
    this.bandCount = bands.length;
    this.#coef = new Int32Array(bands.length);
    for (let k = 0; k < bands.length; k++) this.#coef[k] = coefficientQ14(bands[k], fs);
    this.#stride = 8 + 2 * bands.length;
    this.#acc = new Int32Array(this.#stride * this.axes);
    this.features = new Int32Array(this.axes * (FEATURES + bands.length));
    this.#block = new Int16Array(VibrationFrontEnd.BLOCK);
    this.#one = new Int16Array(3);
  }

  /** Features per axis (4 + bands). */
  get featuresPerAxis(): number { return FEATURES + this.bandCount; }
  /** Bytes of state (typed arrays only). */
  get stateBytes(): number { return this.#coef.byteLength + this.#acc.byteLength + this.features.byteLength + this.#block.byteLength + this.#one.byteLength; }

  /** Frames consumed by one write() at most: the DC-removed block is kept in a small scratch buffer. */
  static readonly BLOCK = 64;

  /** Feeds one frame (one int16 count per axis). Returns true when it completed a window (`features` updated). */
  push(x: number, y = 0, z = 0): boolean {
    const one = this.#one;
    one[0] = x; if (this.axes > 1) one[1] = y; if (this.axes > 2) one[2] = z;
    this.write(one, 0, 1);
    return this.ready;
  }

  /**
   * Feeds frames from an interleaved int16 buffer (axes values per frame), starting at frame `start`, at most `frames`
   * of them; stops early at a window boundary and after BLOCK frames. Returns the frames consumed; `ready` tells whether
   * this call completed a window. This is the fast path (an accelerometer FIFO delivers blocks). Allocates nothing.
   */
  write(samples: Int16Array, start: number, frames: number): number {
    const axes = this.axes, acc = this.#acc, stride = this.#stride, bands = this.bandCount, coef = this.#coef, block = this.#block;
    let count = this.windowSamples - this.#n;
    if (count > frames) count = frames;
    if (count > VibrationFrontEnd.BLOCK) count = VibrationFrontEnd.BLOCK;
    if (!this.#primed && count > 0) {
      // The DC estimate starts at the first sample, so the high-pass does not ring for thousands of samples.
      for (let a = 0; a < axes; a++) acc[a * stride] = samples[start * axes + a] << 8;
      this.#primed = true;
    }
    for (let a = 0, o = 0; a < axes; a++, o += stride) {
      let dc = acc[o], lo = acc[o + 1], hi = acc[o + 2], peak = acc[o + 3], q1 = acc[o + 4], q2 = acc[o + 5], q2hi = acc[o + 7];
      const kShift = acc[o + 6], dcShift = this.dcShift;
      for (let i = 0, j = start * axes + a; i < count; i++, j += axes) {
        const v = samples[j]; // int16: |v| ≤ 2^15
        dc = (dc + (((v << 8) - dc) >> dcShift)) | 0;
        let d = v - (dc >> 8);
        if (d > 32767) d = 32767; else if (d < -32767) d = -32767;
        block[i] = d;
        const d2 = d * d; // < 2^30
        lo = (lo + d2) | 0;
        if (lo >= 0x40000000) { lo = (lo - 0x40000000) | 0; hi++; }
        if (d > peak) peak = d; else if (-d > peak) peak = -d;
        let q = d2 >> kShift;
        if (q > 0x7FFF) q = 0x7FFF;
        q1 = (q1 + q) | 0; // < 2^15 · 2^12
        q2 = (q2 + ((q * q) >> 8)) | 0; // each term < 2^22; lo < 2^30 carries into q2hi
        if (q2 >= 0x40000000) { q2 = (q2 - 0x40000000) | 0; q2hi++; }
      }
      acc[o] = dc; acc[o + 1] = lo; acc[o + 2] = hi; acc[o + 3] = peak; acc[o + 4] = q1; acc[o + 5] = q2; acc[o + 7] = q2hi;
      for (let k = 0, b = o + 8; k < bands; k++, b += 2) {
        let s1 = acc[b], s2 = acc[b + 1];
        const c = coef[k];
        for (let i = 0; i < count; i++) {
          // (c·s1) >> 14 exactly: s1 = hi·2^16 + lo, |c| < 2^15, |hi| < 2^12, 0 ≤ lo < 2^16.
          let s0 = (block[i] + (((c * (s1 >> 16)) << 2) + ((c * (s1 & 0xFFFF)) >> 14)) - s2) | 0;
          if (s0 > 0x7FFFFFF) s0 = 0x7FFFFFF; else if (s0 < -0x7FFFFFF) s0 = -0x7FFFFFF;
          s2 = s1; s1 = s0;
        }
        acc[b] = s1; acc[b + 1] = s2;
      }
    }
    this.#n += count;
    this.ready = this.#n === this.windowSamples;
    if (this.ready) this.#finish();
    return count;
  }

  /** Computes the window's features, resets the accumulators, picks the next kurtosis shift. */
  #finish(): void {
    const acc = this.#acc, stride = this.#stride, ws = this.windowShift, bands = this.bandCount, coef = this.#coef;
    const per = FEATURES + bands, out = this.features;
    for (let a = 0, o = 0; a < this.axes; a++, o += stride) {
      // Mean square: hi·2^30/N + lo/N (counts², < 2^30).
      const ms = ((acc[o + 2] << (30 - ws)) + (acc[o + 1] >> ws)) | 0;
      const rmsQ4 = ms < 0x800000 ? isqrt(ms << 8) : isqrt(ms) << 4;
      const peak = acc[o + 3];
      out[a * per] = rmsQ4;
      out[a * per + 1] = peak;
      out[a * per + 2] = rmsQ4 > 0 ? udivFrac(peak, rmsQ4, 12) : 0; // (peak / rms) × 2^8
      // Kurtosis = mean(q²) / mean(q)²: (Σq² >> 8 summed)/N · 2^16 / (Σq/N)².
      const meanQ = acc[o + 4] >> ws; // < 2^15
      const meanQ2 = ((acc[o + 7] << (30 - ws)) + (acc[o + 5] >> ws)) | 0; // mean((q·q) >> 8) < 2^22
      const den = (meanQ * meanQ) | 0;
      out[a * per + 3] = meanQ > 0 ? udivFrac(meanQ2, den < 0x40000000 ? den : 0x3FFFFFFF, 16) : 0;
      for (let k = 0, b = o + 8; k < bands; k++, b += 2) {
        // |X|² = s1² + s2² − c·s1·s2 on values scaled to 14 bits, then amplitude = 2·|X|·2^shift / N.
        const s1 = acc[b], s2 = acc[b + 1];
        const big = (s1 < 0 ? -s1 : s1) > (s2 < 0 ? -s2 : s2) ? (s1 < 0 ? -s1 : s1) : (s2 < 0 ? -s2 : s2);
        const shift = bitLength(big) > 14 ? bitLength(big) - 14 : 0;
        const a1 = s1 >> shift, a2 = s2 >> shift; // |·| < 2^14
        let e = (a1 * a1 + a2 * a2 - ((((coef[k] * a1) >> 14) * a2) | 0)) | 0; // each term < 2^29: sum < 2^31
        if (e < 0) e = 0;
        const mag = isqrt(e); // < 2^15.6
        const shiftOut = shift + 1 - ws;
        out[a * per + FEATURES + k] = shiftOut >= 0 ? mag << shiftOut : mag >> -shiftOut;
        acc[b] = 0; acc[b + 1] = 0;
      }
      // Next window's q shift: q ≈ 2^8 at the mean square.
      const bits = bitLength(ms);
      acc[o + 6] = bits > 8 ? bits - 8 : 0;
      acc[o + 1] = 0; acc[o + 2] = 0; acc[o + 3] = 0; acc[o + 4] = 0; acc[o + 5] = 0; acc[o + 7] = 0;
    }
    this.#n = 0;
    this.windows++;
  }

  /** Restarts the current window and the DC estimate. */
  reset(): void {
    this.#acc.fill(0); this.features.fill(0); this.#n = 0; this.#primed = false; this.windows = 0; this.ready = false;
  }
}
