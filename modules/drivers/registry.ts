// Every part the firmware knows, by the name used in the device configuration's "part" field.
import type { PartDescriptor } from "telltale/drivers/part";
import { sht3xPart } from "telltale/drivers/sht3x/part";
import { bme280Part } from "telltale/drivers/bme280/part";
import { adxl345Part } from "telltale/drivers/adxl345/part";
import { mpu6050Part } from "telltale/drivers/mpu6050/part";
import { digitalInputPart, pulseCounterPart, relayPart } from "telltale/drivers/gpio/part";
import { sht4xPart } from "telltale/drivers/sht4x/part";
import { ina226Part } from "telltale/drivers/ina226/part";
import { ads1115Part } from "telltale/drivers/ads1115/part";
import { ina219Part } from "telltale/drivers/ina219/part";
// Drivers add one import line above and one entry below.

export const parts: Readonly<Record<string, PartDescriptor>> = Object.freeze({
  sht3x: sht3xPart,
  bme280: bme280Part,
  sht4x: sht4xPart,
  ina226: ina226Part,
  ads1115: ads1115Part,
  ina219: ina219Part,
  adxl345: adxl345Part,
  mpu6050: mpu6050Part,
  "digital-input": digitalInputPart,
  "pulse-counter": pulseCounterPart,
  relay: relayPart,
});
