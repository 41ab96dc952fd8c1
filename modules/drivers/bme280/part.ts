// The BME280 (or BMP280) as a declared part: its options, channels and construction.
import type { Channel, PartDescriptor, SensorDeclaration, SensorIO } from "telltale/drivers/part";
import { frozenChannels, optionBoolean, optionOneOf, rejectUnknown, optionNumberChoice } from "telltale/drivers/part";
import BME280, { type BME280Options } from "telltale/drivers/bme280/bme280";
import { ADDRESSES } from "telltale/drivers/bme280/registers";

type Nested = Record<string, Record<string, number> | undefined>;

const TEMPERATURE: Channel = Object.freeze<Channel>({
  key: "temperature",
  unit: "°C",
  scale: 100,
  floor: 5,
  read: (s) => (s as Nested).thermometer?.temperature,
});
/** Telemetry in hPa; the detector sees whole Pa (the sample's barometer reports Pa, as ECMA-419 does). */
const PRESSURE: Channel = Object.freeze<Channel>({
  key: "pressure",
  unit: "hPa",
  scale: 100,
  floor: 3,
  read: (s) => {
    const p = (s as Nested).barometer?.pressure;
    return p === undefined ? undefined : p / 100;
  },
});
const HUMIDITY: Channel = Object.freeze<Channel>({
  key: "humidity",
  unit: "%RH",
  scale: 100,
  floor: 20,
  read: (s) => (s as Nested).hygrometer?.humidity,
});
const WITH_HUMIDITY: readonly Channel[] = frozenChannels([TEMPERATURE, PRESSURE, HUMIDITY]);
const WITHOUT_HUMIDITY: readonly Channel[] = frozenChannels([TEMPERATURE, PRESSURE]);

export const bme280Part: PartDescriptor = Object.freeze<PartDescriptor>({
  part: "bme280",
  bus: "i2c",
  addresses: ADDRESSES,
  // A BMP280 answers as the same part: its sample has no hygrometer, so the humidity channel reads undefined;
  // `humidity: false` drops the channel from telemetry altogether.
  channels: (d: SensorDeclaration) => (d.options.humidity === false ? WITHOUT_HUMIDITY : WITH_HUMIDITY),
  options(raw, path) {
    rejectUnknown(raw, path, ["mode", "oversampling", "filter", "standby", "humidity", "pressureFormula"]);
    const o = raw.oversampling ?? {};
    if (o === null || typeof o !== "object" || Array.isArray(o))
      throw new Error(
        path +
          "oversampling: expected an object like {temperature: 1, pressure: 1, humidity: 1}, got " +
          JSON.stringify(o),
      );
    const os = o as Record<string, unknown>;
    const at = path + "oversampling.";
    rejectUnknown(os, at, ["temperature", "pressure", "humidity"]);
    const humidity = optionBoolean(raw, "humidity", path, true);
    return {
      mode: optionOneOf(raw, "mode", path, ["forced", "normal"] as const, "forced"),
      oversampling: {
        temperature: optionNumberChoice(os, "temperature", at, [1, 2, 4, 8, 16], 1),
        pressure: optionNumberChoice(os, "pressure", at, [0, 1, 2, 4, 8, 16], 1),
        humidity: humidity ? optionNumberChoice(os, "humidity", at, [0, 1, 2, 4, 8, 16], 1) : 0,
      },
      filter: optionNumberChoice(raw, "filter", path, [0, 2, 4, 8, 16], 0),
      standby: optionNumberChoice(raw, "standby", path, [0.5, 62.5, 125, 250, 500, 1000, 10, 20, 2000, 4000], 1000),
      pressureFormula: optionOneOf(raw, "pressureFormula", path, ["int64", "int32"] as const, "int64"),
      humidity,
    };
  },
  create(d: SensorDeclaration, io: SensorIO, onError) {
    const o = d.options as Omit<BME280Options, "sensor" | "onError">;
    return new BME280({
      sensor: { io: io.i2c, address: d.address },
      mode: o.mode,
      oversampling: o.oversampling,
      filter: o.filter,
      standby: o.standby,
      pressureFormula: o.pressureFormula,
      onError,
    });
  },
});
