// The SHT3x as a declared part: its options, channels and construction.
import type { PartDescriptor, SensorDeclaration, SensorIO } from "telltale/drivers/part";
import { frozenChannels, optionOneOf, rejectUnknown } from "telltale/drivers/part";
import SHT3x from "telltale/drivers/sht3x/sht3x";
import { ADDRESSES } from "telltale/drivers/sht3x/registers";

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

export const sht3xPart: PartDescriptor = Object.freeze<PartDescriptor>({
  part: "sht3x",
  bus: "i2c",
  addresses: ADDRESSES,
  channels: () => CHANNELS,
  options(raw, path) {
    rejectUnknown(raw, path, ["repeatability"]);
    return { repeatability: optionOneOf(raw, "repeatability", path, ["high", "medium", "low"] as const, "high") };
  },
  create(d: SensorDeclaration, io: SensorIO, onError) {
    return new SHT3x({
      sensor: { io: io.i2c, address: d.address },
      repeatability: d.options.repeatability as "high",
      onError,
    });
  },
});
