// A debounced digital input (door contact, float switch) on an ECMA-419 digital pin: edge-driven, settled by a timer.
import type { Clock, Digital, DigitalConstructor } from "telltale/io/io";

export type Pull = "up" | "down" | "none";

export interface DigitalInputOptions {
  sensor: { io: DigitalConstructor; pin: number };
  /** The host clock, for the debounce timer. */
  clock: Clock;
  /** Pull resistor (default "up": a contact to ground reads 0 when closed). */
  pull?: Pull;
  /** Report the inverted level as the state (default false). */
  invert?: boolean;
  /** A new level counts only after it held this long, ms, 0–10000 (default 50). */
  debounceMs?: number;
  /** The debounced state changed (called from the event loop, never inside a method of this class). */
  onChange?: (state: number) => void;
}

export interface DigitalInputSample {
  input: { state: number; changes: number };
}

/**
 * Every edge (re)starts a debounce timer; when it fires, the level read then becomes the state if it differs. Bounces
 * shorter than the window therefore never count, and a glitch that returns to the old level changes nothing.
 */
export default class DigitalInput {
  #pin: Digital | undefined;
  readonly #clock: Clock;
  readonly #invert: number;
  readonly #debounceMs: number;
  #onChange: ((state: number) => void) | undefined;
  #timer: unknown;
  #state: number;
  #changes = 0;
  #windowChanges = 0;
  readonly #settle = (): void => {
    this.#timer = undefined;
    if (this.#pin) this.#accept(this.#pin.read());
  };

  constructor(options: DigitalInputOptions) {
    const sensor = options?.sensor;
    if (!sensor || typeof sensor.io !== "function")
      throw new TypeError('digital-input: option "sensor.io" must be a digital IO class');
    const pin = sensor.pin;
    if (typeof pin !== "number" || pin !== Math.floor(pin) || pin < 0 || pin > 255)
      throw new RangeError('digital-input: option "sensor.pin" must be a pin number 0–255, got ' + String(pin));
    if (!options.clock || typeof options.clock.setTimeout !== "function")
      throw new TypeError('digital-input: option "clock" must be a clock');
    const pull = options.pull ?? "up";
    if (pull !== "up" && pull !== "down" && pull !== "none")
      throw new RangeError('digital-input: option "pull" must be "up", "down" or "none", got ' + String(pull));
    const invert = options.invert ?? false;
    if (typeof invert !== "boolean") throw new TypeError('digital-input: option "invert" must be true or false');
    const debounceMs = options.debounceMs ?? 50;
    if (typeof debounceMs !== "number" || !(debounceMs >= 0 && debounceMs <= 10000))
      throw new RangeError('digital-input: option "debounceMs" must be 0–10000 ms, got ' + String(debounceMs));
    if (options.onChange !== undefined && typeof options.onChange !== "function")
      throw new TypeError('digital-input: option "onChange" must be a function');
    this.#clock = options.clock;
    this.#invert = invert ? 1 : 0;
    this.#debounceMs = debounceMs;
    this.#onChange = options.onChange;
    const io = sensor.io;
    this.#pin = new io({
      pin,
      mode: pull === "up" ? io.InputPullUp : pull === "down" ? io.InputPullDown : io.Input,
      edge: io.Rising | io.Falling,
      onReadable: () => this.#onEdge(),
    });
    this.#state = this.#pin.read() ^ this.#invert;
  }

  /** The debounced state (level XOR invert). */
  get state(): number {
    this.#check();
    return this.#state;
  }
  /** Debounced changes since construction. */
  get changes(): number {
    return this.#changes;
  }

  /** The state and the changes since the previous sample(): a new object each call. */
  sample(): DigitalInputSample {
    this.#check();
    const changes = this.#windowChanges;
    this.#windowChanges = 0;
    return { input: { state: this.#state, changes } };
  }

  health(): Record<string, number> {
    return { changes: this.#changes };
  }

  close(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pin?.close();
    this.#pin = undefined;
    this.#onChange = undefined;
  }

  #onEdge(): void {
    const pin = this.#pin;
    if (!pin) return;
    if (this.#debounceMs === 0) {
      this.#accept(pin.read());
      return;
    }
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(this.#settle, this.#debounceMs);
  }

  #accept(level: number): void {
    const state = level ^ this.#invert;
    if (state === this.#state) return;
    this.#state = state;
    this.#changes++;
    this.#windowChanges++;
    this.#onChange?.(state);
  }

  #check(): void {
    if (!this.#pin) throw new Error("digital-input: closed");
  }
}

Object.freeze(DigitalInput.prototype);
