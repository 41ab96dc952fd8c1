// BME280/BMP280 integer compensation (BME280 datasheet §4.2.3 and §8.2), every intermediate kept a 32-bit integer.

/** Trimming parameters (BME280 datasheet §4.2.2, Table 16), names as in the datasheet without "dig_". */
export interface Calibration {
  digT1: number;
  digT2: number;
  digT3: number;
  digP1: number;
  digP2: number;
  digP3: number;
  digP4: number;
  digP5: number;
  digP6: number;
  digP7: number;
  digP8: number;
  digP9: number;
  digH1: number;
  digH2: number;
  digH3: number;
  digH4: number;
  digH5: number;
  digH6: number;
}

/** Bytes at 0x88..0xA1 and, for a BME280, 0xE1..0xE7. */
export const CALIBRATION_LENGTH = 26;
export const HUMIDITY_CALIBRATION_LENGTH = 7;

function u16(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8);
}
function s16(b: Uint8Array, i: number): number {
  return ((b[i]! | (b[i + 1]! << 8)) << 16) >> 16;
}
function s8(v: number): number {
  return (v << 24) >> 24;
}

/**
 * Decodes the trimming parameters (§4.2.2, Table 16). dig_H4 and dig_H5 are 12-bit signed values sharing
 * 0xE5: H4 = 0xE4[7:0]·16 | 0xE5[3:0], H5 = 0xE6[7:0]·16 | 0xE5[7:4], the 0xE4/0xE6 byte carrying the sign.
 * `humidity` undefined (a BMP280) leaves the humidity parameters zero.
 */
export function parseCalibration(tp: Uint8Array, humidity: Uint8Array | undefined): Calibration {
  const h = humidity;
  return {
    digT1: u16(tp, 0),
    digT2: s16(tp, 2),
    digT3: s16(tp, 4),
    digP1: u16(tp, 6),
    digP2: s16(tp, 8),
    digP3: s16(tp, 10),
    digP4: s16(tp, 12),
    digP5: s16(tp, 14),
    digP6: s16(tp, 16),
    digP7: s16(tp, 18),
    digP8: s16(tp, 20),
    digP9: s16(tp, 22),
    digH1: h ? tp[25]! : 0,
    digH2: h ? s16(h, 0) : 0,
    digH3: h ? h[2]! : 0,
    digH4: h ? (s8(h[3]!) * 16) | (h[4]! & 0x0f) : 0,
    digH5: h ? (s8(h[5]!) * 16) | (h[4]! >> 4) : 0,
    digH6: h ? s8(h[6]!) : 0,
  };
}

/**
 * t_fine from a raw 20-bit temperature (§4.2.3, "BME280_compensate_T_int32"). Products go through
 * Math.imul so an overflow wraps exactly as the C reference does on a two's complement CPU.
 */
export function temperatureFine(c: Calibration, adcT: number): number {
  const var1 = Math.imul(((adcT >> 3) - (c.digT1 << 1)) | 0, c.digT2) >> 11;
  const d = ((adcT >> 4) - c.digT1) | 0;
  const var2 = Math.imul(Math.imul(d, d) >> 12, c.digT3) >> 14;
  return (var1 + var2) | 0;
}

/** Temperature in hundredths of °C from t_fine (§4.2.3: T = (t_fine·5 + 128) >> 8, "5123 equals 51.23 °C"). */
export function fineToCentiCelsius(tFine: number): number {
  return (Math.imul(tFine, 5) + 128) >> 8;
}

/**
 * Relative humidity in Q22.10 %RH (§4.2.3, "bme280_compensate_H_int32"; 47445 means 46.333 %RH).
 */
export function compensateHumidity(c: Calibration, tFine: number, adcH: number): number {
  let v = (tFine - 76800) | 0;
  const left = ((((adcH << 14) - (c.digH4 << 20)) | 0) - Math.imul(c.digH5, v) + 16384) >> 15;
  const inner = (Math.imul(Math.imul(v, c.digH6) >> 10, ((Math.imul(v, c.digH3) >> 11) + 32768) | 0) >> 10) + 2097152;
  const right = (Math.imul(inner | 0, c.digH2) + 8192) >> 14;
  v = Math.imul(left, right);
  const q = v >> 15;
  v = (v - (Math.imul(Math.imul(q, q) >> 7, c.digH1) >> 4)) | 0;
  v = v < 0 ? 0 : v > 419430400 ? 419430400 : v;
  return v >> 12;
}

// 64-bit two's complement integers as (hi, lo) int32 words in a caller's scratch array `r`: register k is
// r[2k] (high word) and r[2k + 1] (low word, its bits unsigned). Every operation wraps modulo 2^64 like
// int64_t arithmetic, and no intermediate leaves the int32 range, so XS never boxes a double. The scratch belongs to
// the caller (a driver keeps one per instance): module-level state would be frozen in a preloaded module.
/** Registers: two variables, the pressure, and a scratch register for integer operands; then negate()'s result. */
const V1 = 0,
  V2 = 1,
  P = 2,
  SCRATCH = 3,
  NEG = 8;
/** Length of the scratch compensatePressure64() works in (int32 words). */
export const PRESSURE64_SCRATCH = 10;
const SIGN = 1 << 31;

function load(r: Int32Array, k: number, value: number): void {
  r[2 * k] = value >> 31;
  r[2 * k + 1] = value;
}

function add(r: Int32Array, d: number, a: number, b: number): void {
  const al = r[2 * a + 1]!,
    lo = (al + r[2 * b + 1]!) | 0;
  const carry = (lo ^ SIGN) < (al ^ SIGN) ? 1 : 0;
  r[2 * d] = (r[2 * a]! + r[2 * b]! + carry) | 0;
  r[2 * d + 1] = lo;
}

function sub(r: Int32Array, d: number, a: number, b: number): void {
  const al = r[2 * a + 1]!,
    bl = r[2 * b + 1]!;
  const borrow = (al ^ SIGN) < (bl ^ SIGN) ? 1 : 0;
  r[2 * d] = (r[2 * a]! - r[2 * b]! - borrow) | 0;
  r[2 * d + 1] = (al - bl) | 0;
}

function shl(r: Int32Array, d: number, a: number, n: number): void {
  const hi = r[2 * a]!,
    lo = r[2 * a + 1]!;
  if (n === 0) {
    r[2 * d] = hi;
    r[2 * d + 1] = lo;
  } else if (n < 32) {
    r[2 * d] = (hi << n) | (lo >>> (32 - n));
    r[2 * d + 1] = lo << n;
  } else {
    r[2 * d] = lo << (n - 32);
    r[2 * d + 1] = 0;
  }
}

/** Arithmetic shift right, as int64_t >> n on the compilers Bosch's code targets. */
function sar(r: Int32Array, d: number, a: number, n: number): void {
  const hi = r[2 * a]!,
    lo = r[2 * a + 1]!;
  if (n === 0) {
    r[2 * d] = hi;
    r[2 * d + 1] = lo;
  } else if (n < 32) {
    r[2 * d + 1] = (lo >>> n) | (hi << (32 - n));
    r[2 * d] = hi >> n;
  } else {
    r[2 * d + 1] = hi >> (n - 32);
    r[2 * d] = hi >> 31;
  }
}

/** Low 64 bits of a·b, from 16-bit limbs: each partial product is split at once so column sums stay small. */
function mul(r: Int32Array, d: number, a: number, b: number): void {
  const ah = r[2 * a]!,
    al = r[2 * a + 1]!,
    bh = r[2 * b]!,
    bl = r[2 * b + 1]!;
  const a0 = al & 0xffff,
    a1 = al >>> 16,
    a2 = ah & 0xffff,
    a3 = ah >>> 16;
  const b0 = bl & 0xffff,
    b1 = bl >>> 16,
    b2 = bh & 0xffff,
    b3 = bh >>> 16;
  let p = Math.imul(a0, b0);
  const c0 = p & 0xffff;
  let c1 = p >>> 16;
  p = Math.imul(a0, b1);
  c1 += p & 0xffff;
  let c2 = p >>> 16;
  p = Math.imul(a1, b0);
  c1 += p & 0xffff;
  c2 += p >>> 16;
  p = Math.imul(a0, b2);
  c2 += p & 0xffff;
  let c3 = p >>> 16;
  p = Math.imul(a1, b1);
  c2 += p & 0xffff;
  c3 += p >>> 16;
  p = Math.imul(a2, b0);
  c2 += p & 0xffff;
  c3 += p >>> 16;
  c3 +=
    (Math.imul(a0, b3) & 0xffff) +
    (Math.imul(a1, b2) & 0xffff) +
    (Math.imul(a2, b1) & 0xffff) +
    (Math.imul(a3, b0) & 0xffff);
  c2 += c1 >>> 16;
  c3 += c2 >>> 16;
  r[2 * d + 1] = c0 | (c1 << 16);
  r[2 * d] = (c2 & 0xffff) | (c3 << 16);
}

function mulInt(r: Int32Array, d: number, a: number, value: number): void {
  load(r, SCRATCH, value);
  mul(r, d, a, SCRATCH);
}

/** Two's complement negation of (hi, lo) into r[NEG], r[NEG + 1]. */
function negate(r: Int32Array, hi: number, lo: number): void {
  const nl = (~lo + 1) | 0;
  r[NEG] = (~hi + (nl === 0 ? 1 : 0)) | 0;
  r[NEG + 1] = nl;
}

/** Quotient a / b truncated toward zero (C99 §6.5.5), by shift-and-subtract on the magnitudes. b ≠ 0. */
function div(r: Int32Array, d: number, a: number, b: number): void {
  let nh = r[2 * a]!,
    nl = r[2 * a + 1]!,
    dh = r[2 * b]!,
    dl = r[2 * b + 1]!;
  const negative = nh < 0 !== dh < 0;
  if (nh < 0) {
    negate(r, nh, nl);
    nh = r[NEG]!;
    nl = r[NEG + 1]!;
  }
  if (dh < 0) {
    negate(r, dh, dl);
    dh = r[NEG]!;
    dl = r[NEG + 1]!;
  }
  let qh = 0,
    ql = 0,
    rh = 0,
    rl = 0;
  const top = nh !== 0 ? 63 - Math.clz32(nh) : 31 - Math.clz32(nl);
  for (let i = top; i >= 0; i--) {
    const lost = rh >> 31; // a remainder ≥ 2^63 shifted left exceeds any divisor
    // Bits are taken with >>, not >>>: the low bit is the same, and >>> 0 of a negative makes a double in XS.
    rh = (rh << 1) | ((rl >> 31) & 1);
    rl = (rl << 1) | (i >= 32 ? (nh >> (i - 32)) & 1 : (nl >> i) & 1);
    if (lost !== 0 || (rh ^ SIGN) > (dh ^ SIGN) || (rh === dh && (rl ^ SIGN) >= (dl ^ SIGN))) {
      const borrow = (rl ^ SIGN) < (dl ^ SIGN) ? 1 : 0;
      rl = (rl - dl) | 0;
      rh = (rh - dh - borrow) | 0;
      if (i >= 32) qh |= 1 << (i - 32);
      else ql |= 1 << i;
    }
  }
  if (negative) {
    negate(r, qh, ql);
    qh = r[NEG]!;
    ql = r[NEG + 1]!;
  }
  r[2 * d] = qh;
  r[2 * d + 1] = ql;
}

/**
 * Pressure in Q24.8 Pa (§4.2.3, "BME280_compensate_P_int64"; 24674867 means 96386.2 Pa), bit-exact with the
 * int64_t reference. Returns the low 32 bits (the reference's uint32 cast) as an int32; any real pressure
 * (< 8388608 Pa) is positive. `r` is the int64 scratch (PRESSURE64_SCRATCH words): hot callers pass one made once; the
 * default makes one per call.
 */
export function compensatePressure64(
  c: Calibration,
  tFine: number,
  adcP: number,
  r: Int32Array = new Int32Array(PRESSURE64_SCRATCH),
): number {
  load(r, V1, tFine);
  load(r, SCRATCH, -128000);
  add(r, V1, V1, SCRATCH);
  mul(r, V2, V1, V1);
  mulInt(r, V2, V2, c.digP6);
  mulInt(r, P, V1, c.digP5);
  shl(r, P, P, 17);
  add(r, V2, V2, P);
  load(r, P, c.digP4);
  shl(r, P, P, 35);
  add(r, V2, V2, P);
  mul(r, P, V1, V1);
  mulInt(r, P, P, c.digP3);
  sar(r, P, P, 8);
  mulInt(r, V1, V1, c.digP2);
  shl(r, V1, V1, 12);
  add(r, V1, P, V1);
  r[2 * P] = 1 << 15;
  r[2 * P + 1] = 0; // 1 << 47
  add(r, V1, P, V1);
  mulInt(r, V1, V1, c.digP1);
  sar(r, V1, V1, 33);
  if (r[2 * V1] === 0 && r[2 * V1 + 1] === 0) return 0; // the reference's guard against division by zero
  load(r, P, (1048576 - adcP) | 0);
  shl(r, P, P, 31);
  sub(r, P, P, V2);
  mulInt(r, P, P, 3125);
  div(r, P, P, V1);
  sar(r, V2, P, 13);
  mul(r, V1, V2, V2);
  mulInt(r, V1, V1, c.digP9);
  sar(r, V1, V1, 25);
  mulInt(r, V2, P, c.digP8);
  sar(r, V2, V2, 19);
  add(r, P, P, V1);
  add(r, P, P, V2);
  sar(r, P, P, 8);
  load(r, V1, c.digP7);
  shl(r, V1, V1, 4);
  add(r, P, P, V1);
  return r[2 * P + 1]!;
}

/** Unsigned 32-bit division of bit patterns held in int32s (n / d, d ≠ 0), without leaving int32. */
function udiv32(n: number, d: number): number {
  let q = 0,
    r = 0;
  for (let i = 31; i >= 0; i--) {
    const lost = r >> 31;
    r = (r << 1) | ((n >> i) & 1);
    if (lost !== 0 || (r ^ SIGN) >= (d ^ SIGN)) {
      r = (r - d) | 0;
      q |= 1 << i;
    }
  }
  return q;
}

/**
 * Pressure in whole Pa (§8.2, "BME280_compensate_P_int32": the 32-bit variant, resolution 1 Pa, which the
 * datasheet states is less accurate than the 64-bit one). Returns the uint32 result as an int32.
 */
export function compensatePressure32(c: Calibration, tFine: number, adcP: number): number {
  let var1 = ((tFine >> 1) - 64000) | 0;
  const q = var1 >> 2;
  const qq = Math.imul(q, q);
  let var2 = Math.imul(qq >> 11, c.digP6);
  var2 = (var2 + (Math.imul(var1, c.digP5) << 1)) | 0;
  var2 = ((var2 >> 2) + (c.digP4 << 16)) | 0;
  var1 = ((Math.imul(c.digP3, qq >> 13) >> 3) + (Math.imul(c.digP2, var1) >> 1)) >> 18;
  var1 = Math.imul((32768 + var1) | 0, c.digP1) >> 15;
  if (var1 === 0) return 0;
  let p = Math.imul((1048576 - adcP - (var2 >> 12)) | 0, 3125);
  p = p >= 0 ? udiv32(p << 1, var1) : udiv32(p, var1) << 1; // "p < 0x80000000" on the uint32
  const r = p >>> 3;
  var1 = Math.imul(c.digP9, Math.imul(r, r) >>> 13) >> 12;
  var2 = Math.imul(p >>> 2, c.digP8) >> 13;
  return (p + ((var1 + var2 + c.digP7) >> 4)) | 0;
}
