// The suites' deterministic pseudo-random source: xorshift32 (<< 13, >> 17, << 5), the same sequence in Node and XS.

/** The generator: each call returns the next state, an int32 (never 0; a seed of 0 starts from 1). */
export function xorshift32(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return s;
  };
}

/** Its low 16 bits as a signed count, in [−32768, 32767]. */
export function int16Noise(seed: number): () => number {
  const next = xorshift32(seed);
  return () => (next() & 0xffff) - 32768;
}

/** Roughly uniform in [−amp, amp] (amp below 2^15). */
export function noise(seed: number): (amp: number) => number {
  const next = int16Noise(seed);
  return (amp) => (next() * amp) >> 15;
}
