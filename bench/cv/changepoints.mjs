import { files, run } from "./model.mjs";
import { changepointNab } from "../lib/skab.mjs";
export function cvcp(configs, label) {
  const res = configs.map((o) =>
    files.map((f) => ({ time: f.time, truth: f.changepoint, detected: run(f, o).cp, from: 400 })),
  );
  const all = files.map((_, i) => i),
    score = (k, idx) => changepointNab(idx.map((i) => res[k][i])).standard;
  let best = 0;
  res.forEach((_, k) => {
    if (score(k, all) > score(best, all)) best = k;
  });
  const held = [];
  const picks = {};
  for (const i of all) {
    const tr = all.filter((j) => j !== i);
    let b = 0;
    res.forEach((_, k) => {
      if (score(k, tr) > score(b, tr)) b = k;
    });
    held.push(res[b][i]);
    picks[label(configs[b])] = (picks[label(configs[b])] ?? 0) + 1;
  }
  const A = all.filter((i) => i % 2 === 0),
    B = all.filter((i) => i % 2 === 1),
    sh = [];
  for (const [tr, te] of [
    [A, B],
    [B, A],
  ]) {
    let b = 0;
    res.forEach((_, k) => {
      if (score(k, tr) > score(b, tr)) b = k;
    });
    for (const i of te) sh.push(res[b][i]);
  }
  const nb = (xs) => {
    const r = changepointNab(xs);
    return `${r.standard.toFixed(1)}/${r.reward_low_FP.toFixed(1)}/${r.reward_low_FN.toFixed(1)}`;
  };
  console.log(
    `in-sample ${label(configs[best])}: ${nb(res[best])} | LOFO ${nb(held)} | split-half ${nb(sh)} | picks ${JSON.stringify(picks)}`,
  );
}
