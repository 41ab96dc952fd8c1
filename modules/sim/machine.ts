// A simulated machine whose temperature and humidity follow a slow cycle plus noise, with an injectable fault.
import type { Environment } from "telltale/drivers/sht3x/model";

export type FaultKind = "none" | "step" | "drift";

export interface MachineOptions {
  /** Mean temperature, °C (default 40). */
  temperature?: number;
  /** Cycle amplitude, °C (default 1.5), and period, ms (default 10 minutes). */
  amplitude?: number;
  periodMs?: number;
  /** Standard deviation of the measurement noise, °C (default 0.05). */
  noise?: number;
  /** Mean humidity, %RH (default 45). */
  humidity?: number;
  /** The fault: a step of `size` °C at `atMs`, or a drift of `size` °C per minute from `atMs`. */
  fault?: { kind: FaultKind; atMs: number; size: number };
  /** Seed of the noise generator, so runs repeat. */
  seed?: number;
}

export class MachineEnvironment implements Environment {
  readonly #options: Required<Omit<MachineOptions, "fault">>;
  fault: { kind: FaultKind; atMs: number; size: number };
  #state: number;

  constructor(options: MachineOptions = {}) {
    this.#options = {
      temperature: options.temperature ?? 40, amplitude: options.amplitude ?? 1.5,
      periodMs: options.periodMs ?? 600_000, noise: options.noise ?? 0.05,
      humidity: options.humidity ?? 45, seed: options.seed ?? 1,
    };
    this.fault = options.fault ?? { kind: "none", atMs: 0, size: 0 };
    this.#state = (this.#options.seed | 0) || 1;
  }

  temperature(now: number): number {
    const o = this.#options;
    return o.temperature + o.amplitude * Math.sin((2 * Math.PI * now) / o.periodMs) + this.#faultOffset(now) + o.noise * this.#gaussian();
  }

  humidity(now: number): number {
    const o = this.#options;
    // Warmer air in a closed cabinet holds the same water: relative humidity moves against temperature.
    return o.humidity - 2 * o.amplitude * Math.sin((2 * Math.PI * now) / o.periodMs) + 4 * o.noise * this.#gaussian();
  }

  #faultOffset(now: number): number {
    const f = this.fault;
    if (f.kind === "none" || now < f.atMs) return 0;
    return f.kind === "step" ? f.size : (f.size * (now - f.atMs)) / 60_000;
  }

  /** Approximately normal noise from a xorshift32 generator (sum of four uniforms). */
  #gaussian(): number {
    let sum = 0;
    for (let i = 0; i < 4; i++) {
      let x = this.#state;
      x ^= x << 13; x ^= x >> 17; x ^= x << 5;
      this.#state = x;
      sum += (x & 0xFFFF) / 65536;
    }
    return (sum - 2) * Math.sqrt(3);
  }
}
