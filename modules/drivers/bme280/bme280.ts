// Bosch BME280 (and BMP280) temperature/pressure/humidity driver in the ECMA-419 sensor class pattern, without blocking delays.
import type { I2C, SensorIOOptions } from "telltale/io/io";
import { ErrorReporter, checkOnError } from "telltale/drivers/report";
import {
  parseCalibration,
  temperatureFine,
  fineToCentiCelsius,
  compensateHumidity,
  compensatePressure64,
  compensatePressure32,
  CALIBRATION_LENGTH,
  HUMIDITY_CALIBRATION_LENGTH,
  PRESSURE64_SCRATCH,
  type Calibration,
} from "telltale/drivers/bme280/compensation";
import { checkAddress } from "telltale/drivers/part";
import {
  ADDRESSES,
  Register,
  ChipId,
  ResetCommand,
  Status,
  Mode,
  FILTER,
  STANDBY_BME280,
  STANDBY_BMP280,
  Skipped,
  measurementTimeMs,
  oversamplingCode,
  type ModeName,
} from "telltale/drivers/bme280/registers";
import { messageOf } from "telltale/errors/message";

export interface BME280Oversampling {
  /** 1, 2, 4, 8 or 16 (temperature is needed to compensate the others). */
  temperature?: number;
  /** 0 (skipped), 1, 2, 4, 8 or 16. */
  pressure?: number;
  /** 0 (skipped), 1, 2, 4, 8 or 16; ignored by a BMP280. */
  humidity?: number;
}

export interface BME280Settings {
  /** "forced" (default): each sample() reads the last conversion and starts the next; "normal": the chip converts continuously; "sleep": no conversions. */
  mode?: ModeName;
  /** Default 1 for each quantity (Bosch's "weather monitoring" setting, §3.5.1). */
  oversampling?: BME280Oversampling;
  /** IIR filter coefficient on temperature and pressure: 0 (off, default), 2, 4, 8 or 16. */
  filter?: number;
  /** Normal mode standby between conversions, ms: 0.5, 62.5, 125, 250, 500, 1000 (default), and 10 or 20 (BME280) or 2000 or 4000 (BMP280). */
  standby?: number;
  /** "int64" (default): the datasheet's 64-bit formula, 1/256 Pa; "int32": its 32-bit variant, 1 Pa. */
  pressureFormula?: "int64" | "int32";
}

export interface BME280Options extends BME280Settings {
  sensor: SensorIOOptions;
  /** Transient faults (NACK, conversion not finished, skipped-measurement values), reported after the public call returns. */
  onError?: (error: Error) => void;
}

export interface BME280Sample {
  thermometer: { temperature: number };
  /** Absent when pressure oversampling is 0. */
  barometer?: { pressure: number };
  /** Absent on a BMP280 or when humidity oversampling is 0. */
  hygrometer?: { humidity: number };
}

interface Resolved {
  mode: ModeName;
  oversampling: { temperature: number; pressure: number; humidity: number };
  filter: number;
  standby: number;
  pressureFormula: "int64" | "int32";
}

const MODES: readonly ModeName[] = Object.freeze(["sleep", "forced", "normal"]);
const STANDBY_ANY: readonly number[] = Object.freeze([0.5, 62.5, 125, 250, 500, 1000, 10, 20, 2000, 4000]);

function choice(value: unknown, name: string, choices: readonly unknown[]): void {
  if (!choices.includes(value))
    throw new RangeError(
      'BME280: option "' + name + '" must be one of ' + choices.join(", ") + ", got " + String(value),
    );
}

/** Checks every given setting, returning `base` with them applied; throws naming the option before any change. */
function resolve(options: BME280Settings, base: Resolved): Resolved {
  const next: Resolved = { ...base, oversampling: { ...base.oversampling } };
  if (options.mode !== undefined) {
    choice(options.mode, "mode", MODES);
    next.mode = options.mode;
  }
  const o = options.oversampling;
  if (o !== undefined) {
    if (o === null || typeof o !== "object") throw new TypeError('BME280: option "oversampling" must be an object');
    if (o.temperature !== undefined) {
      choice(o.temperature, "oversampling.temperature", [1, 2, 4, 8, 16]);
      next.oversampling.temperature = o.temperature;
    }
    if (o.pressure !== undefined) {
      choice(o.pressure, "oversampling.pressure", [0, 1, 2, 4, 8, 16]);
      next.oversampling.pressure = o.pressure;
    }
    if (o.humidity !== undefined) {
      choice(o.humidity, "oversampling.humidity", [0, 1, 2, 4, 8, 16]);
      next.oversampling.humidity = o.humidity;
    }
  }
  if (options.filter !== undefined) {
    choice(options.filter, "filter", FILTER);
    next.filter = options.filter;
  }
  if (options.standby !== undefined) {
    choice(options.standby, "standby", STANDBY_ANY);
    next.standby = options.standby;
  }
  if (options.pressureFormula !== undefined) {
    choice(options.pressureFormula, "pressureFormula", ["int64", "int32"]);
    next.pressureFormula = options.pressureFormula;
  }
  return next;
}

const DEFAULTS: Resolved = Object.freeze({
  mode: "forced",
  oversampling: Object.freeze({ temperature: 1, pressure: 1, humidity: 1 }),
  filter: 0,
  standby: 1000,
  pressureFormula: "int64",
});

/**
 * The constructor checks the chip id, reads the trimming parameters and resets the chip; the first
 * `sample()` (≥ 2 ms later, once the reset has settled) programs it and, in forced mode, starts a
 * conversion. Each later forced-mode `sample()` reads the previous conversion and starts the next, so no
 * call waits for the chip. `configure()` records settings that the next `sample()` programs.
 */
export default class BME280 {
  #io: I2C | undefined;
  readonly #reporter: ErrorReporter;
  #settings: Resolved;
  readonly #calibration: Calibration;
  readonly #humidity: boolean;
  readonly #chipId: number;
  /** Register values for the current settings. */
  #controlHumidity = 0;
  #controlMeasurement = 0;
  #config = 0;
  /** What the chip was last programmed with (ctrl_meas -1: unknown, after a reset). */
  #chipHumidity = 0;
  #chipMeasurement = -1;
  #chipConfig = 0;
  /** The settings differ from what the chip holds: the next sample() programs them. */
  #dirty = true;
  /** A forced conversion was started and not yet read. */
  #pending = false;
  readonly #pointer = new Uint8Array(1);
  /** The register writes that program the current settings. */
  #program = new Uint8Array(0);
  readonly #trigger = new Uint8Array(2);
  /** status … hum_lsb (0xF3–0xFE; a BMP280 stops at temp_xlsb, 0xFC), read into once per sample. */
  readonly #burst: Uint8Array;
  /** The 64-bit pressure formula's registers (compensation.ts), one set per instance. */
  readonly #int64 = new Int32Array(PRESSURE64_SCRATCH);

  constructor(options: BME280Options) {
    const sensor = options?.sensor;
    if (!sensor || typeof sensor.io !== "function")
      throw new TypeError('BME280: option "sensor.io" must be an I2C class');
    const address = checkAddress("BME280", sensor.address, ADDRESSES);
    checkOnError("BME280", options.onError);
    const settings = resolve(options, DEFAULTS);

    this.#reporter = new ErrorReporter("BME280", options.onError);
    const io = new sensor.io({ hz: 400_000, ...sensor, address });
    let id: number, calibration: Calibration;
    try {
      id = new Uint8Array(this.#readAt(io, Register.chipId, 1))[0]!;
      if (id !== ChipId.bme280 && id !== ChipId.bmp280)
        throw new Error("chip id 0x" + id.toString(16) + " is neither a BME280 (0x60) nor a BMP280 (0x58)");
      // The trimming NVM is copied to these registers at power-on, so it can be read before the reset.
      const tp = new Uint8Array(this.#readAt(io, Register.calibration, CALIBRATION_LENGTH));
      const h =
        id === ChipId.bme280
          ? new Uint8Array(this.#readAt(io, Register.humidityCalibration, HUMIDITY_CALIBRATION_LENGTH))
          : undefined;
      calibration = parseCalibration(tp, h);
      if (calibration.digT1 === 0 || calibration.digP1 === 0)
        throw new Error("trimming parameters are blank (dig_T1 or dig_P1 is 0)");
      io.write(Uint8Array.of(Register.reset, ResetCommand));
    } catch (e) {
      io.close();
      throw new Error("BME280: no working sensor at address 0x" + address.toString(16) + " (" + messageOf(e) + ")", {
        cause: e,
      });
    }
    if (id === ChipId.bmp280 && (settings.standby === 10 || settings.standby === 20)) {
      io.close();
      throw new RangeError(
        'BME280: option "standby" ' + settings.standby + " ms is not available on a BMP280 (it has 2000 and 4000)",
      );
    }
    if (id === ChipId.bme280 && (settings.standby === 2000 || settings.standby === 4000)) {
      io.close();
      throw new RangeError(
        'BME280: option "standby" ' + settings.standby + " ms is only available on a BMP280 (a BME280 has 10 and 20)",
      );
    }
    this.#io = io;
    this.#chipId = id;
    this.#humidity = id === ChipId.bme280;
    this.#burst = new Uint8Array(this.#humidity ? 12 : 10);
    this.#calibration = calibration;
    this.#settings = settings;
    this.#encode();
  }

  /** Errors counted since construction (health telemetry). */
  get errors(): number {
    return this.#reporter.count;
  }
  /** 0x60 (BME280) or 0x58 (BMP280). */
  get chipId(): number {
    return this.#chipId;
  }
  /** Maximum time one conversion takes with the current settings, ms (§9.1). */
  get measurementTime(): number {
    const o = this.#settings.oversampling;
    return measurementTimeMs(o.temperature, o.pressure, this.#humidity ? o.humidity : 0);
  }
  get configuration(): Required<BME280Settings> {
    const s = this.#settings;
    return {
      mode: s.mode,
      oversampling: { ...s.oversampling },
      filter: s.filter,
      standby: s.standby,
      pressureFormula: s.pressureFormula,
    };
  }

  /** Changes only the settings given; the next sample() programs the chip. */
  configure(options: BME280Settings): void {
    this.#check();
    const next = resolve(options ?? {}, this.#settings);
    const table = this.#humidity ? STANDBY_BME280 : STANDBY_BMP280;
    if (!table.includes(next.standby))
      throw new RangeError(
        'BME280: option "standby" ' + next.standby + " ms is not available on this chip (" + table.join(", ") + ")",
      );
    this.#settings = next;
    this.#encode();
    this.#dirty = true;
  }

  sample(): BME280Sample | undefined {
    this.#check();
    let result: BME280Sample | undefined;
    let reported = false;
    const chip = this.#chipMeasurement;
    if (chip >= 0 && (this.#pending || (chip & 3) === Mode.normal)) {
      try {
        const bytes = this.#burst;
        this.#pointer[0] = Register.status;
        this.#io!.write(this.#pointer);
        this.#io!.read(bytes);
        if ((bytes[1]! & 0xfc) !== (chip & 0xfc) || (bytes[2]! & 0xfc) !== (this.#chipConfig & 0xfc)) {
          // A brown-out or a foreign write reset the chip: program it again below.
          this.#chipMeasurement = -1;
          this.#pending = false;
          this.#dirty = true;
          throw new Error(
            "configuration lost (ctrl_meas 0x" +
              bytes[1]!.toString(16) +
              ", config 0x" +
              bytes[2]!.toString(16) +
              "), reprogramming",
          );
        }
        if ((chip & 3) !== Mode.normal && ((bytes[0]! & Status.measuring) !== 0 || (bytes[1]! & 3) !== Mode.sleep)) {
          // A forced conversion still running: leave it and read it next time. (In normal mode the data
          // registers are shadowed during a conversion and always hold the last complete one, §4.)
          this.#reporter.report(
            new Error(
              "measurement in progress (sampled sooner than the " +
                this.measurementTime.toFixed(1) +
                " ms conversion time)",
            ),
          );
          return undefined;
        }
        this.#pending = false;
        result = this.#convert(bytes);
      } catch (e) {
        this.#reporter.report(e as Error);
        reported = true;
      }
    }
    const forced = this.#settings.mode === "forced";
    if (!this.#dirty && !forced) return result; // normal mode converts by itself; sleep does not
    try {
      if (this.#dirty) {
        this.#io!.write(this.#program);
        this.#chipHumidity = this.#controlHumidity;
        this.#chipMeasurement = this.#controlMeasurement;
        this.#chipConfig = this.#config;
        this.#dirty = false;
      } else {
        this.#io!.write(this.#trigger);
      }
      this.#pending = forced;
    } catch (e) {
      if (!reported) this.#reporter.report(e as Error); // one report per call is enough when both steps fail
    }
    return result;
  }

  close(): void {
    this.#io?.close();
    this.#io = undefined;
    this.#reporter.close();
  }

  /** Turns a 12-byte (or 10-byte) burst from 0xF3 into a sample; throws on skipped-measurement values. */
  #convert(b: Uint8Array): BME280Sample {
    const c = this.#calibration;
    const adcP = (b[4]! << 12) | (b[5]! << 4) | (b[6]! >> 4);
    const adcT = (b[7]! << 12) | (b[8]! << 4) | (b[9]! >> 4);
    if (adcT === Skipped.temperature) throw new Error("temperature out of range (skipped-measurement value 0x80000)");
    const tFine = temperatureFine(c, adcT);
    const result: BME280Sample = { thermometer: { temperature: fineToCentiCelsius(tFine) / 100 } };
    if (((this.#chipMeasurement >> 2) & 7) !== 0) {
      // the conversion read was made with the programmed settings
      if (adcP === Skipped.pressure) throw new Error("pressure out of range (skipped-measurement value 0x80000)");
      // Pascal, as ECMA-419's barometer reports it.
      result.barometer = {
        pressure:
          this.#settings.pressureFormula === "int64"
            ? compensatePressure64(c, tFine, adcP, this.#int64) / 256
            : compensatePressure32(c, tFine, adcP),
      };
    }
    if (this.#humidity && this.#chipHumidity !== 0) {
      const adcH = (b[10]! << 8) | b[11]!;
      if (adcH === Skipped.humidity) throw new Error("humidity out of range (skipped-measurement value 0x8000)");
      result.hygrometer = { humidity: compensateHumidity(c, tFine, adcH) / 1024 };
    }
    return result;
  }

  #encode(): void {
    const s = this.#settings,
      o = s.oversampling;
    const table = this.#humidity ? STANDBY_BME280 : STANDBY_BMP280;
    const mode = s.mode === "normal" ? Mode.normal : s.mode === "forced" ? Mode.forced : Mode.sleep;
    this.#controlHumidity = oversamplingCode(o.humidity);
    this.#controlMeasurement = (oversamplingCode(o.temperature) << 5) | (oversamplingCode(o.pressure) << 2) | mode;
    this.#config = (Math.max(0, table.indexOf(s.standby)) << 5) | (FILTER.indexOf(s.filter) << 2);
    this.#trigger[0] = Register.controlMeasurement;
    this.#trigger[1] = this.#controlMeasurement;
    // Register/data pairs in one write (§6.2.1): sleep first so the config write is taken (§5.4.6); ctrl_hum
    // before ctrl_meas, whose write latches it (§5.4.3).
    const sleep = this.#controlMeasurement & 0xfc;
    this.#program = this.#humidity
      ? Uint8Array.of(
          Register.controlMeasurement,
          sleep,
          Register.controlHumidity,
          this.#controlHumidity,
          Register.config,
          this.#config,
          Register.controlMeasurement,
          this.#controlMeasurement,
        )
      : Uint8Array.of(
          Register.controlMeasurement,
          sleep,
          Register.config,
          this.#config,
          Register.controlMeasurement,
          this.#controlMeasurement,
        );
  }

  #readAt(io: I2C, register: number, count: number): ArrayBuffer {
    this.#pointer[0] = register;
    io.write(this.#pointer);
    return io.read(count);
  }

  #check(): void {
    if (!this.#io) throw new Error("BME280: closed");
  }
}

Object.freeze(BME280.prototype);
