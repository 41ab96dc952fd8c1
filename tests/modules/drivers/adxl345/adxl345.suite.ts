// The ADXL345 driver against its register-level model: id, FIFO drain at full rate, overrun, INT1 via sim GPIO, faults, lifecycle.
import { suite, test, equal, ok, throws, settle } from "../../../harness.js";
import ADXL345, { type ADXL345Options } from "telltale/drivers/adxl345/adxl345";
import { ADXL345Model, type Motion } from "telltale/drivers/adxl345/model";
import { adxl345Part } from "telltale/drivers/adxl345/part";
import { Register, Int, FifoCtl, PowerCtl, DataFormat, countsPerG, rateCode } from "telltale/drivers/adxl345/registers";
import { millisScale, countsToMillis } from "telltale/drivers/accelerometer/window";
import { SimI2CBus } from "telltale/sim/i2c-bus";
import { SimGPIO } from "telltale/sim/gpio";
import { ManualClock } from "../../../support/manual-clock.js";

const G = 9.80665;

/** 1 m/s² at 50 Hz on x, 0.5 m/s² at 120 Hz on y, gravity plus 0.2 m/s² at 30 Hz on z. */
const tones: Motion = {
  vibration(now: number, axis: number): number {
    const t = now / 1000;
    if (axis === 0) return Math.sin(2 * Math.PI * 50 * t);
    if (axis === 1) return 0.5 * Math.sin(2 * Math.PI * 120 * t);
    return G + 0.2 * Math.sin(2 * Math.PI * 30 * t);
  },
};

function rig(options: { pin?: number; motion?: Motion } = {}) {
  const clock = new ManualClock();
  const bus = new SimI2CBus(clock);
  const gpio = new SimGPIO(clock);
  const model = new ADXL345Model({ motion: options.motion ?? tones, clock });
  bus.attach(0x53, model);
  if (options.pin !== undefined) {
    const pin = options.pin;
    model.onInterrupt = (level) => gpio.set(pin, level ? 1 : 0);
  }
  const errors: string[] = [];
  const make = (extra: Partial<ADXL345Options> = {}) =>
    new ADXL345({
      sensor: { io: bus.ioClass(), address: 0x53 },
      clock,
      interrupt: options.pin !== undefined ? { io: gpio.ioDigital(), pin: options.pin } : undefined,
      onError: (e) => errors.push(e.message),
      ...extra,
    });
  return { clock, bus, gpio, model, errors, make };
}

/** Raw register access to the model, as a controller would do it. */
function registers(r: ReturnType<typeof rig>) {
  const io = new (r.bus.ioClass())({ address: 0x53 });
  return {
    get(reg: number): number {
      io.write(Uint8Array.of(reg));
      return new Uint8Array(io.read(1))[0]!;
    },
    set(reg: number, value: number): void {
      io.write(Uint8Array.of(reg, value));
    },
    entry(): Int16Array {
      io.write(Uint8Array.of(Register.dataX0));
      return new Int16Array(io.read(6));
    },
  };
}

suite("drivers/adxl345", () => {
  test("reset-values-and-device-id", () => {
    // Table 19: DEVID 0xE5, BW_RATE 0x0A, INT_SOURCE 0x02 (samples = 0 sets the watermark bit), others 0x00.
    const reg = registers(rig());
    equal(reg.get(Register.devid), 0xe5);
    equal(reg.get(Register.bwRate), 0x0a);
    equal(reg.get(Register.intSource), 0x02);
    equal(reg.get(Register.powerCtl), 0x00);
    equal(reg.get(Register.fifoStatus), 0x00);
  });

  test("wrong-device-id-throws-naming-address", () => {
    const r = rig();
    r.model.registers[Register.devid] = 0xe6;
    throws(() => r.make(), /no working sensor at address 0x53 \(DEVID is 0xe6, not 0xe5\)/);
  });

  test("absent-sensor-throws-naming-address", () => {
    const r = rig();
    throws(
      () => r.make({ sensor: { io: r.bus.ioClass(), address: 0x1d } }),
      /ADXL345: no working sensor at address 0x1d/,
    );
  });

  test("invalid-options-rejected-before-io", () => {
    const r = rig();
    throws(() => r.make({ range: 3 as never }), /option "range" must be one of 2, 4, 8, 16/);
    throws(() => r.make({ rate: 1000 }), /option "rate"/);
    throws(() => r.make({ watermark: 0 }), /option "watermark" must be an integer from 1 to 31/);
    throws(() => r.make({ watermark: 32 }), /option "watermark"/);
    throws(() => r.make({ fullResolution: 1 as never }), /option "fullResolution"/);
    throws(() => r.make({ ringFrames: 8 }), /option "ringFrames"/);
    throws(() => r.make({ pollMs: 0 }), /option "pollMs"/);
    throws(
      () => r.make({ sensor: { io: r.bus.ioClass(), address: 0x68 } }),
      /option "sensor.address" must be 0x53 or 0x1d/,
    );
    throws(() => r.make({ clock: undefined as never }), /option "clock"/);
    throws(() => r.make({ interrupt: { io: r.gpio.ioDigital(), pin: -1 } }), /option "interrupt.pin"/);
    equal(r.model.registers[Register.bwRate], 0x0a, "no register was written");
    equal(r.model.registers[Register.powerCtl], 0);
  });

  test("scale-factor-full-resolution-3.9-mg-per-lsb", () => {
    // Table 1: full resolution 3.9 mg/LSB (256 LSB/g) on every range; 10-bit ±16 g: 31.2 mg/LSB (32 LSB/g).
    equal(countsPerG(2, true), 256);
    equal(countsPerG(16, true), 256);
    equal(countsPerG(16, false), 32);
    const s = millisScale(256);
    equal(countsToMillis(256, s), 9807, "1 g = 9806.65 mm/s²");
    equal(countsToMillis(-256, s), -9807);
    equal(countsToMillis(1, s), 38, "3.9 mg = 38.3 mm/s²");
    // +16 g end of the 13-bit range: exactly 156867.2 mm/s²; the multiplier's rounding stays within 2^-15 (< 0.004 %).
    ok(Math.abs(countsToMillis(4095, s) - 156867.2) <= 156867.2 / 32768, "4095 counts → " + countsToMillis(4095, s));
  });

  test("fifo-stream-mode-keeps-newest-32-and-sets-overrun", () => {
    // "FIFO" / Table 22: stream mode holds the latest 32 samples; overrun is set when new data replace unread data.
    const ramp: Motion = { vibration: (now, axis) => (axis === 0 ? (now / 1.25) * (G / 256) : 0) }; // x = sample index
    const r = rig({ motion: ramp });
    const reg = registers(r);
    reg.set(Register.dataFormat, DataFormat.fullResolution | 3);
    reg.set(Register.bwRate, rateCode(800));
    reg.set(Register.fifoCtl, FifoCtl.stream | 16);
    reg.set(Register.powerCtl, PowerCtl.measure);
    r.clock.advance(100); // 80 samples at 800 Hz
    equal(reg.get(Register.fifoStatus) & 0x3f, 32);
    equal(reg.get(Register.intSource) & (Int.overrun | Int.watermark), Int.overrun | Int.watermark);
    equal(reg.entry()[0], 49, "the oldest kept entry is sample 49 of 80");
    equal(reg.get(Register.intSource) & Int.overrun, 0, "reading the FIFO clears overrun");
    equal(reg.get(Register.fifoStatus) & 0x3f, 31);
  });

  test("upper-data-rates-lsb-is-zero-in-full-resolution", () => {
    // "Data Formatting of Upper Data Rates": at 3200 and 1600 Hz in full resolution the LSB is always 0.
    const r = rig();
    const reg = registers(r);
    reg.set(Register.dataFormat, DataFormat.fullResolution | 3);
    reg.set(Register.bwRate, rateCode(1600));
    reg.set(Register.fifoCtl, FifoCtl.stream | 16);
    reg.set(Register.powerCtl, PowerCtl.measure);
    r.clock.advance(20);
    let odd = 0;
    for (let i = 0; i < 32; i++) {
      const e = reg.entry();
      odd += (e[0]! & 1) + (e[1]! & 1) + (e[2]! & 1);
    }
    equal(odd, 0);
  });

  test("polling-drains-1600-hz-for-5-s-without-loss", async () => {
    const r = rig();
    const s = r.make({ rate: 1600 });
    r.clock.advance(5000);
    const v = s.sample();
    ok(v, "a summary");
    equal(v.vibration.samples, 8000, "ODR × time");
    equal(v.vibration.overflows, 0);
    equal(s.health().samples, 8000);
    equal(r.model.samplesProduced, 8000);
    await settle();
    equal(r.errors.length, 0, r.errors.join("; "));
  });

  test("polling-drains-3200-hz-without-loss", () => {
    const r = rig();
    const s = r.make({ rate: 3200 });
    r.clock.advance(2000);
    equal(s.sample()?.vibration.samples, 6400);
    equal(s.overflows, 0);
  });

  test("overflow-detected-and-counted-when-not-drained", async () => {
    const r = rig();
    const s = r.make({ rate: 1600, pollMs: 1000 }); // 1600 samples per poll: 32 fit
    r.clock.advance(3000);
    const v = s.sample();
    ok(v);
    equal(v.vibration.overflows, 3);
    equal(v.vibration.samples, 3 * 32);
    equal(s.health().overflows, 3);
    await settle();
    equal(r.errors.length, 0, "an overflow is counted, not an error");
  });

  test("watermark-interrupt-drains-via-sim-gpio", () => {
    const r = rig({ pin: 4 });
    const s = r.make({ rate: 1600, watermark: 16 });
    equal(s.configuration.interrupt, true);
    equal(r.model.registers[Register.intEnable], Int.watermark);
    r.clock.advance(2000);
    const drains = r.gpio.edges(4);
    const v = s.sample();
    ok(v);
    equal(v.vibration.samples, 3200, "no sample lost");
    equal(s.overflows, 0);
    equal(drains, 200, "one drain per 16-entry watermark");
    equal(r.model.interrupt, false, "INT1 low after the last drain");
  });

  test("summary-is-ac-coupled-rms-in-m-per-s2", () => {
    const r = rig();
    const s = r.make({ rate: 800 });
    r.clock.advance(1000);
    const v = s.sample();
    ok(v);
    ok(Math.abs(v.vibration.rms.x - 1 / Math.SQRT2) < 0.02, "x rms " + v.vibration.rms.x);
    ok(Math.abs(v.vibration.rms.y - 0.5 / Math.SQRT2) < 0.02, "y rms " + v.vibration.rms.y);
    ok(Math.abs(v.vibration.rms.z - 0.2 / Math.SQRT2) < 0.02, "z rms without gravity " + v.vibration.rms.z);
    ok(Math.abs(v.accelerometer.z - G) < 0.05, "z mean " + v.accelerometer.z);
    ok(Math.abs(v.accelerometer.x) < 0.05, "x mean " + v.accelerometer.x);
    ok(v.vibration.peak > 0.95 && v.vibration.peak < 1.1, "peak " + v.vibration.peak);
    r.clock.advance(1000);
    const w = s.sample();
    ok(w && w !== v && w.vibration !== v.vibration, "a new object each call");
    equal(adxl345Part.channels({ part: "adxl345", name: "a", options: {} })[0]!.read(v), v.vibration.rms.x);
  });

  test("read-returns-window-in-mm-per-s2", () => {
    const flat: Motion = { vibration: (now, axis) => (axis === 2 ? G : axis === 0 ? -G / 2 : 0) };
    const r = rig({ motion: flat });
    const s = r.make({ rate: 800, ringFrames: 64 });
    r.clock.advance(100); // 80 frames: the ring keeps the newest 64
    const out = new Int32Array(3 * 100);
    equal(s.read(out), 64);
    equal(out[2], 9807, "z = 256 counts = 1 g");
    equal(out[0], -4903, "x = -128 counts = -0.5 g");
    equal(s.read(out), 0, "read consumes");
    r.clock.advance(10);
    s.drain();
    const counts = new Int16Array(6);
    equal(s.readCounts(counts), 2);
    equal(counts[2], 256);
  });

  test("nack-reported-once-deferred-then-recovers", async () => {
    const r = rig();
    const s = r.make({ rate: 1600 });
    r.clock.advance(100);
    r.model.faults.nack = true;
    r.clock.advance(100); // ten failed polls
    equal(r.errors.length, 0, "deferred");
    await settle();
    equal(r.errors.length, 1, "one report per run of failures");
    ok(/ADXL345: .*NACK/.test(r.errors[0] ?? ""), r.errors[0]);
    equal(s.sample(), undefined);
    r.model.faults.nack = false;
    r.clock.advance(100);
    const v = s.sample();
    ok(v, "recovers once the fault clears");
    equal(v.vibration.overflows, 1, "the FIFO overran while the bus was down");
    equal(s.errors, 1);
  });

  test("stuck-part-reports-no-samples", async () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(100);
    s.sample();
    r.model.faults.stuck = true;
    r.clock.advance(1000);
    equal(s.sample(), undefined);
    await settle();
    ok(/no samples for 1000 ms/.test(r.errors[0] ?? ""), String(r.errors[0]));
    r.model.faults.stuck = false;
    r.clock.advance(100);
    ok(s.sample());
  });

  test("frozen-output-reported", async () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(100);
    s.sample();
    r.model.faults.frozen = true;
    r.clock.advance(100);
    equal(s.sample(), undefined);
    await settle();
    ok(/output frozen \(160 identical samples\)/.test(r.errors[0] ?? ""), String(r.errors[0]));
  });

  test("out-of-range-reported", async () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(100);
    s.sample();
    r.model.faults.outOfRange = true;
    r.clock.advance(100);
    equal(s.sample(), undefined);
    await settle();
    ok(
      /x axis at the end of its range for all 160 samples \(out of range\)/.test(r.errors[0] ?? ""),
      String(r.errors[0]),
    );
  });

  test("configure-changes-only-given-options", () => {
    const r = rig();
    const s = r.make();
    s.configure({ rate: 800 });
    equal(s.configuration.range, 16);
    equal(s.configuration.watermark, 16);
    equal(r.model.rate, 800);
    s.configure({ range: 2, fullResolution: false });
    equal(s.configuration.rate, 800);
    equal(r.model.registers[Register.dataFormat], 0);
    throws(() => s.configure({ watermark: 40 }), /watermark/);
    equal(s.configuration.watermark, 16, "a rejected configure changes nothing");
    r.clock.advance(1000);
    equal(s.sample()?.vibration.samples, 800);
  });

  test("close-twice-no-callback-after-close", async () => {
    const r = rig({ pin: 5 });
    const s = r.make();
    r.clock.advance(50);
    r.model.faults.nack = true;
    s.drain();
    s.close();
    s.close();
    await settle();
    equal(r.errors.length, 0, "no callback after close");
    throws(() => s.sample(), /ADXL345: closed/);
    throws(() => s.drain(), /closed/);
    r.model.faults.nack = false;
    r.clock.advance(100);
    equal(r.clock.pendingCount <= 1, true, "only the model's own wake-up may remain");
    // The pin is free again.
    const again = r.make();
    again.close();
  });

  test("part-options-validated-naming-the-field", () => {
    throws(() => adxl345Part.options({ range: 3 }, "sensors[0]."), /^sensors\[0\]\.range: expected one of 2, 4, 8, 16/);
    throws(() => adxl345Part.options({ rate: 1000 }, "sensors[0]."), /^sensors\[0\]\.rate/);
    throws(() => adxl345Part.options({ watermarks: 3 }, "sensors[1]."), /^sensors\[1\]\.watermarks: unknown option/);
    const o = adxl345Part.options({ rate: 3200 }, "p.");
    equal(o.rate, 3200);
    equal(o.range, 16);
    equal(o.watermark, 16);
  });

  test("part-create-with-pin-wires-interrupt", () => {
    const r = rig({ pin: 7 });
    const d = { part: "adxl345", name: "bearing", address: 0x53, pin: 7, options: adxl345Part.options({}, "") };
    const s = adxl345Part.create(d, { i2c: r.bus.ioClass(), digital: r.gpio.ioDigital(), clock: r.clock }, () => {});
    r.clock.advance(1000);
    equal((s.sample() as { vibration: { samples: number } }).vibration.samples, 1600);
    equal(s.health?.().overflows, 0);
    s.close();
    throws(
      () => adxl345Part.create(d, { i2c: r.bus.ioClass(), clock: r.clock }, () => {}),
      /pin 7 is declared .* no digital IO/,
    );
  });
});
