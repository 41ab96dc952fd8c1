import { files, run } from "./model.mjs";
import { changepointNab } from "../lib/skab.mjs";
import { leaveOneOut, splitHalf, countPicks } from "../lib/cv.mjs";
export function cvcp(configs, label) {
  const res = configs.map((o) =>
    files.map((f) => ({ time: f.time, truth: f.changepoint, detected: run(f, o).cp, from: 400 })),
  );
  const all = files.map((_, i) => i),
    score = (k, idx) => changepointNab(idx.map((i) => res[k][i])).standard;
  // The first config with the best score on the training files.
  const pick = (tr) => {
    let b = 0;
    res.forEach((_, k) => {
      if (score(k, tr) > score(b, tr)) b = k;
    });
    return b;
  };
  const best = pick(all);
  const lofo = leaveOneOut(all.length, pick);
  const held = lofo.map(({ held: i, pick: b }) => res[b][i]),
    picks = countPicks(lofo.map(({ pick: b }) => label(configs[b])));
  const sh = splitHalf(all.length, pick).flatMap(({ test, pick: b }) => test.map((i) => res[b][i]));
  const nb = (xs) => {
    const r = changepointNab(xs);
    return `${r.standard.toFixed(1)}/${r.reward_low_FP.toFixed(1)}/${r.reward_low_FN.toFixed(1)}`;
  };
  console.log(
    `in-sample ${label(configs[best])}: ${nb(res[best])} | LOFO ${nb(held)} | split-half ${nb(sh)} | picks ${JSON.stringify(picks)}`,
  );
}
