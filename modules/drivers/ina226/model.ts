// Register-level model of a TI INA226 on a simulated I2C bus: registers, calibration arithmetic, averaging timing, flags and faults.
import { I2CNack, type I2CDeviceModel } from "telltale/sim/i2c-bus";
import {
  Register,
  Configuration,
  MaskEnable,
  Ids,
  Mode,
  AVERAGES,
  CONVERSION_MS,
  ShuntLsb,
  BusLsb,
  conversionTimeMs,
} from "telltale/drivers/ina226/registers";

/** The circuit the chip measures. */
export interface PowerRail {
  /** Load current through the shunt, A, at time `now` (ms). */
  current(now: number): number;
  /** Voltage at VBUS, V. */
  busVoltage(now: number): number;
}

export interface INA226Faults {
  /** NACK every transfer. */
  nack: boolean;
  /** Result registers stop updating. */
  frozen: boolean;
  /** The shunt input is driven past ±81.92 mV: shunt register saturates and the overflow flag sets. */
  outOfRange: boolean;
  /** Answer this manufacturer id instead of 0x5449 (a different part at the address). */
  manufacturerId: number | undefined;
}

export interface INA226ModelOptions {
  rail: PowerRail;
  /** The shunt fitted on the board, Ω. */
  shunt: number;
}

export class INA226Model implements I2CDeviceModel {
  readonly faults: INA226Faults = { nack: false, frozen: false, outOfRange: false, manufacturerId: undefined };
  /** Registers 0x00..0x07; tests may read them. */
  readonly registers = new Uint16Array(8);
  conversions = 0;
  resets = 0;

  readonly #rail: PowerRail;
  readonly #shunt: number;
  #pointer = 0;
  /** When the current conversion sequence began, and how many results it has produced. */
  #start = 0;
  #done = 0;
  /** Triggered mode: the single conversion has been delivered. */
  #single = false;

  constructor(options: INA226ModelOptions) {
    this.#rail = options.rail;
    this.#shunt = options.shunt;
    this.#reset(0);
  }

  /** One averaged result takes this long with the current configuration, ms. */
  get conversionMs(): number {
    const c = this.registers[Register.configuration]!;
    return conversionTimeMs(AVERAGES[(c >> 9) & 7]!, CONVERSION_MS[(c >> 3) & 7]!, CONVERSION_MS[(c >> 6) & 7]!);
  }

  write(bytes: Uint8Array, now: number): void {
    this.#access(now);
    if (bytes.length === 0) return;
    this.#pointer = bytes[0]!;
    if (bytes.length < 3) return; // a pointer write before a read
    const value = (bytes[1]! << 8) | bytes[2]!;
    switch (this.#pointer) {
      case Register.configuration:
        if (value & Configuration.reset) {
          this.#reset(now);
          this.resets++;
          break;
        }
        this.registers[Register.configuration] = (value & 0x0fff) | Configuration.fixedBits;
        // Writing the configuration clears CVRF and starts a new conversion sequence (§7.6.7).
        this.registers[Register.maskEnable]! &= ~MaskEnable.conversionReady;
        this.#start = now;
        this.#done = 0;
        this.#single = false;
        break;
      case Register.calibration:
        this.registers[Register.calibration] = value & 0x7fff;
        break;
      case Register.maskEnable:
        this.registers[Register.maskEnable] = (this.registers[Register.maskEnable]! & 0x1f) | (value & 0xfc03);
        break;
      case Register.alertLimit:
        this.registers[Register.alertLimit] = value;
        break;
      default:
        throw new I2CNack("INA226 model: NACK (register 0x" + this.#pointer.toString(16) + " is read-only)");
    }
  }

  read(count: number, now: number): Uint8Array {
    this.#access(now);
    let value: number;
    if (this.#pointer === Register.manufacturerId) value = this.faults.manufacturerId ?? Ids.manufacturer;
    else if (this.#pointer === Register.dieId) value = Ids.die;
    else if (this.#pointer < 8) {
      value = this.registers[this.#pointer]!;
      // Reading Mask/Enable clears the conversion-ready flag (§7.6.7).
      if (this.#pointer === Register.maskEnable) this.registers[Register.maskEnable]! &= ~MaskEnable.conversionReady;
    } else throw new I2CNack("INA226 model: NACK (no register 0x" + this.#pointer.toString(16) + ")");
    const out = new Uint8Array(count);
    out[0] = value >> 8;
    if (count > 1) out[1] = value & 0xff;
    return out;
  }

  #access(now: number): void {
    if (this.faults.nack) throw new I2CNack("INA226 model: NACK (injected)");
    this.#advance(now);
  }

  #reset(now: number): void {
    this.registers.fill(0);
    this.registers[Register.configuration] = Configuration.resetValue;
    this.#start = now;
    this.#done = 0;
    this.#single = false;
  }

  /** Delivers the results that have completed by `now`. */
  #advance(now: number): void {
    const mode = this.registers[Register.configuration]! & 7;
    if (mode === Mode.powerDown || mode === 4) return;
    const period = this.conversionMs;
    const due = Math.floor((now - this.#start) / period);
    if (due <= this.#done) return;
    if (mode < 4) {
      // triggered: one result, then the chip idles
      if (this.#single) return;
      this.#single = true;
      this.#convert(this.#start + period);
    } else this.#convert(this.#start + due * period);
    this.#done = due;
  }

  /** One averaged result at time `at`: shunt and bus registers, then Equations 3 and 4 (§7.5). */
  #convert(at: number): void {
    this.conversions++;
    const r = this.registers;
    r[Register.maskEnable]! |= MaskEnable.conversionReady;
    if (this.faults.frozen) return;
    let shunt = Math.round((this.#rail.current(at) * this.#shunt) / ShuntLsb);
    let overflow = false;
    if (this.faults.outOfRange) shunt = shunt < 0 ? -32768 : 32767;
    if (shunt > 32767 || shunt < -32768) {
      shunt = shunt < 0 ? -32768 : 32767;
    }
    const bus = Math.max(0, Math.min(0x7fff, Math.round(this.#rail.busVoltage(at) / BusLsb)));
    const cal = r[Register.calibration]!;
    let current = Math.trunc((shunt * cal) / 2048);
    if (current > 32767 || current < -32768) {
      overflow = true;
      current = current < 0 ? -32768 : 32767;
    }
    let power = Math.trunc((Math.abs(current) * bus) / 20000);
    if (power > 0xffff) {
      overflow = true;
      power = 0xffff;
    }
    if (shunt === 32767 || shunt === -32768) overflow = true;
    r[Register.shuntVoltage] = shunt & 0xffff;
    r[Register.busVoltage] = bus;
    r[Register.current] = current & 0xffff;
    r[Register.power] = power;
    if (overflow) r[Register.maskEnable]! |= MaskEnable.overflow;
    else r[Register.maskEnable]! &= ~MaskEnable.overflow;
  }
}

Object.freeze(INA226Model.prototype);
