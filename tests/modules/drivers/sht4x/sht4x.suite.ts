// The SHT4x driver against its register-level model: CRC and conversion vectors, precision timing, heater, serial number, faults.
import { suite, test, equal, ok, throws, settle, deepEqual } from "../../../harness.js";
import SHT4x from "telltale/drivers/sht4x/sht4x";
import { SHT4xModel } from "telltale/drivers/sht4x/model";
import { Command, heaterCommand, ticksToCelsius, ticksToPercent } from "telltale/drivers/sht4x/registers";
import { crc8Word } from "telltale/crc/crc8";
import { parseConfig } from "telltale/config/config";
import { createSimWorld } from "telltale/sim/world";
import { sht4xPart } from "telltale/drivers/sht4x/part";
import { SimI2CBus } from "telltale/sim/i2c-bus";
import { ManualClock } from "../../../support/manual-clock.js";

function rig(temperature = 21.5, humidity = 40) {
  const clock = new ManualClock();
  const bus = new SimI2CBus(clock);
  const env = {
    t: temperature,
    h: humidity,
    temperature(): number {
      return this.t;
    },
    humidity(): number {
      return this.h;
    },
  };
  const model = new SHT4xModel({ environment: env, serialNumber: 0x12345678 });
  bus.attach(0x44, model);
  const errors: string[] = [];
  const make = (extra: Record<string, unknown> = {}) =>
    new SHT4x({ sensor: { io: bus.ioClass(), address: 0x44 }, onError: (e) => errors.push(e.message), ...extra });
  return { clock, bus, env, model, errors, make };
}

function near(actual: number | undefined, expected: number, tolerance: number, what: string): void {
  ok(
    actual !== undefined && Math.abs(actual - expected) <= tolerance,
    what + ": expected " + expected + " ± " + tolerance + ", got " + actual,
  );
}

suite("drivers/sht4x", () => {
  test("crc-datasheet-example", () => {
    // §4.4 "Checksum Calculation": CRC-8 0x31, init 0xFF; example 0xBEEF → 0x92.
    equal(crc8Word(0xbeef), 0x92);
  });

  test("conversion-formulas-datasheet", () => {
    // §4.6: T = −45 + 175·S/65535; RH = −6 + 125·S/65535, cropped to 0–100 %RH.
    equal(ticksToCelsius(0), -45);
    equal(ticksToCelsius(65535), 130);
    equal(ticksToCelsius(0x6666), 25, "0x6666 is 2/5 of full scale");
    equal(ticksToPercent(0), 0, "−6 %RH is cropped to 0");
    equal(ticksToPercent(65535), 100, "119 %RH is cropped to 100");
    near(ticksToPercent(0x8000), -6 + (125 * 32768) / 65535, 1e-12, "0x8000");
    near(ticksToPercent(Math.round((6 * 65535) / 125)), 0, 0.001, "0 %RH boundary");
  });

  test("heater-command-table", () => {
    // §4.5, Table 9: 0x39 200 mW 1 s, 0x32 200 mW 0.1 s, 0x2F 110 mW 1 s, 0x24 110 mW 0.1 s, 0x1E 20 mW 1 s, 0x15 20 mW 0.1 s.
    deepEqual(
      [
        heaterCommand(200, 1000),
        heaterCommand(200, 100),
        heaterCommand(110, 1000),
        heaterCommand(110, 100),
        heaterCommand(20, 1000),
        heaterCommand(20, 100),
      ],
      [0x39, 0x32, 0x2f, 0x24, 0x1e, 0x15],
    );
    deepEqual(
      [Command.measureHigh, Command.measureMedium, Command.measureLow, Command.serialNumber, Command.softReset],
      [0xfd, 0xf6, 0xe0, 0x89, 0x94],
    );
  });

  test("serial-number-read-and-reset-at-construction", () => {
    const r = rig();
    const s = r.make();
    equal(s.serialNumber, 0x12345678);
    equal(r.model.commands, 2, "serial number, then soft reset");
  });

  test("first-sample-starts-conversion-then-reads-environment", async () => {
    const r = rig(21.5, 40);
    const s = r.make();
    r.clock.advance(2);
    equal(s.sample(), undefined);
    r.clock.advance(9);
    const v = s.sample();
    ok(v);
    near(v.thermometer.temperature, 21.5, 0.01, "°C");
    near(v.hygrometer.humidity, 40, 0.01, "%RH");
    await settle();
    deepEqual(r.errors, []);
  });

  test("sample-returns-new-object-each-call", () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(2);
    s.sample();
    r.clock.advance(9);
    const a = s.sample();
    r.clock.advance(9);
    const b = s.sample();
    ok(a && b && a !== b && a.hygrometer !== b.hygrometer);
  });

  test("read-before-conversion-done-reports-nack", async () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(2);
    s.sample();
    r.clock.advance(5); // high precision takes up to 8.3 ms
    equal(s.sample(), undefined);
    equal(r.errors.length, 0, "deferred");
    await settle();
    ok(/measurement in progress/.test(r.errors[0] ?? ""), String(r.errors[0]));
    equal(s.errors, 1);
  });

  test("precision-sets-conversion-time", () => {
    const r = rig();
    const s = r.make({ precision: "low" });
    equal(s.measurementTime, 1.6);
    r.clock.advance(2);
    s.sample();
    r.clock.advance(1.7);
    ok(s.sample(), "low precision is done after 1.6 ms");
    s.configure({ precision: "medium" });
    r.clock.advance(1.7);
    ok(s.sample(), "the conversion started before configure() was low precision");
    r.clock.advance(4);
    equal(s.sample(), undefined, "medium precision needs 4.5 ms");
    r.clock.advance(1);
    ok(s.sample());
  });

  test("heater-pulse-runs-once-and-heated-reading-is-discarded", async () => {
    const r = rig(21.5, 40);
    const s = r.make();
    r.clock.advance(2);
    s.sample();
    r.clock.advance(9);
    s.configure({ heater: { power: 200, duration: 100 } });
    equal(s.configuration.precision, "high", "configure changes only what it is given");
    ok(s.sample(), "reads the plain conversion, then starts the heater pulse");
    equal(r.model.heaterPulses, 1);
    r.clock.advance(100);
    equal(s.sample(), undefined, "the pulse and its measurement take up to 118.3 ms");
    await settle();
    ok(/measurement in progress/.test(r.errors[0] ?? ""), String(r.errors[0]));
    r.errors.length = 0;
    r.clock.advance(20);
    equal(s.sample(), undefined, "the heated reading is not the air's");
    r.clock.advance(9);
    const v = s.sample();
    ok(v, "plain conversions resume");
    near(v.thermometer.temperature, 21.5, 0.01, "°C");
    equal(r.model.heaterPulses, 1, "one pulse per configure");
    await settle();
    deepEqual(r.errors, []);
  });

  test("crc-mismatch-reports-error-then-recovers", async () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(2);
    s.sample();
    r.model.faults.badCrc = true;
    r.clock.advance(9);
    equal(s.sample(), undefined);
    await settle();
    ok(/CRC mismatch in measurement word 0/.test(r.errors[0] ?? ""), String(r.errors[0]));
    r.model.faults.badCrc = false;
    r.clock.advance(9);
    ok(s.sample());
  });

  test("nack-reports-error-and-recovers", async () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(2);
    s.sample();
    r.model.faults.nack = true;
    r.clock.advance(9);
    equal(s.sample(), undefined);
    await settle();
    equal(r.errors.length, 1, "one report per call");
    ok(/NACK/.test(r.errors[0] ?? ""), r.errors[0]);
    r.model.faults.nack = false;
    r.clock.advance(9);
    ok(s.sample(), "the conversion started before the fault is read once it clears");
  });

  test("out-of-range-reading-reported", async () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(2);
    s.sample();
    r.model.faults.outOfRange = true;
    r.clock.advance(9);
    equal(s.sample(), undefined);
    await settle();
    ok(/temperature out of range \(130.0 °C/.test(r.errors[0] ?? ""), String(r.errors[0]));
  });

  test("frozen-model-repeats-last-reading", () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(2);
    s.sample();
    r.clock.advance(9);
    const a = s.sample();
    r.model.faults.frozen = true;
    r.env.t = 30;
    r.clock.advance(9);
    const b = s.sample();
    ok(a && b);
    equal(b.thermometer.temperature, a.thermometer.temperature);
  });

  test("absent-or-corrupt-sensor-throws-naming-address", () => {
    const r = rig();
    throws(() => new SHT4x({ sensor: { io: r.bus.ioClass(), address: 0x45 } }), /no working sensor at address 0x45/);
    r.model.faults.badCrc = true; // only measurement words: the serial number is still good
    ok(r.make());
    r.model.faults.nack = true;
    throws(() => r.make(), /no working sensor at address 0x44 \(SHT4x model: NACK/);
  });

  test("invalid-options-rejected-before-io", () => {
    const r = rig();
    throws(
      () => r.make({ sensor: { io: r.bus.ioClass(), address: 0x40 } }),
      /"sensor.address" must be 0x44, 0x45 or 0x46/,
    );
    throws(() => r.make({ precision: "ultra" }), /"precision" must be "high", "medium" or "low", got ultra/);
    throws(() => r.make({ onError: "x" }), /"onError"/);
    equal(r.model.commands, 0);
    const s = r.make();
    throws(
      () => s.configure({ heater: { power: 100, duration: 1000 } as never }),
      /"heater.power" must be 200, 110 or 20/,
    );
    throws(() => s.configure({ precision: "low", heater: { power: 20, duration: 10 } as never }), /"heater.duration"/);
    equal(s.configuration.precision, "high", "a rejected configure changes nothing");
  });

  test("close-twice-and-use-after-close", async () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(2);
    s.sample();
    r.model.faults.nack = true;
    r.clock.advance(9);
    s.sample();
    s.close();
    s.close();
    await settle();
    equal(r.errors.length, 0, "no callback after close");
    throws(() => s.sample(), /closed/);
  });

  test("declaration-validated-naming-the-field", () => {
    throws(
      () => parseConfig({ sensors: [{ part: "sht4x", precision: "ultra" }] }),
      /^config\.sensors\[0\]\.precision: expected one of "high", "medium", "low"/,
    );
    throws(
      () => parseConfig({ sensors: [{ part: "sht4x", address: 0x47 }] }),
      /^config\.sensors\[0\]\.address: a sht4x answers at 0x44 or 0x45 or 0x46/,
    );
    throws(
      () => parseConfig({ sensors: [{ part: "sht4x", heater: true }] }),
      /^config\.sensors\[0\]\.heater: unknown option/,
    );
  });

  test("simulated-world-feeds-model-from-machine", () => {
    const clock = new ManualClock();
    const declaration = parseConfig({ sensors: [{ part: "sht4x", address: 0x46 }] }).sensors[0]!;
    const world = createSimWorld(clock, [declaration], { noise: 0 });
    ok(world.attached.get("sht4x") instanceof SHT4xModel);
    const s = sht4xPart.create(declaration, { i2c: world.bus.ioClass(), clock }, () => {});
    clock.advance(2);
    s.sample();
    clock.advance(9);
    const v = s.sample() as { thermometer: { temperature: number }; hygrometer: { humidity: number } };
    near(v.thermometer.temperature, world.machine.temperature(world.elapsed(clock.now())), 0.1, "°C from the machine");
    near(v.hygrometer.humidity, world.machine.humidity(world.elapsed(clock.now())), 0.2, "%RH from the machine");
    s.close();
  });
});
