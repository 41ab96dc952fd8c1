// BME280/BMP280 register map, fields and timing (Bosch BME280 datasheet BST-BME280-DS002 §5, §9; BMP280 BST-BMP280-DS001 §4); shared by driver and model.

/** I2C addresses: SDO to GND → 0x76, to VDDIO → 0x77 (datasheet §6.2, I2C interface). The first is the default. */
export const ADDRESSES: readonly number[] = Object.freeze([0x76, 0x77]);

/** Register addresses (§5.3, Table 18). */
export const Register = Object.freeze({
  /** 0x88..0xA1: dig_T1..dig_P9 and dig_H1 (§4.2.2, Table 16). */
  calibration: 0x88,
  chipId: 0xd0,
  /** Write 0xB6 for a complete power-on reset (§5.4.2). */
  reset: 0xe0,
  /** 0xE1..0xE7: dig_H2..dig_H6, BME280 only (§4.2.2, Table 16). */
  humidityCalibration: 0xe1,
  /** osrs_h[2:0]; takes effect only after the next write to ctrl_meas (§5.4.3). BME280 only. */
  controlHumidity: 0xf2,
  /** measuring[3], im_update[0] (§5.4.4). */
  status: 0xf3,
  /** osrs_t[7:5], osrs_p[4:2], mode[1:0] (§5.4.5). */
  controlMeasurement: 0xf4,
  /** t_sb[7:5], filter[4:2], spi3w_en[0]; writes in normal mode may be ignored (§5.4.6). */
  config: 0xf5,
  /** press_msb..hum_lsb: 0xF7..0xFE (§5.4.7–5.4.9): pressure and temperature 20 bit, humidity 16 bit. */
  data: 0xf7,
});

export const ChipId = Object.freeze({ bme280: 0x60, bmp280: 0x58 });
export const ResetCommand = 0xb6;

/** Status bits (§5.4.4). */
export const Status = Object.freeze({ measuring: 1 << 3, imageUpdate: 1 << 0 });

/** mode[1:0] (§5.4.5, Table 25): 01 and 10 are both forced mode. */
export const Mode = Object.freeze({ sleep: 0, forced: 1, normal: 3 });
export type ModeName = "sleep" | "forced" | "normal";

/** Oversampling factor by osrs field value (§5.4.3, Table 20; 0 = measurement skipped, ≥5 = ×16). */
export const OVERSAMPLING: readonly number[] = Object.freeze([0, 1, 2, 4, 8, 16]);
/** IIR filter coefficient by filter field value (§5.4.6, Table 28; 0 = off, ≥4 = 16). */
export const FILTER: readonly number[] = Object.freeze([0, 2, 4, 8, 16]);
/** t_standby in ms by t_sb field value: BME280 §5.4.6 Table 27, BMP280 §4.3.5 Table 21 (differs at 6 and 7). */
export const STANDBY_BME280: readonly number[] = Object.freeze([0.5, 62.5, 125, 250, 500, 1000, 10, 20]);
export const STANDBY_BMP280: readonly number[] = Object.freeze([0.5, 62.5, 125, 250, 500, 1000, 2000, 4000]);

/** Value a data register holds when its measurement was skipped or never made (§5.4.7–5.4.9, reset values). */
export const Skipped = Object.freeze({ temperature: 0x80000, pressure: 0x80000, humidity: 0x8000 });

/** Start-up time after power-on or soft reset, ms (§1, Table 1: t_startup 2 ms). */
export const StartupMs = 2;

/**
 * Maximum measurement time, ms, for oversampling factors (0 = skipped) (§9.1):
 * t_max = 1.25 + 2.3·T + (2.3·P + 0.575) + (2.3·H + 0.575), the P and H terms only when measured.
 */
export function measurementTimeMs(temperature: number, pressure: number, humidity: number): number {
  return (
    1.25 +
    (temperature ? 2.3 * temperature : 0) +
    (pressure ? 2.3 * pressure + 0.575 : 0) +
    (humidity ? 2.3 * humidity + 0.575 : 0)
  );
}

/** Field value for an oversampling factor, -1 when it is not one (§5.4.3, Table 20). */
export function oversamplingCode(factor: number): number {
  return OVERSAMPLING.indexOf(factor);
}
