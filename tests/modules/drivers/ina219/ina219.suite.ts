// The INA219 driver against its register-level model: the datasheet's calibration example, PGA choice, flags, faults.
import { suite, test, equal, ok, throws, settle, deepEqual } from "../../../harness.js";
import INA219 from "telltale/drivers/ina219/ina219";
import { INA219Model } from "telltale/drivers/ina219/model";
import {
  Register,
  Configuration,
  calibrationValue,
  currentLsbFor,
  PowerRatio,
} from "telltale/drivers/ina219/registers";
import { ina219Part } from "telltale/drivers/ina219/part";
import { parseConfig } from "telltale/config/config";
import { createSimWorld } from "telltale/sim/world";
import { SimI2CBus } from "telltale/sim/i2c-bus";
import { ManualClock } from "../../../support/manual-clock.js";

function rig(current = 1.5, busVoltage = 12) {
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
  const model = new INA219Model({ rail, shunt: 0.1 });
  bus.attach(0x40, model);
  const errors: string[] = [];
  // §8.5.1's example: 0.1 Ω, 2 A expected, Current_LSB rounded to 100 µA.
  const make = (extra: Record<string, unknown> = {}) =>
    new INA219({
      sensor: { io: bus.ioClass(), address: 0x40 },
      shunt: 0.1,
      maxCurrent: 2,
      currentLsb: 0.0001,
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

suite("drivers/ina219", () => {
  test("calibration-example-section-8-5-1", () => {
    // §8.5.1: V_SHUNT_MAX 0.32 V, R_SHUNT 0.1 Ω → MaxPossible_I 3.2 A; Max_Expected_I 2 A → Minimum_LSB 61.0 µA,
    // Maximum_LSB 488 µA; Current_LSB 100 µA → Cal = trunc(0.04096 / (100 µA × 0.1 Ω)) = 4096; Power_LSB = 20 × 100 µA = 2 mW.
    near(currentLsbFor(2) * 1e6, 61.0, 0.05, "Minimum_LSB µA");
    near((2 / 4096) * 1e6, 488, 0.3, "Maximum_LSB µA");
    equal(calibrationValue(0.0001, 0.1), 4096);
    near(PowerRatio * 0.0001, 0.002, 1e-15, "Power_LSB W");
    const r = rig();
    const s = r.make();
    equal(s.calibration, 4096);
    equal(r.model.registers[Register.calibration], 4096);
    equal(s.shuntRange, 0.32, "2 A × 0.1 Ω = 200 mV needs PGA /8 (±320 mV)");
  });

  test("equations-4-and-5-through-the-model", () => {
    // Current = Shunt × Cal / 4096; Power = Current × Bus / 5000 (§8.5): 1.5 A at 12 V → 15000, 3000, 9000 → 18 W.
    const r = rig();
    const s = r.make({ averaging: 1 });
    r.clock.advance(2);
    equal(s.sample(), undefined);
    r.clock.advance(2);
    const v = s.sample();
    ok(v);
    equal(r.model.registers[Register.shuntVoltage], 15000);
    equal(r.model.registers[Register.current], 15000);
    equal(r.model.registers[Register.power], 9000);
    near(v.ammeter.current, 1.5, 1e-9, "A");
    near(v.voltmeter.voltage, 12, 1e-9, "V");
    near(v.voltmeter.shuntVoltage, 0.15, 1e-12, "shunt V");
    near(v.wattmeter.power, 18, 1e-9, "W");
  });

  test("configuration-register-and-reset-check", () => {
    const r = rig();
    r.make();
    equal(r.model.resets, 1);
    // BRNG 1 (32 V), PG 11 (/8), BADC = SADC = 1100 (16 samples), MODE 111 (§8.6.2.1).
    equal(
      r.model.registers[Register.configuration],
      Configuration.busRange32V | (3 << 11) | (0xc << 7) | (0xc << 3) | 7,
    );
    const bus = new SimI2CBus(r.clock);
    bus.attach(0x40, { write() {}, read: (n: number) => new Uint8Array(n) });
    throws(
      () => new INA219({ sensor: { io: bus.ioClass(), address: 0x40 } }),
      /configuration reads 0x0 after reset, not 0x399f: not an INA219/,
    );
  });

  test("read-before-first-result-reports-then-reads", async () => {
    const r = rig();
    const s = r.make(); // 16 samples: 2 × 8.51 ms
    r.clock.advance(2);
    s.sample();
    r.clock.advance(5);
    equal(s.sample(), undefined);
    await settle();
    ok(/conversion in progress/.test(r.errors[0] ?? ""), String(r.errors[0]));
    r.clock.advance(12);
    ok(s.sample());
  });

  test("triggered-mode-one-conversion-per-sample", () => {
    const r = rig();
    const s = r.make({ mode: "triggered", averaging: 1 });
    r.clock.advance(2);
    ok(s.sample(), "the constructor's trigger has finished");
    const before = r.model.conversions;
    r.clock.advance(50);
    ok(s.sample());
    equal(r.model.conversions, before + 1);
  });

  test("overflow-and-nack-reported-then-recover", async () => {
    const r = rig();
    const s = r.make({ averaging: 1 });
    r.clock.advance(2);
    s.sample();
    r.model.faults.outOfRange = true;
    r.clock.advance(2);
    equal(s.sample(), undefined);
    r.model.faults.outOfRange = false;
    r.model.faults.nack = true;
    r.clock.advance(2);
    equal(s.sample(), undefined);
    await settle();
    ok(/current out of range/.test(r.errors[0] ?? ""), String(r.errors[0]));
    ok(/NACK/.test(r.errors[1] ?? ""), String(r.errors[1]));
    r.model.faults.nack = false;
    r.clock.advance(2);
    ok(s.sample());
  });

  test("configure-changes-only-given-options", () => {
    const r = rig();
    const s = r.make({ mode: "continuous" });
    s.configure({ averaging: 128 });
    deepEqual(s.configuration, { averaging: 128, mode: "continuous" });
    equal((r.model.registers[Register.configuration]! >> 7) & 15, 0xf);
    equal((r.model.registers[Register.configuration]! >> 11) & 3, 3, "PGA kept");
    throws(() => s.configure({ averaging: 3 }), /"averaging" must be one of 1, 2, 4/);
  });

  test("close-twice-and-invalid-options", () => {
    const r = rig();
    throws(() => r.make({ maxCurrent: 5 }), /"maxCurrent" × "shunt" = 500.0 mV exceeds the ±320 mV/);
    throws(() => r.make({ currentLsb: 0.001 }), /"currentLsb" must be from maxCurrent\/32767/);
    throws(() => r.make({ busRange: 24 }), /"busRange" must be 16 or 32/);
    equal(r.model.resets, 0, "no IO before validation");
    const s = r.make();
    s.close();
    s.close();
    throws(() => s.sample(), /closed/);
  });

  test("declaration-and-simulated-world", () => {
    throws(
      () => parseConfig({ sensors: [{ part: "ina219", maxCurrent: 5 }] }),
      /^config\.sensors\[0\]\.maxCurrent: 5 A through 0.1 Ω is 500.0 mV/,
    );
    throws(
      () => parseConfig({ sensors: [{ part: "ina219", busRange: 24 }] }),
      /^config\.sensors\[0\]\.busRange: expected one of 16, 32/,
    );
    const clock = new ManualClock();
    const declaration = parseConfig({ sensors: [{ part: "ina219", shunt: 0.05, maxCurrent: 6, averaging: 1 }] })
      .sensors[0]!;
    const world = createSimWorld(clock, [declaration], { noise: 0 });
    ok(world.attached.get("ina219") instanceof INA219Model);
    const s = ina219Part.create(declaration, { i2c: world.bus.ioClass(), clock }, () => {});
    clock.advance(2);
    s.sample();
    clock.advance(2);
    const v = s.sample() as { ammeter: { current: number }; voltmeter: { voltage: number } };
    near(v.ammeter.current, 4, 0.4, "A");
    near(v.voltmeter.voltage, 23.8, 0.1, "V");
    s.close();
  });
});
