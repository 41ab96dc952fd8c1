// A relay (or lamp, or siren) on an ECMA-419 digital output: switched by the app, or following the detector's alarm.
import type { Digital, DigitalConstructor } from "telltale/io/io";

export interface RelayOptions {
  sensor: { io: DigitalConstructor; pin: number };
  /** The coil is energised by a low level (most opto-isolated relay boards) (default false). */
  activeLow?: boolean;
  /** onAlarm(alarm) switches the relay on while the detector's alarm is raised (default false). */
  followAlarm?: boolean;
}

export interface RelaySample {
  relay: { on: number };
}

/** Starts off: the pin is written to the off level right after it is opened. */
export default class Relay {
  #pin: Digital | undefined;
  readonly #activeLow: boolean;
  readonly #followAlarm: boolean;
  #on = false;

  constructor(options: RelayOptions) {
    const sensor = options?.sensor;
    if (!sensor || typeof sensor.io !== "function")
      throw new TypeError('relay: option "sensor.io" must be a digital IO class');
    const pin = sensor.pin;
    if (typeof pin !== "number" || pin !== Math.floor(pin) || pin < 0 || pin > 255)
      throw new RangeError('relay: option "sensor.pin" must be a pin number 0–255, got ' + String(pin));
    const activeLow = options.activeLow ?? false;
    if (typeof activeLow !== "boolean") throw new TypeError('relay: option "activeLow" must be true or false');
    const followAlarm = options.followAlarm ?? false;
    if (typeof followAlarm !== "boolean") throw new TypeError('relay: option "followAlarm" must be true or false');
    this.#activeLow = activeLow;
    this.#followAlarm = followAlarm;
    const io = sensor.io;
    this.#pin = new io({ pin, mode: io.Output });
    this.#pin.write(activeLow ? 1 : 0);
  }

  /** Whether the relay is energised. */
  get on(): boolean {
    this.#check();
    return this.#on;
  }

  /** Switches the relay. */
  write(on: boolean): void {
    const pin = this.#check();
    if (typeof on !== "boolean") throw new TypeError("relay: write() takes true or false");
    this.#on = on;
    pin.write(on !== this.#activeLow ? 1 : 0);
  }

  /** The detector's alarm changed: followed only when the declaration says followAlarm. */
  onAlarm(alarm: boolean): void {
    if (this.#followAlarm && this.#pin) this.write(alarm);
  }

  sample(): RelaySample {
    this.#check();
    return { relay: { on: this.#on ? 1 : 0 } };
  }

  health(): Record<string, number> {
    return { on: this.#on ? 1 : 0 };
  }

  /** Leaves the relay off and releases the pin. */
  close(): void {
    const pin = this.#pin;
    if (!pin) return;
    this.#pin = undefined;
    pin.write(this.#activeLow ? 1 : 0);
    this.#on = false;
    pin.close();
  }

  #check(): Digital {
    if (!this.#pin) throw new Error("relay: closed");
    return this.#pin;
  }
}

Object.freeze(Relay.prototype);
