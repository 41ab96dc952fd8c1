// TI INA219 current/voltage/power monitor driver in the ECMA-419 sensor class pattern, without blocking delays.
import type { I2C, SensorIOOptions } from "telltale/io/io";
import { ErrorReporter, checkOnError } from "telltale/drivers/report";
import { checkAddress } from "telltale/drivers/part";
import {
  ADDRESSES,
  Register,
  Configuration,
  BusFlags,
  Mode,
  SHUNT_RANGES,
  AVERAGES,
  ADC_MS,
  ShuntLsb,
  BusLsb,
  PowerRatio,
  adcCode,
  currentLsbFor,
  calibrationValue,
} from "telltale/drivers/ina219/registers";
import { messageOf } from "telltale/errors/message";

export interface INA219Settings {
  /** 12-bit samples averaged per result, for bus and shunt: 1, 2, 4, 8, 16 (default), 32, 64 or 128. */
  averaging?: number;
  /** "continuous" (default) or "triggered" (each sample() starts the next conversion). */
  mode?: "continuous" | "triggered";
}

export interface INA219Options extends INA219Settings {
  sensor: SensorIOOptions;
  /** Shunt resistance, Ω (default 0.1). */
  shunt?: number;
  /** Largest current expected, A (default 2): sets Current_LSB (§8.5.1) and the smallest PGA range that fits. */
  maxCurrent?: number;
  /** A rounder Current_LSB, A/bit, from maxCurrent/32767 to maxCurrent/4096 (§8.5.1); default maxCurrent/32767. */
  currentLsb?: number;
  /** Bus voltage range, V: 16 or 32 (default). */
  busRange?: 16 | 32;
  onError?: (error: Error) => void;
}

export interface INA219Sample {
  ammeter: { current: number };
  voltmeter: { voltage: number; shuntVoltage: number };
  wattmeter: { power: number };
}

interface Resolved {
  averaging: number;
  mode: "continuous" | "triggered";
}

function resolve(o: INA219Settings, base: Resolved): Resolved {
  const next = { ...base };
  if (o.averaging !== undefined) {
    if (!AVERAGES.includes(o.averaging))
      throw new RangeError(
        'INA219: option "averaging" must be one of ' + AVERAGES.join(", ") + ", got " + String(o.averaging),
      );
    next.averaging = o.averaging;
  }
  if (o.mode !== undefined) {
    if (o.mode !== "continuous" && o.mode !== "triggered")
      throw new RangeError('INA219: option "mode" must be "continuous" or "triggered", got ' + String(o.mode));
    next.mode = o.mode;
  }
  return next;
}

function positive(value: unknown, name: string): number {
  if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value))
    throw new RangeError('INA219: option "' + name + '" must be a positive number, got ' + String(value));
  return value;
}

/**
 * The INA219 has no id register: the constructor resets it and checks the configuration reads its reset
 * value 0x399F (§8.6.2.1), then programs calibration (§8.5.1) and configuration. Sampling works like the
 * INA226 driver's: continuous mode reads the latest result, triggered mode reads the previous and starts the next.
 */
export default class INA219 {
  #io: I2C | undefined;
  readonly #reporter: ErrorReporter;
  #settings: Resolved;
  readonly #currentLsb: number;
  readonly #calibration: number;
  readonly #fixed: number;
  #configuration = 0;
  #programmed = false;
  #fresh = false;
  #pending = false;
  #hasData = false;
  readonly #pointer = new Uint8Array(1);
  readonly #write = new Uint8Array(3);
  /** A register's two bytes, read into (ECMA-419 read(buffer)) rather than allocated per read. */
  readonly #two = new Uint8Array(2);

  constructor(options: INA219Options) {
    const sensor = options?.sensor;
    if (!sensor || typeof sensor.io !== "function")
      throw new TypeError('INA219: option "sensor.io" must be an I2C class');
    const address = checkAddress("INA219", sensor.address, ADDRESSES);
    const shunt = positive(options.shunt ?? 0.1, "shunt");
    const maxCurrent = positive(options.maxCurrent ?? 2, "maxCurrent");
    const range = SHUNT_RANGES.findIndex((r) => maxCurrent * shunt <= r * 1.000001);
    if (range < 0)
      throw new RangeError(
        'INA219: options "maxCurrent" × "shunt" = ' +
          (maxCurrent * shunt * 1000).toFixed(1) +
          " mV exceeds the ±320 mV shunt range",
      );
    const minimum = currentLsbFor(maxCurrent),
      maximum = maxCurrent / 4096;
    const currentLsb = positive(options.currentLsb ?? minimum, "currentLsb");
    if (currentLsb < minimum * 0.999999 || currentLsb > maximum * 1.000001)
      throw new RangeError(
        'INA219: option "currentLsb" must be from maxCurrent/32767 = ' +
          minimum +
          " to maxCurrent/4096 = " +
          maximum +
          " A (§8.5.1), got " +
          currentLsb,
      );
    const calibration = calibrationValue(currentLsb, shunt);
    if (calibration < 2 || calibration > 0xfffe)
      throw new RangeError(
        'INA219: options "currentLsb" and "shunt" give a calibration value of ' + calibration + ", outside 2–65534",
      );
    const busRange = options.busRange ?? 32;
    if (busRange !== 16 && busRange !== 32)
      throw new RangeError('INA219: option "busRange" must be 16 or 32, got ' + String(busRange));
    checkOnError("INA219", options.onError);
    this.#settings = resolve(options, { averaging: 16, mode: "continuous" });
    this.#currentLsb = currentLsb;
    this.#calibration = calibration;
    this.#fixed = (busRange === 32 ? Configuration.busRange32V : 0) | (range << 11);
    this.#encode();

    this.#reporter = new ErrorReporter("INA219", options.onError);
    const io = new sensor.io({ hz: 400_000, ...sensor, address });
    this.#io = io;
    try {
      this.#writeRegister(Register.configuration, Configuration.reset);
      const back = this.#read(Register.configuration);
      if (back !== Configuration.resetValue)
        throw new Error("configuration reads 0x" + back.toString(16) + " after reset, not 0x399f: not an INA219");
      this.#writeRegister(Register.calibration, calibration);
      this.#program();
    } catch (e) {
      io.close();
      this.#io = undefined;
      throw new Error("INA219: no working sensor at address 0x" + address.toString(16) + " (" + messageOf(e) + ")", {
        cause: e,
      });
    }
  }

  get errors(): number {
    return this.#reporter.count;
  }
  get currentLsb(): number {
    return this.#currentLsb;
  }
  get calibration(): number {
    return this.#calibration;
  }
  /** Shunt full-scale range chosen from maxCurrent × shunt, V (PGA, Table 4). */
  get shuntRange(): number {
    return SHUNT_RANGES[(this.#fixed >> 11) & 3]!;
  }
  /** Time for one bus + shunt result, ms (Table 5). */
  get conversionTime(): number {
    return 2 * ADC_MS[AVERAGES.indexOf(this.#settings.averaging)]!;
  }
  get configuration(): Required<INA219Settings> {
    return { ...this.#settings };
  }

  configure(options: INA219Settings): void {
    this.#check();
    this.#settings = resolve(options ?? {}, this.#settings);
    this.#encode();
    try {
      this.#program();
    } catch (e) {
      this.#reporter.report(e as Error);
    }
  }

  sample(): INA219Sample | undefined {
    this.#check();
    const triggered = this.#settings.mode === "triggered";
    let result: INA219Sample | undefined;
    let reported = false;
    if (this.#programmed && (triggered ? this.#pending : !this.#fresh)) {
      try {
        const bus = this.#read(Register.busVoltage);
        if ((bus & BusFlags.conversionReady) === 0 && (triggered || !this.#hasData))
          return this.#reporter.report(
            new Error(
              "conversion in progress (sampled sooner than the " +
                this.conversionTime.toFixed(1) +
                " ms averaging time)",
            ),
          );
        this.#pending = false;
        if (bus & BusFlags.overflow)
          throw new Error("current out of range: the shunt voltage or the current/power arithmetic overflowed (OVF)");
        const shunt = (this.#read(Register.shuntVoltage) << 16) >> 16;
        const current = (this.#read(Register.current) << 16) >> 16;
        const power = this.#read(Register.power); // last: reading it clears CNVR
        this.#hasData = true;
        result = {
          ammeter: { current: current * this.#currentLsb },
          voltmeter: { voltage: (bus >> 3) * BusLsb, shuntVoltage: shunt * ShuntLsb },
          wattmeter: { power: power * PowerRatio * this.#currentLsb },
        };
      } catch (e) {
        this.#reporter.report(e as Error);
        reported = true;
      }
    }
    this.#fresh = false;
    if (!this.#programmed || (triggered && !this.#pending)) {
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
    const s = this.#settings,
      adc = adcCode(s.averaging);
    this.#configuration =
      this.#fixed | (adc << 7) | (adc << 3) | (s.mode === "triggered" ? Mode.bothTriggered : Mode.bothContinuous);
  }

  #program(): void {
    this.#programmed = false;
    this.#writeRegister(Register.configuration, this.#configuration);
    const triggered = this.#settings.mode === "triggered";
    this.#programmed = true;
    this.#pending = triggered;
    this.#fresh = !triggered;
    this.#hasData = false;
  }

  #read(register: number): number {
    this.#pointer[0] = register;
    this.#io!.write(this.#pointer);
    const b = this.#two;
    this.#io!.read(b);
    return (b[0]! << 8) | b[1]!;
  }

  #writeRegister(register: number, value: number): void {
    const w = this.#write;
    w[0] = register;
    w[1] = value >> 8;
    w[2] = value & 0xff;
    this.#io!.write(w);
  }

  #check(): void {
    if (!this.#io) throw new Error("INA219: closed");
  }
}

Object.freeze(INA219.prototype);
