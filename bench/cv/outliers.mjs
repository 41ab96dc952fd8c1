import { files, run } from "./model.mjs";
import { outlierMetrics, changepointNab, confusion, poolConfusion } from "../lib/skab.mjs";
import { leaveOneOut, splitHalf, countPicks } from "../lib/cv.mjs";
// per-config per-file confusion, then LOFO selection by pooled F1 on the other 15 files
export function perFile(o) {
  return files.map((f) => {
    const r = run(f, o);
    return {
      cm: confusion(r.alarm, f.anomaly, 400),
      cp: { time: f.time, truth: f.changepoint, detected: r.cp, from: 400 },
    };
  });
}
const pool = (pf, idx) => poolConfusion(idx.map((i) => pf[i].cm));
// objective: F1 subject to FAR<=13 (penalise): use f1 - max(0, far-0.13)*2
const obj = (cm) => {
  const m = outlierMetrics(cm);
  return m.f1 - 2 * Math.max(0, m.far - 0.13);
};
export function cv(configs, label = (o) => JSON.stringify(o)) {
  const res = configs.map((o) => perFile(o));
  const all = files.map((_, i) => i);
  // The first config with the best objective on the training files.
  const pick = (tr) => {
    let b = 0;
    res.forEach((pf, k) => {
      if (obj(pool(pf, tr)) > obj(pool(res[b], tr))) b = k;
    });
    return b;
  };
  const best = pick(all);
  const ins = outlierMetrics(pool(res[best], all)),
    insNab = changepointNab(res[best].map((x) => x.cp)).standard;
  const lofo = leaveOneOut(all.length, pick);
  const ho = outlierMetrics(poolConfusion(lofo.map(({ held: i, pick: b }) => res[b][i].cm))),
    hoNab = changepointNab(lofo.map(({ held: i, pick: b }) => res[b][i].cp)).standard,
    picks = countPicks(lofo.map(({ pick: b }) => b));
  const s = outlierMetrics(poolConfusion(splitHalf(all.length, pick).map(({ test, pick: b }) => pool(res[b], test))));
  const f = (m) => `F1 ${m.f1.toFixed(3)} FAR ${(100 * m.far).toFixed(1)} MAR ${(100 * m.mar).toFixed(1)}`;
  console.log(
    `in-sample best ${label(configs[best])}: ${f(ins)} cpNAB ${insNab.toFixed(1)} | LOFO ${f(ho)} cpNAB ${hoNab.toFixed(1)} | split-half ${f(s)} | picks ${Object.entries(
      picks,
    )
      .map(([k, v]) => label(configs[k]) + "×" + v)
      .join(",")}`,
  );
  return res;
}
