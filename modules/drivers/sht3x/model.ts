// Register-level model of a Sensirion SHT3x on a simulated I2C bus: commands, timing, CRC and faults.
import { I2CNack, type I2CDeviceModel } from "telltale/sim/i2c-bus";
import { crc8Word } from "telltale/crc/crc8";
import type { Environment } from "telltale/sim/environment";
import { Command, Status, MeasurementMs, ResetMs, type Repeatability } from "telltale/drivers/sht3x/registers";

/** Faults a test or the simulator can inject. */
export interface SHT3xFaults {
  /** NACK every transfer (a loose wire, a dead part). */
  nack: boolean;
  /** Corrupt the CRC of measurement words (noise on SDA). */
  badCrc: boolean;
  /** Keep returning the last measurement (a frozen sensor element). */
  frozen: boolean;
}

export interface SHT3xModelOptions {
  environment: Environment;
}

const MEASURE: Readonly<Record<number, Repeatability>> = Object.freeze({
  [Command.singleShotHigh]: "high",
  [Command.singleShotMedium]: "medium",
  [Command.singleShotLow]: "low",
  [Command.stretchHigh]: "high",
  [Command.stretchMedium]: "medium",
  [Command.stretchLow]: "low",
});

function toTicks(value: number, offset: number, span: number): number {
  const t = Math.round(((value + offset) * 65535) / span);
  return t < 0 ? 0 : t > 65535 ? 65535 : t;
}

export class SHT3xModel implements I2CDeviceModel {
  readonly faults: SHT3xFaults = { nack: false, badCrc: false, frozen: false };
  /** Status register (§4.11). */
  status: number = Status.resetValue;
  /** Counts, for tests: commands accepted and measurements made. */
  commands = 0;
  measurements = 0;

  readonly #environment: Environment;
  #busyUntil = 0;
  #measureReadyAt = -1;
  #stretch = false;
  #output: Uint8Array | null = null;
  #last = new Uint8Array(6);
  #hasLast = false;

  constructor(options: SHT3xModelOptions) {
    this.#environment = options.environment;
  }

  write(bytes: Uint8Array, now: number): void {
    if (this.faults.nack) throw new I2CNack("SHT3x model: NACK (injected)");
    if (now < this.#busyUntil) throw new I2CNack("SHT3x model: NACK (busy after reset)");
    if (this.#measureReadyAt >= 0 && now < this.#measureReadyAt)
      throw new I2CNack("SHT3x model: NACK (measurement in progress)");
    if (bytes.length < 2) {
      this.status |= Status.commandFailed;
      return;
    }
    const command = (bytes[0]! << 8) | bytes[1]!;
    this.commands++;
    this.status &= ~Status.commandFailed;
    const repeatability = MEASURE[command];
    if (repeatability) {
      this.#measureReadyAt = now + MeasurementMs[repeatability];
      this.#stretch = command >> 8 === 0x2c;
      this.#output = null;
      return;
    }
    switch (command) {
      case Command.softReset:
        this.status = Status.resetValue;
        this.#busyUntil = now + ResetMs;
        this.#measureReadyAt = -1;
        this.#output = null;
        break;
      case Command.readStatus:
        this.#output = this.#words(this.status & 0xffff, -1);
        break;
      case Command.clearStatus:
        this.status &= ~(Status.alertPending | Status.humidityAlert | Status.temperatureAlert | Status.resetDetected);
        break;
      case Command.heaterEnable:
        this.status |= Status.heaterOn;
        break;
      case Command.heaterDisable:
        this.status &= ~Status.heaterOn;
        break;
      case Command.break:
        break;
      default:
        this.status |= Status.commandFailed;
    }
  }

  read(count: number, now: number): Uint8Array {
    if (this.faults.nack) throw new I2CNack("SHT3x model: NACK (injected)");
    if (this.#measureReadyAt >= 0) {
      // Without clock stretching the chip NACKs the read header until the conversion is done (§4.4).
      if (now < this.#measureReadyAt && !this.#stretch)
        throw new I2CNack("SHT3x model: NACK (measurement in progress)");
      const at = Math.max(now, this.#measureReadyAt);
      this.#measureReadyAt = -1;
      this.#output = this.#measure(at);
    }
    const out = this.#output;
    if (!out) throw new I2CNack("SHT3x model: NACK (no data)");
    this.#output = null;
    return out.subarray(0, count);
  }

  #measure(now: number): Uint8Array {
    this.measurements++;
    if (this.faults.frozen && this.#hasLast) return this.#last.slice();
    const heat = this.status & Status.heaterOn ? 3 : 0; // the heater warms the element by a few degrees
    const t = toTicks(this.#environment.temperature(now) + heat, 45, 175);
    const h = toTicks(this.#environment.humidity(now), 0, 100);
    const out = this.#words(t, h);
    if (this.faults.badCrc) out[2]! ^= 0x5a;
    this.#last.set(out);
    this.#hasLast = true;
    return out;
  }

  /** One or two big-endian words, each followed by its CRC (§4.12). */
  #words(first: number, second: number): Uint8Array {
    const out = new Uint8Array(second < 0 ? 3 : 6);
    out[0] = first >> 8;
    out[1] = first & 0xff;
    out[2] = crc8Word(first);
    if (second >= 0) {
      out[3] = second >> 8;
      out[4] = second & 0xff;
      out[5] = crc8Word(second);
    }
    return out;
  }
}

Object.freeze(SHT3xModel.prototype);
