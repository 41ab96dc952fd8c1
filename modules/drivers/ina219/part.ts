// The INA219 as a declared part: its options (shunt, maximum current, bus range, averaging), channels and construction.
import type { PartDescriptor, SensorDeclaration, SensorIO } from "telltale/drivers/part";
import { POWER_MONITOR_CHANNELS } from "telltale/drivers/power-monitor";
import { optionNumber, optionOneOf, rejectUnknown, optionNumberChoice } from "telltale/drivers/part";
import INA219, { type INA219Options } from "telltale/drivers/ina219/ina219";
import { ADDRESSES, AVERAGES, currentLsbFor } from "telltale/drivers/ina219/registers";

export const ina219Part: PartDescriptor = Object.freeze<PartDescriptor>({
  part: "ina219",
  bus: "i2c",
  addresses: ADDRESSES,
  channels: () => POWER_MONITOR_CHANNELS,
  options(raw, path) {
    rejectUnknown(raw, path, ["shunt", "maxCurrent", "currentLsb", "busRange", "averaging", "mode"]);
    const shunt = optionNumber(raw, "shunt", path, 0.1, 0.0001, 100);
    const maxCurrent = optionNumber(raw, "maxCurrent", path, 2, 0.001, 1000);
    if (maxCurrent * shunt > 0.32 * 1.000001)
      throw new Error(
        path +
          "maxCurrent: " +
          maxCurrent +
          " A through " +
          shunt +
          " Ω is " +
          (maxCurrent * shunt * 1000).toFixed(1) +
          " mV, beyond the ±320 mV shunt range",
      );
    const minimum = currentLsbFor(maxCurrent);
    const currentLsb =
      raw.currentLsb === undefined
        ? minimum
        : optionNumber(raw, "currentLsb", path, minimum, minimum * 0.999999, (maxCurrent / 4096) * 1.000001);
    return {
      shunt,
      maxCurrent,
      currentLsb,
      busRange: optionNumberChoice(raw, "busRange", path, [16, 32], 32),
      averaging: optionNumberChoice(raw, "averaging", path, AVERAGES, 16),
      mode: optionOneOf(raw, "mode", path, ["continuous", "triggered"] as const, "continuous"),
    };
  },
  create(d: SensorDeclaration, io: SensorIO, onError) {
    const o = d.options as Omit<INA219Options, "sensor" | "onError">;
    return new INA219({ sensor: { io: io.i2c, address: d.address }, ...o, onError });
  },
});
