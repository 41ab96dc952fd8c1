// Register-level model of a Sensirion SHT4x on a simulated I2C bus: commands, timing, heater, serial number, CRC and faults.
import { I2CNack, type I2CDeviceModel } from "telltale/sim/i2c-bus";
import { crc8Word } from "telltale/crc/crc8";
import { Command, MeasurementMs, HeaterMs, ResetMs, type Precision } from "telltale/drivers/sht4x/registers";
import type { Environment } from "telltale/sim/environment";

/** Faults a test or the simulator can inject. */
export interface SHT4xFaults {
  /** NACK every transfer. */
  nack: boolean;
  /** Corrupt the CRC of the first measurement word. */
  badCrc: boolean;
  /** Keep returning the last measurement. */
  frozen: boolean;
  /** Return full-scale words (T 130 °C, RH 119 %): a broken sensing element. */
  outOfRange: boolean;
}

export interface SHT4xModelOptions {
  environment: Environment;
  /** 32-bit serial number (default 0x0F5A93C1). */
  serialNumber?: number;
}

const MEASURE: Readonly<Record<number, Precision>> = Object.freeze({
  [Command.measureHigh]: "high",
  [Command.measureMedium]: "medium",
  [Command.measureLow]: "low",
});
/** Heater commands: power (mW) and pulse (ms). */
const HEAT: Readonly<Record<number, readonly [number, 1000 | 100]>> = Object.freeze({
  [Command.heater200mW1s]: Object.freeze([200, 1000] as const),
  [Command.heater200mW100ms]: Object.freeze([200, 100] as const),
  [Command.heater110mW1s]: Object.freeze([110, 1000] as const),
  [Command.heater110mW100ms]: Object.freeze([110, 100] as const),
  [Command.heater20mW1s]: Object.freeze([20, 1000] as const),
  [Command.heater20mW100ms]: Object.freeze([20, 100] as const),
});

function toTicks(value: number, offset: number, span: number): number {
  const t = Math.round(((value + offset) * 65535) / span);
  return t < 0 ? 0 : t > 65535 ? 65535 : t;
}

export class SHT4xModel implements I2CDeviceModel {
  readonly faults: SHT4xFaults = { nack: false, badCrc: false, frozen: false, outOfRange: false };
  /** Counts, for tests. */
  commands = 0;
  measurements = 0;
  heaterPulses = 0;
  /** Heater-on time accumulated, ms (the datasheet limits the duty cycle to 10 %). */
  heaterOnMs = 0;

  readonly #environment: Environment;
  readonly #serial: number;
  #busyUntil = 0;
  #readyAt = -1;
  /** °C the heater pulse adds to the element during the pending measurement. */
  #heat = 0;
  #output: Uint8Array | null = null;
  readonly #last = new Uint8Array(6);
  #hasLast = false;

  constructor(options: SHT4xModelOptions) {
    this.#environment = options.environment;
    this.#serial = options.serialNumber ?? 0x0f5a93c1;
  }

  write(bytes: Uint8Array, now: number): void {
    if (this.faults.nack) throw new I2CNack("SHT4x model: NACK (injected)");
    if (now < this.#busyUntil) throw new I2CNack("SHT4x model: NACK (busy after reset)");
    if (this.#readyAt >= 0 && now < this.#readyAt) throw new I2CNack("SHT4x model: NACK (measurement in progress)");
    if (bytes.length !== 1) throw new I2CNack("SHT4x model: NACK (commands are one byte)");
    const command = bytes[0]!;
    this.commands++;
    this.#output = null;
    this.#readyAt = -1;
    const precision = MEASURE[command];
    if (precision) {
      this.#readyAt = now + MeasurementMs[precision];
      this.#heat = 0;
      return;
    }
    const heat = HEAT[command];
    if (heat) {
      const [power, duration] = heat;
      this.heaterPulses++;
      this.heaterOnMs += duration;
      // A 200 mW, 1 s pulse warms the element by roughly 10 °C; shorter or weaker pulses proportionally less.
      this.#heat = (power / 200) * (duration / 1000) * 10;
      this.#readyAt = now + HeaterMs[duration];
      return;
    }
    switch (command) {
      case Command.softReset:
        this.#busyUntil = now + ResetMs;
        this.#heat = 0;
        break;
      case Command.serialNumber:
        this.#output = this.#words(this.#serial >>> 16, this.#serial & 0xffff);
        break;
      default:
        throw new I2CNack("SHT4x model: NACK (unknown command 0x" + command.toString(16) + ")");
    }
  }

  read(count: number, now: number): Uint8Array {
    if (this.faults.nack) throw new I2CNack("SHT4x model: NACK (injected)");
    if (this.#readyAt >= 0) {
      // The SHT4x has no clock stretching: it NACKs the read header until the conversion is done.
      if (now < this.#readyAt) throw new I2CNack("SHT4x model: NACK (measurement in progress)");
      this.#output = this.#measure(this.#readyAt);
      this.#readyAt = -1;
    }
    const out = this.#output;
    if (!out) throw new I2CNack("SHT4x model: NACK (no data)");
    this.#output = null;
    return out.subarray(0, count);
  }

  #measure(at: number): Uint8Array {
    this.measurements++;
    if (this.faults.frozen && this.#hasLast) return this.#last.slice();
    let out: Uint8Array;
    if (this.faults.outOfRange) out = this.#words(0xffff, 0xffff);
    else {
      const t = this.#environment.temperature(at),
        heat = this.#heat;
      // The same water in warmer air: relative humidity falls about 6 % per kelvin of heating.
      const rh = this.#environment.humidity(at) * Math.pow(0.94, heat);
      out = this.#words(toTicks(t + heat, 45, 175), toTicks(rh, 6, 125));
    }
    if (this.faults.badCrc) out[2]! ^= 0x5a;
    this.#last.set(out);
    this.#hasLast = true;
    return out;
  }

  /** Two big-endian words, each followed by its CRC (§4.4). */
  #words(first: number, second: number): Uint8Array {
    const out = new Uint8Array(6);
    out[0] = first >> 8;
    out[1] = first & 0xff;
    out[2] = crc8Word(first);
    out[3] = second >> 8;
    out[4] = second & 0xff;
    out[5] = crc8Word(second);
    return out;
  }
}

Object.freeze(SHT4xModel.prototype);
