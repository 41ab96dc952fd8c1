// The vibration window both accelerometer drivers fill from their FIFO: a ring of raw frames and per-axis sums, allocation-free.

/** Standard gravity, m/s² (the unit every "g" in a datasheet is converted with). */
export const STANDARD_GRAVITY = 9.80665;

/** What one `sample()` reports about the frames drained since the previous one (m/s²). */
export interface VibrationSummary {
  /** Mean acceleration per axis over the window (gravity included). */
  accelerometer: { x: number; y: number; z: number };
  vibration: {
    /** AC-coupled RMS per axis: the window's mean is removed first. */
    rms: { x: number; y: number; z: number };
    /** Largest |a − mean| on any axis. */
    peak: number;
    /** Frames in the window. */
    samples: number;
    /** FIFO overflows detected during the window. */
    overflows: number;
  };
}

/**
 * Counts → mm/s² (Q0, int32) as `(counts · mul + 2^(shift−1)) >> shift`: `mul` = round(9806.65 · 2^shift / countsPerG)
 * with the largest shift that keeps mul ≤ 65535, so |counts| ≤ 2^15 never overflows int32 (2^15 · 2^16 = 2^31 − 2^15).
 * The relative error of mul is below 2^-15 (< 0.004 %).
 */
export interface MillisScale {
  mul: number;
  shift: number;
}

export function millisScale(countsPerG: number): MillisScale {
  let shift = 0;
  while (shift < 30 && Math.round((STANDARD_GRAVITY * 1000 * 2 ** (shift + 1)) / countsPerG) <= 65535) shift++;
  return Object.freeze({ mul: Math.round((STANDARD_GRAVITY * 1000 * 2 ** shift) / countsPerG), shift });
}

/** One count in mm/s², rounded: the conversion `read()` applies per value. */
export function countsToMillis(counts: number, scale: MillisScale): number {
  return shiftRound((counts * scale.mul) | 0, scale.shift);
}

function shiftRound(product: number, shift: number): number {
  return shift > 0 ? (product + (1 << (shift - 1))) >> shift : product;
}

/** Accumulator slots per axis: Σx² low (< 2^30) and high words, min, max (Σx lives in #sums). */
const SQ_LO = 0,
  SQ_HI = 1,
  MIN = 2,
  MAX = 3,
  SLOTS = 4;

/**
 * The ring holds the newest `capacity` frames as interleaved int16 counts (x, y, z) for a consumer such as the
 * detector's vibration front end (`read`/`readCounts`); independently, every frame written updates the running sums
 * that `summary()` turns into the per-window mean, RMS and peak. `write*()` is the hot path: it decodes a FIFO burst,
 * touches only typed arrays and int32 locals, and allocates nothing.
 */
export class AccelWindow {
  readonly capacity: number;
  /** Interleaved x, y, z counts; `capacity` frames. */
  readonly ring: Int16Array;
  readonly #acc = new Int32Array(3 * SLOTS);
  /** Σx per axis as doubles, folded once per write() call (not per sample), so no window length overflows. */
  readonly #sums = new Float64Array(3);
  /** summary()'s per-axis mean and RMS before they go into the result (scratch, so only the result is allocated). */
  readonly #mean = new Float64Array(3);
  readonly #rms = new Float64Array(3);
  #head = 0;
  #unread = 0;
  #frames = 0;
  #overflows = 0;
  /** Frames overwritten in the ring before read() took them (counted once a consumer has read at least once). */
  dropped = 0;
  #consumer = false;
  #viewOf: ArrayBufferLike | undefined;
  #words: Int16Array<ArrayBufferLike> = new Int16Array(0);
  /** Frames written since construction. */
  total = 0;

  /**
   * Whether this machine stores an Int16Array's values little-endian (ESP32 and x86 do). Asked at construction, on the
   * device: a module-level constant would be computed when the module is preloaded, on the build machine.
   */
  readonly #littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.ring = new Int16Array(capacity * 3);
    this.#clearSums();
  }

  /** Frames in the ring that read() has not returned yet. */
  get unread(): number {
    return this.#unread;
  }
  /** Frames since the last summary. */
  get frames(): number {
    return this.#frames;
  }

  /** FIFO overflows noted since the last summary. */
  get overflows(): number {
    return this.#overflows;
  }

  /** Starts a new window without summarising the current one. */
  clear(): void {
    this.#clearSums();
  }

  /** Notes a FIFO overflow (samples were lost before the driver could drain them). */
  overflow(): void {
    this.#overflows++;
  }

  /**
   * Appends `frames` frames of little-endian int16 x, y, z (ADXL345 DATAX0…DATAZ1) from `bytes` at `offset`
   * (bytes.byteOffset + offset must be even: the values are read through an Int16Array view of the same buffer).
   */
  writeLE(bytes: Uint8Array, offset: number, frames: number): void {
    this.#write(this.#view(bytes), (bytes.byteOffset + offset) >> 1, frames, !this.#littleEndian);
  }

  /** Appends `frames` frames of big-endian int16 x, y, z (MPU-6050 ACCEL_XOUT_H…ACCEL_ZOUT_L) from `bytes` at `offset`. */
  writeBE(bytes: Uint8Array, offset: number, frames: number): void {
    this.#write(this.#view(bytes), (bytes.byteOffset + offset) >> 1, frames, this.#littleEndian);
  }

  /** An Int16Array over the caller's burst buffer, made once per buffer (a driver passes the same one every time). */
  #view(bytes: Uint8Array): Int16Array<ArrayBufferLike> {
    if (bytes.buffer !== this.#viewOf) {
      this.#viewOf = bytes.buffer;
      this.#words = new Int16Array(bytes.buffer, 0, bytes.buffer.byteLength >> 1);
    }
    return this.#words;
  }

  /**
   * The hot loop: three int16 reads per frame (a byte swap when the data's order is not the host's; measured in XS,
   * three halfword reads cost about 25 % less than six byte reads and shifts), the ring store, and per axis Σx, Σx²
   * (two words), min and max in int32 locals.
   */
  #write(words: Int16Array<ArrayBufferLike>, start: number, frames: number, swap: boolean): void {
    const ring = this.ring,
      acc = this.#acc,
      end = this.capacity * 3;
    let sx = 0,
      sy = 0,
      sz = 0;
    let qxl = acc[SQ_LO]!,
      qxh = acc[SQ_HI]!,
      nx = acc[MIN]!,
      mx = acc[MAX]!;
    let qyl = acc[SLOTS + SQ_LO]!,
      qyh = acc[SLOTS + SQ_HI]!,
      ny = acc[SLOTS + MIN]!,
      my = acc[SLOTS + MAX]!;
    let qzl = acc[2 * SLOTS + SQ_LO]!,
      qzh = acc[2 * SLOTS + SQ_HI]!,
      nz = acc[2 * SLOTS + MIN]!,
      mz = acc[2 * SLOTS + MAX]!;
    let w = this.#head * 3,
      o = start | 0;
    for (let i = 0; i < frames; i++, o += 3) {
      let x = words[o]!,
        y = words[o + 1]!,
        z = words[o + 2]!;
      if (swap) {
        // ((v & 0xFF) << 24) >> 16 puts the low byte on top, sign-extended; the high byte comes down unsigned.
        x = (((x & 0xff) << 24) >> 16) | ((x >> 8) & 0xff);
        y = (((y & 0xff) << 24) >> 16) | ((y >> 8) & 0xff);
        z = (((z & 0xff) << 24) >> 16) | ((z >> 8) & 0xff);
      }
      ring[w] = x;
      ring[w + 1] = y;
      ring[w + 2] = z;
      w += 3;
      if (w === end) w = 0;
      sx = (sx + x) | 0;
      sy = (sy + y) | 0;
      sz = (sz + z) | 0;
      // x² ≤ 2^30 and the low word stays below 2^30, so the sum stays in int32 before the carry.
      qxl = (qxl + x * x) | 0;
      if (qxl >= 0x40000000) {
        qxl = (qxl - 0x40000000) | 0;
        qxh++;
      }
      qyl = (qyl + y * y) | 0;
      if (qyl >= 0x40000000) {
        qyl = (qyl - 0x40000000) | 0;
        qyh++;
      }
      qzl = (qzl + z * z) | 0;
      if (qzl >= 0x40000000) {
        qzl = (qzl - 0x40000000) | 0;
        qzh++;
      }
      if (x < nx) nx = x;
      if (x > mx) mx = x;
      if (y < ny) ny = y;
      if (y > my) my = y;
      if (z < nz) nz = z;
      if (z > mz) mz = z;
    }
    acc[SQ_LO] = qxl;
    acc[SQ_HI] = qxh;
    acc[MIN] = nx;
    acc[MAX] = mx;
    acc[SLOTS + SQ_LO] = qyl;
    acc[SLOTS + SQ_HI] = qyh;
    acc[SLOTS + MIN] = ny;
    acc[SLOTS + MAX] = my;
    acc[2 * SLOTS + SQ_LO] = qzl;
    acc[2 * SLOTS + SQ_HI] = qzh;
    acc[2 * SLOTS + MIN] = nz;
    acc[2 * SLOTS + MAX] = mz;
    // One double add per axis per call: a call holds at most a FIFO's worth of frames, so the int32 partial sums are exact.
    const sums = this.#sums;
    sums[0]! += sx;
    sums[1]! += sy;
    sums[2]! += sz;
    this.#head = (w / 3) | 0;
    this.#frames += frames;
    this.total += frames;
    let unread = this.#unread + frames;
    if (unread > this.capacity) {
      if (this.#consumer) this.dropped += unread - this.capacity;
      unread = this.capacity;
    }
    this.#unread = unread;
  }

  /**
   * Copies the oldest unread frames, converted to mm/s² (int32, Q0), into `target` (x, y, z interleaved);
   * returns the number of frames copied (at most target.length / 3).
   */
  read(target: Int32Array, scale: MillisScale): number {
    this.#consumer = true;
    const ring = this.ring,
      capacity3 = this.capacity * 3,
      mul = scale.mul,
      shift = scale.shift;
    const half = shift > 0 ? 1 << (shift - 1) : 0;
    let n = (target.length / 3) | 0;
    if (n > this.#unread) n = this.#unread;
    let r = (this.#head - this.#unread) * 3;
    if (r < 0) r += capacity3;
    for (let i = 0, end = n * 3; i < end; i++) {
      target[i] = (((ring[r]! * mul) | 0) + half) >> shift;
      if (++r === capacity3) r = 0;
    }
    this.#unread -= n;
    return n;
  }

  /** Same as read() but copies raw counts (the detector's vibration front end takes int16 counts). */
  readCounts(target: Int16Array): number {
    this.#consumer = true;
    const ring = this.ring,
      capacity3 = this.capacity * 3;
    let n = (target.length / 3) | 0;
    if (n > this.#unread) n = this.#unread;
    let r = (this.#head - this.#unread) * 3;
    if (r < 0) r += capacity3;
    for (let i = 0, end = n * 3; i < end; i++) {
      target[i] = ring[r]!;
      if (++r === capacity3) r = 0;
    }
    this.#unread -= n;
    return n;
  }

  /** Forgets unread frames (after a reconfiguration changes the unit of the counts). */
  discard(): void {
    this.#unread = 0;
  }

  /** True when every frame of the window had the same value on every axis (a frozen output). */
  get constant(): boolean {
    const acc = this.#acc;
    return (
      acc[MIN] === acc[MAX] && acc[SLOTS + MIN] === acc[SLOTS + MAX] && acc[2 * SLOTS + MIN] === acc[2 * SLOTS + MAX]
    );
  }

  /** The first axis (0 x, 1 y, 2 z) whose every sample in the window sat at `low` or `high`, or −1. */
  railed(low: number, high: number): number {
    const acc = this.#acc;
    for (let a = 0; a < 3; a++) {
      const min = acc[a * SLOTS + MIN],
        max = acc[a * SLOTS + MAX];
      if (min === max && (min === low || min === high)) return a;
    }
    return -1;
  }

  /**
   * Summarises the window in m/s² (`gPerCount` = 1 / counts per g) and starts the next one; undefined when empty.
   * Runs once per app tick: doubles here cost nothing per sample.
   */
  summary(gPerCount: number): VibrationSummary | undefined {
    const n = this.#frames;
    if (n === 0) return undefined;
    const acc = this.#acc,
      k = gPerCount * STANDARD_GRAVITY;
    const mean = this.#mean,
      rms = this.#rms;
    let peak = 0;
    for (let a = 0; a < 3; a++) {
      const m = this.#sums[a]! / n;
      const square = (acc[a * SLOTS + SQ_HI]! * 0x40000000 + acc[a * SLOTS + SQ_LO]!) / n;
      const variance = square - m * m;
      mean[a] = m * k;
      rms[a] = variance > 0 ? Math.sqrt(variance) * k : 0;
      const p = Math.max(acc[a * SLOTS + MAX]! - m, m - acc[a * SLOTS + MIN]!) * k;
      if (p > peak) peak = p;
    }
    const out: VibrationSummary = {
      accelerometer: { x: mean[0]!, y: mean[1]!, z: mean[2]! },
      vibration: { rms: { x: rms[0]!, y: rms[1]!, z: rms[2]! }, peak, samples: n, overflows: this.#overflows },
    };
    this.#clearSums();
    return out;
  }

  #clearSums(): void {
    const acc = this.#acc;
    for (let a = 0; a < 3; a++) {
      acc[a * SLOTS + SQ_LO] = 0;
      acc[a * SLOTS + SQ_HI] = 0;
      acc[a * SLOTS + MIN] = 0x7fffffff;
      acc[a * SLOTS + MAX] = -0x80000000;
    }
    this.#sums.fill(0);
    this.#frames = 0;
    this.#overflows = 0;
  }
}

Object.freeze(AccelWindow.prototype);
