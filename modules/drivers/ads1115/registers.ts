// TI ADS1115 register map, config fields, scaling and timing (datasheet SBAS444: §9.3.2 Table 3, §9.6 registers); shared by driver and model.

/** I2C addresses: ADDR tied to GND, VDD, SDA or SCL → 0x48 to 0x4B (datasheet, "ADDR Pin Connection" table). The first is the default. */
export const ADDRESSES: readonly number[] = Object.freeze([0x48, 0x49, 0x4a, 0x4b]);

/** Address pointer values (§9.6.1, Table 6). */
export const Register = Object.freeze({ conversion: 0, config: 1, lowThreshold: 2, highThreshold: 3 });

/** Config register fields (§9.6.3, Table 8). Reset value 0x8583. */
export const Config = Object.freeze({
  /** Write 1: start a single conversion; read 0: converting, 1: idle. */
  start: 1 << 15,
  resetValue: 0x8583,
  /** MODE: 1 single-shot / power-down (reset), 0 continuous. */
  singleShot: 1 << 8,
  /** COMP_QUE 11: comparator and ALERT/RDY disabled (reset); 00: assert after one conversion. */
  comparatorDisabled: 0b11,
});
/** Threshold reset values; Hi_thresh MSB 1 with Lo_thresh MSB 0 turns ALERT/RDY into a conversion-ready pin (§9.3.8). */
export const Threshold = Object.freeze({ lowReset: 0x8000, highReset: 0x7fff, readyLow: 0x0000, readyHigh: 0x8000 });

/** MUX[14:12] by input (§9.6.3): differential pairs, then single-ended against GND. */
export const MUX: Readonly<Record<string, number>> = Object.freeze({
  "0-1": 0,
  "0-3": 1,
  "1-3": 2,
  "2-3": 3,
  "0": 4,
  "1": 5,
  "2": 6,
  "3": 7,
});
/** Full-scale range ±V by PGA[11:9] (§9.3.2 Table 3; codes 101–111 are all ±0.256 V). */
export const FULL_SCALE: readonly number[] = Object.freeze([6.144, 4.096, 2.048, 1.024, 0.512, 0.256]);
/** Samples per second by DR[7:5] (§9.6.3). */
export const DATA_RATES: readonly number[] = Object.freeze([8, 16, 32, 64, 128, 250, 475, 860]);

/** LSB size in V for a full-scale range: FSR / 2^15 (§9.3.2 Table 3: 187.5 µV at ±6.144 V … 7.8125 µV at ±0.256 V). */
export function lsbVolts(fullScale: number): number {
  return fullScale / 32768;
}

/** A signed 16-bit conversion code to volts (§9.3.3: codes saturate at 0x7FFF and 0x8000). */
export function codeToVolts(code: number, fullScale: number): number {
  return code * (fullScale / 32768);
}

/** Nominal conversion time, ms, at a data rate (1 / DR; the internal oscillator is within ±10 %, §7.5). */
export function conversionMs(dataRate: number): number {
  return 1000 / dataRate;
}
