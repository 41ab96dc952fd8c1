// The physical quantities the simulated world offers its chip models: what a temperature/humidity model reads.

/** Air at the sensor, as a function of time. The machine model implements it; a test can pass any object like it. */
export interface Environment {
  /** °C at time `now` (ms). */
  temperature(now: number): number;
  /** %RH at time `now` (ms). */
  humidity(now: number): number;
}
