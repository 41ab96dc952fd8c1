// TI INA226 register map, fields, timing and calibration (datasheet SBOS547: registers §7.6, programming §7.5); shared by driver and model.

/** I2C addresses: A0 and A1 each tied to GND, VS, SDA or SCL → 0x40 to 0x4F (datasheet, "Address Pins" table). The first is the default. */
export const ADDRESSES: readonly number[] = Object.freeze([
  0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f,
]);

/** Register pointers (§7.6, Table 2 "Register Map"); each register is 16 bits, MSB first. */
export const Register = Object.freeze({
  /** RST[15], AVG[11:9], VBUSCT[8:6], VSHCT[5:3], MODE[2:0] (§7.6.1). Reset value 0x4127. */
  configuration: 0x00,
  /** Signed, LSB 2.5 µV (§7.6.2). */
  shuntVoltage: 0x01,
  /** LSB 1.25 mV (§7.6.3). */
  busVoltage: 0x02,
  /** LSB 25 × Current_LSB (§7.6.4). */
  power: 0x03,
  /** Signed, LSB Current_LSB (§7.6.5). */
  current: 0x04,
  /** CAL[14:0] (§7.6.6). */
  calibration: 0x05,
  /** Alert functions and flags (§7.6.7). */
  maskEnable: 0x06,
  alertLimit: 0x07,
  manufacturerId: 0xfe,
  dieId: 0xff,
});

export const Configuration = Object.freeze({ reset: 1 << 15, resetValue: 0x4127, fixedBits: 0x4000 });
/** Mask/Enable bits (§7.6.7). */
export const MaskEnable = Object.freeze({
  conversionReadyAlert: 1 << 10,
  alertFunctionFlag: 1 << 4,
  conversionReady: 1 << 3,
  overflow: 1 << 2,
  alertPolarity: 1 << 1,
  latch: 1 << 0,
});
/** Manufacturer id "TI" and die id 0x226 with its revision in bits 3:0 (§7.6.9, §7.6.10). */
export const Ids = Object.freeze({ manufacturer: 0x5449, die: 0x2260 });

/** MODE[2:0] (§7.6.1, Table 9). */
export const Mode = Object.freeze({
  powerDown: 0,
  shuntTriggered: 1,
  busTriggered: 2,
  bothTriggered: 3,
  shuntContinuous: 5,
  busContinuous: 6,
  bothContinuous: 7,
});
/** Samples averaged by AVG[11:9] (§7.6.1, Table 6). */
export const AVERAGES: readonly number[] = Object.freeze([1, 4, 16, 64, 128, 256, 512, 1024]);
/** Conversion time in ms by VBUSCT / VSHCT (§7.6.1, Tables 7 and 8). */
export const CONVERSION_MS: readonly number[] = Object.freeze([0.14, 0.204, 0.332, 0.588, 1.1, 2.116, 4.156, 8.244]);

/** LSBs (§7.6.2, §7.6.3) and the full-scale shunt voltage (±81.92 mV, §7.1). */
export const ShuntLsb = 2.5e-6;
export const BusLsb = 1.25e-3;
export const ShuntFullScale = 0.08192;
/** Power_LSB / Current_LSB (§7.5: "internally programmed" to 25). */
export const PowerRatio = 25;

/** Equation 2 (§7.5): the finest Current_LSB for a maximum expected current, A/bit. */
export function currentLsbFor(maxCurrent: number): number {
  return maxCurrent / 32768;
}

/**
 * Equation 1 (§7.5): CAL = trunc(0.00512 / (Current_LSB × R_SHUNT)). The tiny margin keeps results that
 * are integers on paper (2560 for 1 mA and 2 mΩ) from truncating to one less in binary floating point.
 */
export function calibrationValue(currentLsb: number, shunt: number): number {
  return Math.floor(0.00512 / (currentLsb * shunt) + 1e-7);
}

/** Time for one averaged shunt + bus result, ms (§7.3.1: conversions alternate, then average). */
export function conversionTimeMs(averages: number, shuntMs: number, busMs: number): number {
  return averages * (shuntMs + busMs);
}
