// The INA226 as a declared part: its options (shunt, maximum current, averaging), channels and construction.
import type { PartDescriptor, SensorDeclaration, SensorIO } from "telltale/drivers/part";
import { POWER_MONITOR_CHANNELS } from "telltale/drivers/power-monitor";
import { optionNumber, optionOneOf, rejectUnknown, optionNumberChoice } from "telltale/drivers/part";
import INA226 from "telltale/drivers/ina226/ina226";
import {
  ADDRESSES,
  AVERAGES,
  CONVERSION_MS,
  ShuntFullScale,
  calibrationValue,
  currentLsbFor,
} from "telltale/drivers/ina226/registers";

export const ina226Part: PartDescriptor = Object.freeze<PartDescriptor>({
  part: "ina226",
  bus: "i2c",
  addresses: ADDRESSES,
  channels: () => POWER_MONITOR_CHANNELS,
  options(raw, path) {
    rejectUnknown(raw, path, [
      "shunt",
      "maxCurrent",
      "currentLsb",
      "averaging",
      "busConversionTime",
      "shuntConversionTime",
      "mode",
    ]);
    const shunt = optionNumber(raw, "shunt", path, 0.1, 0.0001, 100);
    const maxCurrent = optionNumber(raw, "maxCurrent", path, 0.8, 0.001, 1000);
    if (maxCurrent * shunt > ShuntFullScale * 1.000001)
      throw new Error(
        path +
          "maxCurrent: " +
          maxCurrent +
          " A through " +
          shunt +
          " Ω is " +
          (maxCurrent * shunt * 1000).toFixed(2) +
          " mV, beyond the ±81.92 mV shunt range",
      );
    const minimum = currentLsbFor(maxCurrent);
    const currentLsb =
      raw.currentLsb === undefined ? minimum : optionNumber(raw, "currentLsb", path, minimum, minimum * 0.999999, 1000);
    const cal = calibrationValue(currentLsb, shunt);
    if (cal < 1 || cal > 0x7fff)
      throw new Error(path + "currentLsb: gives calibration value " + cal + " with this shunt, outside 1–32767");
    return {
      shunt,
      maxCurrent,
      currentLsb,
      averaging: optionNumberChoice(raw, "averaging", path, AVERAGES, 16),
      busConversionTime: optionNumberChoice(raw, "busConversionTime", path, CONVERSION_MS, 1.1),
      shuntConversionTime: optionNumberChoice(raw, "shuntConversionTime", path, CONVERSION_MS, 1.1),
      mode: optionOneOf(raw, "mode", path, ["continuous", "triggered"] as const, "continuous"),
    };
  },
  create(d: SensorDeclaration, io: SensorIO, onError) {
    const o = d.options as {
      shunt: number;
      maxCurrent: number;
      currentLsb: number;
      averaging: number;
      busConversionTime: number;
      shuntConversionTime: number;
      mode: "continuous";
    };
    return new INA226({ sensor: { io: io.i2c, address: d.address }, ...o, onError });
  },
});
