/*
 * The libgcc routines Debian's gcc-xtensa-lx106 leaves out (the ESP8266 SDK has them in ROM): 32-bit division and the
 * 64-bit product. The ESP32's toolchain has its own; these only serve the harness on the lx106 core.
 */
#include <stdint.h>

uint32_t __udivsi3(uint32_t n, uint32_t d);
uint32_t __umodsi3(uint32_t n, uint32_t d);
int32_t __divsi3(int32_t n, int32_t d);
int32_t __modsi3(int32_t n, int32_t d);
uint64_t __muldi3(uint64_t a, uint64_t b);

/* Restoring division, one quotient bit per step; d > 0. */
static uint32_t divide(uint32_t n, uint32_t d, uint32_t *remainder)
{
	uint32_t q = 0, r = 0;
	for (int i = 31; i >= 0; i--) {
		r = (r << 1) | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= 1u << i;
		}
	}
	*remainder = r;
	return q;
}

uint32_t __udivsi3(uint32_t n, uint32_t d)
{
	uint32_t r;
	return divide(n, d, &r);
}

uint32_t __umodsi3(uint32_t n, uint32_t d)
{
	uint32_t r;
	divide(n, d, &r);
	return r;
}

int32_t __divsi3(int32_t n, int32_t d)
{
	uint32_t r, q = divide(n < 0 ? -(uint32_t)n : (uint32_t)n, d < 0 ? -(uint32_t)d : (uint32_t)d, &r);
	return (n < 0) != (d < 0) ? (int32_t)-q : (int32_t)q;
}

int32_t __modsi3(int32_t n, int32_t d)
{
	uint32_t r;
	divide(n < 0 ? -(uint32_t)n : (uint32_t)n, d < 0 ? -(uint32_t)d : (uint32_t)d, &r);
	return n < 0 ? (int32_t)-r : (int32_t)r;
}

/* The low 64 bits of a × b from 16-bit partial products (the core's MULL is 32 × 32 → low 32 only). */
uint64_t __muldi3(uint64_t a, uint64_t b)
{
	uint32_t al = (uint32_t)a, ah = (uint32_t)(a >> 32), bl = (uint32_t)b, bh = (uint32_t)(b >> 32);
	uint32_t a0 = al & 0xffff, a1 = al >> 16, b0 = bl & 0xffff, b1 = bl >> 16;
	uint32_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
	uint32_t mid = (p00 >> 16) + (p01 & 0xffff) + (p10 & 0xffff);
	uint32_t lo = (p00 & 0xffff) | (mid << 16);
	uint32_t hi = p11 + (p01 >> 16) + (p10 >> 16) + (mid >> 16) + al * bh + ah * bl;
	return ((uint64_t)hi << 32) | lo;
}
