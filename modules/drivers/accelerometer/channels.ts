// Declared-part helpers shared by the accelerometers: per-axis RMS channels, the INT pin, numeric choices.
import { frozenChannels, type Channel, type SensorDeclaration, type SensorIO } from "telltale/drivers/part";
import type { DigitalConstructor } from "telltale/io/io";

type Summary = { vibration?: { rms?: { x: number; y: number; z: number } } } | undefined;

/**
 * AC-coupled RMS per axis in m/s²; the detector sees mm/s² (scale 1000) with a floor of 20 mm/s²: about half the
 * ADXL345's 1-LSB step (3.9 mg = 38 mm/s²) and a third of the MPU-6050's noise (400 µg/√Hz over 260 Hz ≈ 63 mm/s² RMS).
 */
export function vibrationChannels(): readonly Channel[] {
  return frozenChannels([
    { key: "rmsX", unit: "m/s²", scale: 1000, floor: 20, read: (s: unknown) => (s as Summary)?.vibration?.rms?.x },
    { key: "rmsY", unit: "m/s²", scale: 1000, floor: 20, read: (s: unknown) => (s as Summary)?.vibration?.rms?.y },
    { key: "rmsZ", unit: "m/s²", scale: 1000, floor: 20, read: (s: unknown) => (s as Summary)?.vibration?.rms?.z },
  ]);
}

/** The INT pin of a declaration, with the host's digital class; throws when a pin is declared on a host without GPIO. */
export function interruptOf(
  name: string,
  d: SensorDeclaration,
  io: SensorIO,
): { io: DigitalConstructor; pin: number } | undefined {
  if (d.pin === undefined) return undefined;
  if (!io.digital)
    throw new Error(name + ": pin " + d.pin + " is declared for the interrupt, but this host provides no digital IO");
  return { io: io.digital, pin: d.pin };
}

/** A number from a fixed set (`options()` helper): throws naming `path + key`. */
export function optionNumberOf(
  raw: Record<string, unknown>,
  key: string,
  path: string,
  choices: readonly number[],
  fallback: number,
): number {
  const value = raw[key] ?? fallback;
  if (typeof value !== "number" || !choices.includes(value))
    throw new Error(path + key + ": expected one of " + choices.join(", ") + ", got " + JSON.stringify(value));
  return value;
}
