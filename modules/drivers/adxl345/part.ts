// The ADXL345 as a declared part: options, per-axis vibration RMS channels, construction (pin = INT1, optional).
import type { Channel, PartDescriptor, SensorDeclaration, SensorIO } from "telltale/drivers/part";
import { optionBoolean, optionNumber, rejectUnknown } from "telltale/drivers/part";
import { vibrationChannels, interruptOf, optionNumberOf } from "telltale/drivers/accelerometer/channels";
import ADXL345 from "telltale/drivers/adxl345/adxl345";
import { ADDRESSES, RANGES, RATES, type Range } from "telltale/drivers/adxl345/registers";

const CHANNELS: readonly Channel[] = vibrationChannels();

export const adxl345Part: PartDescriptor = Object.freeze<PartDescriptor>({
  part: "adxl345",
  bus: "i2c",
  addresses: ADDRESSES,
  channels: () => CHANNELS,
  options(raw, path) {
    rejectUnknown(raw, path, ["range", "rate", "fullResolution", "watermark", "pollMs", "ringFrames"]);
    const out: Record<string, unknown> = {
      range: optionNumberOf(raw, "range", path, RANGES, 16),
      rate: optionNumberOf(raw, "rate", path, RATES, 1600),
      fullResolution: optionBoolean(raw, "fullResolution", path, true),
      watermark: optionNumber(raw, "watermark", path, 16, 1, 31, true),
      ringFrames: optionNumber(raw, "ringFrames", path, 512, 32, 8192, true),
    };
    if (raw.pollMs !== undefined) out.pollMs = optionNumber(raw, "pollMs", path, 0, 1, 1000, true);
    return out;
  },
  create(d: SensorDeclaration, io: SensorIO, onError) {
    const o = d.options;
    return new ADXL345({
      sensor: { io: io.i2c, address: d.address },
      clock: io.clock,
      interrupt: interruptOf("ADXL345", d, io),
      range: o.range as Range,
      rate: o.rate as number,
      fullResolution: o.fullResolution as boolean,
      watermark: o.watermark as number,
      ringFrames: o.ringFrames as number,
      pollMs: o.pollMs as number | undefined,
      onError,
    });
  },
});
