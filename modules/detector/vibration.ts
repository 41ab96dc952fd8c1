// Vibration front end on integers: per window and axis, RMS, peak, crest factor, kurtosis and Goertzel band amplitudes (Q15).
import { isqrt, udivFrac, bitLength } from "telltale/detector/fixed";

// Input: raw accelerometer samples, int16 counts (full scale = 2^15), `axes` values per frame, pushed one frame at a time.
// Per axis and sample (no allocation, no division; write() runs the moments and bands 0–3 in one pass over a block of frames, in locals):
//   dc_q8     DC estimate, counts × 2^8, EWMA 2^-dcShift (a first-order high-pass removes gravity and offset)
//   d         x − dc, counts, saturated to ±32767 so d² < 2^30
//   sq lo/hi  Σd² as a two-word accumulator (lo < 2^30, carries into hi), exact over any window ≤ 2^16 samples
//   peak      max |d|
//   q         (d·d) >> kShift, saturated to 2^15, with kShift chosen from the previous window so q ≈ 2^8 at 1 σ;
//             Σq and Σ((q·q) >> 8) (two-word) give the kurtosis as a ratio, independent of kShift (samples past ~11 σ saturate)
//   s1, s2    Goertzel state per band, counts, s0 = x + c·s1 − s2 with c = 2cos(2πf/fs) in Q14; (c·s1) >> 14 goes
//             through a 14-bit split of s1 so it is exact, and s0 is saturated to ±2^27 (a per-block bound skips the test)
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
  /**
   * write() in C (telltale/detector/vibration-native, XS builds only), bit-identical with the TypeScript below, which
   * runs without it (Node, or a build without the C file).
   */
  native?: VibrationNative;
}

/**
 * write() as a native function (modules/detector/vibration-native.c): from the int16 frames in `samples` at
 * `byteOffset`, at most `frames` of them, up to the window's end and BLOCK. `state` holds int32 words: this class's
 * #acc, two more (frames in the window, primed), the Q14 coefficients, the features (updated at a window's end).
 * `shape` = axes | bands << 2 | windowShift << 6 | dcShift << 10. Returns the frames consumed, plus 0x10000 when
 * they completed a window.
 */
export interface VibrationNative {
  write(samples: ArrayBufferLike, byteOffset: number, frames: number, state: ArrayBufferLike, shape: number): number;
}

const FEATURES = 4; // rms, peak, crest, kurtosis

function fail(name: string, what: string, value: unknown): never {
  throw new RangeError('VibrationFrontEnd: option "' + name + '" must be ' + what + ", got " + String(value));
}

function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || value !== Math.floor(value) || value < min || value > max)
    fail(name, "an integer " + min + "–" + max, value);
  return value;
}

/** 2cos(2π f / fs) in Q14: the only double arithmetic, once per band at construction. */
export function coefficientQ14(f: number, fs: number): number {
  return Math.round(2 * Math.cos((2 * Math.PI * f) / fs) * 16384);
}

export class VibrationFrontEnd {
  readonly axes: number;
  readonly windowShift: number;
  readonly windowSamples: number;
  readonly bandCount: number;
  readonly dcShift: number;
  /** Goertzel coefficients, Q14. */
  readonly #coef: Int32Array;
  /** Per axis: dc_q8, sqLo, sqHi, max d², Σq, Σq² lo, kShift, Σq² hi, then s1, s2 per band. */
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
    if (typeof fs !== "number" || !(fs > 0) || fs > 100000)
      fail("sampleRate", "a number above 0 and at most 100000", fs);
    const bands = options.bands ?? [50, 100, 200, 400];
    const list: unknown = bands; // Array.isArray(bands) would narrow the readonly array to any[]
    if (!Array.isArray(list) || bands.length > 8) fail("bands", "an array of at most 8 frequencies", bands);
    for (let k = 0; k < bands.length; k++) {
      const f = bands[k];
      if (typeof f !== "number" || !(f > 0) || !(f < fs / 2))
        fail("bands[" + k + "]", "a frequency above 0 and below sampleRate / 2", f);
    }
    this.dcShift = integer("dcShift", options.dcShift ?? 7, 1, 14);
    const native: unknown = options.native;
    if (
      native !== undefined &&
      (typeof native !== "object" || native === null || typeof (native as VibrationNative).write !== "function")
    )
      fail("native", "undefined or an object with a write() function (telltale/detector/vibration-native)", native);
    this.windowSamples = 1 << this.windowShift;
    this.bandCount = bands.length;
    this.#stride = 8 + 2 * bands.length;
    const accWords = this.#stride * this.axes,
      featureWords = this.axes * (FEATURES + bands.length);
    if (options.native === undefined) {
      this.#coef = new Int32Array(bands.length);
      this.#acc = new Int32Array(accWords);
      this.features = new Int32Array(featureWords);
    } else {
      // The native write() takes one buffer: the state, its frame count and primed flag, the coefficients, the features.
      const state = new ArrayBuffer(4 * (accWords + 2 + bands.length + featureWords));
      this.#acc = new Int32Array(state, 0, accWords + 2);
      this.#coef = new Int32Array(state, 4 * (accWords + 2), bands.length);
      this.features = new Int32Array(state, 4 * (accWords + 2 + bands.length), featureWords);
    }
    for (let k = 0; k < bands.length; k++) this.#coef[k] = coefficientQ14(bands[k]!, fs);
    this.#block = new Int16Array(VibrationFrontEnd.BLOCK);
    this.#one = new Int16Array(3);
    if (options.native !== undefined)
      bindNative(
        this,
        options.native,
        this.#acc.buffer,
        this.axes | (bands.length << 2) | (this.windowShift << 6) | (this.dcShift << 10),
      );
  }

  /** Whether write() runs the native loop (options.native) rather than the TypeScript one. */
  get native(): boolean {
    return Object.prototype.hasOwnProperty.call(this, "write");
  }

  /** Features per axis (4 + bands). */
  get featuresPerAxis(): number {
    return FEATURES + this.bandCount;
  }
  /** Bytes of state (typed arrays only). */
  get stateBytes(): number {
    return (
      this.#coef.byteLength +
      this.#acc.byteLength +
      this.features.byteLength +
      this.#block.byteLength +
      this.#one.byteLength
    );
  }

  /** Frames consumed by one write() at most: the DC-removed block is kept in a small scratch buffer. */
  static readonly BLOCK = 64;

  /** Feeds one frame (one int16 count per axis). Returns true when it completed a window (`features` updated). */
  push(x: number, y = 0, z = 0): boolean {
    const one = this.#one;
    one[0] = x;
    if (this.axes > 1) one[1] = y;
    if (this.axes > 2) one[2] = z;
    this.write(one, 0, 1);
    return this.ready;
  }

  /**
   * Feeds frames from an interleaved int16 buffer (axes values per frame), starting at frame `start`, at most `frames`
   * of them; stops early at a window boundary and after BLOCK frames. Returns the frames consumed; `ready` tells whether
   * this call completed a window. This is the fast path (an accelerometer FIFO delivers blocks). Allocates nothing.
   */
  write(samples: Int16Array, start: number, frames: number): number {
    const axes = this.axes,
      acc = this.#acc,
      stride = this.#stride,
      bands = this.bandCount;
    let count = this.windowSamples - this.#n;
    if (count > frames) count = frames;
    if (count > VibrationFrontEnd.BLOCK) count = VibrationFrontEnd.BLOCK;
    if (!this.#primed && count > 0) {
      // The DC estimate starts at the first sample, so the high-pass does not ring for thousands of samples.
      for (let a = 0; a < axes; a++) acc[a * stride] = samples[start * axes + a]! << 8;
      this.#primed = true;
    }
    // With four bands or more, bands 0–3 run in the moments pass (no scratch block round trip); the rest read the block.
    const fused = bands >= 4 ? 4 : 0;
    for (let a = 0, o = 0; a < axes; a++, o += stride) {
      if (fused === 4) {
        if (bands > 4 || !this.#momentsFourFast(samples, start * axes + a, count, o))
          this.#momentsFour(samples, start * axes + a, count, o, bands > 4);
      } else this.#moments(samples, start * axes + a, count, o);
      let k = fused;
      for (; k + 2 <= bands; k += 2) this.#twoBands(o + 8 + 2 * k, k, count);
      if (k < bands) this.#oneBand(o + 8 + 2 * k, k, count);
    }
    this.#n += count;
    this.ready = this.#n === this.windowSamples;
    if (this.ready) this.#finish();
    return count;
  }

  // The per-sample loops below keep every quantity in locals (XS reads a typed-array element for ~350 host instructions,
  // a local for ~25), declare nothing inside the loop, and skip `| 0` where the value provably stays in int32:
  //   dc stays between its previous value and v·2^8 (|·| < 2^23); d² < 2^30; lo, q2 < 2^30 before the add;
  //   Goertzel: s1 = h·2^14 + l (h = s1 >> 14, |h| ≤ 2^13; 0 ≤ l < 2^14), so (c·s1) >> 14 = c·h + ((c·l) >> 14) exactly,
  //   both products < 2^29 (|c| ≤ 2^15) and |d + c·h + (c·l >> 14) − s2| < 2^29 before the ±2^27 saturation.
  // The peak is kept as max d² (one comparison per sample); the window end takes its square root, which is exact.

  /** DC removal and moments of one axis over `count` frames from samples[j], the DC-removed values into the block. */
  #moments(samples: Int16Array, j: number, count: number, o: number): void {
    const acc = this.#acc,
      block = this.#block,
      axes = this.axes,
      dcShift = this.dcShift,
      kShift = acc[o + 6]!;
    let dc = acc[o]!,
      lo = acc[o + 1]!,
      hi = acc[o + 2]!,
      peak2 = acc[o + 3]!,
      q1 = acc[o + 4]!,
      q2 = acc[o + 5]!,
      q2hi = acc[o + 7]!;
    let i = 0,
      v: number,
      d: number,
      d2: number,
      q: number;
    for (; i < count; i++) {
      v = samples[j]!;
      j += axes; // int16: |v| ≤ 2^15
      dc = dc + (((v << 8) - dc) >> dcShift);
      d = v - (dc >> 8);
      if (d > 32767) d = 32767;
      else if (d < -32767) d = -32767;
      block[i] = d;
      d2 = d * d; // < 2^30
      lo = lo + d2;
      if (lo >= 0x40000000) {
        lo = lo - 0x40000000;
        hi++;
      }
      if (d2 > peak2) peak2 = d2;
      q = d2 >> kShift;
      if (q > 0x7fff) q = 0x7fff;
      q1 = q1 + q; // < 2^15 · 2^12
      q2 = q2 + ((q * q) >> 8); // each term < 2^22
    }
    if (q2 >= 0x40000000) {
      q2 = q2 - 0x40000000;
      q2hi++;
    } // ≤ 64 terms: q2 < 2^30 + 2^28, one carry at most
    acc[o] = dc;
    acc[o + 1] = lo;
    acc[o + 2] = hi;
    acc[o + 3] = peak2;
    acc[o + 4] = q1;
    acc[o + 5] = q2;
    acc[o + 7] = q2hi;
  }

  /**
   * #momentsFour when no Goertzel state can reach the ±2^27 saturation in this block, for an even frame count: two
   * frames per iteration, the recursion alternating which local holds s1 (no moves). Bound: with τ = c/2^14 ∈ [−2, 2],
   * s_n = U_n·s1 − U_{n−1}·s2 + Σ U_{n−m}·x'_m, |U_k| ≤ k + 1 (Chebyshev) and |x'| < 2^15 (d minus the floor's
   * fraction), so |s_n| ≤ (2n + 1)·B + n(n + 1)/2·2^15 for B = max |s1|, |s2|: below 2^27 − 1 for n ≤ 32 and B < 2^20
   * (85.5 M) and for n ≤ 64 and B < 2^18 (102.0 M). Returns false (nothing done) when that does not hold. Exactly four
   * bands only: it does not write the block (its caller takes #momentsFour when more bands follow).
   */
  #momentsFourFast(samples: Int16Array, j: number, count: number, o: number): boolean {
    const acc = this.#acc;
    let a1 = acc[o + 8]!,
      a2 = acc[o + 9]!,
      b1 = acc[o + 10]!,
      b2 = acc[o + 11]!,
      e1 = acc[o + 12]!,
      e2 = acc[o + 13]!,
      f1 = acc[o + 14]!,
      f2 = acc[o + 15]!;
    const bits =
      (a1 < 0 ? -a1 : a1) |
      (a2 < 0 ? -a2 : a2) |
      (b1 < 0 ? -b1 : b1) |
      (b2 < 0 ? -b2 : b2) |
      (e1 < 0 ? -e1 : e1) |
      (e2 < 0 ? -e2 : e2) |
      (f1 < 0 ? -f1 : f1) |
      (f2 < 0 ? -f2 : f2); // ≥ max |s|, same bit length
    if ((count & 1) !== 0 || bits >= (count <= 32 ? 0x100000 : 0x40000)) return false;
    const axes = this.axes,
      dcShift = this.dcShift,
      kShift = acc[o + 6]!,
      coef = this.#coef;
    const c0 = coef[0]!,
      c1 = coef[1]!,
      c2 = coef[2]!,
      c3 = coef[3]!;
    let dc = acc[o]!,
      lo = acc[o + 1]!,
      hi = acc[o + 2]!,
      peak2 = acc[o + 3]!,
      q1 = acc[o + 4]!,
      q2 = acc[o + 5]!,
      q2hi = acc[o + 7]!;
    let i = 0,
      v: number,
      d: number,
      d2: number,
      q: number;
    for (; i < count; i += 2) {
      v = samples[j]!;
      j += axes;
      dc = dc + (((v << 8) - dc) >> dcShift);
      d = v - (dc >> 8);
      if (d > 32767) d = 32767;
      else if (d < -32767) d = -32767;
      d2 = d * d;
      lo = lo + d2;
      if (lo >= 0x40000000) {
        lo = lo - 0x40000000;
        hi++;
      }
      if (d2 > peak2) peak2 = d2;
      q = d2 >> kShift;
      if (q > 0x7fff) q = 0x7fff;
      q1 = q1 + q;
      q2 = q2 + ((q * q) >> 8);
      a2 = d + c0 * (a1 >> 14) + ((c0 * (a1 & 0x3fff)) >> 14) - a2; // now a2 holds s1, a1 s2
      b2 = d + c1 * (b1 >> 14) + ((c1 * (b1 & 0x3fff)) >> 14) - b2;
      e2 = d + c2 * (e1 >> 14) + ((c2 * (e1 & 0x3fff)) >> 14) - e2;
      f2 = d + c3 * (f1 >> 14) + ((c3 * (f1 & 0x3fff)) >> 14) - f2;
      v = samples[j]!;
      j += axes;
      dc = dc + (((v << 8) - dc) >> dcShift);
      d = v - (dc >> 8);
      if (d > 32767) d = 32767;
      else if (d < -32767) d = -32767;
      d2 = d * d;
      lo = lo + d2;
      if (lo >= 0x40000000) {
        lo = lo - 0x40000000;
        hi++;
      }
      if (d2 > peak2) peak2 = d2;
      q = d2 >> kShift;
      if (q > 0x7fff) q = 0x7fff;
      q1 = q1 + q;
      q2 = q2 + ((q * q) >> 8);
      a1 = d + c0 * (a2 >> 14) + ((c0 * (a2 & 0x3fff)) >> 14) - a1; // back: a1 holds s1
      b1 = d + c1 * (b2 >> 14) + ((c1 * (b2 & 0x3fff)) >> 14) - b1;
      e1 = d + c2 * (e2 >> 14) + ((c2 * (e2 & 0x3fff)) >> 14) - e1;
      f1 = d + c3 * (f2 >> 14) + ((c3 * (f2 & 0x3fff)) >> 14) - f1;
    }
    if (q2 >= 0x40000000) {
      q2 = q2 - 0x40000000;
      q2hi++;
    }
    acc[o] = dc;
    acc[o + 1] = lo;
    acc[o + 2] = hi;
    acc[o + 3] = peak2;
    acc[o + 4] = q1;
    acc[o + 5] = q2;
    acc[o + 7] = q2hi;
    acc[o + 8] = a1;
    acc[o + 9] = a2;
    acc[o + 10] = b1;
    acc[o + 11] = b2;
    acc[o + 12] = e1;
    acc[o + 13] = e2;
    acc[o + 14] = f1;
    acc[o + 15] = f2;
    return true;
  }

  /** #moments and the Goertzel recursions of bands 0–3 in one pass; the block is written only if more bands follow. */
  #momentsFour(samples: Int16Array, j: number, count: number, o: number, keep: boolean): void {
    const acc = this.#acc,
      block = this.#block,
      axes = this.axes,
      dcShift = this.dcShift,
      kShift = acc[o + 6]!,
      coef = this.#coef;
    const c0 = coef[0]!,
      c1 = coef[1]!,
      c2 = coef[2]!,
      c3 = coef[3]!;
    let dc = acc[o]!,
      lo = acc[o + 1]!,
      hi = acc[o + 2]!,
      peak2 = acc[o + 3]!,
      q1 = acc[o + 4]!,
      q2 = acc[o + 5]!,
      q2hi = acc[o + 7]!;
    let a1 = acc[o + 8]!,
      a2 = acc[o + 9]!,
      b1 = acc[o + 10]!,
      b2 = acc[o + 11]!,
      e1 = acc[o + 12]!,
      e2 = acc[o + 13]!,
      f1 = acc[o + 14]!,
      f2 = acc[o + 15]!;
    let i = 0,
      v: number,
      d: number,
      d2: number,
      q: number,
      s: number;
    for (; i < count; i++) {
      v = samples[j]!;
      j += axes;
      dc = dc + (((v << 8) - dc) >> dcShift);
      d = v - (dc >> 8);
      if (d > 32767) d = 32767;
      else if (d < -32767) d = -32767;
      if (keep) block[i] = d;
      d2 = d * d;
      lo = lo + d2;
      if (lo >= 0x40000000) {
        lo = lo - 0x40000000;
        hi++;
      }
      if (d2 > peak2) peak2 = d2;
      q = d2 >> kShift;
      if (q > 0x7fff) q = 0x7fff;
      q1 = q1 + q;
      q2 = q2 + ((q * q) >> 8);
      s = d + c0 * (a1 >> 14) + ((c0 * (a1 & 0x3fff)) >> 14) - a2;
      if (s > 0x7ffffff) s = 0x7ffffff;
      else if (s < -0x7ffffff) s = -0x7ffffff;
      a2 = a1;
      a1 = s;
      s = d + c1 * (b1 >> 14) + ((c1 * (b1 & 0x3fff)) >> 14) - b2;
      if (s > 0x7ffffff) s = 0x7ffffff;
      else if (s < -0x7ffffff) s = -0x7ffffff;
      b2 = b1;
      b1 = s;
      s = d + c2 * (e1 >> 14) + ((c2 * (e1 & 0x3fff)) >> 14) - e2;
      if (s > 0x7ffffff) s = 0x7ffffff;
      else if (s < -0x7ffffff) s = -0x7ffffff;
      e2 = e1;
      e1 = s;
      s = d + c3 * (f1 >> 14) + ((c3 * (f1 & 0x3fff)) >> 14) - f2;
      if (s > 0x7ffffff) s = 0x7ffffff;
      else if (s < -0x7ffffff) s = -0x7ffffff;
      f2 = f1;
      f1 = s;
    }
    if (q2 >= 0x40000000) {
      q2 = q2 - 0x40000000;
      q2hi++;
    }
    acc[o] = dc;
    acc[o + 1] = lo;
    acc[o + 2] = hi;
    acc[o + 3] = peak2;
    acc[o + 4] = q1;
    acc[o + 5] = q2;
    acc[o + 7] = q2hi;
    acc[o + 8] = a1;
    acc[o + 9] = a2;
    acc[o + 10] = b1;
    acc[o + 11] = b2;
    acc[o + 12] = e1;
    acc[o + 13] = e2;
    acc[o + 14] = f1;
    acc[o + 15] = f2;
  }

  /** Goertzel recursions of bands k and k + 1 over the block; their state starts at acc[b]. */
  #twoBands(b: number, k: number, count: number): void {
    const acc = this.#acc,
      block = this.#block,
      c0 = this.#coef[k]!,
      c1 = this.#coef[k + 1]!;
    let a1 = acc[b]!,
      a2 = acc[b + 1]!,
      b1 = acc[b + 2]!,
      b2 = acc[b + 3]!;
    let i = 0,
      d: number,
      s: number;
    for (; i < count; i++) {
      d = block[i]!;
      s = d + c0 * (a1 >> 14) + ((c0 * (a1 & 0x3fff)) >> 14) - a2;
      if (s > 0x7ffffff) s = 0x7ffffff;
      else if (s < -0x7ffffff) s = -0x7ffffff;
      a2 = a1;
      a1 = s;
      s = d + c1 * (b1 >> 14) + ((c1 * (b1 & 0x3fff)) >> 14) - b2;
      if (s > 0x7ffffff) s = 0x7ffffff;
      else if (s < -0x7ffffff) s = -0x7ffffff;
      b2 = b1;
      b1 = s;
    }
    acc[b] = a1;
    acc[b + 1] = a2;
    acc[b + 2] = b1;
    acc[b + 3] = b2;
  }

  /** Goertzel recursion of band k over the block; its state is acc[b], acc[b + 1]. */
  #oneBand(b: number, k: number, count: number): void {
    const acc = this.#acc,
      block = this.#block,
      c0 = this.#coef[k]!;
    let a1 = acc[b]!,
      a2 = acc[b + 1]!;
    let i = 0,
      s: number;
    for (; i < count; i++) {
      s = block[i]! + c0 * (a1 >> 14) + ((c0 * (a1 & 0x3fff)) >> 14) - a2;
      if (s > 0x7ffffff) s = 0x7ffffff;
      else if (s < -0x7ffffff) s = -0x7ffffff;
      a2 = a1;
      a1 = s;
    }
    acc[b] = a1;
    acc[b + 1] = a2;
  }

  /** Computes the window's features, resets the accumulators, picks the next kurtosis shift. */
  #finish(): void {
    const acc = this.#acc,
      stride = this.#stride,
      ws = this.windowShift,
      bands = this.bandCount,
      coef = this.#coef;
    const per = FEATURES + bands,
      out = this.features;
    for (let a = 0, o = 0; a < this.axes; a++, o += stride) {
      // Mean square: hi·2^30/N + lo/N (counts², < 2^30).
      const ms = ((acc[o + 2]! << (30 - ws)) + (acc[o + 1]! >> ws)) | 0;
      const rmsQ4 = ms < 0x800000 ? isqrt(ms << 8) : isqrt(ms) << 4;
      const peak = isqrt(acc[o + 3]!); // acc holds max d², d² < 2^30: exact
      out[a * per] = rmsQ4;
      out[a * per + 1] = peak;
      out[a * per + 2] = rmsQ4 > 0 ? udivFrac(peak, rmsQ4, 12) : 0; // (peak / rms) × 2^8
      // Kurtosis = mean(q²) / mean(q)²: (Σq² >> 8 summed)/N · 2^16 / (Σq/N)².
      const meanQ = acc[o + 4]! >> ws; // < 2^15
      const meanQ2 = ((acc[o + 7]! << (30 - ws)) + (acc[o + 5]! >> ws)) | 0; // mean((q·q) >> 8) < 2^22
      const den = (meanQ * meanQ) | 0;
      out[a * per + 3] = meanQ > 0 ? udivFrac(meanQ2, den < 0x40000000 ? den : 0x3fffffff, 16) : 0;
      for (let k = 0, b = o + 8; k < bands; k++, b += 2) {
        // |X|² = s1² + s2² − c·s1·s2 on values scaled to 14 bits, then amplitude = 2·|X|·2^shift / N.
        const s1 = acc[b]!,
          s2 = acc[b + 1]!;
        const big = (s1 < 0 ? -s1 : s1) > (s2 < 0 ? -s2 : s2) ? (s1 < 0 ? -s1 : s1) : s2 < 0 ? -s2 : s2;
        const len = bitLength(big),
          shift = len > 14 ? len - 14 : 0;
        const a1 = s1 >> shift,
          a2 = s2 >> shift; // |·| < 2^14
        let e = (a1 * a1 + a2 * a2 - ((((coef[k]! * a1) >> 14) * a2) | 0)) | 0; // each term < 2^29: sum < 2^31
        if (e < 0) e = 0;
        const mag = isqrt(e); // < 2^15.6
        const shiftOut = shift + 1 - ws;
        out[a * per + FEATURES + k] = shiftOut >= 0 ? mag << shiftOut : mag >> -shiftOut;
        acc[b] = 0;
        acc[b + 1] = 0;
      }
      // Next window's q shift: q ≈ 2^8 at the mean square.
      const bits = bitLength(ms);
      acc[o + 6] = bits > 8 ? bits - 8 : 0;
      acc[o + 1] = 0;
      acc[o + 2] = 0;
      acc[o + 3] = 0;
      acc[o + 4] = 0;
      acc[o + 5] = 0;
      acc[o + 7] = 0;
    }
    this.#n = 0;
    this.windows++;
  }

  /** Restarts the current window and the DC estimate. */
  reset(): void {
    this.#acc.fill(0);
    this.features.fill(0);
    this.#n = 0;
    this.#primed = false;
    this.windows = 0;
    this.ready = false;
  }
}

/**
 * Replaces write() on `front` by one that calls the C; the TypeScript path keeps the prototype's, unchanged (a
 * function, not a private method: XS gives every instance a slot per private method, which each field lookup would
 * walk). Built once: what it needs is in the closure; the caller's buffer and offset are read again only when it hands
 * in another array, and `ready` is stored only when it changes.
 */
function bindNative(front: VibrationFrontEnd, native: VibrationNative, state: ArrayBufferLike, shape: number): void {
  // A host function reads no `this`: it is called unbound, one property lookup fewer per block.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const write = native.write,
    stride = 2 * front.axes;
  let last: Int16Array | undefined,
    buffer: ArrayBufferLike = state,
    offset = 0,
    ready = false;
  Object.defineProperty(front, "write", {
    value: (samples: Int16Array, start: number, frames: number): number => {
      if (samples !== last) {
        last = samples;
        buffer = samples.buffer;
        offset = samples.byteOffset;
      }
      const r = write(buffer, offset + stride * start, frames, state, shape);
      if (r > 0xffff) {
        front.ready = ready = true;
        front.windows++;
        return r & 0xffff;
      }
      if (ready) front.ready = ready = false; // reset() may have cleared front.ready: storing false again is harmless
      return r;
    },
  });
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(VibrationFrontEnd.prototype);
