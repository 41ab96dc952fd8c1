// Held-out figures for the choices in docs/DETECTOR.md: each grid is scored per file; the setting is chosen on the other
// 15 files (leave-one-file-out) or the other half (even/odd files), and the held-out file(s) are scored with it.
// Run from the project root: node bench/cv/run.mjs   (SKAB=DIR to use another folder; about 10 s)
import { cv } from "./outliers.mjs";
import { cvcp } from "./changepoints.mjs";
const g1 = [];
for (const fast of [3, 4, 5])
  for (const slow of [7, 8, 9, 10]) for (const on of [4, 6, 8, 12, 16, 24]) g1.push({ fast, slow, on, off: on / 2 });
console.log("outliers, band-pass shifts × fixed threshold:");
cv(g1, (o) => `fast ${o.fast} slow ${o.slow} on ${o.on}`);
const g2 = [];
for (const M of [64, 100, 128])
  for (const k of [1.5, 2, 3, 4, 6, 8])
    for (const minOn of [0, 4, 8]) for (const slow of [7, 8]) g2.push({ M, k, minOn, slow });
console.log("outliers, threshold = k × max score of the last M calibration rows:");
cv(g2, (o) => `M ${o.M} k ${o.k} min ${o.minOn} slow ${o.slow}`);
const g3 = [];
for (const slow of [7, 8, 9])
  for (const on of [4, 6, 8, 12, 16, 24])
    for (const freeze of [undefined, 120, 240]) g3.push({ slow, on, off: on / 2, freeze, refreeze: slow + 3 });
console.log("outliers, bounded freeze (re-adapt at 2^-(slow+3)):");
cv(g3, (o) => `slow ${o.slow} on ${o.on} freeze ${o.freeze}`);
const base = { slow: 7, on: 16, off: 8, freeze: 240, refreeze: 10 };
console.log("change points, alarm edges only:");
cvcp([base], () => "edges");
const g4 = [];
for (const delta of [0.125, 0.25, 0.5])
  for (const lambda of [3, 4, 6])
    for (const mShift of [4, 5, 6])
      for (const refr of [8, 15, 30]) g4.push({ ...base, ph: true, shared: true, delta, lambda, mShift, refr });
console.log("change points, Page–Hinkley on log2(1 + score) (exact log2):");
cvcp(g4, (o) => `d ${o.delta} l ${o.lambda} m ${o.mShift} r ${o.refr}`);
console.log("change points, the shipped default (d 0.25 l 4 m 5 r 15) alone:");
cvcp([{ ...base, ph: true, shared: true, delta: 0.25, lambda: 4, mShift: 5, refr: 15 }], () => "default");
