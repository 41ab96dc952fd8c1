// The SHT4x as a declared part: its options, channels and construction.
import type { PartDescriptor, SensorDeclaration, SensorIO } from "telltale/drivers/part";
import { frozenChannels, optionOneOf, rejectUnknown } from "telltale/drivers/part";
import SHT4x from "telltale/drivers/sht4x/sht4x";
import { ADDRESSES } from "telltale/drivers/sht4x/registers";

type Nested = Record<string, Record<string, number> | undefined>;

const CHANNELS = frozenChannels([
  {
    key: "temperature",
    unit: "°C",
    scale: 100,
    floor: 5,
    read: (s: unknown) => (s as Nested).thermometer?.temperature,
  },
  { key: "humidity", unit: "%RH", scale: 100, floor: 20, read: (s: unknown) => (s as Nested).hygrometer?.humidity },
]);

export const sht4xPart: PartDescriptor = Object.freeze<PartDescriptor>({
  part: "sht4x",
  bus: "i2c",
  addresses: ADDRESSES,
  channels: () => CHANNELS,
  options(raw, path) {
    rejectUnknown(raw, path, ["precision"]);
    return { precision: optionOneOf(raw, "precision", path, ["high", "medium", "low"] as const, "high") };
  },
  create(d: SensorDeclaration, io: SensorIO, onError) {
    return new SHT4x({ sensor: { io: io.i2c, address: d.address }, precision: d.options.precision as "high", onError });
  },
});
