// A simulated pump-and-motor: temperature, humidity, pressure, current, vibration and speed, with injectable faults.
import type { Environment } from "telltale/sim/environment";

/**
 * step / drift: the temperature jumps by `size` °C, or climbs `size` °C per minute (cooling failure);
 * wear: the bearing's vibration tone grows by `size` m/s² per minute; pressure-drop: the pump's outlet
 * pressure falls by `size` bar (a clogged inlet); overcurrent: the motor draws `size` A more (a binding load).
 */
export type FaultKind = "none" | "step" | "drift" | "wear" | "pressure-drop" | "overcurrent";

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
  /** The fault, from `atMs` on (see FaultKind). */
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
      temperature: options.temperature ?? 40,
      amplitude: options.amplitude ?? 1.5,
      periodMs: options.periodMs ?? 600_000,
      noise: options.noise ?? 0.05,
      humidity: options.humidity ?? 45,
      seed: options.seed ?? 1,
    };
    this.fault = options.fault ?? { kind: "none", atMs: 0, size: 0 };
    this.#state = this.#options.seed | 0 || 1;
  }

  temperature(now: number): number {
    const o = this.#options;
    return (
      o.temperature +
      o.amplitude * Math.sin((2 * Math.PI * now) / o.periodMs) +
      this.#faultOffset(now) +
      o.noise * this.#gaussian()
    );
  }

  /** Ambient air pressure, hPa. */
  pressure(now: number): number {
    return 1013.25 + 1.5 * Math.sin((2 * Math.PI * now) / (this.#options.periodMs * 6)) + 0.05 * this.#gaussian();
  }

  /** Pump outlet pressure, bar. */
  pumpPressure(now: number): number {
    const drop = this.fault.kind === "pressure-drop" && now >= this.fault.atMs ? this.fault.size : 0;
    return 3 - drop + 0.1 * Math.sin((2 * Math.PI * now) / this.#options.periodMs) + 0.02 * this.#gaussian();
  }

  /** Motor current, A. */
  current(now: number): number {
    const extra = this.fault.kind === "overcurrent" && now >= this.fault.atMs ? this.fault.size : 0;
    return 4 + extra + 0.3 * Math.sin((2 * Math.PI * now) / this.#options.periodMs) + 0.02 * this.#gaussian();
  }

  /** Supply voltage at the motor, V (sags a little under load). */
  busVoltage(now: number): number {
    return 24 - 0.05 * this.current(now) + 0.01 * this.#gaussian();
  }

  /** Shaft speed, revolutions per minute. */
  rpm(now: number): number {
    return 1475 + 5 * Math.sin((2 * Math.PI * now) / this.#options.periodMs);
  }

  /**
   * Acceleration on `axis` (0 x, 1 y, 2 z), m/s²: imbalance at the shaft frequency, a bearing tone at 3.2×
   * shaft frequency that grows with wear, broadband noise, and gravity on z.
   */
  vibration(now: number, axis: number): number {
    const shaftHz = this.rpm(now) / 60;
    const t = now / 1000;
    const wear =
      0.05 +
      (this.fault.kind === "wear" && now >= this.fault.atMs ? (this.fault.size * (now - this.fault.atMs)) / 60_000 : 0);
    const phase = axis * 2.1;
    return (
      (axis === 2 ? 9.80665 : 0) +
      0.5 * Math.sin(2 * Math.PI * shaftHz * t + phase) +
      wear * Math.sin(2 * Math.PI * 3.2 * shaftHz * t + 2 * phase) +
      0.05 * this.#gaussian()
    );
  }

  humidity(now: number): number {
    const o = this.#options;
    // Warmer air in a closed cabinet holds the same water: relative humidity moves against temperature.
    return o.humidity - 2 * o.amplitude * Math.sin((2 * Math.PI * now) / o.periodMs) + 4 * o.noise * this.#gaussian();
  }

  #faultOffset(now: number): number {
    const f = this.fault;
    if (now < f.atMs) return 0;
    if (f.kind === "step") return f.size;
    if (f.kind === "drift") return (f.size * (now - f.atMs)) / 60_000;
    return 0;
  }

  /** Approximately normal noise from a xorshift32 generator (sum of four uniforms). */
  #gaussian(): number {
    let sum = 0;
    for (let i = 0; i < 4; i++) {
      let x = this.#state;
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      this.#state = x;
      sum += (x & 0xffff) / 65536;
    }
    return (sum - 2) * Math.sqrt(3);
  }
}

Object.freeze(MachineEnvironment.prototype);
