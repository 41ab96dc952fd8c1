// Which parts the firmware knows, how to construct each from its declaration, and the channels each gives.
import type { I2CConstructor } from "telltale/io/io";
import type { SensorConfig } from "telltale/config/config";
import SHT3x from "telltale/drivers/sht3x/sht3x";

/** One measured quantity of a part, as the detector and telemetry see it. */
export interface Channel {
  /** Key in telemetry, e.g. "temperature". */
  key: string;
  unit: string;
  /** Detector input = round(value × scale): the channel's fixed-point unit (100 → hundredths). */
  scale: number;
  /** Smallest standard deviation the detector assumes, in that fixed-point unit. */
  floor: number;
  /** Pulls the value out of the part's sample object. */
  read(sample: unknown): number | undefined;
}

export interface SensorInstance {
  sample(): unknown;
  close(): void;
}

export interface PartDescriptor {
  channels: readonly Channel[];
  create(declaration: SensorConfig, io: I2CConstructor, onError: (error: Error) => void): SensorInstance;
}

type Nested = Record<string, Record<string, number> | undefined>;

export const parts: Readonly<Record<SensorConfig["part"], PartDescriptor>> = Object.freeze({
  sht3x: {
    channels: [
      { key: "temperature", unit: "°C", scale: 100, floor: 5, read: (s: unknown) => (s as Nested).thermometer?.temperature },
      { key: "humidity", unit: "%RH", scale: 100, floor: 20, read: (s: unknown) => (s as Nested).hygrometer?.humidity },
    ],
    create: (d: SensorConfig, io: I2CConstructor, onError: (error: Error) => void) =>
      new SHT3x({ sensor: { io, address: d.address }, repeatability: d.repeatability, onError }),
  },
});
