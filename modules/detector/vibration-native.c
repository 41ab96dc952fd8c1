/*
 * VibrationFrontEnd.write() in C: the per-block loop (DC removal, moments and every Goertzel band of each axis) and the
 * window end (features, reset, next kurtosis shift), on the same integers as the TypeScript in
 * modules/detector/vibration.ts, which stays the reference: the outputs are bit-identical
 * (tests/xs/vibration-native.suite.ts compares them inside XS).
 *
 * Bound as the XS host function xs_vibration_write (modules/detector/vibration-native.js):
 *   write(samples, byteOffset, frames, state, shape) → consumed frames, + 0x10000 if a window ended
 *   samples  ArrayBuffer of interleaved int16 frames, the block starting at byteOffset
 *   state    ArrayBuffer of int32 words: per axis dc_q8, Σd² lo, Σd² hi, max d², Σq, Σq² lo, kShift, Σq² hi, then s1,
 *            s2 per band (stride 8 + 2 × bands); frames in the window and primed; the Goertzel coefficients (Q14);
 *            the features, per axis rms_q4, peak, crest_q8, kurt_q8, then the bands
 *   shape    axes | bands << 2 | windowShift << 6 | dcShift << 10
 * The arithmetic is the TypeScript's, in int32_t: every intermediate stays in int32 range (the bounds are argued in
 * vibration.ts), except the Goertzel product, taken in int64_t (vibration_step: the same value); where JavaScript
 * wraps (`<<`, `| 0`) this goes through uint32_t, and `>>` of a negative value is the arithmetic shift, as in
 * JavaScript (GCC and Clang define it so).
 */
#include <stdint.h>
#ifndef mxVibrationNativeNoXS
#include "xsmc.h"
#endif /* else plain C: bench/detector-plain.c includes this file and calls vibration_write() */

/*
 * One Goertzel step, d + 2cos(ω)·s1 − s2 with the coefficient c in Q14, saturated to ±(2^27 − 1). (c·s1) >> 14 taken in
 * 64 bits is exactly the TypeScript's c·(s1 >> 14) + ((c·(s1 & 0x3fff)) >> 14) (s1 = h·2^14 + l with 0 ≤ l < 2^14;
 * |c·s1| < 2^15 · 2^27), one multiply instead of two on x86 and on the ESP32's cores. |t| < 2^29 (vibration.ts), so one
 * unsigned comparison tests both bounds, and the rare saturation is a branch.
 */
static inline int32_t vibration_step(int32_t d, int64_t c, int32_t s1, int32_t s2)
{
	int32_t t = d + (int32_t)((c * s1) >> 14) - s2;
	if ((uint32_t)t + 0x7ffffffu > 0xffffffeu) t = t > 0 ? 0x7ffffff : -0x7ffffff;
	return t;
}

/*
 * One block (at most 64 frames, as VibrationFrontEnd.BLOCK) of `axes` interleaved axes. Per axis: the DC removal and
 * moments in one pass, which keeps the DC-removed values in `block`, then the Goertzel bands two at a time in passes
 * over it (as the TypeScript does), every state word in a local and written back once. Each loop carries its state
 * from one frame to the next: nothing to vectorise, so -O2 (bench/detector-plain.c) and -O3 (xsnap) give the same code.
 * Two frames a turn: the older word of a band takes the new value, so the pair swaps roles instead of moving.
 */
static void vibration_moments(const int16_t *samples, int32_t frames, int32_t axes, int32_t *acc, const int32_t *coef,
                              int32_t dcShift, int32_t bands)
{
	int32_t stride = 8 + 2 * bands, block[64];
	for (int32_t a = 0; a < axes; a++) {
		int32_t *s = acc + a * stride;
		const int16_t *x = samples + a;
		int32_t dc = s[0], lo = s[1], hi = s[2], peak2 = s[3], q1 = s[4], q2 = s[5], kShift = s[6], q2hi = s[7];
		for (int32_t i = 0; i < frames; i++, x += axes) {
			int32_t v = *x;
			dc = dc + ((v * 256 - dc) >> dcShift);
			int32_t d = v - (dc >> 8); /* |d| < 2^16 */
			if ((uint32_t)d + 32767u > 65534u) d = d > 0 ? 32767 : -32767;
			block[i] = d;
			int32_t d2 = d * d;
			lo = lo + d2;
			if (lo >= 0x40000000) {
				lo = lo - 0x40000000;
				hi++;
			}
			if (d2 > peak2) peak2 = d2;
			int32_t q = d2 >> kShift;
			if (q > 0x7fff) q = 0x7fff;
			q1 = q1 + q;
			q2 = q2 + ((q * q) >> 8);
		}
		if (q2 >= 0x40000000) {
			q2 = q2 - 0x40000000;
			q2hi++;
		}
		s[0] = dc;
		s[1] = lo;
		s[2] = hi;
		s[3] = peak2;
		s[4] = q1;
		s[5] = q2;
		s[7] = q2hi;
		int32_t k = 0, *g = s + 8;
		for (; k + 2 <= bands; k += 2, g += 4) {
			int64_t c = coef[k], e = coef[k + 1];
			int32_t s1 = g[0], s2 = g[1], r1 = g[2], r2 = g[3], i = 0;
			for (; i + 2 <= frames; i += 2) {
				s2 = vibration_step(block[i], c, s1, s2);
				r2 = vibration_step(block[i], e, r1, r2);
				s1 = vibration_step(block[i + 1], c, s2, s1);
				r1 = vibration_step(block[i + 1], e, r2, r1);
			}
			if (i < frames) {
				int32_t t = vibration_step(block[i], c, s1, s2), u = vibration_step(block[i], e, r1, r2);
				s2 = s1;
				s1 = t;
				r2 = r1;
				r1 = u;
			}
			g[0] = s1;
			g[1] = s2;
			g[2] = r1;
			g[3] = r2;
		}
		if (k < bands) {
			int64_t c = coef[k];
			int32_t s1 = g[0], s2 = g[1], i = 0;
			for (; i + 2 <= frames; i += 2) {
				s2 = vibration_step(block[i], c, s1, s2);
				s1 = vibration_step(block[i + 1], c, s2, s1);
			}
			if (i < frames) {
				int32_t t = vibration_step(block[i], c, s1, s2);
				s2 = s1;
				s1 = t;
			}
			g[0] = s1;
			g[1] = s2;
		}
	}
}

static int32_t vibration_clz(int32_t x)
{
	return x ? __builtin_clz((uint32_t)x) : 32; /* Math.clz32 */
}

static int32_t vibration_bit_length(int32_t x)
{
	return 32 - vibration_clz(x < 0 ? -x : x);
}

/* fixed.ts isqrt: floor(sqrt(x)) for 0 <= x < 2^31, 0 otherwise. */
static int32_t vibration_isqrt(int32_t op)
{
	int32_t result = 0, one;
	if (op <= 0) return 0;
	one = (int32_t)(1u << ((31 - vibration_clz(op)) & ~1));
	while (one != 0) {
		if (op >= result + one) {
			op = op - result - one;
			result = (result >> 1) + one;
		}
		else
			result >>= 1;
		one >>= 2;
	}
	return result;
}

/* fixed.ts udivFrac: floor(num × 2^frac / den), saturated to 2^31 − 1. */
static int32_t vibration_udiv_frac(int32_t num, int32_t den, int32_t frac)
{
	int32_t q = 0, r = 0, b;
	for (b = frac + 31 - vibration_clz(num); b >= 0; b--) {
		r = (int32_t)((uint32_t)r << 1) | (b >= frac ? (num >> (b - frac)) & 1 : 0);
		if (q >= 0x40000000) return 0x7fffffff;
		q <<= 1;
		if (r >= den) {
			r = r - den;
			q |= 1;
		}
	}
	return q;
}

/* VibrationFrontEnd #finish: the window's features, the accumulators reset, the next kurtosis shift. */
static void vibration_finish(int32_t *acc, const int32_t *coef, int32_t *out, int32_t axes, int32_t bands, int32_t ws)
{
	int32_t stride = 8 + 2 * bands, per = 4 + bands;
	for (int32_t a = 0; a < axes; a++) {
		int32_t *s = acc + a * stride, *f = out + a * per;
		int32_t ms = (int32_t)(((uint32_t)s[2] << (30 - ws)) + (uint32_t)(s[1] >> ws));
		int32_t rms = ms < 0x800000 ? vibration_isqrt((int32_t)((uint32_t)ms << 8))
		                            : (int32_t)((uint32_t)vibration_isqrt(ms) << 4);
		int32_t peak = vibration_isqrt(s[3]);
		f[0] = rms;
		f[1] = peak;
		f[2] = rms > 0 ? vibration_udiv_frac(peak, rms, 12) : 0;
		int32_t meanQ = s[4] >> ws;
		int32_t meanQ2 = (int32_t)(((uint32_t)s[7] << (30 - ws)) + (uint32_t)(s[5] >> ws));
		int32_t den = meanQ * meanQ;
		f[3] = meanQ > 0 ? vibration_udiv_frac(meanQ2, den < 0x40000000 ? den : 0x3fffffff, 16) : 0;
		for (int32_t k = 0; k < bands; k++) {
			int32_t s1 = s[8 + 2 * k], s2 = s[9 + 2 * k];
			int32_t m1 = s1 < 0 ? -s1 : s1, m2 = s2 < 0 ? -s2 : s2;
			int32_t len = vibration_bit_length(m1 > m2 ? m1 : m2), shift = len > 14 ? len - 14 : 0;
			int32_t a1 = s1 >> shift, a2 = s2 >> shift;
			int32_t e = (int32_t)((uint32_t)(a1 * a1 + a2 * a2) - (uint32_t)(((coef[k] * a1) >> 14) * a2));
			if (e < 0) e = 0;
			int32_t mag = vibration_isqrt(e), shiftOut = shift + 1 - ws;
			f[4 + k] = shiftOut >= 0 ? (int32_t)((uint32_t)mag << shiftOut) : mag >> -shiftOut;
			s[8 + 2 * k] = 0;
			s[9 + 2 * k] = 0;
		}
		int32_t bits = vibration_bit_length(ms);
		s[6] = bits > 8 ? bits - 8 : 0;
		s[1] = 0;
		s[2] = 0;
		s[3] = 0;
		s[4] = 0;
		s[5] = 0;
		s[7] = 0;
	}
}

/*
 * VibrationFrontEnd.write() from `samples` (the block's first frame): at most `frames`, up to the window's end and
 * BLOCK (64) frames. Returns the frames consumed, plus 0x10000 when they completed a window (`out` then updated).
 */
static int32_t vibration_write(const int16_t *samples, int32_t frames, int32_t *acc, const int32_t *coef, int32_t *out,
                               int32_t axes, int32_t bands, int32_t ws, int32_t dcShift)
{
	int32_t stride = 8 + 2 * bands, *meta = acc + axes * stride; /* frames in the window, primed */
	int32_t count = (1 << ws) - meta[0];
	if (count > frames) count = frames;
	if (count > 64) count = 64;
	if (count <= 0) return 0;
	if (!meta[1]) {
		/* The DC estimate starts at the first sample, so the high-pass does not ring for thousands of samples. */
		for (int32_t a = 0; a < axes; a++) acc[a * stride] = samples[a] * 256;
		meta[1] = 1;
	}
	vibration_moments(samples, count, axes, acc, coef, dcShift, bands);
	meta[0] += count;
	if (meta[0] != (1 << ws)) return count;
	vibration_finish(acc, coef, out, axes, bands, ws);
	meta[0] = 0;
	return count | 0x10000;
}

#ifndef mxVibrationNativeNoXS
void xs_vibration_write(xsMachine *the)
{
	void *samples, *state;
	xsUnsignedValue samplesLength, stateLength;
	xsIntegerValue byteOffset = xsmcToInteger(xsArg(1));
	xsIntegerValue frames = xsmcToInteger(xsArg(2));
	xsIntegerValue shape = xsmcToInteger(xsArg(4));
	xsIntegerValue axes = shape & 3, bands = (shape >> 2) & 15, ws = (shape >> 6) & 15, dcShift = (shape >> 10) & 15;
	xsIntegerValue accWords = axes * (8 + 2 * bands) + 2;
	xsmcGetBufferReadable(xsArg(0), &samples, &samplesLength);
	xsmcGetBufferWritable(xsArg(3), &state, &stateLength);
	if ((axes < 1) || (bands > 8) || (ws < 6) || (ws > 12) || (dcShift < 1) || (dcShift > 14))
		xsRangeError("vibration-native: shape: axes 1-3, bands 0-8, windowShift 6-12, dcShift 1-14");
	if (frames > 64) frames = 64;
	if ((frames < 0) || (byteOffset < 0) || (byteOffset & 1) ||
	    ((xsUnsignedValue)byteOffset + (xsUnsignedValue)frames * (xsUnsignedValue)axes * 2 > samplesLength))
		xsRangeError("vibration-native: block of %d frames at byte %d outside the samples", (int)frames, (int)byteOffset);
	if (((uintptr_t)state & 3) || (stateLength < (xsUnsignedValue)((accWords + bands + axes * (4 + bands)) * 4)))
		xsRangeError("vibration-native: state too short for %d axes and %d bands", (int)axes, (int)bands);
	int32_t *acc = (int32_t *)state;
	xsmcSetInteger(xsResult, vibration_write((const int16_t *)((uint8_t *)samples + byteOffset), frames, acc,
	                                         acc + accWords, acc + accWords + bands, axes, bands, ws, dcShift));
}
#endif
