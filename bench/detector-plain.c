/*
 * bench:detector's plain-C front end: the same integer vibration front end as modules/detector/vibration.ts with no
 * engine — vibration-native.c's vibration_write() (included), called directly — over the same input as
 * bench/detector.mjs builds (3 axes at 1600 Hz, FIFO blocks of 32, 256-frame windows, 4 bands).
 * Usage: detector-plain FRAMES PASSES AXES BANDS; prints the checksum of the features that bench/detector.mjs's
 * front-end programs print. The shape comes from the command line, as the device's comes from its config; the check
 * that it is 3 axes and 4 bands (what the buffers are built for) still lets the compiler specialise the loops for it
 * (measured: about 2 % cheaper than a shape it cannot see). Built with -DCONSTANT_SHAPE it is compiled in, the best case
 * for plain C. bench/detector.mjs compiles both with cc -O2 and counts them under callgrind.
 */
#define mxVibrationNativeNoXS 1
#include "../modules/detector/vibration-native.c"
#include <stdio.h>
#include <stdlib.h>

#define AXES 3
#define BANDS 4
#define WS 8
#define STRIDE (8 + 2 * BANDS)

static uint32_t seed = 12345;
static int32_t rnd(void)
{
	int32_t s = (int32_t)seed;
	s ^= s << 13;
	s ^= s >> 17;
	s ^= s << 5;
	seed = (uint32_t)s;
	return (s & 0xffff) - 32768;
}

int main(int argc, char **argv)
{
	int frames = argc > 1 ? atoi(argv[1]) : 12800, passes = argc > 2 ? atoi(argv[2]) : 1;
#ifdef CONSTANT_SHAPE
	const int32_t axes = AXES, bands = BANDS;
#else
	const int32_t axes = argc > 3 ? atoi(argv[3]) : AXES, bands = argc > 4 ? atoi(argv[4]) : BANDS;
	if ((axes != AXES) || (bands != BANDS)) return 2; /* the input and the buffers are built for 3 axes, 4 bands */
#endif
	int16_t *raw = malloc(sizeof(int16_t) * frames * AXES);
	for (int i = 0; i < frames; i++) { /* bench/detector.mjs's input */
		int ph = (i * 100) % 1600;
		int tone = ph < 400 ? ph * 8 : ph < 1200 ? (800 - ph) * 8 : (ph - 1600) * 8;
		raw[3 * i] = (int16_t)(tone + (rnd() >> 5));
		raw[3 * i + 1] = (int16_t)((tone >> 1) + (rnd() >> 4) + ((i % 160) == 0 ? 9000 : 0));
		raw[3 * i + 2] = (int16_t)(2000 + (rnd() >> 6));
	}
	static const double freqs[BANDS] = { 50, 100, 200, 400 };
	int32_t coef[BANDS], acc[AXES * STRIDE + 2] = { 0 }, out[AXES * (4 + BANDS)] = { 0 };
	for (int k = 0; k < BANDS; k++) {
		double c = 2 * __builtin_cos(2 * 3.141592653589793 * freqs[k] / 1600) * 16384;
		coef[k] = (int32_t)(c < 0 ? c - 0.5 : c + 0.5);
	}
	int32_t check = 0; /* wraps as the JavaScript (check + f) | 0 */
	for (int p = 0; p < passes; p++)
		for (int i = 0; i < frames;) {
			int32_t r = vibration_write(raw + i * AXES, 32 - (i & 31), acc, coef, out, axes, bands, WS, 7);
			i += r & 0xffff;
			if (r & 0x10000) {
				for (int k = 0; k < AXES * (4 + BANDS); k++) check = (int32_t)((uint32_t)check + (uint32_t)out[k]);
			}
		}
	printf("front %d\n", (int)check);
	free(raw);
	return 0;
}
