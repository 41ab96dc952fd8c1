// The BME280/BMP280 driver against its register-level model: compensation vectors, modes, timing, faults, lifecycle.
import { suite, test, equal, ok, throws, settle, deepEqual } from "../../../harness.js";
import BME280 from "telltale/drivers/bme280/bme280";
import { BME280Model, EXAMPLE_CALIBRATION, encodeCalibration } from "telltale/drivers/bme280/model";
import {
  parseCalibration,
  temperatureFine,
  fineToCentiCelsius,
  compensateHumidity,
  compensatePressure64,
  compensatePressure32,
  type Calibration,
} from "telltale/drivers/bme280/compensation";
import { Register, measurementTimeMs } from "telltale/drivers/bme280/registers";
import { bme280Part } from "telltale/drivers/bme280/part";
import { parseConfig } from "telltale/config/config";
import { SimI2CBus } from "telltale/sim/i2c-bus";
import { createSimWorld } from "telltale/sim/world";
import { ManualClock } from "../../../support/manual-clock.js";
import { xorshift32 } from "../../../support/xorshift.js";

// Reference formulas written from the datasheet (§4.2.3 / §8.2) in BigInt, wrapping after every C operation
// exactly as int32_t / uint32_t / int64_t arithmetic does on a two's complement CPU.
const I32 = (x: bigint) => BigInt.asIntN(32, x),
  U32 = (x: bigint) => BigInt.asUintN(32, x),
  I64 = (x: bigint) => BigInt.asIntN(64, x);
const B = BigInt;
/** Arithmetic shift right (floor): XS's BigInt `>>` rounds some negative exact multiples wrongly (-16n >> 4n is -2n). */
const sar = (x: bigint, n: bigint) => (x >= 0n ? x >> n : -((-x - 1n) >> n) - 1n);

function refT(c: Calibration, adcT: number): { tFine: number; t: number } {
  const a = B(adcT);
  const var1 = I32(sar(I32(I32(sar(a, 3n) - I32(B(c.digT1) << 1n)) * B(c.digT2)), 11n));
  const d = I32(sar(a, 4n) - B(c.digT1));
  const var2 = sar(I32(sar(I32(d * d), 12n) * B(c.digT3)), 14n);
  const tFine = I32(var1 + var2);
  return { tFine: Number(tFine), t: Number(sar(I32(I32(tFine * 5n) + 128n), 8n)) };
}

function refH(c: Calibration, tFine: number, adcH: number): number {
  let v = I32(B(tFine) - 76800n);
  const left = sar(I32(I32(I32(I32(B(adcH) << 14n) - I32(B(c.digH4) << 20n)) - I32(B(c.digH5) * v)) + 16384n), 15n);
  const x = I32(sar(I32(sar(I32(v * B(c.digH6)), 10n) * I32(sar(I32(v * B(c.digH3)), 11n) + 32768n)), 10n));
  const right = sar(I32(I32(I32(x + 2097152n) * B(c.digH2)) + 8192n), 14n);
  v = I32(left * right);
  v = I32(v - sar(I32(sar(I32(sar(v, 15n) * sar(v, 15n)), 7n) * B(c.digH1)), 4n));
  if (v < 0n) v = 0n;
  if (v > 419430400n) v = 419430400n;
  return Number(v >> 12n);
}

function refP64(c: Calibration, tFine: number, adcP: number): number {
  let var1 = I64(B(tFine) - 128000n);
  let var2 = I64(I64(var1 * var1) * B(c.digP6));
  var2 = I64(var2 + I64(I64(var1 * B(c.digP5)) << 17n));
  var2 = I64(var2 + I64(B(c.digP4) << 35n));
  var1 = I64(sar(I64(I64(var1 * var1) * B(c.digP3)), 8n) + I64(I64(var1 * B(c.digP2)) << 12n));
  var1 = sar(I64(I64((1n << 47n) + var1) * B(c.digP1)), 33n);
  if (var1 === 0n) return 0;
  let p = I32(1048576n - B(adcP));
  p = I64(I64(I64(I64(p << 31n) - var2) * 3125n) / var1); // BigInt division truncates toward zero, as C does
  var1 = sar(I64(I64(B(c.digP9) * sar(p, 13n)) * sar(p, 13n)), 25n);
  var2 = sar(I64(B(c.digP8) * p), 19n);
  p = I64(sar(I64(I64(p + var1) + var2), 8n) + I64(B(c.digP7) << 4n));
  return Number(I32(U32(p))); // the uint32 result, compared as the int32 the driver returns
}

function refP32(c: Calibration, tFine: number, adcP: number): number {
  let var1 = I32(sar(B(tFine), 1n) - 64000n);
  const q = sar(var1, 2n);
  let var2 = I32(sar(I32(q * q), 11n) * B(c.digP6));
  var2 = I32(var2 + I32(I32(var1 * B(c.digP5)) << 1n));
  var2 = I32(sar(var2, 2n) + I32(B(c.digP4) << 16n));
  var1 = I32(sar(I32(sar(I32(B(c.digP3) * sar(I32(q * q), 13n)), 3n) + sar(I32(B(c.digP2) * var1), 1n)), 18n));
  var1 = I32(sar(I32((32768n + var1) * B(c.digP1)), 15n));
  if (var1 === 0n) return 0;
  let p = U32(U32(U32(1048576n - B(adcP)) - U32(sar(var2, 12n))) * 3125n);
  if (p < 0x80000000n) p = U32(U32(p << 1n) / U32(var1));
  else p = U32(U32(p / U32(var1)) * 2n);
  var1 = I32(sar(I32(B(c.digP9) * I32(U32((p >> 3n) * (p >> 3n)) >> 13n)), 12n));
  var2 = I32(sar(I32(I32(p >> 2n) * B(c.digP8)), 13n));
  p = U32(I32(p) + sar(I32(I32(var1 + var2) + B(c.digP7)), 4n));
  return Number(I32(p));
}

/** Pseudo-random integers in [0, n), the same in Node and XS. */
function random(seed: number): (n: number) => number {
  const next = xorshift32(seed);
  return (n) => (next() >>> 0) % n;
}

function randomCalibration(r: (n: number) => number, realistic: boolean): Calibration {
  const s16 = () => r(65536) - 32768;
  const near = (v: number, spread: number) => v + r(2 * spread + 1) - spread;
  const e = EXAMPLE_CALIBRATION;
  return realistic
    ? {
        digT1: near(e.digT1, 2000),
        digT2: near(e.digT2, 2000),
        digT3: near(e.digT3, 500),
        digP1: near(e.digP1, 3000),
        digP2: near(e.digP2, 1000),
        digP3: near(e.digP3, 500),
        digP4: near(e.digP4, 2000),
        digP5: near(e.digP5, 200),
        digP6: near(e.digP6, 20),
        digP7: near(e.digP7, 3000),
        digP8: near(e.digP8, 3000),
        digP9: near(e.digP9, 2000),
        digH1: r(256),
        digH2: near(e.digH2, 100),
        digH3: r(256),
        digH4: near(e.digH4, 200),
        digH5: near(e.digH5, 50),
        digH6: r(256) - 128,
      }
    : {
        digT1: r(65536),
        digT2: s16(),
        digT3: s16(),
        digP1: r(65535) + 1,
        digP2: s16(),
        digP3: s16(),
        digP4: s16(),
        digP5: s16(),
        digP6: s16(),
        digP7: s16(),
        digP8: s16(),
        digP9: s16(),
        digH1: r(256),
        digH2: s16(),
        digH3: r(256),
        digH4: r(4096) - 2048,
        digH5: r(4096) - 2048,
        digH6: r(256) - 128,
      };
}

interface Env {
  t: number;
  p: number;
  h: number;
  temperature(): number;
  pressure(): number;
  humidity(): number;
}

function rig(chip: "bme280" | "bmp280" = "bme280") {
  const clock = new ManualClock();
  const bus = new SimI2CBus(clock);
  const env: Env = {
    t: 21.5,
    p: 1013.25,
    h: 40,
    temperature() {
      return this.t;
    },
    pressure() {
      return this.p;
    },
    humidity() {
      return this.h;
    },
  };
  const model = new BME280Model({ environment: env, chip });
  bus.attach(0x76, model);
  const errors: string[] = [];
  const make = (extra: Record<string, unknown> = {}) =>
    new BME280({ sensor: { io: bus.ioClass(), address: 0x76 }, onError: (e) => errors.push(e.message), ...extra });
  return { clock, bus, env, model, errors, make };
}

function near(actual: number | undefined, expected: number, tolerance: number, what: string): void {
  ok(
    actual !== undefined && Math.abs(actual - expected) <= tolerance,
    what + ": expected " + expected + " ± " + tolerance + ", got " + actual,
  );
}

suite("drivers/bme280 (compensation)", () => {
  test("datasheet-example-temperature-and-pressure", () => {
    // BMP280 datasheet §3.12 worked example (same T/P formulas as BME280 §4.2.3): adc_T 519888 → t_fine 128422,
    // T 25.08 °C; adc_P 415148 → p 100653.27 Pa (double-precision column).
    const c = EXAMPLE_CALIBRATION;
    const tFine = temperatureFine(c, 519888);
    equal(tFine, 128422);
    equal(fineToCentiCelsius(tFine), 2508);
    const q24_8 = compensatePressure64(c, tFine, 415148);
    equal(q24_8, refP64(c, tFine, 415148));
    near(q24_8 / 256, 100653.27, 0.05, "64-bit pressure, Pa");
    // The 32-bit variant (§8.2) has 1 Pa resolution and is the less accurate one.
    near(compensatePressure32(c, tFine, 415148), 100653.27, 5, "32-bit pressure, Pa");
  });

  test("trimming-parameters-h4-h5-nibbles-and-signs", () => {
    // §4.2.2, Table 16: dig_H4 = 0xE4[7:0]<<4 | 0xE5[3:0]; dig_H5 = 0xE6[7:0]<<4 | 0xE5[7:4]; signed.
    const tp = new Uint8Array(26);
    tp[0] = 0x70;
    tp[1] = 0x6b; // dig_T1 27504 (unsigned)
    tp[2] = 0x18;
    tp[3] = 0xfc; // dig_T2 -1000 (signed)
    tp[25] = 0x4b; // dig_H1 75
    const c = parseCalibration(tp, Uint8Array.of(0x6a, 0x01, 0x00, 0x13, 0x95, 0xf0, 0xe2));
    equal(c.digT1, 27504);
    equal(c.digT2, -1000);
    equal(c.digH1, 75);
    equal(c.digH2, 362);
    equal(c.digH4, 0x13 * 16 + 5);
    equal(c.digH5, -256 + 9);
    equal(c.digH6, -30);
    const r = random(7);
    for (let i = 0; i < 200; i++) {
      const cal = randomCalibration(r, false);
      const nvm = encodeCalibration(cal);
      deepEqual(parseCalibration(nvm.tp, nvm.humidity), cal, "round trip " + i);
    }
  });

  test("bit-exact-against-reference-realistic-calibrations", () => {
    const r = random(12345);
    for (let i = 0; i < 400; i++) {
      const c = randomCalibration(r, true);
      const adcT = 400000 + r(250000),
        adcP = 200000 + r(450000),
        adcH = 20000 + r(40000);
      const t = refT(c, adcT);
      const tFine = temperatureFine(c, adcT);
      equal(tFine, t.tFine, "t_fine, adc_T " + adcT);
      equal(fineToCentiCelsius(tFine), t.t, "T, adc_T " + adcT);
      equal(compensateHumidity(c, tFine, adcH), refH(c, tFine, adcH), "H, adc_H " + adcH);
      equal(compensatePressure64(c, tFine, adcP), refP64(c, tFine, adcP), "P64, adc_P " + adcP);
      equal(compensatePressure32(c, tFine, adcP), refP32(c, tFine, adcP), "P32, adc_P " + adcP);
    }
  });

  test("bit-exact-against-reference-any-calibration-and-raw", () => {
    // Whole 16-bit parameter ranges and whole 20/16-bit raw ranges: the overflows wrap exactly like C.
    const r = random(99);
    for (let i = 0; i < 400; i++) {
      const c = randomCalibration(r, false);
      const adcT = r(1 << 20),
        adcP = r(1 << 20),
        adcH = r(1 << 16);
      const tFine = temperatureFine(c, adcT);
      equal(tFine, refT(c, adcT).tFine, "t_fine");
      equal(compensateHumidity(c, tFine, adcH), refH(c, tFine, adcH), "H");
      equal(compensatePressure64(c, tFine, adcP), refP64(c, tFine, adcP), "P64");
      equal(compensatePressure32(c, tFine, adcP), refP32(c, tFine, adcP), "P32");
      const wide = r(1 << 30) - (1 << 29); // t_fine far outside any real temperature
      equal(compensatePressure64(c, wide, adcP), refP64(c, wide, adcP), "P64 wide t_fine " + wide);
    }
  });

  test("measurement-time-formula", () => {
    // §9.1: t_max = 1.25 + 2.3·osrs_t + (2.3·osrs_p + 0.575) + (2.3·osrs_h + 0.575) ms.
    near(measurementTimeMs(1, 1, 1), 9.3, 1e-9, "x1");
    near(measurementTimeMs(16, 16, 16), 112.8, 1e-9, "x16");
    near(measurementTimeMs(1, 0, 0), 3.55, 1e-9, "T only");
  });
});

suite("drivers/bme280", () => {
  test("first-sample-programs-then-reads-environment", async () => {
    const r = rig();
    const s = r.make();
    equal(r.model.resets, 1, "constructor resets the chip");
    r.clock.advance(3);
    equal(s.sample(), undefined);
    equal(r.model.registers[Register.controlMeasurement], (1 << 5) | (1 << 2) | 1, "x1/x1, forced");
    equal(r.model.registers[Register.controlHumidity], 1);
    r.clock.advance(10);
    const v = s.sample();
    ok(v, "a sample");
    near(v.thermometer.temperature, 21.5, 0.01, "°C");
    near(v.barometer?.pressure, 101325, 4, "Pa");
    near(v.hygrometer?.humidity, 40, 0.1, "%RH");
    await settle();
    deepEqual(r.errors, []);
  });

  test("sample-returns-new-object-each-call", () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(3);
    s.sample();
    r.clock.advance(10);
    const a = s.sample();
    r.clock.advance(10);
    const b = s.sample();
    ok(a && b && a !== b && a.thermometer !== b.thermometer && a.barometer !== b.barometer);
  });

  test("read-before-conversion-done-reports-and-keeps-conversion", async () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(3);
    s.sample();
    r.clock.advance(5); // x1/x1/x1 takes up to 9.3 ms
    equal(s.sample(), undefined);
    equal(r.errors.length, 0, "error must be deferred");
    await settle();
    ok(/measurement in progress/.test(r.errors[0] ?? ""), String(r.errors[0]));
    equal(s.errors, 1);
    const measured = r.model.measurements;
    r.clock.advance(5);
    ok(s.sample(), "the same conversion is read once done");
    equal(r.model.measurements, measured + 1);
  });

  test("conversion-time-follows-oversampling", () => {
    const r = rig();
    const s = r.make({ oversampling: { temperature: 16, pressure: 16, humidity: 16 } });
    near(s.measurementTime, 112.8, 1e-9, "§9.1");
    r.clock.advance(3);
    s.sample();
    r.clock.advance(100);
    equal(s.sample(), undefined, "not yet after 100 ms");
    r.clock.advance(13);
    const v = s.sample();
    ok(v);
    near(v.thermometer.temperature, 21.5, 0.01, "x16 °C");
    near(v.barometer?.pressure, 101325, 1, "x16 Pa");
  });

  test("bmp280-accepted-without-humidity", async () => {
    const r = rig("bmp280");
    const s = r.make();
    equal(s.chipId, 0x58);
    r.clock.advance(3);
    s.sample();
    r.clock.advance(10);
    const v = s.sample();
    ok(v);
    equal(v.hygrometer, undefined);
    near(v.barometer?.pressure, 101325, 4, "Pa");
    const channels = bme280Part.channels({ part: "bme280", name: "b", options: { humidity: true } });
    equal(channels[2]?.read(v), undefined, "the humidity channel reads undefined");
    throws(() => r.make({ standby: 10 }), /"standby" 10 ms is not available on a BMP280/);
    await settle();
    deepEqual(r.errors, []);
  });

  test("wrong-chip-id-rejected", () => {
    const r = rig();
    r.model.faults.chipId = 0x55;
    throws(() => r.make(), /no working sensor at address 0x76 \(chip id 0x55 is neither/);
    equal(r.model.resets, 0, "a foreign chip is not reset");
  });

  test("absent-sensor-throws-naming-address", () => {
    const r = rig();
    throws(() => new BME280({ sensor: { io: r.bus.ioClass(), address: 0x77 } }), /no working sensor at address 0x77/);
  });

  test("nack-reports-error-and-recovers", async () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(3);
    s.sample();
    r.clock.advance(10);
    r.model.faults.nack = true;
    equal(s.sample(), undefined);
    await settle();
    equal(r.errors.length, 1, "one report per call");
    ok(/NACK/.test(r.errors[0] ?? ""), r.errors[0]);
    r.model.faults.nack = false;
    r.clock.advance(10);
    ok(s.sample(), "the earlier conversion is still there to read");
  });

  test("out-of-range-skipped-value-reports-error-then-recovers", async () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(3);
    s.sample();
    r.model.faults.outOfRange = true;
    r.clock.advance(10);
    equal(s.sample(), undefined);
    await settle();
    ok(/temperature out of range \(skipped-measurement value 0x80000\)/.test(r.errors[0] ?? ""), String(r.errors[0]));
    r.model.faults.outOfRange = false;
    r.clock.advance(10);
    ok(s.sample(), "recovers once the fault clears");
  });

  test("frozen-model-repeats-last-data", () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(3);
    s.sample();
    r.clock.advance(10);
    const a = s.sample();
    r.model.faults.frozen = true;
    r.env.t = 30;
    r.clock.advance(10);
    const b = s.sample();
    ok(a && b);
    equal(b.thermometer.temperature, a.thermometer.temperature);
  });

  test("lost-configuration-is-reported-and-reprogrammed", async () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(3);
    s.sample();
    r.clock.advance(10);
    const other = new (r.bus.ioClass())({ address: 0x76 });
    other.write(Uint8Array.of(Register.reset, 0xb6)); // a brown-out, as far as the driver can tell
    r.clock.advance(3);
    equal(s.sample(), undefined);
    await settle();
    ok(/configuration lost/.test(r.errors[0] ?? ""), String(r.errors[0]));
    r.clock.advance(10);
    ok(s.sample(), "reads again after reprogramming");
  });

  test("configure-changes-only-given-options", () => {
    const r = rig();
    const s = r.make({ oversampling: { temperature: 2, pressure: 4, humidity: 8 } });
    r.clock.advance(3);
    s.sample();
    r.clock.advance(50);
    s.configure({ filter: 4 });
    deepEqual(s.configuration.oversampling, { temperature: 2, pressure: 4, humidity: 8 });
    equal(s.configuration.mode, "forced");
    ok(s.sample(), "reads the conversion made with the old settings, then programs the new ones");
    equal((r.model.registers[Register.config]! >> 2) & 7, 2, "filter coefficient 4");
    equal(r.model.registers[Register.controlMeasurement]! >> 2, (2 << 3) | 3, "oversampling kept");
    s.configure({ oversampling: { pressure: 0 } });
    deepEqual(s.configuration.oversampling, { temperature: 2, pressure: 0, humidity: 8 });
    r.clock.advance(50);
    s.sample();
    r.clock.advance(50);
    const v = s.sample();
    ok(v);
    equal(v.barometer, undefined, "pressure skipped");
    ok(v.hygrometer);
    throws(() => s.configure({ filter: 3 }), /option "filter" must be one of 0, 2, 4, 8, 16/);
    equal(s.configuration.filter, 4, "a rejected configure changes nothing");
  });

  test("normal-mode-converts-continuously", () => {
    const r = rig();
    const s = r.make({ mode: "normal", standby: 62.5 });
    r.clock.advance(3);
    equal(s.sample(), undefined);
    equal(r.model.registers[Register.controlMeasurement]! & 3, 3);
    equal(r.model.registers[Register.config]! >> 5, 1, "t_sb 62.5 ms");
    r.clock.advance(80);
    const a = s.sample();
    ok(a, "the first cycle has finished");
    r.env.t = 25;
    r.clock.advance(150);
    const b = s.sample();
    ok(b);
    near(b.thermometer.temperature, 25, 0.01, "a later cycle");
    ok(r.model.measurements >= 3, "cycles ran without a trigger: " + r.model.measurements);
  });

  test("model-normal-mode-ignores-config-writes-and-latches-ctrl-hum", () => {
    const r = rig();
    const io = new (r.bus.ioClass())({ address: 0x76 });
    r.clock.advance(3);
    io.write(Uint8Array.of(Register.controlHumidity, 5));
    r.clock.advance(1);
    equal(r.model.measurementMs, 1.25, "ctrl_hum waits for a ctrl_meas write (§5.4.3)");
    io.write(Uint8Array.of(Register.controlMeasurement, (1 << 5) | 3));
    near(r.model.measurementMs, measurementTimeMs(1, 0, 16), 1e-9, "latched");
    io.write(Uint8Array.of(Register.config, 4 << 2));
    equal(r.model.registers[Register.config], 0, "config ignored in normal mode (§5.4.6)");
  });

  test("iir-filter-smooths-a-step", () => {
    const r = rig();
    const s = r.make({ filter: 16, oversampling: { temperature: 1, pressure: 1, humidity: 0 } });
    r.clock.advance(3);
    s.sample();
    r.clock.advance(10);
    s.sample();
    r.env.t = 31.5;
    r.clock.advance(10);
    const v = s.sample();
    ok(v);
    // One new input with coefficient 16 moves the output 1/16 of the step (§3.4.4).
    near(v.thermometer.temperature, 21.5 + 10 / 16, 0.02, "filtered °C");
  });

  test("close-twice-and-use-after-close", async () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(3);
    s.sample();
    r.model.faults.nack = true;
    r.clock.advance(10);
    s.sample();
    s.close();
    s.close();
    await settle();
    equal(r.errors.length, 0, "no callback after close");
    throws(() => s.sample(), /closed/);
    throws(() => s.configure({ filter: 2 }), /closed/);
  });

  test("invalid-options-rejected-before-io", () => {
    const r = rig();
    throws(() => r.make({ sensor: { io: r.bus.ioClass(), address: 0x44 } }), /"sensor.address" must be 0x76 or 0x77/);
    throws(
      () => r.make({ oversampling: { temperature: 3 } }),
      /"oversampling.temperature" must be one of 1, 2, 4, 8, 16, got 3/,
    );
    throws(() => r.make({ oversampling: { temperature: 0 } }), /"oversampling.temperature"/);
    throws(() => r.make({ mode: "turbo" }), /"mode" must be one of sleep, forced, normal/);
    throws(() => r.make({ standby: 7 }), /"standby"/);
    throws(() => r.make({ pressureFormula: "float" }), /"pressureFormula"/);
    throws(() => r.make({ onError: 3 }), /"onError" must be a function/);
    throws(() => new BME280({ sensor: {} as never }), /sensor.io/);
    equal(r.model.resets, 0, "no IO happened");
  });

  test("declaration-validated-naming-the-field", () => {
    throws(
      () => parseConfig({ sensors: [{ part: "bme280", oversampling: { temperature: 3 } }] }),
      /^config\.sensors\[0\]\.oversampling\.temperature: expected one of 1, 2, 4, 8, 16, got 3/,
    );
    throws(
      () => parseConfig({ sensors: [{ part: "bme280", oversampling: { temp: 1 } }] }),
      /^config\.sensors\[0\]\.oversampling\.temp: unknown option/,
    );
    throws(
      () => parseConfig({ sensors: [{ part: "bme280", filter: 5 }] }),
      /^config\.sensors\[0\]\.filter: expected one of 0, 2, 4, 8, 16/,
    );
    throws(
      () => parseConfig({ sensors: [{ part: "bme280", address: 0x44 }] }),
      /^config\.sensors\[0\]\.address: a bme280 answers at 0x76 or 0x77/,
    );
    const c = parseConfig({ sensors: [{ part: "bme280", humidity: false }] });
    equal(c.sensors[0]!.address, 0x76);
    deepEqual(
      bme280Part.channels(c.sensors[0]!).map((ch) => ch.key),
      ["temperature", "pressure"],
    );
    deepEqual((c.sensors[0]!.options.oversampling as Record<string, number>).humidity, 0);
  });

  test("simulated-world-feeds-model-from-machine", () => {
    const clock = new ManualClock();
    const declaration = parseConfig({ sensors: [{ part: "bme280", address: 0x77 }] }).sensors[0]!;
    const world = createSimWorld(clock, [declaration], { noise: 0 });
    ok(world.attached.get("bme280") instanceof BME280Model);
    const s = bme280Part.create(declaration, { i2c: world.bus.ioClass(), clock }, () => {});
    clock.advance(3);
    s.sample();
    clock.advance(10);
    const v = s.sample() as { thermometer: { temperature: number }; barometer: { pressure: number } };
    near(v.thermometer.temperature, world.machine.temperature(world.elapsed(clock.now())), 0.1, "°C from the machine");
    near(v.barometer.pressure / 100, 1013.25, 2, "hPa from the machine");
    s.close();
  });
});
