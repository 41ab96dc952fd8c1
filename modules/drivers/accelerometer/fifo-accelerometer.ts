// What the FIFO accelerometer drivers share: option checks, lifecycle, fault reporting, the drain schedule and the window.
import type { Clock, DigitalConstructor, I2C, SensorIOOptions } from "telltale/io/io";
import type { FrameSink, StreamInfo } from "telltale/drivers/part";
import { ErrorReporter, checkOnError } from "telltale/drivers/report";
import {
  AccelWindow,
  millisScale,
  STANDARD_GRAVITY,
  type MillisScale,
  type VibrationSummary,
} from "telltale/drivers/accelerometer/window";
import { DrainScheduler } from "telltale/drivers/accelerometer/drain";
import { messageOf } from "telltale/errors/message";

/** Frames per block handed to a stream sink. */
const FEED_FRAMES = 64;

export interface FifoAccelerometerOptions {
  sensor: SensorIOOptions;
  /** The host clock: poll timers and elapsed time. */
  clock: Clock;
  /** The chip's interrupt output wired to a GPIO pin: an ECMA-419 digital class and the pin number. */
  interrupt?: { io: DigitalConstructor; pin: number };
  /** Frames kept for read()/readCounts(), 32–8192 (default 512). */
  ringFrames?: number;
  /** Poll period, ms (default: the part's FIFO fill time, see each driver). */
  pollMs?: number;
  /** Transient faults, reported after the public call or timer callback returns. */
  onError?: (error: Error) => void;
}

/** Health figures for telemetry. */
export interface FifoHealth extends Record<string, number> {
  /** FIFO overflows since construction (samples lost before a drain). */
  overflows: number;
  /** Frames drained since construction. */
  samples: number;
  /** Frames a read()/readCounts() consumer missed because it fell a whole ring behind. */
  dropped: number;
}

function fail(name: string, option: string, what: string, value: unknown): never {
  throw new RangeError(name + ': option "' + option + '" must be ' + what + ", got " + String(value));
}

/** `count` views of `bytes`, view i covering `size(i)` bytes from `start(i)`: made once, at construction. */
export function views(
  bytes: Uint8Array,
  count: number,
  start: (i: number) => number,
  size: (i: number) => number,
): readonly Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) out.push(bytes.subarray(start(i), start(i) + size(i)));
  return out;
}

/** Checks an integer option (undefined → fallback). */
export function integerOption(
  name: string,
  option: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || v !== Math.floor(v) || v < min || v > max)
    fail(name, option, "an integer from " + min + " to " + max, value);
  return v;
}

export function choiceOption<T>(name: string, option: string, value: unknown, fallback: T, choices: readonly T[]): T {
  const v = value ?? fallback;
  if (!choices.includes(v as T)) fail(name, option, "one of " + choices.join(", "), value);
  return v as T;
}

export function booleanOption(name: string, option: string, value: unknown, fallback: boolean): boolean {
  const v = value ?? fallback;
  if (typeof v !== "boolean") fail(name, option, "true or false", value);
  return v;
}

/**
 * A driver subclass validates its own options, calls super() (which validates the shared ones, still without IO), then
 * begin() with its setup: the constructor resets the part and checks its id there. Afterwards the FIFO is drained from
 * the event loop (interrupt edge or poll) and by every sample()/drain() call; nothing waits for the chip.
 */
export abstract class FifoAccelerometer {
  readonly #name: string;
  readonly #clock: Clock;
  readonly #interrupt: { io: DigitalConstructor; pin: number } | undefined;
  readonly #pollOption: number | undefined;
  readonly #reporter: ErrorReporter;
  #io: I2C | undefined;
  #scheduler: DrainScheduler | undefined;
  readonly #window: AccelWindow;
  #scale: MillisScale = millisScale(256);
  #gPerCount = 1 / 256;
  #low = -32768;
  #high = 32767;
  #failing = false;
  #overflows = 0;
  #lastSampleAt = 0;
  #rate = 1;
  readonly #reg = new Uint8Array(1);
  readonly #one = new Uint8Array(1);
  readonly #two = new Uint8Array(2);
  readonly #pair = new Uint8Array(2);
  readonly #drainSafe = (): void => {
    this.#drainOnce();
  };
  #sink: FrameSink | undefined;
  /** Frames handed to the sink per write (made when a sink attaches). */
  #feed: Int16Array | undefined;

  protected constructor(name: string, options: FifoAccelerometerOptions) {
    this.#name = name;
    if (typeof options !== "object" || options === null) throw new TypeError(name + ": options must be an object");
    const sensor = options.sensor;
    if (!sensor || typeof sensor.io !== "function")
      throw new TypeError(name + ': option "sensor.io" must be an I2C class');
    const clock = options.clock;
    if (!clock || typeof clock.setTimeout !== "function" || typeof clock.now !== "function")
      throw new TypeError(name + ': option "clock" must be a clock (now, setTimeout, clearTimeout)');
    const interrupt = options.interrupt;
    if (interrupt !== undefined) {
      if (typeof interrupt !== "object" || interrupt === null || typeof interrupt.io !== "function")
        throw new TypeError(name + ': option "interrupt.io" must be a digital IO class');
      integerOption(name, "interrupt.pin", interrupt.pin, -1, 0, 255);
    }
    const ring = integerOption(name, "ringFrames", options.ringFrames, 512, 32, 8192);
    if (options.pollMs !== undefined) integerOption(name, "pollMs", options.pollMs, 0, 1, 1000);
    checkOnError(name, options.onError);
    this.#clock = clock;
    this.#interrupt = interrupt;
    this.#pollOption = options.pollMs;
    this.#reporter = new ErrorReporter(name, options.onError);
    this.#window = new AccelWindow(ring);
  }

  /** Opens the bus, runs the part's reset and setup, then starts draining. Throws naming the address on failure. */
  protected begin(sensor: SensorIOOptions, address: number, hz: number, setup: () => void): void {
    const io = new sensor.io({ hz, ...sensor, address });
    this.#io = io;
    try {
      setup();
    } catch (e) {
      io.close();
      this.#io = undefined;
      const text = messageOf(e);
      const message = text.startsWith(this.#name + ":") ? text.slice(this.#name.length + 2) : text;
      throw new Error(this.#name + ": no working sensor at address 0x" + address.toString(16) + " (" + message + ")", {
        cause: e,
      });
    }
    this.#lastSampleAt = this.#clock.now();
    try {
      this.#scheduler = new DrainScheduler({
        clock: this.#clock,
        pollMs: this.pollPeriod(),
        interrupt: this.#interrupt,
        drain: this.#drainSafe,
      });
    } catch (e) {
      io.close();
      this.#io = undefined;
      throw new Error(
        this.#name + ": cannot open interrupt pin " + String(this.#interrupt?.pin) + " (" + messageOf(e) + ")",
        { cause: e },
      );
    }
    // The line may already be asserted (the FIFO filled during setup): no edge would come.
    this.#scheduler.settle();
  }

  /** Sets the unit of the counts (from a configuration), so read() and sample() convert correctly. */
  protected setFormat(rate: number, countsPerG: number, low: number, high: number): void {
    this.#rate = rate;
    this.#scale = millisScale(countsPerG);
    this.#gPerCount = 1 / countsPerG;
    this.#low = low;
    this.#high = high;
  }

  /** The configured output data rate, Hz. */
  get rate(): number {
    return this.#rate;
  }
  /** Whether the FIFO is drained on an interrupt pin. */
  protected get interruptWired(): boolean {
    return this.#interrupt !== undefined;
  }
  protected get pollOption(): number | undefined {
    return this.#pollOption;
  }
  /** The poll period, ms (0: interrupt only). */
  protected abstract pollPeriod(): number;
  /** Moves the FIFO's contents into `window`; returns frames moved. Throws on a bus fault. */
  protected abstract drainFifo(window: AccelWindow): number;

  /** The counts → mm/s² conversion now in force (int32 multiply and shift). */
  get scale(): MillisScale {
    return this.#scale;
  }
  /** Transient errors reported since construction. */
  get errors(): number {
    return this.#reporter.count;
  }
  /** FIFO overflows detected since construction. */
  get overflows(): number {
    return this.#overflows;
  }

  /** Moves whatever the FIFO holds into the window now; returns frames moved (0 after a fault, which goes to onError). */
  drain(): number {
    this.#check();
    const n = this.#drainOnce();
    this.#scheduler?.settle();
    return n;
  }

  /** Oldest unread frames as mm/s² (int32), x, y, z interleaved; returns frames copied. */
  read(target: Int32Array): number {
    this.#check();
    return this.#window.read(target, this.#scale);
  }

  /** Oldest unread frames as raw counts (int16), x, y, z interleaved; returns frames copied. */
  readCounts(target: Int16Array): number {
    this.#check();
    return this.#window.readCounts(target);
  }

  /**
   * Drains, then summarises every frame since the previous call (m/s²): a new object each call. Undefined when the
   * bus failed, no sample arrived for several sample periods, an axis sat at the end of its range for the whole
   * window, or the output did not change at all (each reported to onError).
   */
  sample(): VibrationSummary | undefined {
    this.#check();
    this.#drainOnce();
    this.#scheduler?.settle();
    const now = this.#clock.now(),
      elapsed = now - this.#lastSampleAt;
    const window = this.#window;
    if (this.#failing) {
      window.clear();
      this.#lastSampleAt = now;
      return undefined;
    }
    const frames = window.frames;
    if (frames === 0) {
      if (window.overflows > 0) {
        // The part samples, but every drain came too late: the poll period or the interrupt wiring is wrong.
        this.report(
          new Error(this.#name + ": the FIFO overflowed " + window.overflows + " times and no sample was kept"),
        );
        window.clear();
        this.#lastSampleAt = now;
      } else if ((elapsed * this.#rate) / 1000 >= 8) {
        this.#lastSampleAt = now;
        this.report(
          new Error(this.#name + ": no samples for " + Math.round(elapsed) + " ms (the part stopped sampling)"),
        );
      }
      return undefined;
    }
    this.#lastSampleAt = now;
    const axis = window.railed(this.#low, this.#high);
    if (axis >= 0) {
      window.clear();
      this.report(
        new Error(
          this.#name +
            ": " +
            "xyz"[axis] +
            " axis at the end of its range for all " +
            frames +
            " samples (out of range)",
        ),
      );
      return undefined;
    }
    if (frames >= 32 && window.constant) {
      window.clear();
      this.report(new Error(this.#name + ": output frozen (" + frames + " identical samples)"));
      return undefined;
    }
    return window.summary(this.#gPerCount);
  }

  /**
   * Hands every frame drained from now on to `sink` (raw counts, x, y, z), after the window has taken it; undefined
   * detaches. The sink runs inside the drain, so it must not block; it sees the frames at the part's output data rate.
   */
  stream(sink: FrameSink | undefined): StreamInfo {
    this.#check();
    this.#sink = sink;
    if (sink && !this.#feed) this.#feed = new Int16Array(FEED_FRAMES * 3);
    if (sink) this.#window.discard(); // only frames from now on
    return { axes: 3, rate: this.#rate, unitPerCount: this.#gPerCount * STANDARD_GRAVITY, unit: "m/s²" };
  }

  health(): FifoHealth {
    return { overflows: this.#overflows, samples: this.#window.total, dropped: this.#window.dropped };
  }

  close(): void {
    this.#scheduler?.close();
    this.#scheduler = undefined;
    this.#io?.close();
    this.#io = undefined;
    this.#reporter.close();
  }

  protected get closed(): boolean {
    return this.#io === undefined;
  }

  protected check(): void {
    this.#check();
  }

  /** After a change of rate or format: restarts the window (unread counts are in the old unit) and the poll period. */
  protected restartWindow(): void {
    this.#window.discard();
    this.#window.clear();
    this.#lastSampleAt = this.#clock.now();
    if (this.#scheduler) {
      this.#scheduler.close();
      this.#scheduler = new DrainScheduler({
        clock: this.#clock,
        pollMs: this.pollPeriod(),
        interrupt: this.#interrupt,
        drain: this.#drainSafe,
      });
      this.#scheduler.settle();
    }
  }

  /** Notes an overflow detected by drainFifo(). */
  protected overflowed(): void {
    this.#overflows++;
    this.#window.overflow();
  }

  protected readRegister(register: number): number {
    const io = this.#io!;
    this.#reg[0] = register;
    io.write(this.#reg, false); // no stop: the data sheets' read sequences use a repeated start
    io.read(this.#one);
    return this.#one[0]!;
  }

  /** Two consecutive registers in one transaction (auto-increment), first byte high. */
  protected readPair(register: number): number {
    const io = this.#io!;
    this.#reg[0] = register;
    io.write(this.#reg, false);
    const bytes = this.#two;
    io.read(bytes);
    return (bytes[0]! << 8) | bytes[1]!;
  }

  protected writeRegister(register: number, value: number): void {
    this.#pair[0] = register;
    this.#pair[1] = value;
    this.#io!.write(this.#pair);
  }

  /**
   * Reads `block.length` bytes starting at `register` straight into `block` (ECMA-419 read(buffer) fills the whole
   * view). Drivers pass views of their burst buffer that they made once (see views()), so nothing is allocated or
   * copied per call.
   */
  protected readBlock(register: number, block: Uint8Array): void {
    const io = this.#io!;
    this.#reg[0] = register;
    io.write(this.#reg, false);
    io.read(block);
  }

  protected report(error: Error): void {
    this.#reporter.report(error);
  }

  #drainOnce(): number {
    if (!this.#io) return 0;
    try {
      const n = this.drainFifo(this.#window);
      this.#failing = false;
      if (this.#sink && n > 0) this.#feedSink(this.#sink, this.#feed!);
      return n;
    } catch (e) {
      // One report per run of failures: a poll every few ms must not flood onError while a wire is loose.
      if (!this.#failing) this.report(e as Error);
      this.#failing = true;
      return 0;
    }
  }

  /** Moves the window's unread frames to the sink, a block at a time (allocation-free). */
  #feedSink(sink: FrameSink, feed: Int16Array): void {
    for (;;) {
      const frames = this.#window.readCounts(feed);
      if (frames === 0) return;
      for (let done = 0; done < frames;) {
        const used = sink.write(feed, done, frames - done);
        if (used <= 0) return; // a sink that takes nothing is not fed again until the next drain
        done += used;
      }
    }
  }

  #check(): void {
    if (!this.#io) throw new Error(this.#name + ": closed");
  }
}

Object.freeze(FifoAccelerometer.prototype);
