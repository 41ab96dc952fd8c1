// Integer helpers for the detector: square root and saturating division without doubles.

/** floor(sqrt(x)) for 0 ≤ x < 2^31, bit by bit (no double arithmetic). */
export function isqrt(x: number): number {
  let op = x | 0, result = 0, one = 1 << 30;
  while (one > op) one >>= 2;
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
  if ((num >> 16) >= den) return 65535;
  let q = 0;
  for (let b = 15; b >= 0; b--) {
    if ((num >> b) >= den) {
      num = (num - (den << b)) | 0;
      q |= 1 << b;
    }
  }
  return q;
}
