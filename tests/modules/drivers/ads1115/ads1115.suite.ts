// The ADS1115 driver against its register-level model: scaling per gain, config encoding, rounds, OS bit, ALERT/RDY, faults.
import { suite, test, equal, ok, throws, settle, deepEqual } from "../../../harness.js";
import ADS1115, { type ADS1115Input } from "telltale/drivers/ads1115/ads1115";
import { ADS1115Model } from "telltale/drivers/ads1115/model";
import { Register, Config, lsbVolts, codeToVolts, conversionMs } from "telltale/drivers/ads1115/registers";
import { ads1115Part } from "telltale/drivers/ads1115/part";
import { parseConfig } from "telltale/config/config";
import { createSimWorld } from "telltale/sim/world";
import { SimI2CBus } from "telltale/sim/i2c-bus";
import { SimGPIO } from "telltale/sim/gpio";
import { ManualClock } from "../../../support/manual-clock.js";

const INPUTS: ADS1115Input[] = [
  { name: "current", channel: 0, gain: 1.024, scale: { from: [0, 1], to: [0, 10], unit: "A" } },
  { name: "pressure", channel: 1, gain: 6.144, scale: { from: [0.5, 4.5], to: [0, 10], unit: "bar" } },
];

function rig(withClockInModel = false) {
  const clock = new ManualClock();
  const bus = new SimI2CBus(clock);
  const volts = [0.4, 1.7, 2.0, 0];
  const model = new ADS1115Model({
    inputs: { voltage: (_now, input) => volts[input]! },
    clock: withClockInModel ? clock : undefined,
  });
  bus.attach(0x48, model);
  const errors: string[] = [];
  const make = (extra: Record<string, unknown> = {}) =>
    new ADS1115({
      sensor: { io: bus.ioClass(), address: 0x48 },
      inputs: INPUTS,
      clock,
      onError: (e) => errors.push(e.message),
      ...extra,
    });
  return { clock, bus, volts, model, errors, make };
}

function near(actual: number | undefined, expected: number, tolerance: number, what: string): void {
  ok(
    actual !== undefined && Math.abs(actual - expected) <= tolerance,
    what + ": expected " + expected + " ± " + tolerance + ", got " + actual,
  );
}

suite("drivers/ads1115", () => {
  test("full-scale-and-lsb-per-gain-table-3", () => {
    // §9.3.2, Table 3: FSR ±6.144 V → LSB 187.5 µV, ±4.096 → 125 µV, ±2.048 → 62.5 µV, ±1.024 → 31.25 µV,
    // ±0.512 → 15.625 µV, ±0.256 → 7.8125 µV.
    const table: [number, number][] = [
      [6.144, 187.5],
      [4.096, 125],
      [2.048, 62.5],
      [1.024, 31.25],
      [0.512, 15.625],
      [0.256, 7.8125],
    ];
    for (const [fsr, microvolts] of table) near(lsbVolts(fsr) * 1e6, microvolts, 1e-9, "LSB at ±" + fsr + " V");
    // §9.3.3, Table 4 (ideal output codes): +FS (2^15 − 1)/2^15 · FS → 0x7FFF; −FS → 0x8000; one LSB → 0x0001.
    near(codeToVolts(0x7fff, 2.048), (2.048 * 32767) / 32768, 1e-12, "+FS");
    equal(codeToVolts(-0x8000, 2.048), -2.048, "−FS");
    near(codeToVolts(1, 0.256), 7.8125e-6, 1e-15, "1 LSB at ±0.256 V");
    equal(conversionMs(860), 1000 / 860);
  });

  test("config-word-encoding-section-9-6-3", () => {
    const r = rig();
    const s = r.make({ inputs: [{ name: "a", channel: 1, gain: 4.096 }] });
    s.sample();
    // OS 1, MUX 101 (AIN1–GND), PGA 001 (±4.096 V), MODE 1, DR 100 (128 SPS), COMP_QUE 11 → 0xD383; OS reads 0 while converting.
    equal(r.model.registers[Register.config], 0x5383);
    r.clock.advance(10);
    equal(r.model.registers[Register.config]! & Config.start, Config.start, "idle again");
    const d = r.make.call(null, { inputs: [{ name: "b", channel: "2-3", gain: 0.256 }], dataRate: 860 });
    d.sample();
    // MUX 011 (AIN2–AIN3), PGA 101, DR 111.
    equal(r.model.registers[Register.config], (3 << 12) | (5 << 9) | Config.singleShot | (7 << 5) | 3);
  });

  test("round-converts-each-input-and-scales", async () => {
    const r = rig();
    const s = r.make();
    equal(s.sample(), undefined, "the first call starts a round");
    r.clock.advance(20); // 2 × 7.8 ms × 1.1
    const v = s.sample();
    ok(v);
    near(v.current!.voltage, 0.4, 31.25e-6, "AIN0 V");
    near(v.current!.value, 4, 0.001, "A");
    near(v.pressure!.voltage, 1.7, 187.5e-6, "AIN1 V");
    near(v.pressure!.value, 3, 0.001, "bar");
    equal(r.model.conversions, 2);
    r.clock.advance(20);
    const w = s.sample();
    ok(w && w !== v && w.current !== v.current, "a new object each call");
    await settle();
    deepEqual(r.errors, []);
  });

  test("sampling-before-round-done-reports", async () => {
    const r = rig();
    const s = r.make({ dataRate: 8 });
    equal(s.roundTime, 250);
    s.sample();
    r.clock.advance(100);
    equal(s.sample(), undefined);
    await settle();
    ok(
      /conversion round still running \(sampled sooner than its 250.0 ms\)/.test(r.errors[0] ?? ""),
      String(r.errors[0]),
    );
    r.clock.advance(200);
    ok(s.sample(), "the round finished meanwhile");
  });

  test("os-bit-polled-until-done-then-gives-up", async () => {
    const r = rig();
    const s = r.make();
    r.model.faults.stalled = true;
    s.sample();
    r.clock.advance(100);
    await settle();
    ok(/conversion of "current" did not finish \(OS bit stayed 0\)/.test(r.errors[0] ?? ""), String(r.errors[0]));
    r.model.faults.stalled = false;
    equal(s.sample(), undefined, "a new round starts");
    r.clock.advance(20);
    ok(s.sample());
  });

  test("alert-ready-pin-signals-each-conversion", async () => {
    const r = rig(true);
    const gpio = new SimGPIO(r.clock);
    gpio.set(7, 1);
    r.model.onAlert = (level) => gpio.set(7, level);
    const s = r.make({ dataRate: 8, ready: { io: gpio.ioDigital(), pin: 7 } });
    // §9.3.8: Hi_thresh MSB 1, Lo_thresh MSB 0 and COMP_QUE ≠ 11 make ALERT/RDY a conversion-ready pin.
    equal(r.model.registers[Register.highThreshold]! & 0x8000, 0x8000);
    equal(r.model.registers[Register.lowThreshold]! & 0x8000, 0);
    s.sample();
    equal(r.model.registers[Register.config]! & 3, 0, "COMP_QUE 00");
    r.clock.advance(251); // two conversions of 125 ms, read as the pin falls (no 10 % timing margin)
    const v = s.sample();
    ok(v, "the round finished on the pin's signals");
    near(v.pressure!.value, 3, 0.001, "bar");
    await settle();
    deepEqual(r.errors, []);
  });

  test("continuous-mode-reads-latest", () => {
    const r = rig();
    const s = r.make({ mode: "continuous", dataRate: 860, inputs: [INPUTS[1]] });
    equal(r.model.registers[Register.config]! & Config.singleShot, 0, "MODE 0");
    equal(s.sample(), undefined, "nothing finished yet");
    r.clock.advance(2);
    const a = s.sample();
    ok(a);
    near(a.pressure!.value, 3, 0.001, "bar");
    r.volts[1] = 2.5;
    r.clock.advance(2);
    const b = s.sample();
    ok(b);
    near(b.pressure!.value, 5, 0.001, "bar follows the input");
  });

  test("out-of-range-input-reported-and-omitted", async () => {
    const r = rig();
    const s = r.make();
    s.sample();
    r.model.faults.outOfRange = true;
    r.clock.advance(20);
    const v = s.sample();
    ok(v);
    equal(v.current, undefined);
    await settle();
    ok(/input "current" beyond its ±1.024 V full-scale range/.test(r.errors[0] ?? ""), String(r.errors[0]));
  });

  test("nack-reports-error-and-next-round-recovers", async () => {
    const r = rig();
    const s = r.make();
    r.model.faults.nack = true;
    s.sample();
    await settle();
    ok(/NACK/.test(r.errors[0] ?? ""), String(r.errors[0]));
    r.model.faults.nack = false;
    equal(s.sample(), undefined);
    r.clock.advance(20);
    ok(s.sample());
  });

  test("frozen-model-repeats-last-conversion", () => {
    const r = rig();
    const s = r.make();
    s.sample();
    r.clock.advance(20);
    const a = s.sample();
    r.model.faults.frozen = true;
    r.volts[1] = 3;
    r.clock.advance(20);
    const b = s.sample();
    ok(a && b);
    equal(b.pressure!.value, a.pressure!.value);
  });

  test("not-an-ads1115-rejected", () => {
    const r = rig();
    throws(
      () => new ADS1115({ sensor: { io: r.bus.ioClass(), address: 0x49 }, inputs: INPUTS, clock: r.clock }),
      /no working sensor at address 0x49/,
    );
    // A part that ignores the configuration write is not an ADS1115.
    const bus = new SimI2CBus(r.clock);
    bus.attach(0x48, { write() {}, read: (n: number) => new Uint8Array(n) });
    throws(
      () => new ADS1115({ sensor: { io: bus.ioClass(), address: 0x48 }, inputs: INPUTS, clock: r.clock }),
      /config reads back 0x0, not the 0x583 written/,
    );
  });

  test("configure-changes-only-given-options", () => {
    const r = rig();
    const s = r.make();
    s.configure({ inputs: { pressure: { gain: 4.096 } } });
    deepEqual(s.configuration, { dataRate: 128, inputs: { current: { gain: 1.024 }, pressure: { gain: 4.096 } } });
    s.configure({ dataRate: 860 });
    deepEqual(s.configuration, { dataRate: 860, inputs: { current: { gain: 1.024 }, pressure: { gain: 4.096 } } });
    s.sample();
    r.clock.advance(3);
    const v = s.sample();
    ok(v);
    near(v.pressure!.value, 3, 0.001, "scale kept");
    throws(() => s.configure({ inputs: { flow: { gain: 1.024 } } }), /names no declared input "flow"/);
    throws(() => s.configure({ dataRate: 100, inputs: { current: { gain: 2.048 } } }), /"dataRate"/);
    equal(s.configuration.inputs.current?.gain, 1.024, "a rejected configure changes nothing");
  });

  test("close-twice-and-no-callback-after-close", async () => {
    const r = rig();
    const s = r.make();
    r.model.faults.stalled = true;
    s.sample();
    s.close();
    s.close();
    equal(r.clock.pendingCount, 0, "the round's timer is cleared");
    r.clock.advance(100);
    await settle();
    deepEqual(r.errors, []);
    throws(() => s.sample(), /closed/);
  });

  test("invalid-options-rejected-before-io", () => {
    const r = rig();
    let writes = 0;
    const bus = new SimI2CBus(r.clock);
    bus.attach(0x48, {
      write() {
        writes++;
      },
      read: (n: number) => new Uint8Array(n),
    });
    const io = bus.ioClass();
    const make = (o: Record<string, unknown>) =>
      new ADS1115({ sensor: { io, address: 0x48 }, inputs: INPUTS, clock: r.clock, ...o });
    throws(() => make({ sensor: { io, address: 0x40 } }), /"sensor.address" must be 0x48 to 0x4b/);
    throws(() => make({ inputs: [] }), /"inputs" must be an array of 1 to 8/);
    throws(() => make({ inputs: [{ name: "a", channel: 4 }] }), /"inputs\[0\].channel"/);
    throws(() => make({ inputs: [{ name: "a", channel: 0, gain: 5 }] }), /"inputs\[0\].gain" must be one of 6.144/);
    throws(
      () => make({ inputs: [{ name: "a", channel: 0, scale: { from: [1, 1], to: [0, 1] } }] }),
      /"inputs\[0\].scale"/,
    );
    throws(() => make({ dataRate: 100 }), /"dataRate" must be one of 8, 16/);
    throws(() => make({ mode: "continuous" }), /converts one input; 2 are declared/);
    throws(() => make({ clock: undefined }), /"clock" is needed/);
    equal(writes, 0);
  });

  test("declaration-validated-naming-the-field", () => {
    const inputs = [
      { name: "pressure", channel: 1, gain: 4.096, scale: { from: [0.5, 4.5], to: [0, 10], unit: "bar" } },
    ];
    throws(
      () => parseConfig({ sensors: [{ part: "ads1115" }] }),
      /^config\.sensors\[0\]\.inputs: expected 1 to 8 inputs/,
    );
    throws(
      () => parseConfig({ sensors: [{ part: "ads1115", inputs: [{ ...inputs[0], gain: 5 }] }] }),
      /^config\.sensors\[0\]\.inputs\[0\]\.gain: expected one of 6.144, 4.096/,
    );
    throws(
      () =>
        parseConfig({
          sensors: [{ part: "ads1115", inputs: [{ ...inputs[0], scale: { from: [0.5], to: [0, 10] } }] }],
        }),
      /^config\.sensors\[0\]\.inputs\[0\]\.scale\.from: expected two numbers/,
    );
    throws(
      () => parseConfig({ sensors: [{ part: "ads1115", inputs: [inputs[0], inputs[0]] }] }),
      /^config\.sensors\[0\]\.inputs\[1\]\.name: "pressure" is used twice/,
    );
    throws(
      () => parseConfig({ sensors: [{ part: "ads1115", inputs, dataRate: 100 }] }),
      /^config\.sensors\[0\]\.dataRate: expected one of 8, 16/,
    );
    const d = parseConfig({ sensors: [{ part: "ads1115", inputs }] }).sensors[0]!;
    const [channel] = ads1115Part.channels(d);
    ok(channel, "the pressure channel");
    equal(channel.key, "pressure");
    equal(channel.unit, "bar");
    equal(channel.floor, 1, "2 LSB of 125 µV through 2.5 bar/V is 0.6 mbar");
    equal(channel.read({ pressure: { voltage: 1.7, value: 3 } }), 3);
  });

  test("simulated-world-feeds-inputs-from-machine", () => {
    const clock = new ManualClock();
    const declaration = parseConfig({ sensors: [{ part: "ads1115", inputs: INPUTS }] }).sensors[0]!;
    const world = createSimWorld(clock, [declaration], { noise: 0 });
    ok(world.attached.get("ads1115") instanceof ADS1115Model);
    const s = ads1115Part.create(declaration, { i2c: world.bus.ioClass(), clock }, () => {});
    s.sample();
    clock.advance(20);
    const v = s.sample() as Record<string, { value: number }>;
    near(v.current!.value, 4, 0.4, "motor current via the clamp, A");
    near(v.pressure!.value, 3, 0.2, "pump pressure via the transducer, bar");
    s.close();
  });
});
