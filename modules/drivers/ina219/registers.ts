// TI INA219 register map, fields, timing and calibration (datasheet SBOS448: registers §8.6, calibration §8.5); shared by driver and model.

/** I2C addresses: A0 and A1 each tied to GND, VS+, SDA or SCL → 0x40 to 0x4F (datasheet, "Address Pins" table). The first is the default. */
export const ADDRESSES: readonly number[] = Object.freeze([
  0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f,
]);

/** Register pointers (§8.6.1, Table 3); 16 bits each, MSB first. */
export const Register = Object.freeze({
  /** RST[15], BRNG[13], PG[12:11], BADC[10:7], SADC[6:3], MODE[2:0] (§8.6.2.1). Reset value 0x399F. */
  configuration: 0x00,
  /** Signed, LSB 10 µV (§8.6.3.1). */
  shuntVoltage: 0x01,
  /** BD[15:3] LSB 4 mV, CNVR[1], OVF[0] (§8.6.3.2). */
  busVoltage: 0x02,
  /** LSB 20 × Current_LSB (§8.6.3.3). */
  power: 0x03,
  /** Signed, LSB Current_LSB (§8.6.3.4). */
  current: 0x04,
  /** FS[15:1]; bit 0 is always 0 (§8.6.3.5). */
  calibration: 0x05,
});

export const Configuration = Object.freeze({ reset: 1 << 15, resetValue: 0x399f, busRange32V: 1 << 13 });
/** Bus voltage register flags (§8.6.3.2): conversion ready (cleared by reading Power or writing Configuration) and math overflow. */
export const BusFlags = Object.freeze({ conversionReady: 1 << 1, overflow: 1 << 0 });
export const Mode = Object.freeze({ powerDown: 0, bothTriggered: 3, bothContinuous: 7 });

/** Shunt full-scale ±V by PG[12:11] (§8.6.2.1, Table 4: gain /1 40 mV … /8 320 mV). */
export const SHUNT_RANGES: readonly number[] = Object.freeze([0.04, 0.08, 0.16, 0.32]);
/** Samples averaged by BADC/SADC 1001..1111 (12-bit); 0011 is one 12-bit sample (§8.6.2.1, Table 5). */
export const AVERAGES: readonly number[] = Object.freeze([1, 2, 4, 8, 16, 32, 64, 128]);
/** ADC field value for a number of 12-bit samples (0011 for one, 1001.. for 2..128). */
export function adcCode(samples: number): number {
  return samples === 1 ? 0b0011 : 0b1000 | AVERAGES.indexOf(samples);
}
/** Conversion time, ms, of one channel with that many 12-bit samples (Table 5: 532 µs, 1.06, 2.13, … 68.10 ms). */
export const ADC_MS: readonly number[] = Object.freeze([0.532, 1.06, 2.13, 4.26, 8.51, 17.02, 34.05, 68.1]);

export const ShuntLsb = 10e-6;
export const BusLsb = 4e-3;
/** Power_LSB / Current_LSB (§8.5.1: Power_LSB = 20 × Current_LSB). */
export const PowerRatio = 20;

/** §8.5.1, Equation 2: Minimum_LSB = Max_Expected_I / 32767, the finest Current_LSB, A/bit. */
export function currentLsbFor(maxCurrent: number): number {
  return maxCurrent / 32767;
}

/**
 * §8.5.1, Equation 1: Cal = trunc(0.04096 / (Current_LSB × R_SHUNT)), bit 0 cleared (the register ignores it).
 * The small margin keeps paper integers (4096 for 100 µA and 0.1 Ω) from truncating one low in floating point.
 */
export function calibrationValue(currentLsb: number, shunt: number): number {
  const cal = Math.floor(0.04096 / (currentLsb * shunt) + 1e-7);
  return cal - (cal % 2);
}
