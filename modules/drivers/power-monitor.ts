// The channels a shunt power monitor (INA219, INA226) gives: current, bus voltage and power.
import { frozenChannels, type Channel } from "telltale/drivers/part";

type Nested = Record<string, Record<string, number> | undefined>;

export const POWER_MONITOR_CHANNELS: readonly Channel[] = frozenChannels([
  { key: "current", unit: "A", scale: 1000, floor: 10, read: (s: unknown) => (s as Nested).ammeter?.current },
  { key: "voltage", unit: "V", scale: 1000, floor: 10, read: (s: unknown) => (s as Nested).voltmeter?.voltage },
  { key: "power", unit: "W", scale: 100, floor: 10, read: (s: unknown) => (s as Nested).wattmeter?.power },
]);
