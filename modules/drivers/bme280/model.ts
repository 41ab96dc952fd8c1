// Register-level model of a Bosch BME280 (or BMP280) on a simulated I2C bus: registers, NVM trimming, modes, timing, IIR filter, faults.
import { I2CNack, type I2CDeviceModel } from "telltale/sim/i2c-bus";
import type { Calibration } from "telltale/drivers/bme280/compensation";
import {
  Register,
  ChipId,
  ResetCommand,
  Status,
  Mode,
  OVERSAMPLING,
  FILTER,
  STANDBY_BME280,
  STANDBY_BMP280,
  Skipped,
  StartupMs,
  measurementTimeMs,
} from "telltale/drivers/bme280/registers";

/** The air the chip measures. */
export interface BME280Environment {
  /** °C at time `now` (ms). */
  temperature(now: number): number;
  /** hPa at time `now`. */
  pressure(now: number): number;
  /** %RH at time `now` (ignored by a BMP280). */
  humidity(now: number): number;
}

/** Faults a test or the simulator can inject. */
export interface BME280Faults {
  /** NACK every transfer. */
  nack: boolean;
  /** Data registers stop updating (a stuck converter). */
  frozen: boolean;
  /** Every conversion yields the skipped-measurement values 0x80000 / 0x8000. */
  outOfRange: boolean;
  /** Answer this chip id instead of the real one (a different part at the address). */
  chipId: number | undefined;
}

export interface BME280ModelOptions {
  environment: BME280Environment;
  /** Which part (default "bme280"): a BMP280 has no humidity. */
  chip?: "bme280" | "bmp280";
  /** Trimming parameters in NVM (default EXAMPLE_CALIBRATION). */
  calibration?: Calibration;
}

/**
 * Plausible trimming parameters: T and P are the worked example of the BMP280 datasheet (§3.12, Table 16),
 * H values typical of production BME280 parts.
 */
export const EXAMPLE_CALIBRATION: Calibration = Object.freeze({
  digT1: 27504,
  digT2: 26435,
  digT3: -1000,
  digP1: 36477,
  digP2: -10685,
  digP3: 3024,
  digP4: 2855,
  digP5: 140,
  digP6: -7,
  digP7: 15500,
  digP8: -14600,
  digP9: 6000,
  digH1: 75,
  digH2: 362,
  digH3: 0,
  digH4: 313,
  digH5: 50,
  digH6: 30,
});

/** The NVM image of `c`: 26 bytes for 0x88..0xA1 and 7 for 0xE1..0xE7 (§4.2.2, Table 16). */
export function encodeCalibration(c: Calibration): { tp: Uint8Array; humidity: Uint8Array } {
  const tp = new Uint8Array(26);
  const words = [
    c.digT1,
    c.digT2,
    c.digT3,
    c.digP1,
    c.digP2,
    c.digP3,
    c.digP4,
    c.digP5,
    c.digP6,
    c.digP7,
    c.digP8,
    c.digP9,
  ];
  words.forEach((w, i) => {
    tp[2 * i] = w & 0xff;
    tp[2 * i + 1] = (w >> 8) & 0xff;
  });
  tp[25] = c.digH1 & 0xff;
  const humidity = Uint8Array.of(
    c.digH2 & 0xff,
    (c.digH2 >> 8) & 0xff,
    c.digH3 & 0xff,
    (c.digH4 >> 4) & 0xff,
    (c.digH4 & 0x0f) | ((c.digH5 & 0x0f) << 4),
    (c.digH5 >> 4) & 0xff,
    c.digH6 & 0xff,
  );
  return { tp, humidity };
}

// Compensation in double precision (§8.1): the model's "physics", inverted numerically to produce raw values.
function fineOf(c: Calibration, adcT: number): number {
  const a = adcT / 16384 - c.digT1 / 1024,
    b = adcT / 131072 - c.digT1 / 8192;
  return a * c.digT2 + b * b * c.digT3;
}
function pascalOf(c: Calibration, tFine: number, adcP: number): number {
  let var1 = tFine / 2 - 64000;
  let var2 = (var1 * var1 * c.digP6) / 32768;
  var2 = var2 + var1 * c.digP5 * 2;
  var2 = var2 / 4 + c.digP4 * 65536;
  var1 = ((c.digP3 * var1 * var1) / 524288 + c.digP2 * var1) / 524288;
  var1 = (1 + var1 / 32768) * c.digP1;
  if (var1 === 0) return 0;
  let p = 1048576 - adcP;
  p = ((p - var2 / 4096) * 6250) / var1;
  return p + ((c.digP9 * p * p) / 2147483648 + (p * c.digP8) / 32768 + c.digP7) / 16;
}
function percentOf(c: Calibration, tFine: number, adcH: number): number {
  let h = tFine - 76800;
  h =
    (adcH - (c.digH4 * 64 + (c.digH5 / 16384) * h)) *
    ((c.digH2 / 65536) * (1 + (c.digH6 / 67108864) * h * (1 + (c.digH3 / 67108864) * h)));
  return h * (1 - (c.digH1 * h) / 524288);
}
/** The raw value in [0, max] whose compensated value is closest to `target` (f monotonic). */
function invert(f: (raw: number) => number, target: number, max: number): number {
  let lo = 0,
    hi = max;
  const rising = f(max) > f(0);
  while (hi - lo > 0.25) {
    const mid = (lo + hi) / 2;
    if (f(mid) < target === rising) lo = mid;
    else hi = mid;
  }
  return Math.round((lo + hi) / 2);
}

const RAW20 = 0xfffff;

export class BME280Model implements I2CDeviceModel {
  readonly faults: BME280Faults = { nack: false, frozen: false, outOfRange: false, chipId: undefined };
  /** The register file; tests may read it. */
  readonly registers = new Uint8Array(256);
  /** Counts, for tests. */
  measurements = 0;
  resets = 0;

  readonly #environment: BME280Environment;
  readonly #humidity: boolean;
  readonly #calibration: Calibration;
  #pointer = 0;
  #busyUntil = 0;
  /** Forced conversion in progress: its end, or -1. */
  #forcedDoneAt = -1;
  /** Normal mode: when cycling began, or -1; and how many cycles have updated the data registers. */
  #normalStart = -1;
  #cycles = 0;
  /** osrs_h as latched by the last ctrl_meas write (§5.4.3). */
  #humidityOversampling = 0;
  #filtered = new Float64Array(2);
  #filterPrimed = false;

  constructor(options: BME280ModelOptions) {
    this.#environment = options.environment;
    this.#humidity = (options.chip ?? "bme280") === "bme280";
    this.#calibration = options.calibration ?? EXAMPLE_CALIBRATION;
    const nvm = encodeCalibration(this.#calibration);
    this.registers.set(nvm.tp, Register.calibration);
    if (this.#humidity) this.registers.set(nvm.humidity, Register.humidityCalibration);
    this.#reset();
  }

  /** Time one conversion takes with the current settings, ms (§9.1, maximum). */
  get measurementMs(): number {
    const m = this.registers[Register.controlMeasurement]!;
    return measurementTimeMs(
      OVERSAMPLING[Math.min(5, m >> 5)]!,
      OVERSAMPLING[Math.min(5, (m >> 2) & 7)]!,
      this.#humidity ? OVERSAMPLING[Math.min(5, this.#humidityOversampling)]! : 0,
    );
  }

  write(bytes: Uint8Array, now: number): void {
    this.#access(now);
    if (bytes.length === 0) return;
    // Writes are register/data pairs (§6.2.1); a lone register address sets the read pointer.
    let i = 0;
    for (; i + 1 < bytes.length; i += 2) this.#write(bytes[i]!, bytes[i + 1]!, now);
    this.#pointer = i < bytes.length ? bytes[i]! : bytes[i - 2]!;
  }

  read(count: number, now: number): Uint8Array {
    this.#access(now);
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = this.#read((this.#pointer + i) & 0xff, now);
    this.#pointer = (this.#pointer + count) & 0xff;
    return out;
  }

  #access(now: number): void {
    if (this.faults.nack) throw new I2CNack("BME280 model: NACK (injected)");
    if (now < this.#busyUntil) throw new I2CNack("BME280 model: NACK (starting up after reset)");
    this.#advance(now);
  }

  #read(register: number, now: number): number {
    if (register === Register.chipId) return this.faults.chipId ?? (this.#humidity ? ChipId.bme280 : ChipId.bmp280);
    if (register === Register.status) return this.#measuring(now) ? Status.measuring : 0;
    if (
      !this.#humidity &&
      (register === Register.controlHumidity || register >= 0xfd || (register >= 0xe1 && register <= 0xe7))
    )
      return 0;
    return this.registers[register]!;
  }

  #write(register: number, value: number, now: number): void {
    const r = this.registers;
    switch (register) {
      case Register.reset:
        if (value === ResetCommand) {
          this.#reset();
          this.resets++;
          this.#busyUntil = now + StartupMs;
        }
        break;
      case Register.controlHumidity:
        if (this.#humidity) r[register] = value & 0x07;
        break;
      case Register.controlMeasurement: {
        if (this.#forcedDoneAt >= 0) break; // busy with a forced conversion: the write is not taken
        r[register] = value;
        this.#humidityOversampling = r[Register.controlHumidity]! & 0x07;
        const mode = value & 3;
        this.#normalStart = -1;
        if (mode === Mode.normal) {
          this.#normalStart = now;
          this.#cycles = 0;
        } else if (mode !== Mode.sleep) this.#forcedDoneAt = now + this.measurementMs;
        break;
      }
      case Register.config:
        if ((r[Register.controlMeasurement]! & 3) === Mode.normal) break; // ignored in normal mode (§5.4.6)
        if (((value >> 2) & 7) !== ((r[register]! >> 2) & 7)) this.#filterPrimed = false;
        r[register] = value & 0xfd;
        break;
      default: // read-only
    }
  }

  #reset(): void {
    const r = this.registers;
    r[Register.reset] = 0;
    r[Register.controlHumidity] = 0;
    r[Register.controlMeasurement] = 0;
    r[Register.config] = 0;
    this.#setData(Skipped.pressure, Skipped.temperature, Skipped.humidity);
    this.#forcedDoneAt = -1;
    this.#normalStart = -1;
    this.#humidityOversampling = 0;
    this.#filterPrimed = false;
  }

  #measuring(now: number): boolean {
    if (this.#forcedDoneAt >= 0) return now < this.#forcedDoneAt;
    if (this.#normalStart < 0) return false;
    return (now - this.#normalStart) % this.#periodMs() < this.measurementMs;
  }

  #periodMs(): number {
    const standby = (this.#humidity ? STANDBY_BME280 : STANDBY_BMP280)[this.registers[Register.config]! >> 5]!;
    return this.measurementMs + standby;
  }

  /** Completes conversions that have finished by `now`, updating the data registers. */
  #advance(now: number): void {
    if (this.#forcedDoneAt >= 0 && now >= this.#forcedDoneAt) {
      this.#measure(this.#forcedDoneAt);
      this.#forcedDoneAt = -1;
      this.registers[Register.controlMeasurement]! &= 0xfc; // back to sleep (§3.3.3)
    }
    if (this.#normalStart >= 0) {
      const period = this.#periodMs(),
        first = this.#normalStart + this.measurementMs;
      if (now < first) return;
      const done = Math.floor((now - first) / period) + 1;
      // The IIR filter forgets old input geometrically: the last 64 cycles fix its state.
      for (let i = Math.max(this.#cycles, done - 64); i < done; i++) this.#measure(first + i * period);
      this.#cycles = done;
    }
  }

  #measure(at: number): void {
    this.measurements++;
    if (this.faults.frozen) return;
    if (this.faults.outOfRange) {
      this.#setData(Skipped.pressure, Skipped.temperature, Skipped.humidity);
      return;
    }
    const c = this.#calibration,
      env = this.#environment,
      m = this.registers[Register.controlMeasurement]!;
    const osrsT = Math.min(5, m >> 5),
      osrsP = Math.min(5, (m >> 2) & 7),
      osrsH = Math.min(5, this.#humidityOversampling);
    const coefficient = FILTER[Math.min(4, (this.registers[Register.config]! >> 2) & 7)]!;
    let adcT: number = Skipped.temperature,
      adcP: number = Skipped.pressure,
      adcH: number = Skipped.humidity;
    if (osrsT) {
      adcT = this.#filter(
        0,
        invert((raw) => fineOf(c, raw) / 5120, env.temperature(at), RAW20),
        osrsT,
        coefficient,
      );
      const tFine = fineOf(c, adcT);
      if (osrsP)
        adcP = this.#filter(
          1,
          invert((raw) => pascalOf(c, tFine, raw), env.pressure(at) * 100, RAW20),
          osrsP,
          coefficient,
        );
      if (osrsH && this.#humidity) {
        const target = Math.min(100, Math.max(0, env.humidity(at)));
        adcH = invert((raw) => percentOf(c, tFine, raw), target, 0xffff);
      }
    }
    this.#filterPrimed = coefficient > 0;
    this.#setData(adcP, adcT, adcH);
  }

  /**
   * Resolution and IIR filter (§3.4.4, §5.4.7): without the filter a raw value has 16 + (osrs − 1) bits;
   * with it, 20 bits of (old·(c − 1) + new) / c.
   */
  #filter(index: number, raw: number, osrs: number, coefficient: number): number {
    if (coefficient === 0) return raw & ~((1 << (5 - osrs)) - 1) & RAW20;
    const f = this.#filtered;
    f[index] = this.#filterPrimed ? (f[index]! * (coefficient - 1) + raw) / coefficient : raw;
    return Math.round(f[index]) & RAW20;
  }

  #setData(adcP: number, adcT: number, adcH: number): void {
    const r = this.registers,
      d = Register.data;
    r[d] = adcP >> 12;
    r[d + 1] = (adcP >> 4) & 0xff;
    r[d + 2] = (adcP & 0x0f) << 4;
    r[d + 3] = adcT >> 12;
    r[d + 4] = (adcT >> 4) & 0xff;
    r[d + 5] = (adcT & 0x0f) << 4;
    r[d + 6] = adcH >> 8;
    r[d + 7] = adcH & 0xff;
  }
}

Object.freeze(BME280Model.prototype);
