// The contract between a driver and the rest of the firmware: how a declared part is validated, built and read.
import type { Clock, DigitalConstructor, I2CConstructor, PulseCountConstructor } from "telltale/io/io";

/** One measured quantity of a part, as the detector and telemetry see it. */
export interface Channel {
  /** Key in telemetry, e.g. "temperature". */
  key: string;
  unit: string;
  /** Detector input = round(value × scale): the channel's fixed-point unit (100 → hundredths). */
  scale: number;
  /** Smallest standard deviation the detector assumes, in that fixed-point unit. */
  floor: number;
  /** Pulls the value out of the part's sample object (undefined when absent this round). */
  read(sample: unknown): number | undefined;
}

/** A sensor as declared in the device configuration, after validation. */
export interface SensorDeclaration {
  part: string;
  /** Unique name in telemetry. */
  name: string;
  /** I2C address (I2C parts). */
  address?: number;
  /** GPIO pin (GPIO parts; also an interrupt pin for some I2C parts). */
  pin?: number;
  /** Part-specific options, normalised by the part's `options()`. */
  options: Record<string, unknown>;
}

/** The IO a part may use: ECMA-419 classes from the host, and its clock for deferred work. */
export interface SensorIO {
  i2c: I2CConstructor;
  digital?: DigitalConstructor;
  pulseCount?: PulseCountConstructor;
  clock: Clock;
}

export interface SensorInstance {
  /** A new nested object per call (ECMA-419), or undefined when this round has no data. */
  sample(): unknown;
  close(): void;
  /** Outputs (a relay) follow the detector's alarm when the declaration asks for it. */
  onAlarm?(alarm: boolean): void;
  /** Extra health figures for telemetry (e.g. FIFO overflows). */
  health?(): Record<string, number>;
  /**
   * Parts with a fast raw stream (an accelerometer FIFO) hand every frame to `sink` as it is drained, besides their
   * per-tick summary; `undefined` detaches. Returns what the frames are.
   */
  stream?(sink: FrameSink | undefined): StreamInfo;
}

/** A consumer of a raw stream (the detector's vibration front end): interleaved int16 counts, `axes` per frame. */
export interface FrameSink {
  /** Takes up to `frames` frames from frame `start` of `samples`; returns how many it took (it may stop early). */
  write(samples: Int16Array, start: number, frames: number): number;
}

/** The shape and unit of a part's raw stream. */
export interface StreamInfo {
  axes: number;
  /** Frames per second. */
  rate: number;
  /** Physical value of one count (m/s² for an accelerometer). */
  unitPerCount: number;
  unit: string;
}

export interface PartDescriptor {
  readonly part: string;
  readonly bus: "i2c" | "gpio";
  /** I2C addresses the part answers at; the first is the default. */
  readonly addresses?: readonly number[];
  /** The channels a declaration of this part gives (may depend on its options). */
  channels(declaration: SensorDeclaration): readonly Channel[];
  /**
   * Validates the part-specific fields of a raw declaration (every key except part, name, address and pin)
   * and returns them normalised with defaults. Throws an Error whose message starts with `path + key + ":"`.
   */
  options(raw: Record<string, unknown>, path: string): Record<string, unknown>;
  /** Constructs the driver; throws when the part cannot be reached (the app marks it failed and re-probes). */
  create(declaration: SensorDeclaration, io: SensorIO, onError: (error: Error) => void): SensorInstance;
}

/** A constant channel table, frozen with each of its channels (a preloaded module's tables then stay in flash). */
export function frozenChannels(channels: readonly Channel[]): readonly Channel[] {
  for (const channel of channels) Object.freeze(channel);
  return Object.freeze(channels);
}

/** A part's I2C addresses in words: "0x44 or 0x45", "0x44, 0x45 or 0x46", or "0x40 to 0x4f" for a run of four or more. */
export function describeAddresses(addresses: readonly number[]): string {
  const hex = (a: number) => "0x" + a.toString(16);
  const n = addresses.length,
    first = addresses[0],
    last = addresses[n - 1];
  if (first === undefined || last === undefined) return "no address";
  let run = n >= 4;
  for (let i = 1; run && i < n; i++) run = addresses[i] === first + i;
  if (run) return hex(first) + " to " + hex(last);
  return n === 1 ? hex(first) : addresses.slice(0, -1).map(hex).join(", ") + " or " + hex(last);
}

/**
 * The `sensor.address` option of a driver, checked against the part's addresses (declared once, in its registers.ts);
 * undefined gives the first. Throws a RangeError naming the option.
 */
export function checkAddress(name: string, address: unknown, addresses: readonly number[]): number {
  const value = address ?? addresses[0];
  if (!addresses.includes(value as number))
    throw new RangeError(
      name + ': option "sensor.address" must be ' + describeAddresses(addresses) + ", got " + String(address),
    );
  return value as number;
}

/** Helpers for `options()`: each throws an Error naming `path + key`. */
export function optionOneOf<T extends string>(
  raw: Record<string, unknown>,
  key: string,
  path: string,
  choices: readonly T[],
  fallback: T,
): T {
  const value = raw[key] ?? fallback;
  if (!choices.includes(value as T))
    throw new Error(
      path +
        key +
        ": expected one of " +
        choices.map((c) => JSON.stringify(c)).join(", ") +
        ", got " +
        JSON.stringify(value),
    );
  return value as T;
}

export function optionNumber(
  raw: Record<string, unknown>,
  key: string,
  path: string,
  fallback: number,
  min: number,
  max: number,
  integer = false,
): number {
  const value = raw[key] ?? fallback;
  if (typeof value !== "number" || !(value >= min && value <= max) || (integer && value !== Math.floor(value)))
    throw new Error(
      path +
        key +
        ": expected " +
        (integer ? "an integer" : "a number") +
        " from " +
        min +
        " to " +
        max +
        ", got " +
        JSON.stringify(value),
    );
  return value;
}

export function optionNumberChoice(
  raw: Record<string, unknown>,
  key: string,
  path: string,
  choices: readonly number[],
  fallback: number,
): number {
  const value = raw[key] ?? fallback;
  if (!choices.includes(value as number))
    throw new Error(path + key + ": expected one of " + choices.join(", ") + ", got " + JSON.stringify(value));
  return value as number;
}

export function optionBoolean(raw: Record<string, unknown>, key: string, path: string, fallback: boolean): boolean {
  const value = raw[key] ?? fallback;
  if (typeof value !== "boolean")
    throw new Error(path + key + ": expected true or false, got " + JSON.stringify(value));
  return value;
}

/** Rejects keys a part does not know, so a typo in the config is caught at start. */
export function rejectUnknown(raw: Record<string, unknown>, path: string, known: readonly string[]): void {
  for (const key of Object.keys(raw))
    if (!known.includes(key) && key !== "part" && key !== "name" && key !== "address" && key !== "pin")
      throw new Error(path + key + ": unknown option for this part (known: " + known.join(", ") + ")");
}
