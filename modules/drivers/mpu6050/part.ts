// The MPU-6050 as a declared part: options, per-axis vibration RMS channels, construction (pin = INT, optional).
import type { Channel, PartDescriptor, SensorDeclaration, SensorIO } from "telltale/drivers/part";
import { optionNumber, rejectUnknown } from "telltale/drivers/part";
import { vibrationChannels, interruptOf, optionNumberOf } from "telltale/drivers/accelerometer/channels";
import MPU6050 from "telltale/drivers/mpu6050/mpu6050";
import { ADDRESSES, RANGES, dividerFor, type Range } from "telltale/drivers/mpu6050/registers";

const CHANNELS: readonly Channel[] = vibrationChannels();

export const mpu6050Part: PartDescriptor = Object.freeze<PartDescriptor>({
  part: "mpu6050",
  bus: "i2c",
  addresses: ADDRESSES,
  channels: () => CHANNELS,
  options(raw, path) {
    rejectUnknown(raw, path, ["range", "rate", "dlpf", "pollMs", "ringFrames"]);
    const dlpf = optionNumber(raw, "dlpf", path, 0, 0, 6, true);
    const rate = optionNumber(raw, "rate", path, 1600, 3.90625, 8000);
    if (dividerFor(rate, dlpf) < 0)
      throw new Error(
        path +
          "rate: expected " +
          (dlpf === 0 ? 8000 : 1000) +
          " Hz divided by an integer 1–256, got " +
          JSON.stringify(rate),
      );
    const out: Record<string, unknown> = {
      range: optionNumberOf(raw, "range", path, RANGES, 4),
      rate,
      dlpf,
      ringFrames: optionNumber(raw, "ringFrames", path, 512, 32, 8192, true),
    };
    if (raw.pollMs !== undefined) out.pollMs = optionNumber(raw, "pollMs", path, 0, 1, 1000, true);
    return out;
  },
  create(d: SensorDeclaration, io: SensorIO, onError) {
    const o = d.options;
    return new MPU6050({
      sensor: { io: io.i2c, address: d.address },
      clock: io.clock,
      interrupt: interruptOf("MPU-6050", d, io),
      range: o.range as Range,
      rate: o.rate as number,
      dlpf: o.dlpf as number,
      ringFrames: o.ringFrames as number,
      pollMs: o.pollMs as number | undefined,
      onError,
    });
  },
});
