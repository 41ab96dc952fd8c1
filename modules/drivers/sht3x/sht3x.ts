// Sensirion SHT3x temperature/humidity driver in the ECMA-419 sensor class pattern, without blocking delays.
import type { I2C, SensorIOOptions } from "telltale/io/io";
import { crc8Word } from "telltale/crc/crc8";
import { ErrorReporter, checkOnError } from "telltale/drivers/report";
import { checkAddress } from "telltale/drivers/part";
import {
  ADDRESSES,
  Command,
  ticksToCelsius,
  ticksToPercent,
  type Repeatability,
} from "telltale/drivers/sht3x/registers";
import { messageOf } from "telltale/errors/message";

export interface SHT3xOptions {
  sensor: SensorIOOptions;
  /** Measurement repeatability (default "high"). */
  repeatability?: Repeatability;
  /** Transient faults (NACK, CRC mismatch), reported after the public call returns. */
  onError?: (error: Error) => void;
}

export interface SHT3xSample {
  thermometer: { temperature: number };
  hygrometer: { humidity: number };
}

const REPEATABILITY: Readonly<Record<Repeatability, number>> = Object.freeze({
  high: Command.singleShotHigh,
  medium: Command.singleShotMedium,
  low: Command.singleShotLow,
});

function validRepeatability(value: unknown): value is Repeatability {
  return value === "high" || value === "medium" || value === "low";
}

/**
 * `sample()` reads the conversion that the previous call started and starts the next one, so no call
 * waits for the chip: the first call after construction starts a conversion and returns undefined.
 */
export default class SHT3x {
  #io: I2C | undefined;
  readonly #reporter: ErrorReporter;
  #command: number;
  #pending = false;
  #heater = false;
  readonly #word = new Uint8Array(2);
  /** Read buffers, made once: the status word and the measurement's two words, each with its CRC. */
  readonly #status = new Uint8Array(3);
  readonly #measurement = new Uint8Array(6);

  constructor(options: SHT3xOptions) {
    const sensor = options?.sensor;
    if (!sensor || typeof sensor.io !== "function")
      throw new TypeError('SHT3x: option "sensor.io" must be an I2C class');
    const address = checkAddress("SHT3x", sensor.address, ADDRESSES);
    const repeatability = options.repeatability ?? "high";
    if (!validRepeatability(repeatability))
      throw new RangeError('SHT3x: option "repeatability" must be "high", "medium" or "low"');
    checkOnError("SHT3x", options.onError);
    this.#reporter = new ErrorReporter("SHT3x", options.onError);
    this.#command = REPEATABILITY[repeatability];

    const io = new sensor.io({ hz: 100_000, ...sensor, address });
    this.#io = io;
    try {
      // Reading the status register proves a part answers at this address with valid CRCs.
      this.#send(Command.readStatus);
      io.read(this.#status);
      this.#readWord(this.#status, 0, "status");
      this.#send(Command.softReset);
    } catch (e) {
      io.close();
      this.#io = undefined;
      throw new Error("SHT3x: no working sensor at address 0x" + address.toString(16) + " (" + messageOf(e) + ")", {
        cause: e,
      });
    }
  }

  /** Transient errors counted since construction (health telemetry). */
  get errors(): number {
    return this.#reporter.count;
  }

  configure(options: { repeatability?: Repeatability; heater?: boolean }): void {
    this.#check();
    if (options.repeatability !== undefined) {
      if (!validRepeatability(options.repeatability))
        throw new RangeError('SHT3x: option "repeatability" must be "high", "medium" or "low"');
      this.#command = REPEATABILITY[options.repeatability];
    }
    if (options.heater !== undefined) {
      if (typeof options.heater !== "boolean") throw new TypeError('SHT3x: option "heater" must be a boolean');
      this.#send(options.heater ? Command.heaterEnable : Command.heaterDisable);
      this.#heater = options.heater;
    }
  }

  get configuration(): { repeatability: Repeatability; heater: boolean } {
    const repeatability = (Object.keys(REPEATABILITY) as Repeatability[]).find(
      (k) => REPEATABILITY[k] === this.#command,
    )!;
    return { repeatability, heater: this.#heater };
  }

  /** The status register (§4.11): reads and checks its CRC; throws on failure. */
  readStatus(): number {
    this.#check();
    this.#send(Command.readStatus);
    this.#io!.read(this.#status);
    return this.#readWord(this.#status, 0, "status");
  }

  sample(): SHT3xSample | undefined {
    this.#check();
    let result: SHT3xSample | undefined;
    let reported = false;
    try {
      if (this.#pending) {
        this.#pending = false;
        const bytes = this.#measurement;
        this.#io!.read(bytes);
        const t = this.#readWord(bytes, 0, "measurement"),
          h = this.#readWord(bytes, 1, "measurement");
        result = { thermometer: { temperature: ticksToCelsius(t) }, hygrometer: { humidity: ticksToPercent(h) } };
      }
    } catch (e) {
      this.#reporter.report(e as Error);
      reported = true;
    }
    try {
      this.#send(this.#command);
      this.#pending = true;
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

  #check(): void {
    if (!this.#io) throw new Error("SHT3x: closed");
  }

  #send(command: number): void {
    this.#word[0] = command >> 8;
    this.#word[1] = command & 0xff;
    this.#io!.write(this.#word);
  }

  /** Word `index` of `bytes` (big-endian), after checking the CRC that follows it (§4.12). */
  #readWord(bytes: Uint8Array, index: number, what: string): number {
    const word = (bytes[index * 3]! << 8) | bytes[index * 3 + 1]!;
    const crc = bytes[index * 3 + 2]!;
    const expected = crc8Word(word);
    if (crc !== expected)
      throw new Error(
        "SHT3x: CRC mismatch in " +
          what +
          " word " +
          index +
          " (got 0x" +
          crc.toString(16) +
          ", expected 0x" +
          expected.toString(16) +
          ")",
      );
    return word;
  }
}

Object.freeze(SHT3x.prototype);
