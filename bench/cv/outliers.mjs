import { files, run } from "./model.mjs";
import { outlierMetrics, changepointNab, confusion, poolConfusion } from "../lib/skab.mjs";
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
  let best = 0;
  res.forEach((pf, k) => {
    if (obj(pool(pf, all)) > obj(pool(res[best], all))) best = k;
  });
  const ins = outlierMetrics(pool(res[best], all)),
    insNab = changepointNab(res[best].map((x) => x.cp)).standard;
  // LOFO
  const held = [];
  const heldCp = [];
  const picks = {};
  for (const i of all) {
    const tr = all.filter((j) => j !== i);
    let b = 0;
    res.forEach((pf, k) => {
      if (obj(pool(pf, tr)) > obj(pool(res[b], tr))) b = k;
    });
    held.push(res[b][i].cm);
    heldCp.push(res[b][i].cp);
    picks[b] = (picks[b] ?? 0) + 1;
  }
  const ho = outlierMetrics(poolConfusion(held)),
    hoNab = changepointNab(heldCp).standard;
  // split half (even/odd index) both ways
  const A = all.filter((i) => i % 2 === 0),
    B = all.filter((i) => i % 2 === 1);
  const sh = [];
  for (const [tr, te] of [
    [A, B],
    [B, A],
  ]) {
    let b = 0;
    res.forEach((pf, k) => {
      if (obj(pool(pf, tr)) > obj(pool(res[b], tr))) b = k;
    });
    sh.push(pool(res[b], te));
  }
  const s = outlierMetrics(poolConfusion(sh));
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
