// SHT4x command set, timing and conversions (Sensirion SHT4x datasheet: command overview §4.5, timing Table 4, conversion §4.6); shared by driver and model.

/** I2C addresses: 0x44, 0x45 or 0x46, fixed by the product variant ordered (datasheet, I2C address per variant). The first is the default. */
export const ADDRESSES: readonly number[] = Object.freeze([0x44, 0x45, 0x46]);

/** One-byte commands (§4.5, Table 9 "Overview of I2C commands"). */
export const Command = Object.freeze({
  /** Measure T and RH with high / medium / low precision (repeatability). */
  measureHigh: 0xfd,
  measureMedium: 0xf6,
  measureLow: 0xe0,
  /** Read the 32-bit serial number as two CRC-protected words (§4.8). */
  serialNumber: 0x89,
  /** Soft reset (§4.9). */
  softReset: 0x94,
  /** Heater pulse, then a high-precision measurement (§4.10): power (mW) and duration. */
  heater200mW1s: 0x39,
  heater200mW100ms: 0x32,
  heater110mW1s: 0x2f,
  heater110mW100ms: 0x24,
  heater20mW1s: 0x1e,
  heater20mW100ms: 0x15,
});

export type Precision = "high" | "medium" | "low";
export type HeaterPower = 200 | 110 | 20;
export type HeaterDuration = 1000 | 100;

export const MEASURE: Readonly<Record<Precision, number>> = Object.freeze({
  high: Command.measureHigh,
  medium: Command.measureMedium,
  low: Command.measureLow,
});
/** Maximum measurement duration, ms (Table 4: t_MEAS,h 8.3, t_MEAS,m 4.5, t_MEAS,l 1.6). */
export const MeasurementMs: Readonly<Record<Precision, number>> = Object.freeze({ high: 8.3, medium: 4.5, low: 1.6 });
/** Maximum heater-on time plus the measurement that follows, ms (Table 4: 1.1 s and 0.11 s pulses). */
export const HeaterMs: Readonly<Record<HeaterDuration, number>> = Object.freeze({ 1000: 1100 + 8.3, 100: 110 + 8.3 });
/** Soft reset time, max (Table 4: t_SR 1 ms). */
export const ResetMs = 1;
/** Operating range of the temperature output, °C (§2.2). */
export const TemperatureRange = Object.freeze({ min: -40, max: 125 });

export const HEATER_POWERS: readonly HeaterPower[] = Object.freeze([200, 110, 20]);
export const HEATER_DURATIONS: readonly HeaterDuration[] = Object.freeze([1000, 100]);

/** The heater command for a power and duration (§4.5, Table 9). */
export function heaterCommand(power: HeaterPower, duration: HeaterDuration): number {
  const long = duration === 1000;
  if (power === 200) return long ? Command.heater200mW1s : Command.heater200mW100ms;
  if (power === 110) return long ? Command.heater110mW1s : Command.heater110mW100ms;
  return long ? Command.heater20mW1s : Command.heater20mW100ms;
}

/** Raw 16-bit ticks to physical units (§4.6): T = −45 + 175·S/65535; RH = −6 + 125·S/65535, cropped to 0–100 %RH. */
export function ticksToCelsius(ticks: number): number {
  return -45 + (175 * ticks) / 65535;
}
export function ticksToPercent(ticks: number): number {
  const rh = -6 + (125 * ticks) / 65535;
  return rh < 0 ? 0 : rh > 100 ? 100 : rh;
}
