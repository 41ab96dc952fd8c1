// Register-level model of a TI ADS1115 on a simulated I2C bus: mux, PGA, data rate timing, OS bit, ALERT/RDY, faults.
import { I2CNack, type I2CDeviceModel } from "telltale/sim/i2c-bus";
import type { Clock } from "telltale/io/io";
import { Register, Config, FULL_SCALE, DATA_RATES, Threshold, conversionMs } from "telltale/drivers/ads1115/registers";

/** What is wired to AIN0..AIN3: volts against GND at time `now` (ms). */
export interface AnalogInputs {
  voltage(now: number, input: number): number;
}

export interface ADS1115Faults {
  /** NACK every transfer. */
  nack: boolean;
  /** The conversion register stops updating. */
  frozen: boolean;
  /** Inputs beyond the full-scale range: codes saturate at 0x7FFF. */
  outOfRange: boolean;
  /** Conversions never finish (OS stays 0): a stalled oscillator. */
  stalled: boolean;
}

export interface ADS1115ModelOptions {
  inputs: AnalogInputs;
  /** With a clock the model completes conversions on time and drives ALERT/RDY through `onAlert`. */
  clock?: Clock;
}

/** (positive, negative) inputs by MUX value; -1 is GND. */
const PAIRS: readonly (readonly [number, number])[] = Object.freeze(
  (
    [
      [0, 1],
      [0, 3],
      [1, 3],
      [2, 3],
      [0, -1],
      [1, -1],
      [2, -1],
      [3, -1],
    ] as const
  ).map((pair) => Object.freeze(pair)),
);

export class ADS1115Model implements I2CDeviceModel {
  readonly faults: ADS1115Faults = { nack: false, frozen: false, outOfRange: false, stalled: false };
  /** Registers 0..3. */
  readonly registers = new Uint16Array(4);
  conversions = 0;
  /** ALERT/RDY level changes (1 high, 0 low), when a clock is given. */
  onAlert: ((level: number) => void) | undefined;

  readonly #inputs: AnalogInputs;
  readonly #clock: Clock | undefined;
  #pointer = 0;
  /** Single-shot: the running conversion's end, or -1. Continuous: start time, or -1. */
  #singleDoneAt = -1;
  #continuousStart = -1;
  #continuousDone = 0;
  #timer: unknown;
  #alert = 1;

  constructor(options: ADS1115ModelOptions) {
    this.#inputs = options.inputs;
    this.#clock = options.clock;
    this.registers[Register.config] = Config.resetValue;
    this.registers[Register.lowThreshold] = Threshold.lowReset;
    this.registers[Register.highThreshold] = Threshold.highReset;
  }

  /** The level of ALERT/RDY now (pulled up: 1 unless asserted). */
  get alert(): number {
    return this.#alert;
  }

  write(bytes: Uint8Array, now: number): void {
    this.#access(now);
    if (bytes.length === 0) return;
    this.#pointer = bytes[0]! & 3;
    if (bytes.length < 3) return;
    const value = (bytes[1]! << 8) | bytes[2]!;
    if (this.#pointer === Register.conversion)
      throw new I2CNack("ADS1115 model: NACK (the conversion register is read-only)");
    if (this.#pointer !== Register.config) {
      this.registers[this.#pointer] = value;
      return;
    }
    const r = this.registers;
    const idle = this.#singleDoneAt < 0;
    r[Register.config] = (value & 0x7fff) | (r[Register.config]! & Config.start);
    if ((value & Config.singleShot) === 0) {
      this.#singleDoneAt = -1;
      this.#continuousStart = now;
      this.#continuousDone = 0;
      r[Register.config]! &= ~Config.start;
      this.#schedule(now + this.conversionMs);
    } else {
      this.#continuousStart = -1;
      if (value & Config.start && idle) {
        // OS = 1 starts a conversion from power-down (§9.4.2)
        r[Register.config]! &= ~Config.start;
        this.#singleDoneAt = now + this.conversionMs;
        this.#setAlert(1); // the conversion-ready pin deasserts while converting
        this.#schedule(this.#singleDoneAt);
      } else if (idle) r[Register.config]! |= Config.start;
    }
  }

  read(count: number, now: number): Uint8Array {
    this.#access(now);
    const value = this.registers[this.#pointer]!;
    const out = new Uint8Array(count);
    out[0] = value >> 8;
    if (count > 1) out[1] = value & 0xff;
    return out;
  }

  get conversionMs(): number {
    return conversionMs(DATA_RATES[(this.registers[Register.config]! >> 5) & 7]!);
  }

  #access(now: number): void {
    if (this.faults.nack) throw new I2CNack("ADS1115 model: NACK (injected)");
    this.#advance(now);
  }

  #schedule(at: number): void {
    const clock = this.#clock;
    if (!clock) return;
    if (this.#timer !== undefined) clock.clearTimeout(this.#timer);
    this.#timer = clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.#advance(clock.now());
        if (this.#continuousStart >= 0)
          this.#schedule(this.#continuousStart + (this.#continuousDone + 1) * this.conversionMs);
      },
      Math.max(0, at - clock.now()),
    );
  }

  #advance(now: number): void {
    if (this.faults.stalled) return;
    if (this.#singleDoneAt >= 0 && now >= this.#singleDoneAt) {
      this.#convert(this.#singleDoneAt);
      this.#singleDoneAt = -1;
      this.registers[Register.config]! |= Config.start; // OS reads 1 again: idle (§9.6.3)
      if (this.#readyMode()) this.#setAlert(0);
    }
    if (this.#continuousStart >= 0) {
      const period = this.conversionMs;
      const due = Math.floor((now - this.#continuousStart) / period);
      if (due > this.#continuousDone) {
        this.#convert(this.#continuousStart + due * period);
        this.#continuousDone = due;
        // Continuous mode pulses ALERT/RDY for 8 µs per conversion (§9.3.8).
        if (this.#readyMode()) {
          this.#setAlert(0);
          this.#setAlert(1);
        }
      }
    }
  }

  #readyMode(): boolean {
    const r = this.registers;
    return (
      (r[Register.config]! & 3) !== Config.comparatorDisabled &&
      (r[Register.highThreshold]! & 0x8000) !== 0 &&
      (r[Register.lowThreshold]! & 0x8000) === 0
    );
  }

  /** Sets ALERT/RDY by its active-low level (0 asserted); COMP_POL 1 inverts the pin. */
  #setAlert(level: number): void {
    const polarity = (this.registers[Register.config]! >> 3) & 1;
    const out = polarity ? 1 - level : level;
    if (out === this.#alert) return;
    this.#alert = out;
    this.onAlert?.(out);
  }

  #convert(at: number): void {
    this.conversions++;
    if (this.faults.frozen) return;
    const config = this.registers[Register.config]!;
    const [positive, negative] = PAIRS[(config >> 12) & 7]!;
    const fullScale = FULL_SCALE[Math.min(5, (config >> 9) & 7)]!;
    const volts = this.#inputs.voltage(at, positive) - (negative < 0 ? 0 : this.#inputs.voltage(at, negative));
    let code = this.faults.outOfRange ? 0x7fff : Math.round((volts * 32768) / fullScale);
    code = code > 0x7fff ? 0x7fff : code < -0x8000 ? -0x8000 : code;
    this.registers[Register.conversion] = code & 0xffff;
  }
}

Object.freeze(ADS1115Model.prototype);
