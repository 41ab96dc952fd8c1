// A simulated GPIO controller: pins the world drives (switches, pulse trains, INT lines), ECMA-419 Digital and PulseCount classes.
import type {
  Clock,
  Digital,
  DigitalConstructor,
  DigitalOptions,
  PulseCount,
  PulseCountConstructor,
  PulseCountOptions,
} from "telltale/io/io";

/** Mode constants of the simulated Digital class (Moddable uses small integers too). */
const Mode = Object.freeze({
  Input: 0,
  InputPullUp: 1,
  InputPullDown: 2,
  InputPullUpDown: 3,
  Output: 4,
  OutputOpenDrain: 5,
});
const RISING = 1,
  FALLING = 2;

/** One recorded output write. */
export interface PinWrite {
  at: number;
  value: number;
}

interface DigitalOwner {
  input: boolean;
  edge: number;
  notify: (() => void) | undefined;
}

interface CounterOwner {
  count: number;
}

interface PinState {
  /** Level driven from outside the board (undefined: floating). */
  driven: number | undefined;
  /** Level driven by an output on the board. */
  output: number | undefined;
  /** Pull resistor of an input: 1 up, 0 down, undefined none. */
  pull: number | undefined;
  level: number;
  digital: DigitalOwner | undefined;
  counter: CounterOwner | undefined;
  /** A pulse train: frequency in Hz at time `now`, integrated when a counter reads. */
  source: ((now: number) => number) | undefined;
  sourceAt: number;
  sourceFraction: number;
  writes: PinWrite[];
  /** Rising edges seen, including those of a pulse train. */
  edges: number;
}

function checkPin(pin: unknown, what: string): number {
  if (typeof pin !== "number" || pin !== Math.floor(pin) || pin < 0 || pin > 255)
    throw new RangeError(what + ": invalid pin " + String(pin));
  return pin;
}

/**
 * Every pin has one level: an output on the board wins, else what the world drives, else the input's pull (floating
 * reads 0). Edge callbacks (`onReadable`) are delivered from the clock (a 0 ms timer), never inside the call that moved
 * the pin, and coalesce like a device's ISR message: one pending callback per pin. A pulse train on a pin is counted
 * lazily when a PulseCount reads, so a 1.5 kHz tachometer costs nothing between reads (it raises no Digital edges).
 */
export class SimGPIO {
  readonly #clock: Clock;
  readonly #pins = new Map<number, PinState>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  #pin(pin: number): PinState {
    let p = this.#pins.get(pin);
    if (!p) {
      p = {
        driven: undefined,
        output: undefined,
        pull: undefined,
        level: 0,
        digital: undefined,
        counter: undefined,
        source: undefined,
        sourceAt: 0,
        sourceFraction: 0,
        writes: [],
        edges: 0,
      };
      this.#pins.set(pin, p);
    }
    return p;
  }

  /** Drives a pin from outside the board (a switch, a sensor's INT line): 0, 1, or undefined to let it float. */
  set(pin: number, level: number | undefined): void {
    const p = this.#pin(checkPin(pin, "SimGPIO"));
    p.driven = level === undefined ? undefined : level ? 1 : 0;
    this.#settle(p);
  }

  /** The pin's level now. */
  level(pin: number): number {
    return this.#pins.get(pin)?.level ?? 0;
  }

  /** `count` complete pulses (rise and fall) on a pin, at once: each rise counts and may raise an edge callback. */
  pulse(pin: number, count = 1): void {
    const p = this.#pin(checkPin(pin, "SimGPIO"));
    const rest = p.driven ?? 0;
    for (let i = 0; i < count; i++) {
      p.driven = rest ? 0 : 1;
      this.#settle(p);
      p.driven = rest;
      this.#settle(p);
    }
  }

  /** A pulse train on `pin` whose frequency (Hz) may change with time; undefined stops it. */
  drivePulses(pin: number, frequency: ((now: number) => number) | undefined): void {
    const p = this.#pin(checkPin(pin, "SimGPIO"));
    this.#integrate(p);
    p.source = frequency;
    p.sourceAt = this.#clock.now();
  }

  /** Rising edges seen on a pin (pulse trains included, integrated up to now). */
  edges(pin: number): number {
    const p = this.#pins.get(pin);
    if (!p) return 0;
    this.#integrate(p);
    return p.edges;
  }

  /** Values written by an output on `pin`, with the time of each write. */
  writes(pin: number): readonly PinWrite[] {
    return this.#pins.get(pin)?.writes ?? [];
  }

  #settle(p: PinState): void {
    const level = p.output ?? p.driven ?? p.pull ?? 0;
    if (level === p.level) return;
    p.level = level;
    if (level === 1) {
      p.edges++;
      if (p.counter) p.counter.count++;
    }
    const d = p.digital;
    if (d && d.input && d.notify && d.edge & (level === 1 ? RISING : FALLING)) d.notify();
  }

  #integrate(p: PinState): void {
    const now = this.#clock.now();
    if (p.source) {
      const pulses = p.sourceFraction + (Math.max(0, p.source(now)) * (now - p.sourceAt)) / 1000;
      const whole = Math.floor(pulses);
      p.sourceFraction = pulses - whole;
      p.edges += whole;
      if (p.counter) p.counter.count += whole;
    }
    p.sourceAt = now;
  }

  /** An ECMA-419 `embedded:io/digital` class whose pins are this controller's. */
  ioDigital(): DigitalConstructor {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the class below has its own `this`; its methods reach the controller through this
    const gpio = this;
    return class SimDigital implements Digital {
      static readonly Input = Mode.Input;
      static readonly InputPullUp = Mode.InputPullUp;
      static readonly InputPullDown = Mode.InputPullDown;
      static readonly InputPullUpDown = Mode.InputPullUpDown;
      static readonly Output = Mode.Output;
      static readonly OutputOpenDrain = Mode.OutputOpenDrain;
      static readonly Rising = RISING;
      static readonly Falling = FALLING;
      #state: PinState | undefined;
      #owner: DigitalOwner;
      #pending: unknown;

      constructor(options: DigitalOptions) {
        const pin = checkPin(options?.pin, "Digital");
        const mode = options.mode;
        if (typeof mode !== "number" || mode < Mode.Input || mode > Mode.OutputOpenDrain)
          throw new RangeError("Digital: invalid mode " + String(mode));
        const edge = options.edge ?? 0;
        if (typeof edge !== "number" || (edge & ~(RISING | FALLING)) !== 0)
          throw new RangeError("Digital: invalid edge " + String(edge));
        const onReadable = options.onReadable;
        if (onReadable !== undefined && typeof onReadable !== "function")
          throw new TypeError("Digital: onReadable must be a function");
        const input = mode < Mode.Output;
        if (onReadable && (!input || edge === 0))
          throw new RangeError("Digital: onReadable needs an input mode and an edge");
        const p = gpio.#pin(pin);
        if (p.digital || p.counter) throw new Error("Digital: pin " + pin + " in use");
        this.#owner = {
          input,
          edge,
          notify: onReadable
            ? () => {
                if (this.#pending !== undefined) return;
                this.#pending = gpio.#clock.setTimeout(() => {
                  this.#pending = undefined;
                  if (this.#state) onReadable.call(this);
                }, 0);
              }
            : undefined,
        };
        p.digital = this.#owner;
        this.#state = p;
        if (input) p.pull = mode === Mode.InputPullUp ? 1 : mode === Mode.InputPullDown ? 0 : undefined;
        else p.output = 0;
        gpio.#settle(p);
      }

      read(): number {
        const p = this.#open();
        return p.level;
      }

      write(value: number): void {
        const p = this.#open();
        if (this.#owner.input) throw new Error("Digital: write on an input");
        const v = value ? 1 : 0;
        p.writes.push({ at: gpio.#clock.now(), value: v });
        p.output = v;
        gpio.#settle(p);
      }

      close(): void {
        const p = this.#state;
        if (!p) return;
        this.#state = undefined;
        if (this.#pending !== undefined) gpio.#clock.clearTimeout(this.#pending);
        this.#pending = undefined;
        p.digital = undefined;
        p.output = undefined;
        p.pull = undefined;
        gpio.#settle(p);
      }

      #open(): PinState {
        if (!this.#state) throw new Error("Digital: closed");
        return this.#state;
      }
    };
  }

  /** An ECMA-419 `embedded:io/pulsecount` class counting rising edges on `signal`. */
  ioPulseCount(): PulseCountConstructor {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the class below has its own `this`; its methods reach the controller through this
    const gpio = this;
    return class SimPulseCount implements PulseCount {
      #state: PinState | undefined;
      readonly #owner: CounterOwner = { count: 0 };

      constructor(options: PulseCountOptions) {
        const pin = checkPin(options?.signal, "PulseCount");
        if (options.control !== undefined) checkPin(options.control, "PulseCount");
        const p = gpio.#pin(pin);
        if (p.digital || p.counter) throw new Error("PulseCount: pin " + pin + " in use");
        gpio.#integrate(p);
        p.counter = this.#owner;
        this.#state = p;
      }

      /** Pulses counted since construction or the last write(). */
      read(): number {
        const p = this.#open();
        gpio.#integrate(p);
        return this.#owner.count;
      }

      write(count: number): void {
        const p = this.#open();
        gpio.#integrate(p);
        this.#owner.count = count | 0;
      }

      close(): void {
        const p = this.#state;
        if (!p) return;
        gpio.#integrate(p);
        p.counter = undefined;
        this.#state = undefined;
      }

      #open(): PinState {
        if (!this.#state) throw new Error("PulseCount: closed");
        return this.#state;
      }
    };
  }
}

Object.freeze(SimGPIO.prototype);
