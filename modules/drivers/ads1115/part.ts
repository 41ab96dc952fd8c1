// The ADS1115 as a declared part: each declared input (with an optional linear transducer scale) is its own channel.
import type { Channel, PartDescriptor, SensorDeclaration, SensorIO } from "telltale/drivers/part";
import { optionNumber, optionOneOf, rejectUnknown, optionNumberChoice } from "telltale/drivers/part";
import ADS1115, { type ADS1115Input } from "telltale/drivers/ads1115/ads1115";
import { ADDRESSES, DATA_RATES, FULL_SCALE, MUX, lsbVolts } from "telltale/drivers/ads1115/registers";

type Inputs = Record<string, { value: number } | undefined>;

function pair(raw: Record<string, unknown>, key: string, path: string): [number, number] {
  const v = raw[key];
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === "number" && Number.isFinite(x)))
    throw new Error(path + key + ": expected two numbers like [0.5, 4.5], got " + JSON.stringify(v));
  return [v[0] as number, v[1] as number];
}

function input(value: unknown, path: string, names: Set<string>): ADS1115Input {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new Error(path.slice(0, -1) + ": expected an object like {name, channel, gain, scale}");
  const raw = value as Record<string, unknown>;
  rejectUnknown(raw, path, ["channel", "gain", "scale"]); // "name" is always allowed
  const name = raw.name;
  if (typeof name !== "string" || !/^[a-z][a-z0-9_]{0,31}$/.test(name))
    throw new Error(path + "name: expected a lower-case name of letters, digits and _, got " + JSON.stringify(name));
  if (names.has(name)) throw new Error(path + "name: " + JSON.stringify(name) + " is used twice");
  names.add(name);
  const channel = raw.channel;
  if (!((typeof channel === "number" || typeof channel === "string") && Object.hasOwn(MUX, String(channel))))
    throw new Error(
      path + 'channel: expected 0, 1, 2, 3 or a pair "0-1", "0-3", "1-3", "2-3", got ' + JSON.stringify(channel),
    );
  const out: ADS1115Input = { name, channel, gain: optionNumberChoice(raw, "gain", path, FULL_SCALE, 4.096) };
  if (raw.scale !== undefined) {
    const s = raw.scale;
    const at = path + "scale.";
    if (s === null || typeof s !== "object" || Array.isArray(s))
      throw new Error(at.slice(0, -1) + ": expected {from: [v0, v1], to: [y0, y1], unit}");
    const sr = s as Record<string, unknown>;
    rejectUnknown(sr, at, ["from", "to", "unit"]);
    const from = pair(sr, "from", at),
      to = pair(sr, "to", at);
    if (from[0] === from[1]) throw new Error(at + "from: the two voltages must differ");
    if (sr.unit !== undefined && (typeof sr.unit !== "string" || sr.unit.length > 16))
      throw new Error(at + "unit: expected a short string");
    out.scale = { from, to, unit: sr.unit };
  }
  return out;
}

/** One channel per input, in thousandths of its unit; the floor is about two LSBs seen through the scale. */
function channels(d: SensorDeclaration): readonly Channel[] {
  return (d.options.inputs as ADS1115Input[]).map((i) => {
    const s = i.scale;
    const perVolt = s ? Math.abs((s.to[1] - s.to[0]) / (s.from[1] - s.from[0])) : 1;
    return {
      key: i.name,
      unit: s?.unit ?? "V",
      scale: 1000,
      floor: Math.max(1, Math.ceil(2 * lsbVolts(i.gain!) * perVolt * 1000)),
      read: (sample: unknown) => (sample as Inputs)[i.name]?.value,
    };
  });
}

export const ads1115Part: PartDescriptor = Object.freeze<PartDescriptor>({
  part: "ads1115",
  bus: "i2c",
  addresses: ADDRESSES,
  channels,
  options(raw, path) {
    rejectUnknown(raw, path, ["inputs", "dataRate", "mode"]);
    const list = raw.inputs;
    if (!Array.isArray(list) || list.length < 1 || list.length > 8)
      throw new Error(
        path +
          'inputs: expected 1 to 8 inputs like [{name: "pressure", channel: 1, gain: 4.096, scale: {from: [0.5, 4.5], to: [0, 10], unit: "bar"}}], got ' +
          JSON.stringify(list),
      );
    const names = new Set<string>();
    const inputs = list.map((v, i) => input(v, path + "inputs[" + i + "].", names));
    const mode = optionOneOf(raw, "mode", path, ["single", "continuous"] as const, "single");
    if (mode === "continuous" && inputs.length !== 1)
      throw new Error(path + 'mode: "continuous" converts one input; ' + inputs.length + " are declared");
    optionNumber(raw, "dataRate", path, 128, 8, 860, true);
    return { inputs, mode, dataRate: optionNumberChoice(raw, "dataRate", path, DATA_RATES, 128) };
  },
  create(d: SensorDeclaration, io: SensorIO, onError) {
    if (d.pin !== undefined && !io.digital)
      throw new Error("ADS1115: a ready pin is declared but this host provides no digital IO");
    const ready = d.pin !== undefined ? { io: io.digital!, pin: d.pin } : undefined;
    return new ADS1115({
      sensor: { io: io.i2c, address: d.address },
      inputs: d.options.inputs as ADS1115Input[],
      dataRate: d.options.dataRate as number,
      mode: d.options.mode as "single",
      clock: io.clock,
      ready,
      onError,
    });
  },
});
