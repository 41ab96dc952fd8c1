// ADXL345 register map, bit fields and scale factors (Analog Devices ADXL345 data sheet Rev. E); shared by driver and model.

/** Register addresses ("Register Map", Table 19). */
export const Register = Object.freeze({
  devid: 0x00,
  ofsx: 0x1e,
  ofsy: 0x1f,
  ofsz: 0x20,
  actTapStatus: 0x2b,
  bwRate: 0x2c,
  powerCtl: 0x2d,
  intEnable: 0x2e,
  intMap: 0x2f,
  intSource: 0x30,
  dataFormat: 0x31,
  /** DATAX0 … DATAZ1: six bytes, x/y/z, each little-endian two's complement ("Register 0x32 to Register 0x37"). */
  dataX0: 0x32,
  fifoCtl: 0x38,
  fifoStatus: 0x39,
});

/** The fixed device id in DEVID ("Register 0x00—DEVID"). */
export const DEVICE_ID = 0xe5;

/** I2C addresses: ALT ADDRESS pin low → 0x53, high → 0x1D ("Serial Communications", I2C). */
export const ADDRESSES: readonly number[] = Object.freeze([0x53, 0x1d]);

/** Reset values that are not 0x00 (Table 19): DEVID 0xE5, BW_RATE 0x0A (100 Hz), INT_SOURCE 0x02. */
export const ResetValue = Object.freeze({ bwRate: 0x0a, intSource: 0x02 });

/** BW_RATE: LOW_POWER bit 4, rate code bits 3:0 ("Register 0x2C—BW_RATE", Table 7). */
export const BwRate = Object.freeze({ lowPower: 1 << 4, rateMask: 0x0f });

/** POWER_CTL bits ("Register 0x2D—POWER_CTL"): Measure (bit 3) starts sampling; 0 is standby. */
export const PowerCtl = Object.freeze({ link: 1 << 5, autoSleep: 1 << 4, measure: 1 << 3, sleep: 1 << 2 });

/** INT_ENABLE / INT_MAP / INT_SOURCE bits ("Register 0x2E—INT_ENABLE" … "Register 0x30—INT_SOURCE"). */
export const Int = Object.freeze({
  dataReady: 1 << 7,
  singleTap: 1 << 6,
  doubleTap: 1 << 5,
  activity: 1 << 4,
  inactivity: 1 << 3,
  freeFall: 1 << 2,
  watermark: 1 << 1,
  overrun: 1 << 0,
});

/** DATA_FORMAT bits ("Register 0x31—DATA_FORMAT"): range in bits 1:0 (Table 21: ±2, ±4, ±8, ±16 g). */
export const DataFormat = Object.freeze({
  selfTest: 1 << 7,
  spi: 1 << 6,
  intInvert: 1 << 5,
  fullResolution: 1 << 3,
  justify: 1 << 2,
  rangeMask: 0x03,
});

/** FIFO_CTL: mode in bits 7:6 (Table 22), trigger bit 5, samples (watermark) in bits 4:0 ("Register 0x38—FIFO_CTL"). */
export const FifoCtl = Object.freeze({
  bypass: 0 << 6,
  fifo: 1 << 6,
  stream: 2 << 6,
  trigger: 3 << 6,
  modeMask: 3 << 6,
  triggerInt2: 1 << 5,
  samplesMask: 0x1f,
});

/** FIFO_STATUS: FIFO_TRIG bit 7, entries in bits 5:0 ("Register 0x39—FIFO_STATUS"). */
export const FifoStatus = Object.freeze({ trigger: 1 << 7, entriesMask: 0x3f });

/** FIFO depth: 32 samples of x, y and z ("FIFO"). */
export const FIFO_DEPTH = 32;

export type Range = 2 | 4 | 8 | 16;
export const RANGES: readonly Range[] = Object.freeze([2, 4, 8, 16]);

/**
 * Output data rates, Hz, by BW_RATE code (Table 7): code 0x0F is 3200 Hz and each code below halves the rate
 * (0x0E 1600 … 0x06 6.25). Rates below 6.25 Hz are not offered: a vibration window would take minutes.
 */
export const RATES: readonly number[] = Object.freeze([3200, 1600, 800, 400, 200, 100, 50, 25, 12.5, 6.25]);
export function rateCode(hz: number): number {
  return 0x0f - RATES.indexOf(hz);
}
export function codeRate(code: number): number {
  return 3200 / 2 ** (0x0f - (code & 0x0f));
}

/**
 * Counts per g (Table 1, "Sensitivity at XOUT, YOUT, ZOUT"): full resolution keeps 256 LSB/g (3.9 mg/LSB) on every
 * range, adding bits as the range grows; fixed 10-bit mode gives 256, 128, 64, 32 LSB/g at ±2, ±4, ±8, ±16 g.
 */
export function countsPerG(range: Range, fullResolution: boolean): number {
  return fullResolution ? 256 : 256 / (range / 2);
}

/** Output word width in bits: 10 in fixed mode; 10, 11, 12, 13 at ±2 … ±16 g in full resolution ("Register 0x31"). */
export function outputBits(range: Range, fullResolution: boolean): number {
  return fullResolution ? 9 + Math.log2(range) : 10;
}

export function rangeCode(range: Range): number {
  return RANGES.indexOf(range);
}
