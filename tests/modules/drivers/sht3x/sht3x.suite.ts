// The SHT3x driver against its register-level model: conversion, timing, CRC, faults, lifecycle.
import { suite, test, equal, ok, throws, settle } from "../../../harness.js";
import SHT3x from "telltale/drivers/sht3x/sht3x";
import { SHT3xModel } from "telltale/drivers/sht3x/model";
import {
  Status,
  ticksToCelsius,
  ticksToPercent,
  ticksToCentiCelsius,
  ticksToCentiPercent,
} from "telltale/drivers/sht3x/registers";
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
  const model = new SHT3xModel({ environment: env });
  bus.attach(0x44, model);
  const errors: string[] = [];
  const make = () =>
    new SHT3x({ sensor: { io: bus.ioClass(), address: 0x44 }, onError: (e) => errors.push(e.message) });
  return { clock, bus, env, model, errors, make };
}

suite("drivers/sht3x", () => {
  test("conversion-formulas-datasheet", () => {
    // §4.13: T = -45 + 175·S/65535, RH = 100·S/65535.
    equal(ticksToCelsius(0), -45);
    equal(ticksToCelsius(65535), 130);
    equal(ticksToPercent(65535), 100);
    equal(ticksToCentiCelsius(0x6666), 2500); // 26214 ticks → 24.9998 °C → 25.00 rounded
    equal(ticksToCentiPercent(32768), 5000);
  });

  test("first-sample-starts-conversion", () => {
    const r = rig();
    r.clock.advance(2);
    const s = r.make();
    r.clock.advance(2);
    equal(s.sample(), undefined);
    equal(r.model.measurements, 0);
  });

  test("sample-after-conversion-time-reads-environment", async () => {
    const r = rig(21.5, 40);
    const s = r.make();
    r.clock.advance(2);
    s.sample();
    r.clock.advance(16);
    const v = s.sample();
    ok(v, "expected a sample");
    ok(Math.abs(v.thermometer.temperature - 21.5) < 0.01, "temperature " + v.thermometer.temperature);
    ok(Math.abs(v.hygrometer.humidity - 40) < 0.01, "humidity " + v.hygrometer.humidity);
    await settle();
    equal(r.errors.length, 0);
  });

  test("sample-returns-new-object-each-call", () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(2);
    s.sample();
    r.clock.advance(20);
    const a = s.sample();
    r.clock.advance(20);
    const b = s.sample();
    ok(a && b && a !== b && a.thermometer !== b.thermometer);
  });

  test("read-before-conversion-done-reports-nack", async () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(2);
    s.sample();
    r.clock.advance(5); // high repeatability needs up to 15.5 ms
    equal(s.sample(), undefined);
    equal(r.errors.length, 0, "error must be deferred");
    await settle();
    equal(r.errors.length, 1);
    ok(/measurement in progress/.test(r.errors[0] ?? ""), r.errors[0]);
    equal(s.errors, 1);
  });

  test("crc-mismatch-reports-error-then-recovers", async () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(2);
    s.sample();
    r.model.faults.badCrc = true;
    r.clock.advance(20);
    equal(s.sample(), undefined);
    await settle();
    ok(/CRC mismatch in measurement word 0/.test(r.errors[0] ?? ""), String(r.errors[0]));
    r.model.faults.badCrc = false;
    r.clock.advance(20);
    ok(s.sample(), "recovers once the fault clears");
  });

  test("nack-reports-error-and-recovers", async () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(2);
    s.sample();
    r.model.faults.nack = true;
    r.clock.advance(20);
    equal(s.sample(), undefined);
    await settle();
    ok(/NACK/.test(r.errors[0] ?? ""), String(r.errors[0]));
    r.model.faults.nack = false;
    r.clock.advance(20);
    equal(s.sample(), undefined, "the conversion was never started while the part NACKed");
    r.clock.advance(20);
    ok(s.sample(), "recovers once the fault clears");
  });

  test("absent-sensor-throws-naming-address", () => {
    const r = rig();
    throws(() => new SHT3x({ sensor: { io: r.bus.ioClass(), address: 0x45 } }), /no working sensor at address 0x45/);
  });

  test("invalid-options-rejected-before-io", () => {
    const r = rig();
    throws(() => new SHT3x({ sensor: { io: r.bus.ioClass(), address: 0x40 } }), /sensor.address/);
    throws(() => new SHT3x({ sensor: { io: r.bus.ioClass() }, repeatability: "ultra" as never }), /repeatability/);
    throws(() => new SHT3x({ sensor: {} as never }), /sensor.io/);
    equal(r.model.commands, 0);
  });

  test("constructor-resets-chip", () => {
    const r = rig();
    r.model.status = 0;
    const s = r.make();
    r.clock.advance(2);
    equal(s.readStatus() & Status.resetDetected, Status.resetDetected);
  });

  test("configure-changes-only-given-options", () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(2);
    s.configure({ heater: true });
    equal(s.configuration.repeatability, "high");
    equal(r.model.status & Status.heaterOn, Status.heaterOn);
    s.configure({ repeatability: "low" });
    equal(s.configuration.heater, true);
    s.sample();
    r.clock.advance(5); // low repeatability: 4.5 ms
    ok(s.sample());
  });

  test("close-twice-and-use-after-close", async () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(2);
    s.sample();
    r.model.faults.nack = true;
    r.clock.advance(20);
    s.sample();
    s.close();
    s.close();
    await settle();
    equal(r.errors.length, 0, "no callback after close");
    throws(() => s.sample(), /closed/);
  });
});

suite("drivers/sht3x (start failures)", () => {
  test("failed-conversion-start-is-reported", async () => {
    const r = rig();
    const s = r.make();
    // Immediately after the constructor's soft reset the chip is busy and NACKs the measurement command.
    equal(s.sample(), undefined);
    await settle();
    equal(r.errors.length, 1);
    ok(/busy after reset/.test(r.errors[0] ?? ""), r.errors[0]);
  });
});
