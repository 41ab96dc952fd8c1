// Monotonic milliseconds and one-shot timers for Moddable hosts, from Time.ticks and Timer.
import Time from "time";
import Timer from "timer";
import type { Clock } from "telltale/io/io";

/** A pending setTimeout; clearing it after it fired (or twice) is a no-op, as on Node. */
class Pending {
  timer: Timer | undefined;
}

export class TickClock implements Clock {
  #last: number;
  #elapsed = 0;

  constructor() {
    this.#last = Time.ticks;
  }

  /** Milliseconds since this clock was made. */
  now(): number {
    const ticks = Time.ticks;
    // Time.ticks is a free-running millisecond counter that may wrap at 2^32 (or at 2^31 when the
    // platform reports it as a signed integer); the unsigned 32-bit difference is right either way,
    // provided now() is called at least once every 49 days.
    this.#elapsed += (ticks - this.#last) >>> 0;
    this.#last = ticks;
    return this.#elapsed;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const pending = new Pending();
    pending.timer = Timer.set(() => {
      pending.timer = undefined;
      callback();
    }, ms);
    return pending;
  }

  clearTimeout(handle: unknown): void {
    if (!(handle instanceof Pending) || handle.timer === undefined) return;
    Timer.clear(handle.timer);
    handle.timer = undefined;
  }
}
