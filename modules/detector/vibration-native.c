/*
 * The vibration front end's per-block loop in C: DC removal, moments and every Goertzel band of each axis over a block
 * of frames, on the same integers as VibrationFrontEnd's TypeScript loops (modules/detector/vibration.ts), which stay
 * the reference: the outputs are bit-identical (tests/xs/vibration-native.suite.ts compares them inside XS).
 *
 * Bound as the XS host function xs_vibration_moments (modules/detector/vibration-native.js):
 *   moments(samples, byteOffset, frames, axes, acc, coef, dcShift, bands)
 *   samples  ArrayBuffer of interleaved int16 frames, the block starting at byteOffset (frames × axes values)
 *   acc      ArrayBuffer of the front end's int32 state: per axis dc_q8, Σd² lo, Σd² hi, max d², Σq, Σq² lo, kShift,
 *            Σq² hi, then s1, s2 per band (stride 8 + 2 × bands)
 *   coef     ArrayBuffer of the int32 Goertzel coefficients, Q14
 * The arithmetic is the TypeScript's, in int32_t: every intermediate stays in int32 range (the bounds are argued in
 * vibration.ts), and `>>` of a negative value is the arithmetic shift, as in JavaScript (GCC and Clang define it so).
 */
#include <stdint.h>
#ifndef mxVibrationNativeNoXS
#include "xsmc.h"
#define VIBRATION_STATIC
#else
#define VIBRATION_STATIC static /* plain C (bench/detector-plain.c includes this file) */
#endif

/* One block (at most 64 frames, as VibrationFrontEnd.BLOCK) of `axes` interleaved axes. */
VIBRATION_STATIC void vibration_moments(const int16_t *samples, int32_t frames, int32_t axes, int32_t *acc,
                                        const int32_t *coef, int32_t dcShift, int32_t bands)
{
	int32_t stride = 8 + 2 * bands;
	for (int32_t a = 0; a < axes; a++) {
		int32_t *s = acc + a * stride;
		const int16_t *x = samples + a;
		int32_t dc = s[0], lo = s[1], hi = s[2], peak2 = s[3], q1 = s[4], q2 = s[5], kShift = s[6], q2hi = s[7];
		int32_t *g = s + 8;
		for (int32_t i = 0; i < frames; i++, x += axes) {
			int32_t v = *x;
			dc = dc + (((v << 8) - dc) >> dcShift);
			int32_t d = v - (dc >> 8);
			if (d > 32767) d = 32767;
			else if (d < -32767) d = -32767;
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
			for (int32_t k = 0; k < bands; k++) {
				int32_t c = coef[k], s1 = g[2 * k], s2 = g[2 * k + 1];
				int32_t t = d + c * (s1 >> 14) + ((c * (s1 & 0x3fff)) >> 14) - s2;
				if (t > 0x7ffffff) t = 0x7ffffff;
				else if (t < -0x7ffffff) t = -0x7ffffff;
				g[2 * k + 1] = s1;
				g[2 * k] = t;
			}
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
	}
}

#ifndef mxVibrationNativeNoXS
void xs_vibration_moments(xsMachine *the)
{
	void *samples, *acc, *coef;
	xsUnsignedValue samplesLength, accLength, coefLength;
	xsIntegerValue byteOffset = xsmcToInteger(xsArg(1));
	xsIntegerValue frames = xsmcToInteger(xsArg(2));
	xsIntegerValue axes = xsmcToInteger(xsArg(3));
	xsIntegerValue dcShift = xsmcToInteger(xsArg(6));
	xsIntegerValue bands = xsmcToInteger(xsArg(7));
	xsmcGetBufferReadable(xsArg(0), &samples, &samplesLength);
	xsmcGetBufferWritable(xsArg(4), &acc, &accLength);
	xsmcGetBufferReadable(xsArg(5), &coef, &coefLength);
	if ((axes < 1) || (axes > 3) || (bands < 0) || (bands > 8) || (dcShift < 1) || (dcShift > 14))
		xsRangeError("vibration-native: axes 1-3, bands 0-8, dcShift 1-14");
	if ((frames < 0) || (frames > 64) || (byteOffset < 0) || (byteOffset & 1) ||
	    ((xsUnsignedValue)byteOffset + (xsUnsignedValue)frames * (xsUnsignedValue)axes * 2 > samplesLength))
		xsRangeError("vibration-native: block of %d frames at byte %d outside the samples", (int)frames, (int)byteOffset);
	if (((uintptr_t)acc & 3) || ((uintptr_t)coef & 3) || (accLength < (xsUnsignedValue)(axes * (8 + 2 * bands) * 4)) ||
	    (coefLength < (xsUnsignedValue)(bands * 4)))
		xsRangeError("vibration-native: state or coefficients too short for %d axes and %d bands", (int)axes, (int)bands);
	vibration_moments((const int16_t *)((uint8_t *)samples + byteOffset), frames, axes, (int32_t *)acc,
	                  (const int32_t *)coef, dcShift, bands);
}
#endif
