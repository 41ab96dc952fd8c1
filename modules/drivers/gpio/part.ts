// The GPIO parts as declared parts: "digital-input", "pulse-counter" and "relay" (bus "gpio"; the declaration's pin).
import type { Channel, PartDescriptor, SensorDeclaration, SensorIO } from "telltale/drivers/part";
import { frozenChannels, optionBoolean, optionNumber, optionOneOf, rejectUnknown } from "telltale/drivers/part";
import DigitalInput, { type Pull } from "telltale/drivers/gpio/digital-input";
import PulseCounter from "telltale/drivers/gpio/pulse-counter";
import Relay from "telltale/drivers/gpio/relay";
import type { DigitalConstructor } from "telltale/io/io";

type Nested = Record<string, Record<string, number> | undefined> | undefined;

function digital(part: string, io: SensorIO): DigitalConstructor {
  if (!io.digital) throw new Error(part + ": this host provides no digital IO");
  return io.digital;
}

const INPUT_CHANNELS: readonly Channel[] = frozenChannels([
  { key: "state", unit: "", scale: 1, floor: 1, read: (s: unknown) => (s as Nested)?.input?.state },
  { key: "changes", unit: "", scale: 1, floor: 1, read: (s: unknown) => (s as Nested)?.input?.changes },
]);

export const digitalInputPart: PartDescriptor = Object.freeze<PartDescriptor>({
  part: "digital-input",
  bus: "gpio",
  channels: () => INPUT_CHANNELS,
  options(raw, path) {
    rejectUnknown(raw, path, ["debounceMs", "pull", "invert"]);
    return {
      debounceMs: optionNumber(raw, "debounceMs", path, 50, 0, 10000, true),
      pull: optionOneOf(raw, "pull", path, ["up", "down", "none"] as const, "up"),
      invert: optionBoolean(raw, "invert", path, false),
    };
  },
  create(d: SensorDeclaration, io: SensorIO) {
    return new DigitalInput({
      sensor: { io: digital("digital-input", io), pin: d.pin! },
      clock: io.clock,
      debounceMs: d.options.debounceMs as number,
      pull: d.options.pull as Pull,
      invert: d.options.invert as boolean,
    });
  },
});

const COUNTER_CHANNELS: readonly Channel[] = frozenChannels([
  { key: "frequency", unit: "Hz", scale: 100, floor: 5, read: (s: unknown) => (s as Nested)?.tachometer?.frequency },
  { key: "rpm", unit: "rpm", scale: 10, floor: 10, read: (s: unknown) => (s as Nested)?.tachometer?.rpm },
]);

export const pulseCounterPart: PartDescriptor = Object.freeze<PartDescriptor>({
  part: "pulse-counter",
  bus: "gpio",
  channels: () => COUNTER_CHANNELS,
  options(raw, path) {
    rejectUnknown(raw, path, ["pulsesPerRevolution"]);
    return { pulsesPerRevolution: optionNumber(raw, "pulsesPerRevolution", path, 1, 1, 1000, true) };
  },
  create(d: SensorDeclaration, io: SensorIO, onError) {
    if (!io.pulseCount) throw new Error("pulse-counter: this host provides no pulse counter");
    return new PulseCounter({
      sensor: { io: io.pulseCount, pin: d.pin! },
      clock: io.clock,
      pulsesPerRevolution: d.options.pulsesPerRevolution as number,
      onError,
    });
  },
});

export const relayPart: PartDescriptor = Object.freeze<PartDescriptor>({
  part: "relay",
  bus: "gpio",
  // An output feeds nothing to the detector (its own alarm would feed back); its state is in health telemetry.
  channels: () => [],
  options(raw, path) {
    rejectUnknown(raw, path, ["followAlarm", "activeLow"]);
    return {
      followAlarm: optionBoolean(raw, "followAlarm", path, false),
      activeLow: optionBoolean(raw, "activeLow", path, false),
    };
  },
  create(d: SensorDeclaration, io: SensorIO) {
    return new Relay({
      sensor: { io: digital("relay", io), pin: d.pin! },
      followAlarm: d.options.followAlarm as boolean,
      activeLow: d.options.activeLow as boolean,
    });
  },
});
