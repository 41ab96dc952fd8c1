/*
 * vibration-native.c's vibration_write() on a 32-bit Xtensa core (QEMU's lx106, bare metal, semihosting), over the
 * cases tests/node/vibration-xtensa.test.ts writes to cases.h: per case the shape, the Q14 coefficients, the frames and
 * the block sizes. Prints one line per case, "case N HASH": FNV-1a over every return value and, at each window's end,
 * every feature, the numbers the test computes with the TypeScript front end in Node.
 */
#define mxVibrationNativeNoXS 1
#include "../../modules/detector/vibration-native.c"
#include "cases.h"

void out_write(const char *s, int n); /* start.S: semihosting SYS_write to stdout */

static int32_t acc[3 * (8 + 2 * 8) + 2], out[3 * (4 + 8)];

static void say(int32_t index, uint32_t hash)
{
	char line[32], digits[12];
	int k = 0, n = 0;
	const char *label = "case ";
	while (*label) line[k++] = *label++;
	do digits[n++] = (char)('0' + index % 10); while ((index /= 10) > 0);
	while (n) line[k++] = digits[--n];
	line[k++] = ' ';
	for (int s = 28; s >= 0; s -= 4) line[k++] = "0123456789abcdef"[(hash >> s) & 15];
	line[k++] = '\n';
	out_write(line, k);
}

int harness(void)
{
	const int16_t *samples = frames;
	const uint8_t *block = blocks;
	for (int32_t c = 0; c < CASE_COUNT; c++) {
		const int32_t axes = shapes[c][0], bands = shapes[c][1], ws = shapes[c][2], dcShift = shapes[c][3];
		int32_t left = shapes[c][4];
		for (unsigned i = 0; i < sizeof acc / sizeof acc[0]; i++) acc[i] = 0;
		uint32_t hash = 2166136261u;
		while (left > 0) {
			int32_t n = *block++, off = 0;
			while (off < n) {
				int32_t r = vibration_write(samples + off * axes, n - off, acc, coefs[c], out, axes, bands, ws, dcShift);
				hash = (hash ^ (uint32_t)r) * 16777619u;
				if (r & 0x10000)
					for (int32_t k = 0; k < axes * (4 + bands); k++) hash = (hash ^ (uint32_t)out[k]) * 16777619u;
				if ((r & 0xffff) == 0) return 3; /* no progress: the C and the test disagree on the window */
				off += r & 0xffff;
			}
			samples += n * axes;
			left -= n;
		}
		say(c, hash);
	}
	return 0;
}
