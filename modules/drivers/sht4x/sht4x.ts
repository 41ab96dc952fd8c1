// Sensirion SHT4x temperature/humidity driver in the ECMA-419 sensor class pattern, without blocking delays.
import type { I2C, SensorIOOptions } from "telltale/io/io";
import { ErrorReporter, checkOnError } from "telltale/drivers/report";
import { crc8Word } from "telltale/crc/crc8";
import { checkAddress } from "telltale/drivers/part";
import {
  ADDRESSES,
  Command,
  MEASURE,
  MeasurementMs,
  HEATER_POWERS,
  HEATER_DURATIONS,
  TemperatureRange,
  heaterCommand,
  ticksToCelsius,
  ticksToPercent,
  type Precision,
  type HeaterPower,
  type HeaterDuration,
} from "telltale/drivers/sht4x/registers";
import { messageOf } from "telltale/errors/message";

export interface SHT4xHeater {
  /** mW: 200, 110 or 20. */
  power: HeaterPower;
  /** ms: 1000 or 100. */
  duration: HeaterDuration;
}

export interface SHT4xOptions {
  sensor: SensorIOOptions;
  /** Measurement precision (repeatability), default "high". */
  precision?: Precision;
  /** Transient faults (NACK, CRC mismatch, out of range), reported after the public call returns. */
  onError?: (error: Error) => void;
}

export interface SHT4xSample {
  thermometer: { temperature: number };
  hygrometer: { humidity: number };
}

const PRECISIONS: readonly Precision[] = Object.freeze(["high", "medium", "low"]);

function checkPrecision(value: unknown): asserts value is Precision {
  if (!PRECISIONS.includes(value as Precision))
    throw new RangeError('SHT4x: option "precision" must be "high", "medium" or "low", got ' + String(value));
}

function checkHeater(value: unknown): asserts value is SHT4xHeater {
  const h = value as SHT4xHeater;
  if (h === null || typeof h !== "object") throw new TypeError('SHT4x: option "heater" must be {power, duration}');
  if (!HEATER_POWERS.includes(h.power))
    throw new RangeError('SHT4x: option "heater.power" must be 200, 110 or 20 (mW), got ' + String(h.power));
  if (!HEATER_DURATIONS.includes(h.duration))
    throw new RangeError('SHT4x: option "heater.duration" must be 1000 or 100 (ms), got ' + String(h.duration));
}

/**
 * `sample()` reads the conversion that the previous call started and starts the next one, so no call
 * waits for the chip. `configure({heater})` arms one heater pulse (to drive off condensation): the next
 * `sample()` starts it instead of a plain conversion, and the one after discards its heated reading.
 */
export default class SHT4x {
  #io: I2C | undefined;
  readonly #reporter: ErrorReporter;
  #precision: Precision;
  #command: number;
  #heaterCommand = -1;
  #pending = false;
  #pendingHeated = false;
  readonly #serialNumber: number;
  readonly #byte = new Uint8Array(1);
  /** Two words, each followed by its CRC: the serial number or a measurement (read into, never allocated per read). */
  readonly #bytes = new Uint8Array(6);

  constructor(options: SHT4xOptions) {
    const sensor = options?.sensor;
    if (!sensor || typeof sensor.io !== "function")
      throw new TypeError('SHT4x: option "sensor.io" must be an I2C class');
    const address = checkAddress("SHT4x", sensor.address, ADDRESSES);
    const precision = options.precision ?? "high";
    checkPrecision(precision);
    checkOnError("SHT4x", options.onError);

    this.#reporter = new ErrorReporter("SHT4x", options.onError);
    const io = new sensor.io({ hz: 400_000, ...sensor, address });
    try {
      // The serial number, with valid CRCs, proves an SHT4x answers here (it has no id register).
      this.#send(io, Command.serialNumber);
      const bytes = this.#bytes;
      io.read(bytes);
      this.#serialNumber = this.#word(bytes, 0, "serial number") * 65536 + this.#word(bytes, 3, "serial number");
      this.#send(io, Command.softReset);
    } catch (e) {
      io.close();
      throw new Error("SHT4x: no working sensor at address 0x" + address.toString(16) + " (" + messageOf(e) + ")", {
        cause: e,
      });
    }
    this.#io = io;
    this.#precision = precision;
    this.#command = MEASURE[precision];
  }

  /** Errors counted since construction (health telemetry). */
  get errors(): number {
    return this.#reporter.count;
  }
  /** The 32-bit serial number read at construction (§4.8). */
  get serialNumber(): number {
    return this.#serialNumber;
  }
  get configuration(): { precision: Precision } {
    return { precision: this.#precision };
  }
  /** Maximum conversion time with the current precision, ms. */
  get measurementTime(): number {
    return MeasurementMs[this.#precision];
  }

  configure(options: { precision?: Precision; heater?: SHT4xHeater }): void {
    this.#check();
    if (options.precision !== undefined) checkPrecision(options.precision);
    if (options.heater !== undefined) checkHeater(options.heater);
    if (options.precision !== undefined) {
      this.#precision = options.precision;
      this.#command = MEASURE[options.precision];
    }
    if (options.heater !== undefined)
      this.#heaterCommand = heaterCommand(options.heater.power, options.heater.duration);
  }

  sample(): SHT4xSample | undefined {
    this.#check();
    let result: SHT4xSample | undefined;
    let reported = false,
      readFailed = false;
    if (this.#pending) {
      let bytes: Uint8Array | undefined;
      try {
        this.#io!.read(this.#bytes);
        bytes = this.#bytes;
      } catch (e) {
        this.#reporter.report(e as Error);
        reported = readFailed = true;
      }
      if (bytes) {
        this.#pending = false;
        try {
          const t = this.#word(bytes, 0, "measurement"),
            h = this.#word(bytes, 3, "measurement");
          const temperature = ticksToCelsius(t);
          if (temperature < TemperatureRange.min || temperature > TemperatureRange.max)
            throw new Error(
              "temperature out of range (" + temperature.toFixed(1) + " °C, raw 0x" + t.toString(16) + ")",
            );
          // A reading taken right after a heater pulse measures the heater, not the air.
          if (!this.#pendingHeated)
            result = { thermometer: { temperature }, hygrometer: { humidity: ticksToPercent(h) } };
        } catch (e) {
          this.#reporter.report(e as Error);
          reported = true;
        }
      }
    }
    try {
      const heat = this.#heaterCommand >= 0;
      this.#send(this.#io!, heat ? this.#heaterCommand : this.#command);
      this.#pending = true;
      this.#pendingHeated = heat;
      this.#heaterCommand = -1;
    } catch (e) {
      // When the read failed too, the chip is most likely still converting (it NACKs both): #pending stays
      // set and the next call reads that conversion.
      if (!reported) this.#reporter.report(e as Error);
      if (!readFailed) this.#pending = false;
    }
    return result;
  }

  close(): void {
    this.#io?.close();
    this.#io = undefined;
    this.#reporter.close();
  }

  #check(): void {
    if (!this.#io) throw new Error("SHT4x: closed");
  }

  #send(io: I2C, command: number): void {
    this.#byte[0] = command;
    io.write(this.#byte);
  }

  /** The big-endian word at `offset`, after checking the CRC that follows it (§4.4). */
  #word(bytes: Uint8Array, offset: number, what: string): number {
    const word = (bytes[offset]! << 8) | bytes[offset + 1]!;
    const crc = bytes[offset + 2]!,
      expected = crc8Word(word);
    if (crc !== expected)
      throw new Error(
        "CRC mismatch in " +
          what +
          " word " +
          offset / 3 +
          " (got 0x" +
          crc.toString(16) +
          ", expected 0x" +
          expected.toString(16) +
          ")",
      );
    return word;
  }
}

Object.freeze(SHT4x.prototype);
