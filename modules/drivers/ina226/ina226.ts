// TI INA226 current/voltage/power monitor driver in the ECMA-419 sensor class pattern, without blocking delays.
import type { I2C, SensorIOOptions } from "telltale/io/io";
import { ErrorReporter, checkOnError } from "telltale/drivers/report";
import { checkAddress } from "telltale/drivers/part";
import {
  ADDRESSES,
  Register,
  Configuration,
  MaskEnable,
  Ids,
  Mode,
  AVERAGES,
  CONVERSION_MS,
  ShuntLsb,
  BusLsb,
  ShuntFullScale,
  PowerRatio,
  currentLsbFor,
  calibrationValue,
  conversionTimeMs,
} from "telltale/drivers/ina226/registers";
import { messageOf } from "telltale/errors/message";

export interface INA226Settings {
  /** Samples averaged per result: 1, 4, 16 (default), 64, 128, 256, 512 or 1024. */
  averaging?: number;
  /** Bus and shunt conversion times, ms: 0.14, 0.204, 0.332, 0.588, 1.1 (default), 2.116, 4.156 or 8.244. */
  busConversionTime?: number;
  shuntConversionTime?: number;
  /** "continuous" (default): the chip converts on its own; "triggered": each sample() starts the next conversion. */
  mode?: "continuous" | "triggered";
}

export interface INA226Options extends INA226Settings {
  sensor: SensorIOOptions;
  /** Shunt resistance, Ω (default 0.1). */
  shunt?: number;
  /** Largest current expected, A (default 0.8): sets Current_LSB = maxCurrent / 2^15 (§7.5, Equation 2). */
  maxCurrent?: number;
  /** A rounder Current_LSB, A/bit (≥ maxCurrent / 2^15), as the datasheet suggests; default maxCurrent / 2^15. */
  currentLsb?: number;
  onError?: (error: Error) => void;
}

export interface INA226Sample {
  ammeter: { current: number };
  voltmeter: { voltage: number; shuntVoltage: number };
  wattmeter: { power: number };
}

interface Resolved {
  averaging: number;
  busConversionTime: number;
  shuntConversionTime: number;
  mode: "continuous" | "triggered";
}

function choice(value: unknown, name: string, choices: readonly unknown[]): void {
  if (!choices.includes(value))
    throw new RangeError(
      'INA226: option "' + name + '" must be one of ' + choices.join(", ") + ", got " + String(value),
    );
}

function resolve(o: INA226Settings, base: Resolved): Resolved {
  const next = { ...base };
  if (o.averaging !== undefined) {
    choice(o.averaging, "averaging", AVERAGES);
    next.averaging = o.averaging;
  }
  if (o.busConversionTime !== undefined) {
    choice(o.busConversionTime, "busConversionTime", CONVERSION_MS);
    next.busConversionTime = o.busConversionTime;
  }
  if (o.shuntConversionTime !== undefined) {
    choice(o.shuntConversionTime, "shuntConversionTime", CONVERSION_MS);
    next.shuntConversionTime = o.shuntConversionTime;
  }
  if (o.mode !== undefined) {
    choice(o.mode, "mode", ["continuous", "triggered"]);
    next.mode = o.mode;
  }
  return next;
}

function positive(value: unknown, name: string): number {
  if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value))
    throw new RangeError('INA226: option "' + name + '" must be a positive number, got ' + String(value));
  return value;
}

/**
 * The constructor checks the manufacturer and die ids, resets the chip and programs the calibration
 * (§7.5, Equations 1–2) and configuration. In continuous mode the first `sample()` returns undefined (the
 * chip has just started) and each later one reads the latest averaged result; in triggered mode each
 * `sample()` reads the conversion the previous call started and starts the next.
 */
export default class INA226 {
  #io: I2C | undefined;
  readonly #reporter: ErrorReporter;
  #settings: Resolved;
  readonly #currentLsb: number;
  readonly #calibration: number;
  #configuration = 0;
  /** The chip holds #configuration (false when a write of it failed). */
  #programmed = false;
  /** Continuous: just programmed, so the next sample() has nothing to read yet and says nothing. */
  #fresh = false;
  /** Triggered: a single conversion was started and not yet read. */
  #pending = false;
  /** A result has been read since programming (continuous mode keeps the last one in its registers). */
  #hasData = false;
  readonly #pointer = new Uint8Array(1);
  readonly #write = new Uint8Array(3);
  /** A register's two bytes, read into (ECMA-419 read(buffer)) rather than allocated per read. */
  readonly #two = new Uint8Array(2);

  constructor(options: INA226Options) {
    const sensor = options?.sensor;
    if (!sensor || typeof sensor.io !== "function")
      throw new TypeError('INA226: option "sensor.io" must be an I2C class');
    const address = checkAddress("INA226", sensor.address, ADDRESSES);
    const shunt = positive(options.shunt ?? 0.1, "shunt");
    const maxCurrent = positive(options.maxCurrent ?? 0.8, "maxCurrent");
    if (maxCurrent * shunt > ShuntFullScale * 1.000001)
      throw new RangeError(
        'INA226: options "maxCurrent" × "shunt" = ' +
          (maxCurrent * shunt * 1000).toFixed(2) +
          " mV exceeds the ±81.92 mV shunt range",
      );
    const minimumLsb = currentLsbFor(maxCurrent);
    const currentLsb = positive(options.currentLsb ?? minimumLsb, "currentLsb");
    if (currentLsb < minimumLsb * 0.999999)
      throw new RangeError(
        'INA226: option "currentLsb" must be at least maxCurrent / 32768 = ' + minimumLsb + " A, got " + currentLsb,
      );
    const calibration = calibrationValue(currentLsb, shunt);
    if (calibration < 1 || calibration > 0x7fff)
      throw new RangeError(
        'INA226: options "currentLsb" and "shunt" give a calibration value of ' + calibration + ", outside 1–32767",
      );
    checkOnError("INA226", options.onError);
    const settings = resolve(options, {
      averaging: 16,
      busConversionTime: 1.1,
      shuntConversionTime: 1.1,
      mode: "continuous",
    });

    this.#currentLsb = currentLsb;
    this.#calibration = calibration;
    this.#settings = settings;
    this.#encode();
    this.#reporter = new ErrorReporter("INA226", options.onError);
    const io = new sensor.io({ hz: 400_000, ...sensor, address });
    this.#io = io;
    try {
      const manufacturer = this.#read(io, Register.manufacturerId);
      const die = this.#read(io, Register.dieId);
      if (manufacturer !== Ids.manufacturer || (die & 0xfff0) !== Ids.die)
        throw new Error(
          "ids 0x" + manufacturer.toString(16) + "/0x" + die.toString(16) + " are not an INA226's (0x5449/0x226x)",
        );
      this.#writeRegister(io, Register.configuration, Configuration.reset);
      this.#writeRegister(io, Register.calibration, calibration);
      this.#program();
    } catch (e) {
      io.close();
      this.#io = undefined;
      throw new Error("INA226: no working sensor at address 0x" + address.toString(16) + " (" + messageOf(e) + ")", {
        cause: e,
      });
    }
  }

  get errors(): number {
    return this.#reporter.count;
  }
  /** Current_LSB in A/bit and the calibration register value (§7.5, Equations 1–2). */
  get currentLsb(): number {
    return this.#currentLsb;
  }
  get calibration(): number {
    return this.#calibration;
  }
  /** Time for one averaged result, ms. */
  get conversionTime(): number {
    const s = this.#settings;
    return conversionTimeMs(s.averaging, s.shuntConversionTime, s.busConversionTime);
  }
  get configuration(): Required<INA226Settings> {
    return { ...this.#settings };
  }

  /** Changes only the settings given; written to the chip at once (or by the next sample() if that fails). */
  configure(options: INA226Settings): void {
    this.#check();
    this.#settings = resolve(options ?? {}, this.#settings);
    this.#encode();
    try {
      this.#program();
    } catch (e) {
      this.#reporter.report(e as Error);
    } // left unprogrammed: the next sample() retries
  }

  sample(): INA226Sample | undefined {
    this.#check();
    const io = this.#io!,
      triggered = this.#settings.mode === "triggered";
    let result: INA226Sample | undefined;
    let reported = false;
    if (this.#programmed && (triggered ? this.#pending : !this.#fresh)) {
      try {
        const flags = this.#read(io, Register.maskEnable);
        if ((flags & MaskEnable.conversionReady) === 0 && (triggered || !this.#hasData))
          return this.#reporter.report(
            new Error(
              "conversion in progress (sampled sooner than the " +
                this.conversionTime.toFixed(1) +
                " ms averaging time)",
            ),
          );
        // (In continuous mode a clear CVRF only means no newer result: the registers keep the last one.)
        this.#pending = false;
        if (flags & MaskEnable.overflow)
          throw new Error("current out of range: the shunt voltage or the current/power arithmetic overflowed (OVF)");
        const shunt = (this.#read(io, Register.shuntVoltage) << 16) >> 16;
        const bus = this.#read(io, Register.busVoltage);
        const power = this.#read(io, Register.power);
        const current = (this.#read(io, Register.current) << 16) >> 16;
        this.#hasData = true;
        result = {
          ammeter: { current: current * this.#currentLsb },
          voltmeter: { voltage: bus * BusLsb, shuntVoltage: shunt * ShuntLsb },
          wattmeter: { power: power * PowerRatio * this.#currentLsb },
        };
      } catch (e) {
        this.#reporter.report(e as Error);
        reported = true;
      }
    }
    this.#fresh = false;
    if (!this.#programmed || (triggered && !this.#pending)) {
      // Writing the configuration programs the chip and, in triggered mode, starts one conversion.
      try {
        this.#program();
      } catch (e) {
        if (!reported) this.#reporter.report(e as Error);
      }
    }
    return result;
  }

  close(): void {
    this.#io?.close();
    this.#io = undefined;
    this.#reporter.close();
  }

  #encode(): void {
    const s = this.#settings;
    this.#configuration =
      Configuration.fixedBits |
      (AVERAGES.indexOf(s.averaging) << 9) |
      (CONVERSION_MS.indexOf(s.busConversionTime) << 6) |
      (CONVERSION_MS.indexOf(s.shuntConversionTime) << 3) |
      (s.mode === "triggered" ? Mode.bothTriggered : Mode.bothContinuous);
  }

  #program(): void {
    this.#programmed = false;
    this.#writeRegister(this.#io!, Register.configuration, this.#configuration);
    const triggered = this.#settings.mode === "triggered";
    this.#programmed = true;
    this.#pending = triggered;
    this.#fresh = !triggered;
    this.#hasData = false;
  }

  #read(io: I2C, register: number): number {
    this.#pointer[0] = register;
    io.write(this.#pointer);
    const b = this.#two;
    io.read(b);
    return (b[0]! << 8) | b[1]!;
  }

  #writeRegister(io: I2C, register: number, value: number): void {
    const w = this.#write;
    w[0] = register;
    w[1] = value >> 8;
    w[2] = value & 0xff;
    io.write(w);
  }

  #check(): void {
    if (!this.#io) throw new Error("INA226: closed");
  }
}

Object.freeze(INA226.prototype);
