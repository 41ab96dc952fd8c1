// A Clock whose time moves only when a test says so: deterministic timers in Node and XS.
import type { Clock } from "telltale/io/io";

interface Pending {
  at: number;
  seq: number;
  callback: () => void;
}

export class ManualClock implements Clock {
  #now = 0;
  #seq = 0;
  #pending: Pending[] = [];

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const entry = { at: this.#now + Math.max(0, ms), seq: this.#seq++, callback };
    this.#pending.push(entry);
    return entry;
  }

  clearTimeout(handle: unknown): void {
    const i = this.#pending.indexOf(handle as Pending);
    if (i >= 0) this.#pending.splice(i, 1);
  }

  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: Pending | undefined;
      for (const p of this.#pending)
        if (p.at <= end && (!next || p.at < next.at || (p.at === next.at && p.seq < next.seq))) next = p;
      if (!next) break;
      this.#pending.splice(this.#pending.indexOf(next), 1);
      this.#now = Math.max(this.#now, next.at);
      next.callback();
    }
    this.#now = end;
  }
}
