import { files, run } from "./model.mjs";
import { outlierMetrics, changepointNab } from "../lib/skab.mjs";
// per-config per-file confusion, then LOFO selection by pooled F1 on the other 15 files
export function perFile(o) {
  return files.map((f) => {
    const r = run(f, o);
    const cm = { tp: 0, fp: 0, tn: 0, fn: 0 };
    for (let n = 400; n < f.rows; n++) {
      const a = r.alarm[n],
        t = f.anomaly[n];
      if (a && t) cm.tp++;
      else if (a) cm.fp++;
      else if (t) cm.fn++;
      else cm.tn++;
    }
    return { cm, cp: { time: f.time, truth: f.changepoint, detected: r.cp, from: 400 } };
  });
}
const add = (a, b) => ({ tp: a.tp + b.tp, fp: a.fp + b.fp, tn: a.tn + b.tn, fn: a.fn + b.fn });
const pool = (pf, idx) => idx.reduce((m, i) => add(m, pf[i].cm), { tp: 0, fp: 0, tn: 0, fn: 0 });
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
  let held = { tp: 0, fp: 0, tn: 0, fn: 0 };
  const heldCp = [];
  const picks = {};
  for (const i of all) {
    const tr = all.filter((j) => j !== i);
    let b = 0;
    res.forEach((pf, k) => {
      if (obj(pool(pf, tr)) > obj(pool(res[b], tr))) b = k;
    });
    held = add(held, res[b][i].cm);
    heldCp.push(res[b][i].cp);
    picks[b] = (picks[b] ?? 0) + 1;
  }
  const ho = outlierMetrics(held),
    hoNab = changepointNab(heldCp).standard;
  // split half (even/odd index) both ways
  const A = all.filter((i) => i % 2 === 0),
    B = all.filter((i) => i % 2 === 1);
  let sh = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (const [tr, te] of [
    [A, B],
    [B, A],
  ]) {
    let b = 0;
    res.forEach((pf, k) => {
      if (obj(pool(pf, tr)) > obj(pool(res[b], tr))) b = k;
    });
    sh = add(sh, pool(res[b], te));
  }
  const s = outlierMetrics(sh);
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
