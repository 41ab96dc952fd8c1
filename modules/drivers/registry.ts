// Every part the firmware knows, by the name used in the device configuration's "part" field.
import type { PartDescriptor } from "telltale/drivers/part";
import { sht3xPart } from "telltale/drivers/sht3x/part";
// Drivers add one import line above and one entry below.

export const parts: Readonly<Record<string, PartDescriptor>> = Object.freeze({
  sht3x: sht3xPart,
});

export function partNames(): string[] { return Object.keys(parts); }
