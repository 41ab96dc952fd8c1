// Exploration twin of the detector (float64, option-driven variants) for bench/cv/*: leave-one-file-out and split-half selection.
import {
  csvFiles,
  loadSkab,
  outlierMetrics,
  changepointNab,
  SKAB_CHANNELS,
  confusion,
  noConfusion,
} from "../lib/skab.mjs";
export const files = csvFiles(process.env.SKAB ?? "../shared/data/skab")
  .map((p) => loadSkab(p, process.env.SKAB ?? "../shared/data/skab"))
  .filter((f) => f && f.anomaly);
function schedule(n, cap) {
  let k = 0;
  while (k < cap && 2 << k <= n + 1) k++;
  return k;
}
export function run(f, o) {
  const p = 8,
    cal = o.cal ?? 400,
    warm = o.warm ?? cal >> 2,
    fsh = o.fast ?? 4,
    ssh = o.slow ?? 8,
    ridge = o.ridge ?? 0.05;
  const fast = new Float64Array(p),
    slow = new Float64Array(p),
    slow2 = new Float64Array(p),
    mean = new Float64Array(p),
    vr = new Float64Array(p),
    sig = new Float64Array(p);
  const cov = new Float64Array(p * p),
    l = new Float64Array(p * p),
    u = new Float64Array(p),
    y = new Float64Array(p);
  let gain = 1;
  const score = new Float64Array(f.rows);
  const alarm = new Uint8Array(f.rows),
    cp = new Uint8Array(f.rows);
  let al = false,
    run = 0,
    inAlarm = 0,
    onT = o.on ?? 16,
    offT = o.off ?? 8;
  const calScores = [];
  let gp = 0,
    gn2 = 0,
    refr = 0,
    phm = -1; // PH
  for (let n = 0; n < f.rows; n++) {
    const a = n < cal ? 2 ** -schedule(n, fsh) : 2 ** -fsh;
    let b = n < cal ? 2 ** -schedule(n, ssh) : 2 ** -ssh;
    if (n >= cal && al) {
      b = o.freeze === undefined ? 0 : inAlarm < o.freeze ? 0 : 2 ** -(o.refreeze ?? ssh);
    }
    const wa = 2 ** -schedule(n, 30);
    for (let c = 0; c < p; c++) {
      const x = Math.round(f.values[c][n] * SKAB_CHANNELS[c][1]);
      if (n === 0) {
        fast[c] = slow[c] = slow2[c] = mean[c] = x;
        vr[c] = 0;
        continue;
      }
      fast[c] += (x - fast[c]) * a;
      if (b > 0) {
        slow[c] += (x - slow[c]) * b;
        slow2[c] += (slow[c] - slow2[c]) * b;
      } else if (o.trend) {
        const tr = (slow[c] - slow2[c]) * (o.tb ?? 1 / 255);
        slow[c] += tr;
        slow2[c] += tr;
      }
      if (n < warm) {
        mean[c] += (x - mean[c]) * wa;
        const d = x - mean[c];
        vr[c] += (d * d - vr[c]) * wa;
      }
    }
    if (n < warm) {
      if (n === warm - 1) for (let c = 0; c < p; c++) sig[c] = Math.max(Math.sqrt(vr[c]), 1);
      continue;
    }
    for (let c = 0; c < p; c++)
      u[c] = Math.max(
        -32,
        Math.min(
          32,
          (o.trend ? fast[c] - slow[c] - (o.tc ?? 0.941) * (slow[c] - slow2[c]) : fast[c] - slow[c]) / sig[c],
        ),
      );
    const covEnd = cal - (o.M ?? 0);
    if (n < covEnd) {
      const k = 2 ** -schedule(n - warm, 30);
      for (let i = 0; i < p; i++) for (let j = 0; j <= i; j++) cov[i * p + j] += (u[i] * u[j] - cov[i * p + j]) * k;
      if (n === covEnd - 1) {
        let gmax = 1e-12,
          sum = 0;
        for (let i = 0; i < p; i++) {
          gmax = Math.max(gmax, cov[i * p + i]);
          sum += cov[i * p + i];
        }
        const rr = ridge * Math.min(1, sum / p / gmax),
          minPivot = Math.max(rr / 2, 2 ** -8);
        for (let i = 0; i < p; i++)
          for (let j = 0; j <= i; j++) {
            let acc = cov[i * p + j] / gmax + (i === j ? rr : 0);
            for (let k = 0; k < j; k++) acc -= l[i * p + k] * l[j * p + k];
            if (i === j) l[i * p + i] = Math.sqrt(Math.max(acc, minPivot));
            else l[i * p + j] = acc / l[j * p + j];
          }
        gain = 1 / Math.sqrt(gmax);
      }
      continue;
    }
    for (let c = 0; c < p; c++) u[c] = Math.max(-32, Math.min(32, Math.max(-16, Math.min(16, u[c])) * gain));
    let t2 = 0;
    for (let i = 0; i < p; i++) {
      let r = u[i];
      for (let k = 0; k < i; k++) r -= l[i * p + k] * y[k];
      y[i] = r / l[i * p + i];
      t2 += y[i] * y[i];
    }
    const s = t2 / p;
    score[n] = s;
    if (n < cal) {
      calScores.push(s);
      if (n === cal - 1) {
        const q = calScores.slice().sort((x, y) => x - y);
        const mx = q[Math.min(q.length - 1, Math.floor((o.q ?? 1) * q.length))];
        onT = Math.max(o.minOn ?? 0, (o.k ?? 1) * mx);
        offT = onT * (o.offRatio ?? 0.5);
      }
      continue;
    }
    const prev = al;
    if (!al) {
      run = s >= onT ? run + 1 : 0;
      if (run >= (o.hold ?? 1)) {
        al = true;
        run = 0;
      }
    } else {
      run = s < offT ? run + 1 : 0;
      if (run >= (o.clear ?? 1)) {
        al = false;
        run = 0;
      }
    }
    inAlarm = al ? inAlarm + 1 : 0;
    alarm[n] = al ? 1 : 0;
    cp[n] = al !== prev && (o.edges ?? true) ? 1 : 0;
    if (o.ph) {
      const lv = Math.log2(1 + s);
      if (phm < 0) phm = lv;
      gp = Math.max(0, gp + lv - phm - o.delta);
      gn2 = Math.max(0, gn2 + phm - lv - o.delta);
      phm += (lv - phm) * 2 ** -(o.mShift ?? 5);
      if (refr > 0) refr--;
      if (o.shared && cp[n]) {
        if (refr > 0) cp[n] = 0;
        refr = o.refr;
      }
      if (gp > o.lambda || gn2 > o.lambda) {
        if (refr === 0) cp[n] = 1;
        refr = o.refr ?? 30;
        gp = 0;
        gn2 = 0;
        phm = lv;
      }
    }
  }
  return { score, alarm, cp, onT };
}
export function evalSet(idx, o) {
  const cm = noConfusion();
  const cps = [];
  for (const i of idx) {
    const f = files[i];
    const r = run(f, o);
    confusion(r.alarm, f.anomaly, 400, cm);
    cps.push({ time: f.time, truth: f.changepoint, detected: r.cp, from: 400 });
  }
  return { cm, ...outlierMetrics(cm), nab: changepointNab(cps).standard };
}
