// The soaks' seeded randomness: a fixed seed so a failing schedule can be replayed (SOAK_SEED overrides it).

/** A xorshift32 generator seeded from SOAK_SEED, else `seed`: each call returns an integer from 0 to n - 1. */
export function seededRandom(seed: number): (n: number) => number {
  let state = Number(process.env.SOAK_SEED ?? seed) >>> 0 || 1;
  return (n) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
}

/** Shuffles `items` in place (Fisher-Yates) with `random` and returns them. */
export function shuffle<T>(items: T[], random: (n: number) => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
