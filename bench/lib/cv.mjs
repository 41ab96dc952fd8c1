// Held-out selection for the bench/cv protocols: a setting chosen on some files scores the others.

/** Leave-one-out over items 0 … n − 1: for each i, the pick on every other index. Returns [{ held: i, pick }]. */
export function leaveOneOut(n, pick) {
  const idx = Array.from({ length: n }, (_, i) => i);
  return idx.map((i) => ({ held: i, pick: pick(idx.filter((j) => j !== i)) }));
}

/** Split-half both ways: the pick on the even indices scores the odd ones, then the reverse. Returns [{ test, pick }]. */
export function splitHalf(n, pick) {
  const idx = Array.from({ length: n }, (_, i) => i),
    even = idx.filter((i) => i % 2 === 0),
    odd = idx.filter((i) => i % 2 === 1);
  return [
    { test: odd, pick: pick(even) },
    { test: even, pick: pick(odd) },
  ];
}

/** How often each label occurs, keyed in the order they first occur. */
export function countPicks(labels) {
  const counts = {};
  for (const l of labels) counts[l] = (counts[l] ?? 0) + 1;
  return counts;
}
