// Integer helpers for the detector: square root and saturating division without doubles.

/** floor(sqrt(x)) for 0 ≤ x < 2^31, bit by bit (no double arithmetic). */
export function isqrt(x: number): number {
  let op = x | 0,
    result = 0;
  if (op <= 0) return 0;
  let one = 1 << ((31 - Math.clz32(op)) & ~1); // the largest power of 4 ≤ op
  while (one !== 0) {
    if (op >= result + one) {
      op = (op - result - one) | 0;
      result = (result >> 1) + one;
    } else {
      result >>= 1;
    }
    one >>= 2;
  }
  return result;
}

/** min(floor(num / den), 65535) for 0 ≤ num < 2^31, 0 < den < 2^16: restoring division, 16 steps. */
export function udivSat16(num: number, den: number): number {
  if (num >> 16 >= den) return 65535;
  let q = 0;
  for (let b = 15; b >= 0; b--) {
    if (num >> b >= den) {
      num = (num - (den << b)) | 0;
      q |= 1 << b;
    }
  }
  return q;
}

/**
 * floor(num × 2^frac / den) for 0 ≤ num < 2^31, 0 < den < 2^30, 0 ≤ frac ≤ 30, by binary long division (one quotient
 * bit per step, no doubles: the remainder stays below 2·den < 2^31). A quotient of 2^30 or more saturates to 2^31 − 1.
 * About 31 + frac steps: meant for calibration-time and per-window work, not per raw sample.
 */
export function udivFrac(num: number, den: number, frac: number): number {
  let q = 0,
    r = 0;
  // Steps above num's top bit leave r and q at 0: start at it.
  for (let b = frac + 31 - Math.clz32(num); b >= 0; b--) {
    r = (r << 1) | (b >= frac ? (num >> (b - frac)) & 1 : 0);
    if (q >= 0x40000000) return 0x7fffffff; // the next shift would leave int32: saturate
    q <<= 1;
    if (r >= den) {
      r = (r - den) | 0;
      q |= 1;
    }
  }
  return q;
}

/** Number of bits needed for |x| (0 for 0), x an int32 other than −2^31. */
export function bitLength(x: number): number {
  return 32 - Math.clz32(x < 0 ? -x : x); // Math.clz32 is one integer builtin call, not a loop of 31 shifts
}

/** Clamps x to [lo, hi]. */
export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/**
 * log2(v) in Q8 for 1 ≤ v < 2^31, integer only: the exponent from bitLength, the fraction f from the next 8 bits and
 * log2(1 + f) ≈ f + 0.34·f·(1 − f) (error < 0.01).
 */
export function log2Q8(v: number): number {
  const e = bitLength(v) - 1;
  const f = e >= 8 ? (v >> (e - 8)) & 0xff : (v << (8 - e)) & 0xff;
  return (e << 8) + f + ((f * (256 - f) * 87) >> 16); // f·(256 − f) ≤ 2^14, × 87 < 2^21
}
