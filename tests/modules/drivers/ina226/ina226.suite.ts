// The INA226 driver against its register-level model: the datasheet's calibration example, timing, modes, flags, faults.
import { suite, test, equal, ok, throws, settle, deepEqual } from "../../../harness.js";
import INA226 from "telltale/drivers/ina226/ina226";
import { INA226Model } from "telltale/drivers/ina226/model";
import {
  Register,
  Configuration,
  calibrationValue,
  currentLsbFor,
  conversionTimeMs,
} from "telltale/drivers/ina226/registers";
import { ina226Part } from "telltale/drivers/ina226/part";
import { parseConfig } from "telltale/config/config";
import { createSimWorld } from "telltale/sim/world";
import { SimI2CBus } from "telltale/sim/i2c-bus";
import { ManualClock } from "../../../support/manual-clock.js";

function rig(current = 10, busVoltage = 11.98, shunt = 0.002) {
  const clock = new ManualClock();
  const bus = new SimI2CBus(clock);
  const rail = {
    a: current,
    v: busVoltage,
    current(): number {
      return this.a;
    },
    busVoltage(): number {
      return this.v;
    },
  };
  const model = new INA226Model({ rail, shunt });
  bus.attach(0x40, model);
  const errors: string[] = [];
  // The datasheet example's choices: 15 A maximum, Current_LSB rounded up to 1 mA, 2 mΩ shunt.
  const make = (extra: Record<string, unknown> = {}) =>
    new INA226({
      sensor: { io: bus.ioClass(), address: 0x40 },
      shunt,
      maxCurrent: 15,
      currentLsb: 0.001,
      onError: (e) => errors.push(e.message),
      ...extra,
    });
  return { clock, bus, rail, model, errors, make };
}

function near(actual: number | undefined, expected: number, tolerance: number, what: string): void {
  ok(
    actual !== undefined && Math.abs(actual - expected) <= tolerance,
    what + ": expected " + expected + " ± " + tolerance + ", got " + actual,
  );
}

suite("drivers/ina226", () => {
  test("calibration-equations-datasheet-example", () => {
    // §7.5, Equation 2: 15 A maximum → Current_LSB 457.7 µA/bit; Equation 1 with 1 mA/bit and 2 mΩ → CAL 2560 (0x0A00).
    near(currentLsbFor(15) * 1e6, 457.7, 0.1, "Current_LSB µA (the datasheet prints 457.7)");
    equal(calibrationValue(0.001, 0.002), 2560);
    equal(calibrationValue(currentLsbFor(15), 0.002), 5592, "finest LSB: trunc(0.00512 / (457.76 µA × 2 mΩ))");
    equal(calibrationValue(0.0001, 0.1), 512, "0.1 Ω, 100 µA/bit");
  });

  test("configure-measure-calculate-example-table-1", () => {
    // §7.5, Table 1 (10 A load, V_CM 12 V, R_SHUNT 2 mΩ): shunt 1F40h (20 mV), bus 2570h (11.98 V), CAL A00h,
    // current 2710h (10 A, Equation 3), power 12B8h (119.8 W, Equation 4).
    const r = rig();
    const s = r.make({ averaging: 1 });
    equal(s.calibration, 0x0a00);
    equal(r.model.registers[Register.calibration], 0x0a00);
    r.clock.advance(5);
    equal(s.sample(), undefined, "the first call after programming has nothing new yet");
    r.clock.advance(5);
    const v = s.sample();
    ok(v);
    equal(r.model.registers[Register.shuntVoltage], 0x1f40);
    equal(r.model.registers[Register.busVoltage], 0x2570);
    equal(r.model.registers[Register.current], 0x2710);
    equal(r.model.registers[Register.power], 0x12b8);
    near(v.ammeter.current, 10, 1e-9, "A");
    near(v.voltmeter.voltage, 11.98, 1e-9, "V");
    near(v.voltmeter.shuntVoltage, 0.02, 1e-12, "shunt V");
    near(v.wattmeter.power, 119.8, 1e-9, "W");
  });

  test("reset-and-configuration-register", () => {
    const r = rig();
    const s = r.make({ averaging: 64, busConversionTime: 0.588, shuntConversionTime: 8.244 });
    equal(r.model.resets, 1, "the constructor resets the chip");
    // §7.6.1: AVG 011 (64), VBUSCT 011 (588 µs), VSHCT 111 (8.244 ms), MODE 111.
    equal(r.model.registers[Register.configuration], Configuration.fixedBits | (3 << 9) | (3 << 6) | (7 << 3) | 7);
    near(s.conversionTime, 64 * (0.588 + 8.244), 1e-9, "ms");
    equal(conversionTimeMs(1, 1.1, 1.1), 2.2);
  });

  test("wrong-id-rejected-without-reset", () => {
    const r = rig();
    r.model.faults.manufacturerId = 0x1234;
    throws(() => r.make(), /no working sensor at address 0x40 \(ids 0x1234\/0x2260 are not an INA226's/);
    equal(r.model.resets, 0);
  });

  test("absent-sensor-throws-naming-address", () => {
    const r = rig();
    throws(() => new INA226({ sensor: { io: r.bus.ioClass(), address: 0x41 } }), /no working sensor at address 0x41/);
  });

  test("continuous-read-before-first-result-reports", async () => {
    const r = rig();
    const s = r.make(); // 16 averages × (1.1 + 1.1) ms = 35.2 ms
    r.clock.advance(5);
    equal(s.sample(), undefined);
    r.clock.advance(15);
    equal(s.sample(), undefined);
    await settle();
    ok(
      /conversion in progress \(sampled sooner than the 35.2 ms averaging time\)/.test(r.errors[0] ?? ""),
      String(r.errors[0]),
    );
    equal(s.errors, 1);
    r.clock.advance(20);
    ok(s.sample());
    r.clock.advance(5);
    ok(s.sample(), "no newer result yet, but continuous mode keeps the last one");
  });

  test("triggered-mode-one-conversion-per-sample", async () => {
    const r = rig();
    const s = r.make({ mode: "triggered", averaging: 4 }); // 8.8 ms
    equal(r.model.registers[Register.configuration]! & 7, 3);
    r.clock.advance(4);
    equal(s.sample(), undefined);
    await settle();
    ok(/conversion in progress/.test(r.errors[0] ?? ""), String(r.errors[0]));
    r.clock.advance(5);
    ok(s.sample(), "read once done, and the next is started");
    const before = r.model.conversions;
    r.clock.advance(100);
    ok(s.sample());
    equal(r.model.conversions, before + 1, "one conversion per trigger in 100 ms: the chip idles after it");
  });

  test("nack-reports-error-and-recovers", async () => {
    const r = rig();
    const s = r.make({ averaging: 1 });
    r.clock.advance(5);
    s.sample();
    r.model.faults.nack = true;
    r.clock.advance(5);
    equal(s.sample(), undefined);
    await settle();
    equal(r.errors.length, 1);
    ok(/NACK/.test(r.errors[0] ?? ""), r.errors[0]);
    r.model.faults.nack = false;
    r.clock.advance(5);
    ok(s.sample());
  });

  test("overflow-flag-reported-as-out-of-range", async () => {
    const r = rig();
    const s = r.make({ averaging: 1 });
    r.clock.advance(5);
    s.sample();
    r.model.faults.outOfRange = true;
    r.clock.advance(5);
    equal(s.sample(), undefined);
    await settle();
    ok(/current out of range/.test(r.errors[0] ?? ""), String(r.errors[0]));
    r.model.faults.outOfRange = false;
    r.clock.advance(5);
    ok(s.sample(), "recovers with the next result");
  });

  test("frozen-model-repeats-last-result", () => {
    const r = rig();
    const s = r.make({ averaging: 1 });
    r.clock.advance(5);
    s.sample();
    r.clock.advance(5);
    const a = s.sample();
    r.model.faults.frozen = true;
    r.rail.a = 5;
    r.clock.advance(5);
    const b = s.sample();
    ok(a && b && a !== b);
    equal(b.ammeter.current, a.ammeter.current);
  });

  test("configure-changes-only-given-options", () => {
    const r = rig();
    const s = r.make({ busConversionTime: 0.332, mode: "continuous" });
    s.configure({ averaging: 4 });
    deepEqual(s.configuration, {
      averaging: 4,
      busConversionTime: 0.332,
      shuntConversionTime: 1.1,
      mode: "continuous",
    });
    equal(r.model.registers[Register.configuration], Configuration.fixedBits | (1 << 9) | (2 << 6) | (4 << 3) | 7);
    throws(() => s.configure({ averaging: 3 }), /"averaging" must be one of 1, 4, 16/);
    equal(s.configuration.averaging, 4);
  });

  test("close-twice-and-use-after-close", async () => {
    const r = rig();
    const s = r.make({ averaging: 1 });
    r.clock.advance(5);
    s.sample();
    r.model.faults.nack = true;
    r.clock.advance(5);
    s.sample();
    s.close();
    s.close();
    await settle();
    equal(r.errors.length, 0, "no callback after close");
    throws(() => s.sample(), /closed/);
  });

  test("invalid-options-rejected-before-io", () => {
    const r = rig();
    throws(() => r.make({ sensor: { io: r.bus.ioClass(), address: 0x50 } }), /"sensor.address" must be 0x40 to 0x4f/);
    throws(() => r.make({ shunt: -1 }), /"shunt" must be a positive number/);
    throws(() => r.make({ maxCurrent: 50 }), /"maxCurrent" × "shunt" = 100.00 mV exceeds the ±81.92 mV shunt range/);
    throws(() => r.make({ currentLsb: 0.0001 }), /"currentLsb" must be at least maxCurrent \/ 32768/);
    throws(() => r.make({ averaging: 3 }), /"averaging"/);
    throws(() => r.make({ mode: "single" }), /"mode"/);
    equal(r.model.resets, 0, "no IO happened");
  });

  test("declaration-validated-naming-the-field", () => {
    throws(
      () => parseConfig({ sensors: [{ part: "ina226", shunt: 0.1, maxCurrent: 10 }] }),
      /^config\.sensors\[0\]\.maxCurrent: 10 A through 0.1 Ω is 1000.00 mV/,
    );
    throws(
      () => parseConfig({ sensors: [{ part: "ina226", averaging: 10 }] }),
      /^config\.sensors\[0\]\.averaging: expected one of 1, 4, 16, 64/,
    );
    throws(
      () => parseConfig({ sensors: [{ part: "ina226", shunt: "0.1" }] }),
      /^config\.sensors\[0\]\.shunt: expected a number/,
    );
    const d = parseConfig({
      sensors: [{ part: "ina226", address: 0x45, shunt: 0.002, maxCurrent: 15, currentLsb: 0.001 }],
    }).sensors[0]!;
    equal(d.options.currentLsb, 0.001);
    deepEqual(
      ina226Part.channels(d).map((c) => c.key),
      ["current", "voltage", "power"],
    );
  });

  test("simulated-world-feeds-model-from-machine", () => {
    const clock = new ManualClock();
    const declaration = parseConfig({ sensors: [{ part: "ina226", shunt: 0.01, maxCurrent: 8, averaging: 1 }] })
      .sensors[0]!;
    const world = createSimWorld(clock, [declaration], { noise: 0 });
    ok(world.attached.get("ina226") instanceof INA226Model);
    const s = ina226Part.create(declaration, { i2c: world.bus.ioClass(), clock }, () => {});
    clock.advance(5);
    s.sample();
    clock.advance(5);
    const v = s.sample() as { ammeter: { current: number }; voltmeter: { voltage: number } };
    near(v.ammeter.current, 4, 0.4, "motor current, A");
    near(v.voltmeter.voltage, 23.8, 0.1, "supply, V");
    s.close();
  });
});
