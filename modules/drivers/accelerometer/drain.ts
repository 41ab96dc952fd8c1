// When an accelerometer driver drains its FIFO: on an interrupt pin's edge (ECMA-419 digital input) and/or on a host-clock poll.
import type { Clock, Digital, DigitalConstructor } from "telltale/io/io";

export interface DrainSchedulerOptions {
  clock: Clock;
  /** Poll period, ms; 0 drains only on the interrupt pin. */
  pollMs: number;
  /** The chip's interrupt output on a GPIO pin (active high), if wired. */
  interrupt?: { io: DigitalConstructor; pin: number };
  /** Moves the FIFO into the driver's window; must not throw (the driver reports its own faults). */
  drain: () => void;
}

/**
 * Callbacks come from the host's event loop (a timer, or the digital pin's onReadable), never from inside a public
 * method. An edge only says the pin rose: if the pin is still high after a drain (samples kept arriving), another
 * drain is queued at once, so a level that never falls cannot stall the stream.
 */
export class DrainScheduler {
  readonly #clock: Clock;
  readonly #pollMs: number;
  readonly #drain: () => void;
  #pin: Digital | undefined;
  #poll: unknown;
  #again: unknown;
  #open = true;
  readonly #onPoll = (): void => {
    this.#poll = undefined;
    if (!this.#open) return;
    this.#drain();
    if (this.#open) this.#poll = this.#clock.setTimeout(this.#onPoll, this.#pollMs);
  };
  readonly #onAgain = (): void => {
    this.#again = undefined;
    if (this.#open) {
      this.#drain();
      this.settle();
    }
  };

  constructor(options: DrainSchedulerOptions) {
    this.#clock = options.clock;
    this.#pollMs = options.pollMs;
    this.#drain = options.drain;
    const interrupt = options.interrupt;
    if (interrupt) {
      const io = interrupt.io;
      this.#pin = new io({
        pin: interrupt.pin,
        mode: io.Input,
        edge: io.Rising,
        onReadable: () => {
          if (this.#open) {
            this.#drain();
            this.settle();
          }
        },
      });
    }
    if (this.#pollMs > 0) this.#poll = this.#clock.setTimeout(this.#onPoll, this.#pollMs);
  }

  /** True when the interrupt pin is wired. */
  get interrupt(): boolean {
    return this.#pin !== undefined;
  }

  /** After a drain: if the interrupt line is still asserted, drain again from the event loop. */
  settle(): void {
    const pin = this.#pin;
    if (!this.#open || !pin || this.#again !== undefined) return;
    if (pin.read() === 1) this.#again = this.#clock.setTimeout(this.#onAgain, 0);
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    if (this.#poll !== undefined) this.#clock.clearTimeout(this.#poll);
    if (this.#again !== undefined) this.#clock.clearTimeout(this.#again);
    this.#poll = this.#again = undefined;
    const pin = this.#pin;
    this.#pin = undefined;
    pin?.close();
  }
}

Object.freeze(DrainScheduler.prototype);
