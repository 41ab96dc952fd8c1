// Float64 twin of modules/detector/{multivariate,vibration}.ts: the same algorithm and schedules in plain doubles.
// Used for validation (bench:skab --reference) and as the cost baseline of bench:detector (it runs in XS too: no Node imports).

function schedule(n, cap) {
  let k = 0;
  while (k < cap && 2 << k <= n + 1) k++;
  return k;
}

/** log2(v) as log2Q8 in modules/detector/fixed.ts computes it: 2^e·(1 + f) ↦ e + f + 0.34·f·(1 − f). */
export function log2Linear(v) {
  const e = Math.floor(Math.log2(v)),
    f = v / 2 ** e - 1;
  return e + f + (87 / 256) * f * (1 - f);
}

export class FloatMultivariateDetector {
  constructor({
    channels,
    calibrationSamples = 400,
    warmupSamples,
    fastShift = 4,
    slowShift = 8,
    scaling = "channel",
    ridge,
    on = 5,
    off = on / 2,
    holdSamples = 1,
    clearSamples = 1,
    floor = 1,
    freezeSamples = 240,
    rampSamples = 64,
    adaptShift = 12,
    changeDrift = 0.25,
    changeThreshold = 4,
    changeRefractory = 15,
    recovery = false,
    recoveryLevel = 3,
    recoverySamples = 8,
    episodeSamples = 900,
    namedShift = 1,
    returnShift = 0,
    recoverTo = "copy",
    settleSamples = 0,
    settleShift = fastShift + 1,
  }) {
    if (recoverTo !== "copy" && recoverTo !== "current")
      throw new RangeError(
        'FloatMultivariateDetector: option "recoverTo" must be "copy" or "current", got ' + recoverTo,
      );
    // Recovery (multivariate.ts step 4b, #episodeBack and #episode): the same episode, naming, copy, relative return,
    // settling and bound, in doubles.
    this.recovery = recovery === true;
    this.level = recoveryLevel;
    this.recoverRun = recoverySamples;
    this.episodeMax = episodeSamples;
    this.namedShift = namedShift;
    this.returnShift = returnShift;
    this.toCurrent = recoverTo === "current";
    this.settleRun = settleSamples;
    this.settleShift = settleShift;
    this.episode = 0; // updates in the open episode (0: none)
    this.recoveredRun = 0; // updates in a row with every named channel back
    this.episodeMask = 0; // the episode's named channels
    this.settle = 0; // settling updates left (0: not settling)
    this.recoveryScore = 0; // during an episode: the largest standardised distance of a named channel from its copy

    this.freeze = freezeSamples;
    this.delta = changeDrift;
    this.lambda = changeThreshold;
    this.refractory = changeRefractory;
    this.perChannel = scaling === "channel";
    this.ramp = rampSamples;
    this.adapt = adaptShift;
    ridge ??= this.perChannel ? 1 : 0.05;
    this.inAlarm = 0;
    this.phMean = 0;
    this.gUp = 0;
    this.gDown = 0;
    this.left = 0;
    this.primed = false;
    const p = (this.channels = channels);
    this.cal = calibrationSamples;
    this.warm = warmupSamples ?? Math.max(2 << fastShift, calibrationSamples >> 2);
    this.fastShift = fastShift;
    this.slowShift = slowShift;
    this.ridge = ridge;
    this.on = on;
    this.off = off;
    this.hold = holdSamples;
    this.clear = clearSamples;
    this.floor = new Float64Array(p).fill(typeof floor === "number" ? floor : 0);
    if (typeof floor !== "number") for (let c = 0; c < p; c++) this.floor[c] = floor[c];
    this.fast = new Float64Array(p);
    this.slow = new Float64Array(p);
    this.mean = new Float64Array(p);
    this.var = new Float64Array(p);
    this.sigma = new Float64Array(p);
    this.cov = new Float64Array(p * p);
    this.l = new Float64Array(p * p);
    this.u = new Float64Array(p);
    this.y = new Float64Array(p);
    this.w = new Float64Array(p);
    this.contributions = new Float64Array(p);
    this.gains = new Float64Array(p);
    this.va = new Float64Array(p);
    this.ia = new Float64Array(p);
    this.copy = new Float64Array(p); // the named channels' pre-alarm baselines
    this.peaks = new Float64Array(p); // per channel: the largest |fast − copy| of the episode, in input units
    this.n = 0;
    this.run = 0;
    this.alarm = false;
    this.changePoint = false;
    this.score = 0;
  }

  /** With recovery: the open episode's channels as a bit mask (0 outside an episode). */
  get episodeChannels() {
    return this.recovery && this.episode > 0 ? this.episodeMask : 0;
  }

  update(values) {
    const p = this.channels,
      n = this.n,
      cal = this.cal,
      warm = this.warm;
    const a = n < cal ? 2 ** -schedule(n, this.fastShift) : 2 ** -this.fastShift;
    let b = n < cal ? 2 ** -schedule(n, this.slowShift) : !this.alarm ? 2 ** -this.slowShift : this.#alarmRate();
    // Settling at the end of an episode: every baseline follows faster.
    if (this.recovery && n >= cal && !this.alarm && this.settle > 0) b = 2 ** -this.settleShift;
    const wa = 2 ** -schedule(n, 30);
    for (let c = 0; c < p; c++) {
      const x = values[c];
      if (n === 0) {
        this.fast[c] = this.slow[c] = this.mean[c] = x;
        this.var[c] = 0;
        continue;
      }
      this.fast[c] += (x - this.fast[c]) * a;
      this.slow[c] += (x - this.slow[c]) * b;
      if (n < warm) {
        this.mean[c] += (x - this.mean[c]) * wa;
        const d = x - this.mean[c];
        this.var[c] += (d * d - this.var[c]) * wa;
      }
    }
    this.n = n + 1;
    this.changePoint = false;
    if (n < warm) {
      if (n === warm - 1) for (let c = 0; c < p; c++) this.sigma[c] = Math.max(Math.sqrt(this.var[c]), this.floor[c]);
      return false;
    }
    const u = this.u;
    for (let c = 0; c < p; c++) u[c] = Math.max(-32, Math.min(32, (this.fast[c] - this.slow[c]) / this.sigma[c]));
    if (n < cal) {
      const k = 2 ** -schedule(n - warm, 30);
      for (let i = 0; i < p; i++)
        for (let j = 0; j <= i; j++) this.cov[i * p + j] += (u[i] * u[j] - this.cov[i * p + j]) * k;
      if (n === cal - 1) this.#factor();
      return false;
    }
    for (let c = 0; c < p; c++) {
      let z = Math.max(-32, Math.min(32, Math.max(-16, Math.min(16, u[c])) * this.gains[c]));
      if (this.adapt > 0) {
        if (!this.alarm) this.va[c] = Math.max(1, this.va[c] + (Math.min(z * z, 16) - this.va[c]) * 2 ** -this.adapt);
        z *= this.ia[c];
      }
      u[c] = z;
    }
    if (this.adapt > 0) this.ia[n % p] = 1 / Math.sqrt(this.va[n % p]);
    const l = this.l,
      y = this.y,
      w = this.w;
    let t2 = 0;
    for (let i = 0; i < p; i++) {
      let r = u[i];
      for (let k = 0; k < i; k++) r -= l[i * p + k] * y[k];
      y[i] = r / l[i * p + i];
      t2 += y[i] * y[i];
    }
    for (let i = p - 1; i >= 0; i--) {
      let r = y[i];
      for (let k = i + 1; k < p; k++) r -= l[k * p + i] * w[k];
      w[i] = r / l[i * p + i];
      this.contributions[i] = u[i] * w[i];
    }
    this.t2 = t2;
    this.score = t2 / p;
    const previous = this.alarm;
    if (this.recovery) this.#recoveryStep();
    else this.#hysteresis(this.score >= this.on);
    this.inAlarm = this.alarm ? this.inAlarm + 1 : 0;
    this.changePoint = this.#pageHinkley(this.alarm !== previous);
    return this.alarm;
  }

  /** `raise` for holdSamples updates in a row raises the alarm; the score under `off` for clearSamples clears it. */
  #hysteresis(raise) {
    const r = (this.alarm ? this.score < this.off : raise) ? this.run + 1 : 0;
    if (r >= (this.alarm ? this.clear : this.hold)) {
      this.alarm = !this.alarm;
      this.run = 0;
    } else this.run = r;
  }

  /** multivariate.ts #scoreAndAlarm with recovery, after #score: #episodeBack, the hysteresis, #episode. */
  #recoveryStep() {
    const p = this.channels,
      copy = this.copy;
    const open = this.episode > 0;
    let mask = open ? this.episodeMask : 0,
      within = false;
    if (open) {
      within = this.#recovered(mask);
      this.recoveredRun = within ? this.recoveredRun + 1 : 0;
    } else {
      this.recoveryScore = 0;
      for (let c = 0; c < p; c++) copy[c] = this.slow[c];
    }
    this.#hysteresis(this.score >= this.on && !within);
    if (open) {
      if (this.alarm && this.episode <= 16) mask |= this.#named();
      let close = false;
      if (this.settle > 0) {
        // Settling: raised again (the named channels left the level), the episode goes on; else count down to its end.
        if (this.alarm) this.settle = 0;
        else close = --this.settle === 0;
      }
      if (!close) {
        if (this.recoveredRun >= this.recoverRun && this.settle === 0) {
          // The cause has ended: the named baselines go back to the copy (or to the fast filters); the alarm clears.
          const from = this.toCurrent ? this.fast : copy;
          for (let c = 0; c < p; c++) if (((mask >> c) & 1) !== 0) this.slow[c] = from[c];
          if (this.settleRun > 0) {
            this.alarm = false;
            this.run = 0;
            this.settle = this.settleRun;
            this.episode++;
          } else close = true;
        } else if (this.episodeMax > 0 && this.episode >= this.episodeMax && this.settle === 0) {
          // Bounded: what the machine does now is its new normal.
          for (let c = 0; c < p; c++) if (((mask >> c) & 1) !== 0) this.slow[c] = this.fast[c];
          close = true;
        } else this.episode++;
      }
      if (close) {
        this.alarm = false;
        this.run = 0;
        this.episode = 0;
        this.recoveredRun = 0;
        mask = 0;
      }
    } else if (this.alarm) {
      // A new episode: its channels, and their largest distances from the copy so far.
      this.episode = 1;
      this.recoveredRun = 0;
      mask = this.#named();
      this.peaks.fill(0);
    }
    this.episodeMask = mask;
  }

  /** The top contributing channel and any other that contributes at least T² / 2^namedShift. */
  #named() {
    const least = this.t2 / 2 ** this.namedShift,
      contrib = this.contributions;
    let mask = 0,
      best = -1,
      bestValue = 0;
    for (let c = 0; c < this.channels; c++) {
      if (contrib[c] > bestValue) {
        best = c;
        bestValue = contrib[c];
      }
      if (contrib[c] > 0 && contrib[c] >= least) mask |= 1 << c;
    }
    return best < 0 ? mask : mask | (1 << best);
  }

  /** Whether every channel in `mask` is back: its fast filter within recoveryLevel of the copy (standardised as the
   *  score's inputs are), or (returnShift) within 2^-returnShift of its largest distance in the episode. */
  #recovered(mask) {
    const rs = this.returnShift;
    let far = 0,
      back = true;
    for (let c = 0; c < this.channels; c++) {
      if (((mask >> c) & 1) === 0) continue;
      const raw = this.fast[c] - this.copy[c];
      let z = Math.max(-16, Math.min(16, raw / this.sigma[c]));
      z = Math.abs(Math.max(-32, Math.min(32, z * this.gains[c])));
      if (this.adapt > 0) z *= this.ia[c];
      if (z > far) far = z;
      const mag = Math.abs(raw);
      if (mag > this.peaks[c]) this.peaks[c] = mag;
      if (z >= this.level && (rs === 0 || mag > this.peaks[c] / 2 ** rs)) back = false;
    }
    this.recoveryScore = far;
    return back;
  }

  /** The baseline's weight in alarm: frozen, then 2^-(slowShift + 3), a step faster per ramp down to 2^-fastShift. */
  #alarmRate() {
    if (this.inAlarm < this.freeze) return 0;
    if (this.ramp === 0) return 2 ** -(this.slowShift + 3);
    return 2 ** -Math.max(this.fastShift, this.slowShift + 3 - Math.floor((this.inAlarm - this.freeze) / this.ramp));
  }

  #pageHinkley(edge) {
    const l = log2Linear(1024 * (this.t2 + this.channels)) - log2Linear(1024 * this.channels);
    if (!this.primed) {
      this.phMean = l;
      this.primed = true;
    }
    const m = this.phMean;
    this.gUp = Math.max(0, this.gUp + l - m - this.delta);
    this.gDown = Math.max(0, this.gDown + m - l - this.delta);
    this.phMean += (l - m) / 32;
    if (this.left > 0) this.left--;
    let change = false;
    if (edge) {
      change = this.left === 0;
      this.left = this.refractory;
    }
    if (this.gUp > this.lambda || this.gDown > this.lambda) {
      if (this.left === 0) change = true;
      this.left = this.refractory;
      this.gUp = 0;
      this.gDown = 0;
      this.phMean = l;
    }
    return change;
  }

  #factor() {
    const p = this.channels,
      cov = this.cov,
      l = this.l;
    let gmax = 1e-12,
      sum = 0;
    for (let i = 0; i < p; i++) {
      gmax = Math.max(gmax, cov[i * p + i]);
      sum += cov[i * p + i];
    }
    const ridge = this.perChannel ? this.ridge : this.ridge * Math.min(1, sum / p / gmax);
    const minPivot = Math.max(ridge / 2, 2 ** -8);
    // sd_i = sqrt(C_ii) (or sqrt(max diag) for every channel), at least 1/16 (a gain of at most 16), then its reciprocal.
    const sd = this.gains;
    for (let i = 0; i < p; i++) sd[i] = Math.max(Math.sqrt(this.perChannel ? cov[i * p + i] : gmax), 1 / 16);
    for (let i = 0; i < p; i++)
      for (let j = 0; j <= i; j++) {
        let acc = cov[i * p + j] / (this.perChannel ? sd[i] * sd[j] : gmax) + (i === j ? ridge : 0);
        for (let k = 0; k < j; k++) acc -= l[i * p + k] * l[j * p + k];
        if (i === j) l[i * p + i] = Math.sqrt(Math.max(acc, minPivot));
        else l[i * p + j] = acc / l[j * p + j];
      }
    for (let i = 0; i < p; i++) {
      sd[i] = 1 / sd[i];
      this.va[i] = 1;
      this.ia[i] = 1;
    }
  }
}

export class FloatVibrationFrontEnd {
  constructor({ axes = 3, windowShift = 8, sampleRate = 1600, bands = [50, 100, 200, 400], dcShift = 7 } = {}) {
    this.axes = axes;
    this.windowSamples = 1 << windowShift;
    this.bandCount = bands.length;
    this.dcAlpha = 2 ** -dcShift;
    this.coef = Float64Array.from(bands, (f) => 2 * Math.cos((2 * Math.PI * f) / sampleRate));
    this.stride = 5 + 2 * bands.length; // dc, Σd², peak, Σd⁴, (unused), s1/s2 per band
    this.acc = new Float64Array(this.stride * axes);
    this.features = new Float64Array(axes * (4 + bands.length));
    this.n = 0;
    this.primed = false;
    this.windows = 0;
    this.ready = false;
    this.block = new Float64Array(64);
  }

  /** Same block structure as the integer write(): per quantity over up to 64 frames, with locals. */
  write(samples, start, frames) {
    const axes = this.axes,
      acc = this.acc,
      stride = this.stride,
      bands = this.bandCount,
      coef = this.coef,
      block = this.block;
    let count = Math.min(this.windowSamples - this.n, frames, 64);
    if (!this.primed && count > 0) {
      for (let a = 0; a < axes; a++) acc[a * stride] = samples[start * axes + a];
      this.primed = true;
    }
    for (let a = 0, o = 0; a < axes; a++, o += stride) {
      let dc = acc[o],
        sq = acc[o + 1],
        peak = acc[o + 2],
        s4 = acc[o + 3];
      const alpha = this.dcAlpha;
      for (let i = 0, j = start * axes + a; i < count; i++, j += axes) {
        const v = samples[j];
        dc += (v - dc) * alpha;
        const d = v - dc,
          d2 = d * d;
        block[i] = d;
        sq += d2;
        s4 += d2 * d2;
        if (d > peak) peak = d;
        else if (-d > peak) peak = -d;
      }
      acc[o] = dc;
      acc[o + 1] = sq;
      acc[o + 2] = peak;
      acc[o + 3] = s4;
      for (let k = 0, b = o + 5; k < bands; k++, b += 2) {
        let s1 = acc[b],
          s2 = acc[b + 1];
        const c = coef[k];
        for (let i = 0; i < count; i++) {
          const s0 = block[i] + c * s1 - s2;
          s2 = s1;
          s1 = s0;
        }
        acc[b] = s1;
        acc[b + 1] = s2;
      }
    }
    this.n += count;
    this.ready = this.n === this.windowSamples;
    if (this.ready) this.#finish();
    return count;
  }

  push(x, y = 0, z = 0) {
    const acc = this.acc,
      stride = this.stride,
      coef = this.coef,
      bands = this.bandCount;
    if (!this.primed) {
      acc[0] = x;
      if (this.axes > 1) acc[stride] = y;
      if (this.axes > 2) acc[2 * stride] = z;
      this.primed = true;
    }
    for (let a = 0, o = 0; a < this.axes; a++, o += stride) {
      const v = a === 0 ? x : a === 1 ? y : z;
      acc[o] += (v - acc[o]) * this.dcAlpha;
      const d = v - acc[o],
        d2 = d * d;
      acc[o + 1] += d2;
      if (Math.abs(d) > acc[o + 2]) acc[o + 2] = Math.abs(d);
      acc[o + 3] += d2 * d2;
      for (let k = 0, b = o + 5; k < bands; k++, b += 2) {
        const s0 = d + coef[k] * acc[b] - acc[b + 1];
        acc[b + 1] = acc[b];
        acc[b] = s0;
      }
    }
    if (++this.n < this.windowSamples) return false;
    this.#finish();
    return true;
  }

  #finish() {
    const acc = this.acc,
      stride = this.stride,
      coef = this.coef,
      bands = this.bandCount;
    const N = this.windowSamples,
      per = 4 + bands,
      out = this.features;
    for (let a = 0, o = 0; a < this.axes; a++, o += stride) {
      const ms = acc[o + 1] / N,
        rms = Math.sqrt(ms);
      // Same units as the integer front end (rms × 2^4, crest and kurtosis × 2^8), so both models see the same numbers.
      out[a * per] = rms * 16;
      out[a * per + 1] = acc[o + 2];
      out[a * per + 2] = rms > 0 ? (256 * acc[o + 2]) / rms : 0;
      out[a * per + 3] = ms > 0 ? (256 * (acc[o + 3] / N)) / (ms * ms) : 0;
      for (let k = 0, b = o + 5; k < bands; k++, b += 2) {
        const s1 = acc[b],
          s2 = acc[b + 1];
        out[a * per + 4 + k] = (2 * Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - coef[k] * s1 * s2))) / N;
        acc[b] = 0;
        acc[b + 1] = 0;
      }
      acc[o + 1] = 0;
      acc[o + 2] = 0;
      acc[o + 3] = 0;
    }
    this.n = 0;
    this.windows++;
  }
}
