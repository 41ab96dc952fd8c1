// Register-level model of a TI INA219 on a simulated I2C bus: registers, calibration arithmetic, timing, CNVR/OVF flags and faults.
import { I2CNack, type I2CDeviceModel } from "telltale/sim/i2c-bus";
import {
  Register,
  Configuration,
  BusFlags,
  SHUNT_RANGES,
  ADC_MS,
  ShuntLsb,
  BusLsb,
} from "telltale/drivers/ina219/registers";
import type { PowerRail } from "telltale/drivers/ina226/model";

export interface INA219Faults {
  nack: boolean;
  /** Result registers stop updating. */
  frozen: boolean;
  /** The shunt is driven past the PGA range: the shunt register clips and OVF sets. */
  outOfRange: boolean;
}

export interface INA219ModelOptions {
  rail: PowerRail;
  shunt: number;
}

/** Samples and ms for a BADC/SADC field value (Table 5): 0xxx single samples of 9–12 bits, 1xxx averaged 12-bit. */
function adc(field: number): number {
  if (field & 0b1000) return ADC_MS[field & 7]!;
  return [0.084, 0.148, 0.276, 0.532][field & 3]!;
}

export class INA219Model implements I2CDeviceModel {
  readonly faults: INA219Faults = { nack: false, frozen: false, outOfRange: false };
  readonly registers = new Uint16Array(6);
  conversions = 0;
  resets = 0;

  readonly #rail: PowerRail;
  readonly #shunt: number;
  #pointer = 0;
  #start = 0;
  #done = 0;
  #single = false;

  constructor(options: INA219ModelOptions) {
    this.#rail = options.rail;
    this.#shunt = options.shunt;
    this.registers[Register.configuration] = Configuration.resetValue;
  }

  /** Bus then shunt conversion, ms (§8.4: the two conversions alternate). */
  get conversionMs(): number {
    const c = this.registers[Register.configuration]!;
    return adc((c >> 7) & 15) + adc((c >> 3) & 15);
  }

  write(bytes: Uint8Array, now: number): void {
    this.#access(now);
    if (bytes.length === 0) return;
    this.#pointer = bytes[0]!;
    if (bytes.length < 3) return;
    const value = (bytes[1]! << 8) | bytes[2]!;
    if (this.#pointer === Register.configuration) {
      if (value & Configuration.reset) {
        this.registers.fill(0);
        this.registers[0] = Configuration.resetValue;
        this.resets++;
      } else this.registers[0] = value & 0x3fff;
      this.registers[Register.busVoltage]! &= ~BusFlags.conversionReady;
      this.#start = now;
      this.#done = 0;
      this.#single = false;
    } else if (this.#pointer === Register.calibration) this.registers[Register.calibration] = value & 0xfffe;
    else throw new I2CNack("INA219 model: NACK (register 0x" + this.#pointer.toString(16) + " is read-only)");
  }

  read(count: number, now: number): Uint8Array {
    this.#access(now);
    if (this.#pointer > 5) throw new I2CNack("INA219 model: NACK (no register 0x" + this.#pointer.toString(16) + ")");
    const value = this.registers[this.#pointer]!;
    // Reading the power register clears CNVR (§8.6.3.2).
    if (this.#pointer === Register.power) this.registers[Register.busVoltage]! &= ~BusFlags.conversionReady;
    const out = new Uint8Array(count);
    out[0] = value >> 8;
    if (count > 1) out[1] = value & 0xff;
    return out;
  }

  #access(now: number): void {
    if (this.faults.nack) throw new I2CNack("INA219 model: NACK (injected)");
    const mode = this.registers[Register.configuration]! & 7;
    if (mode === 0 || mode === 4) return;
    const period = this.conversionMs;
    const due = Math.floor((now - this.#start) / period);
    if (due <= this.#done) return;
    if (mode < 4) {
      if (this.#single) return;
      this.#single = true;
      this.#convert(this.#start + period);
    } else this.#convert(this.#start + due * period);
    this.#done = due;
  }

  #convert(at: number): void {
    this.conversions++;
    const r = this.registers;
    if (this.faults.frozen) {
      r[Register.busVoltage]! |= BusFlags.conversionReady;
      return;
    }
    const c = r[Register.configuration]!;
    const range = SHUNT_RANGES[(c >> 11) & 3]!;
    const limit = Math.round(range / ShuntLsb);
    let shunt = Math.round((this.#rail.current(at) * this.#shunt) / ShuntLsb);
    if (this.faults.outOfRange) shunt = limit;
    let overflow = false;
    if (shunt >= limit || shunt <= -limit) {
      shunt = shunt < 0 ? -limit : limit;
      overflow = true;
    }
    const busMax = c & Configuration.busRange32V ? 8000 : 4000;
    const bus = Math.max(0, Math.min(busMax, Math.round(this.#rail.busVoltage(at) / BusLsb)));
    const cal = r[Register.calibration]!;
    let current = Math.trunc((shunt * cal) / 4096);
    if (current > 32767 || current < -32768) {
      overflow = true;
      current = current < 0 ? -32768 : 32767;
    }
    let power = Math.trunc((Math.abs(current) * bus) / 5000);
    if (power > 0xffff) {
      overflow = true;
      power = 0xffff;
    }
    r[Register.shuntVoltage] = shunt & 0xffff;
    r[Register.busVoltage] = (bus << 3) | BusFlags.conversionReady | (overflow ? BusFlags.overflow : 0);
    r[Register.current] = cal ? current & 0xffff : 0;
    r[Register.power] = cal ? power : 0;
  }
}

Object.freeze(INA219Model.prototype);
