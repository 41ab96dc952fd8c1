// A pulse counter (tachometer, flow meter) on an ECMA-419 pulse count: frequency and RPM over each sampling window.
import type { Clock, PulseCount, PulseCountConstructor } from "telltale/io/io";
import { ErrorReporter, checkOnError } from "telltale/drivers/report";

export interface PulseCounterOptions {
  sensor: { io: PulseCountConstructor; pin: number };
  /** The host clock: the window is the time between two sample() calls. */
  clock: Clock;
  /** Pulses per shaft revolution, 1–1000 (default 1: one reflective mark). */
  pulsesPerRevolution?: number;
  /** Transient faults (a count that ran backwards), reported after sample() returns. */
  onError?: (error: Error) => void;
}

export interface PulseCounterSample {
  tachometer: { pulses: number; frequency: number; rpm: number };
}

/**
 * The counter runs freely; each sample() takes the difference from the previous read, in int32 so a counter that wraps
 * at 2^31 still gives the right difference. Frequency = pulses / window; rpm = 60 · frequency / pulsesPerRevolution.
 */
export default class PulseCounter {
  #counter: PulseCount | undefined;
  readonly #clock: Clock;
  readonly #perRevolution: number;
  readonly #reporter: ErrorReporter;
  #last: number;
  #lastAt: number;

  constructor(options: PulseCounterOptions) {
    const sensor = options?.sensor;
    if (!sensor || typeof sensor.io !== "function")
      throw new TypeError('pulse-counter: option "sensor.io" must be a pulse count class');
    const pin = sensor.pin;
    if (typeof pin !== "number" || pin !== Math.floor(pin) || pin < 0 || pin > 255)
      throw new RangeError('pulse-counter: option "sensor.pin" must be a pin number 0–255, got ' + String(pin));
    if (!options.clock || typeof options.clock.now !== "function")
      throw new TypeError('pulse-counter: option "clock" must be a clock');
    const ppr = options.pulsesPerRevolution ?? 1;
    if (typeof ppr !== "number" || ppr !== Math.floor(ppr) || ppr < 1 || ppr > 1000)
      throw new RangeError('pulse-counter: option "pulsesPerRevolution" must be an integer 1–1000, got ' + String(ppr));
    checkOnError("pulse-counter", options.onError);
    this.#clock = options.clock;
    this.#perRevolution = ppr;
    this.#reporter = new ErrorReporter("pulse-counter", options.onError);
    const io = sensor.io;
    this.#counter = new io({ signal: pin });
    this.#last = this.#counter.read() | 0;
    this.#lastAt = this.#clock.now();
  }

  get errors(): number {
    return this.#reporter.count;
  }

  /** Pulses, frequency (Hz) and rpm since the previous call; undefined when no time has passed or the count ran backwards. */
  sample(): PulseCounterSample | undefined {
    const counter = this.#check();
    const now = this.#clock.now(),
      count = counter.read() | 0;
    const pulses = (count - this.#last) | 0,
      elapsed = now - this.#lastAt;
    if (elapsed <= 0) return undefined;
    this.#last = count;
    this.#lastAt = now;
    if (pulses < 0) {
      this.#reporter.report(
        new Error("pulse-counter: the count went back by " + -pulses + " (a quadrature counter, or a reset)"),
      );
      return undefined;
    }
    const frequency = (pulses * 1000) / elapsed;
    return { tachometer: { pulses, frequency, rpm: (frequency * 60) / this.#perRevolution } };
  }

  close(): void {
    this.#counter?.close();
    this.#counter = undefined;
    this.#reporter.close();
  }

  #check(): PulseCount {
    if (!this.#counter) throw new Error("pulse-counter: closed");
    return this.#counter;
  }
}

Object.freeze(PulseCounter.prototype);
