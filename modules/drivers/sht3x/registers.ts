// SHT3x command set and status bits (Sensirion SHT3x-DIS datasheet §4.3–4.11); shared by driver and model.

/** I2C addresses: ADDR pin low → 0x44, high → 0x45 (datasheet, "I2C device address" table). The first is the default. */
export const ADDRESSES: readonly number[] = Object.freeze([0x44, 0x45]);

export const Command = Object.freeze({
  /** Single shot, clock stretching disabled (§4.3, Table 9): repeatability high / medium / low. */
  singleShotHigh: 0x2400,
  singleShotMedium: 0x240b,
  singleShotLow: 0x2416,
  /** Single shot with clock stretching enabled (§4.3, Table 9). */
  stretchHigh: 0x2c06,
  stretchMedium: 0x2c0d,
  stretchLow: 0x2c10,
  /** Soft reset (§4.9). */
  softReset: 0x30a2,
  /** Heater on / off (§4.10). */
  heaterEnable: 0x306d,
  heaterDisable: 0x3066,
  /** Read and clear the status register (§4.11). */
  readStatus: 0xf32d,
  clearStatus: 0x3041,
  /** Stop periodic acquisition (§4.8). */
  break: 0x3093,
});

/** Status register bits (§4.11, Table 17). */
export const Status = Object.freeze({
  alertPending: 1 << 15,
  heaterOn: 1 << 13,
  humidityAlert: 1 << 11,
  temperatureAlert: 1 << 10,
  resetDetected: 1 << 4,
  commandFailed: 1 << 1,
  writeChecksumFailed: 1 << 0,
  /** Value after power-up or reset. */
  resetValue: 0x8010,
});

export type Repeatability = "high" | "medium" | "low";

/** Maximum measurement duration in ms per repeatability (§2.2, Table 4: 15.5 / 6.5 / 4.5 ms). */
export const MeasurementMs = Object.freeze({ high: 15.5, medium: 6.5, low: 4.5 });
/** Soft reset time, max (§2.2, Table 4: 1.5 ms). */
export const ResetMs = 1.5;

/** Raw 16-bit ticks to physical units (§4.13). */
export function ticksToCelsius(ticks: number): number {
  return -45 + (175 * ticks) / 65535;
}
export function ticksToPercent(ticks: number): number {
  return (100 * ticks) / 65535;
}

/** Raw ticks to fixed point: hundredths of °C and hundredths of %RH, integer math (exact ≤ 2^53). */
export function ticksToCentiCelsius(ticks: number): number {
  return (((17500 * ticks + 32767) / 65535) | 0) - 4500;
}
export function ticksToCentiPercent(ticks: number): number {
  return ((10000 * ticks + 32767) / 65535) | 0;
}
