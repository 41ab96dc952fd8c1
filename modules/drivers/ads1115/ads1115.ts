// TI ADS1115 4-channel 16-bit ADC driver in the ECMA-419 sensor class pattern: each declared input is its own reading.
import type { Clock, Digital, DigitalConstructor, I2C, SensorIOOptions } from "telltale/io/io";
import { ErrorReporter, checkOnError } from "telltale/drivers/report";
import { checkAddress } from "telltale/drivers/part";
import {
  ADDRESSES,
  Register,
  Config,
  Threshold,
  MUX,
  FULL_SCALE,
  DATA_RATES,
  conversionMs,
} from "telltale/drivers/ads1115/registers";
import { messageOf } from "telltale/errors/message";

/** A linear transducer: volts in `from` map to `to` (e.g. 0.5–4.5 V → 0–10 bar); extrapolated outside. */
export interface ADS1115Scale {
  from: readonly [number, number];
  to: readonly [number, number];
  unit?: string;
}

export interface ADS1115Input {
  /** Key of this input in the sample. */
  name: string;
  /** 0–3 single-ended against GND, or a differential pair "0-1", "0-3", "1-3", "2-3" (§9.6.3 MUX). */
  channel: number | string;
  /** Full-scale range ±V (PGA): 6.144, 4.096 (default), 2.048, 1.024, 0.512 or 0.256. */
  gain?: number;
  scale?: ADS1115Scale;
}

export interface ADS1115Options {
  sensor: SensorIOOptions;
  inputs: readonly ADS1115Input[];
  /** Samples per second: 8, 16, 32, 64, 128 (default), 250, 475 or 860. */
  dataRate?: number;
  /** "single" (default): each round converts every input once, one after another; "continuous": one input only. */
  mode?: "single" | "continuous";
  /** Timers for the conversion round (single mode). */
  clock?: Clock;
  /** ALERT/RDY wired to a GPIO: the chip signals each finished conversion (§9.3.8) instead of the driver timing it. */
  ready?: { io: DigitalConstructor; pin: number };
  onError?: (error: Error) => void;
}

/** Per input: volts and the scaled value (equal to volts without a scale). */
export type ADS1115Sample = Record<string, { voltage: number; value: number }>;

const CHANNELS: readonly string[] = Object.freeze(Object.keys(MUX));
const POLLS = 4;

function fail(message: string): never {
  throw new RangeError("ADS1115: " + message);
}

/**
 * In single mode `sample()` returns the round of conversions that finished since the previous call and starts
 * the next round, which runs on the clock's timers (or the ALERT/RDY pin): inputs are converted one after another,
 * each read when its conversion is done, so no call waits for the chip.
 */
export default class ADS1115 {
  #io: I2C | undefined;
  #ready: Digital | undefined;
  readonly #reporter: ErrorReporter;
  readonly #clock: Clock | undefined;
  readonly #names: readonly string[];
  /** Per input: config word (without OS), volts per code, scale slope and offset, saturation check. */
  readonly #config: Uint16Array;
  readonly #voltsPerCode: Float64Array;
  readonly #slope: Float64Array;
  readonly #offset: Float64Array;
  /** Codes of the round in progress and of the last complete one. */
  readonly #codes: Int16Array;
  readonly #latest: Int16Array;
  #conversionMs: number;
  #dataRate: number;
  readonly #continuous: boolean;
  #index = -1;
  #polls = 0;
  #fresh = false;
  #timer: unknown;
  /** The conversion timer's callback, made once rather than a closure per conversion. */
  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#poll();
  };
  readonly #pointer = new Uint8Array(1);
  readonly #write = new Uint8Array(3);
  /** A register's two bytes, read into (ECMA-419 read(buffer)) rather than allocated per read. */
  readonly #two = new Uint8Array(2);

  constructor(options: ADS1115Options) {
    const sensor = options?.sensor;
    if (!sensor || typeof sensor.io !== "function")
      throw new TypeError('ADS1115: option "sensor.io" must be an I2C class');
    const address = checkAddress("ADS1115", sensor.address, ADDRESSES);
    const inputs = options.inputs;
    const list: unknown = inputs; // Array.isArray(inputs) would narrow the readonly array to any[]
    if (!Array.isArray(list) || inputs.length < 1 || inputs.length > 8)
      fail('option "inputs" must be an array of 1 to 8 inputs');
    const dataRate = options.dataRate ?? 128;
    if (!DATA_RATES.includes(dataRate))
      fail('option "dataRate" must be one of ' + DATA_RATES.join(", ") + ", got " + String(dataRate));
    const mode = options.mode ?? "single";
    if (mode !== "single" && mode !== "continuous")
      fail('option "mode" must be "single" or "continuous", got ' + String(mode));
    if (mode === "continuous" && inputs.length !== 1)
      fail('option "mode" "continuous" converts one input; ' + inputs.length + " are declared");
    if (mode === "single" && (!options.clock || typeof options.clock.setTimeout !== "function"))
      fail('option "clock" is needed to time single-shot conversions');
    const ready = options.ready;
    if (ready !== undefined && (typeof ready?.io !== "function" || typeof ready.pin !== "number"))
      fail('option "ready" must be {io: Digital class, pin}');
    checkOnError("ADS1115", options.onError);
    const n = inputs.length;
    const names: string[] = [];
    this.#config = new Uint16Array(n);
    this.#voltsPerCode = new Float64Array(n);
    this.#slope = new Float64Array(n);
    this.#offset = new Float64Array(n);
    const comparator = ready ? 0 : Config.comparatorDisabled; // COMP_QUE 00: ALERT/RDY after each conversion
    inputs.forEach((input, i) => {
      const at = 'option "inputs[' + i + "]";
      if (typeof input?.name !== "string" || !/^[a-z][a-z0-9_]{0,31}$/.test(input.name) || names.includes(input.name))
        fail(at + '.name" must be a unique lower-case name');
      const channel = String(input.channel);
      if (!CHANNELS.includes(channel) || (typeof input.channel !== "number" && typeof input.channel !== "string"))
        fail(at + '.channel" must be 0–3 or one of "0-1", "0-3", "1-3", "2-3", got ' + String(input.channel));
      const gain = input.gain ?? 4.096;
      if (!FULL_SCALE.includes(gain))
        fail(at + '.gain" must be one of ' + FULL_SCALE.join(", ") + " (±V), got " + String(gain));
      let slope = 1,
        offset = 0;
      if (input.scale !== undefined) {
        const s = input.scale;
        const ok = (p: unknown) =>
          Array.isArray(p) &&
          p.length === 2 &&
          typeof p[0] === "number" &&
          typeof p[1] === "number" &&
          Number.isFinite(p[0]) &&
          Number.isFinite(p[1]);
        if (!ok(s?.from) || !ok(s?.to) || s.from[0] === s.from[1])
          fail(at + '.scale" must be {from: [v0, v1], to: [y0, y1]} with v0 ≠ v1');
        slope = (s.to[1] - s.to[0]) / (s.from[1] - s.from[0]);
        offset = s.to[0] - slope * s.from[0];
      }
      names.push(input.name);
      this.#config[i] =
        (MUX[channel]! << 12) |
        (FULL_SCALE.indexOf(gain) << 9) |
        (mode === "single" ? Config.singleShot : 0) |
        (DATA_RATES.indexOf(dataRate) << 5) |
        comparator;
      this.#voltsPerCode[i] = gain / 32768;
      this.#slope[i] = slope;
      this.#offset[i] = offset;
    });
    this.#names = names;
    this.#codes = new Int16Array(n);
    this.#latest = new Int16Array(n);
    this.#conversionMs = conversionMs(dataRate);
    this.#dataRate = dataRate;
    this.#continuous = mode === "continuous";
    this.#clock = options.clock;

    this.#reporter = new ErrorReporter("ADS1115", options.onError);
    const io = new sensor.io({ hz: 400_000, ...sensor, address });
    this.#io = io;
    try {
      // No id register: restore the reset state (§9.6) and read the configuration back to prove an ADS1115 answers.
      this.#writeRegister(Register.lowThreshold, ready ? Threshold.readyLow : Threshold.lowReset);
      this.#writeRegister(Register.highThreshold, ready ? Threshold.readyHigh : Threshold.highReset);
      const idle = (Config.resetValue & 0x7fff) | (this.#config[0]! & 3);
      this.#writeRegister(Register.config, idle);
      const back = this.#readRegister(Register.config);
      if (
        (back & 0x7fff) !== idle ||
        this.#readRegister(Register.highThreshold) !== (ready ? Threshold.readyHigh : Threshold.highReset)
      )
        throw new Error(
          "config reads back 0x" + back.toString(16) + ", not the 0x" + idle.toString(16) + " written: not an ADS1115",
        );
      if (this.#continuous) this.#writeRegister(Register.config, this.#config[0]!);
      if (ready)
        this.#ready = new ready.io({
          pin: ready.pin,
          mode: ready.io.InputPullUp,
          edge: ready.io.Falling,
          onReadable: () => this.#conversionReady(),
        });
    } catch (e) {
      io.close();
      this.#io = undefined;
      throw new Error("ADS1115: no working sensor at address 0x" + address.toString(16) + " (" + messageOf(e) + ")", {
        cause: e,
      });
    }
  }

  get errors(): number {
    return this.#reporter.count;
  }
  /** Time one round of conversions takes (inputs × 1/DR), ms. */
  get roundTime(): number {
    return this.#names.length * this.#conversionMs;
  }

  get configuration(): { dataRate: number; inputs: Record<string, { gain: number }> } {
    const inputs: Record<string, { gain: number }> = {};
    this.#names.forEach((name, i) => {
      inputs[name] = { gain: FULL_SCALE[(this.#config[i]! >> 9) & 7]! };
    });
    return { dataRate: this.#dataRate, inputs };
  }

  /**
   * Changes only what is given: the data rate, or an input's gain or scale by name, from the next conversion
   * started on.
   */
  configure(options: { dataRate?: number; inputs?: Record<string, { gain?: number; scale?: ADS1115Scale }> }): void {
    this.#check();
    const o = options ?? {};
    if (o.dataRate !== undefined && !DATA_RATES.includes(o.dataRate))
      fail('option "dataRate" must be one of ' + DATA_RATES.join(", ") + ", got " + String(o.dataRate));
    const changes = o.inputs ?? {};
    const updates: [number, number, number, number][] = [];
    for (const name of Object.keys(changes)) {
      const i = this.#names.indexOf(name);
      if (i < 0) fail('option "inputs" names no declared input "' + name + '"');
      const c = changes[name]!;
      const gain = c.gain ?? FULL_SCALE[(this.#config[i]! >> 9) & 7]!;
      if (!FULL_SCALE.includes(gain))
        fail('option "inputs.' + name + '.gain" must be one of ' + FULL_SCALE.join(", ") + ", got " + String(gain));
      let slope = this.#slope[i]!,
        offset = this.#offset[i]!;
      if (c.scale !== undefined) {
        const sc = c.scale;
        if (
          !Array.isArray(sc?.from) ||
          !Array.isArray(sc?.to) ||
          sc.from.length !== 2 ||
          sc.to.length !== 2 ||
          sc.from[0] === sc.from[1]
        )
          fail('option "inputs.' + name + '.scale" must be {from: [v0, v1], to: [y0, y1]} with v0 ≠ v1');
        slope = (sc.to[1] - sc.to[0]) / (sc.from[1] - sc.from[0]);
        offset = sc.to[0] - slope * sc.from[0];
      }
      updates.push([i, gain, slope, offset]);
    }
    // Everything checked: apply.
    if (o.dataRate !== undefined) {
      this.#dataRate = o.dataRate;
      this.#conversionMs = conversionMs(o.dataRate);
      for (let i = 0; i < this.#config.length; i++)
        this.#config[i] = (this.#config[i]! & ~(7 << 5)) | (DATA_RATES.indexOf(o.dataRate) << 5);
    }
    for (const [i, gain, slope, offset] of updates) {
      this.#config[i] = (this.#config[i]! & ~(7 << 9)) | (FULL_SCALE.indexOf(gain) << 9);
      this.#voltsPerCode[i] = gain / 32768;
      this.#slope[i] = slope;
      this.#offset[i] = offset;
    }
    if (this.#continuous) {
      this.#fresh = false;
      try {
        this.#writeRegister(Register.config, this.#config[0]!);
      } catch (e) {
        this.#reporter.report(e as Error);
      }
    }
  }

  sample(): ADS1115Sample | undefined {
    this.#check();
    if (this.#continuous) return this.#sampleContinuous();
    if (this.#index >= 0) {
      this.#reporter.report(
        new Error("conversion round still running (sampled sooner than its " + this.roundTime.toFixed(1) + " ms)"),
      );
      return undefined;
    }
    const result = this.#fresh ? this.#result(this.#latest) : undefined;
    this.#fresh = false;
    this.#index = 0;
    this.#polls = 0;
    this.#start();
    return result;
  }

  close(): void {
    if (this.#timer !== undefined) this.#clock!.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#ready?.close();
    this.#ready = undefined;
    this.#io?.close();
    this.#io = undefined;
    this.#reporter.close();
  }

  #sampleContinuous(): ADS1115Sample | undefined {
    // The first call after construction has no finished conversion to read (#fresh: one has had time to finish).
    if (!this.#fresh) {
      this.#fresh = true;
      return undefined;
    }
    try {
      this.#latest[0] = this.#readRegister(Register.conversion);
      return this.#result(this.#latest);
    } catch (e) {
      this.#reporter.report(e as Error);
      return undefined;
    }
  }

  /** Starts the conversion of input #index and arranges to read it. */
  #start(): void {
    try {
      this.#writeRegister(Register.config, Config.start | this.#config[this.#index]!);
    } catch (e) {
      this.#abort(e as Error);
      return;
    }
    // Without the ready pin, read after the conversion time plus the oscillator's 10 % tolerance (§7.5);
    // with it, a late pin is caught by this longer watchdog.
    this.#arm(this.#conversionMs * (this.#ready ? 3 : 1.1) + 0.1);
  }

  #arm(ms: number): void {
    this.#timer = this.#clock!.setTimeout(this.#onTimer, ms);
  }

  #conversionReady(): void {
    if (this.#index < 0 || !this.#io) return;
    if (this.#timer !== undefined) {
      this.#clock!.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#poll();
  }

  #poll(): void {
    if (this.#index < 0 || !this.#io) return;
    try {
      if ((this.#readRegister(Register.config) & Config.start) === 0) {
        // OS 0: still converting (§9.6.3); look again a little later, a few times.
        if (++this.#polls > POLLS)
          throw new Error('conversion of "' + this.#names[this.#index] + '" did not finish (OS bit stayed 0)');
        this.#arm(this.#conversionMs / 4);
        return;
      }
      this.#codes[this.#index] = this.#readRegister(Register.conversion);
    } catch (e) {
      this.#abort(e as Error);
      return;
    }
    this.#polls = 0;
    if (++this.#index < this.#names.length) {
      this.#start();
      return;
    }
    this.#latest.set(this.#codes);
    this.#index = -1;
    this.#fresh = true;
  }

  #abort(error: Error): void {
    this.#index = -1;
    this.#reporter.report(error);
  }

  #result(codes: Int16Array): ADS1115Sample | undefined {
    const out: ADS1115Sample = {};
    const names = this.#names;
    for (let i = 0; i < names.length; i++) {
      const code = codes[i]!;
      if (code === 0x7fff || code === -0x8000) {
        this.#reporter.report(
          new Error('input "' + names[i] + '" beyond its ±' + this.#voltsPerCode[i]! * 32768 + " V full-scale range"),
        );
        continue;
      }
      const voltage = code * this.#voltsPerCode[i]!;
      out[names[i]!] = { voltage, value: this.#offset[i]! + this.#slope[i]! * voltage };
    }
    return out;
  }

  /** A register's 16 bits, MSB first; the conversion register is two's complement (§9.6.2). */
  #readRegister(register: number): number {
    this.#pointer[0] = register;
    this.#io!.write(this.#pointer);
    const b = this.#two;
    this.#io!.read(b);
    const value = (b[0]! << 8) | b[1]!;
    return register === Register.conversion ? (value << 16) >> 16 : value;
  }

  #writeRegister(register: number, value: number): void {
    const w = this.#write;
    w[0] = register;
    w[1] = (value >> 8) & 0xff;
    w[2] = value & 0xff;
    this.#io!.write(w);
  }

  #check(): void {
    if (!this.#io) throw new Error("ADS1115: closed");
  }
}

Object.freeze(ADS1115.prototype);
