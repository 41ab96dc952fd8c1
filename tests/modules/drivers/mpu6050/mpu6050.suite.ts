// The MPU-6050 driver against its register-level model: id, FIFO burst drain at 1.6 kHz, overflow, INT via sim GPIO, faults.
import { suite, test, equal, ok, throws, settle } from "../../../harness.js";
import MPU6050, { type MPU6050Options } from "telltale/drivers/mpu6050/mpu6050";
import { MPU6050Model, type Motion } from "telltale/drivers/mpu6050/model";
import { mpu6050Part } from "telltale/drivers/mpu6050/part";
import {
  Register,
  Int,
  FifoEn,
  UserCtrl,
  PwrMgmt1,
  countsPerG,
  sampleRate,
  dividerFor,
} from "telltale/drivers/mpu6050/registers";
import { millisScale, countsToMillis } from "telltale/drivers/accelerometer/window";
import { SimI2CBus } from "telltale/sim/i2c-bus";
import { SimGPIO } from "telltale/sim/gpio";
import { ManualClock } from "../../../support/manual-clock.js";

const G = 9.80665;

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
  const model = new MPU6050Model({ motion: options.motion ?? tones, clock });
  bus.attach(0x68, model);
  if (options.pin !== undefined) {
    const pin = options.pin;
    model.onInterrupt = (level) => gpio.set(pin, level ? 1 : 0);
  }
  const errors: string[] = [];
  const make = (extra: Partial<MPU6050Options> = {}) =>
    new MPU6050({
      sensor: { io: bus.ioClass(), address: 0x68 },
      clock,
      interrupt: options.pin !== undefined ? { io: gpio.ioDigital(), pin: options.pin } : undefined,
      onError: (e) => errors.push(e.message),
      ...extra,
    });
  return { clock, bus, gpio, model, errors, make };
}

function registers(r: ReturnType<typeof rig>) {
  const io = new (r.bus.ioClass())({ address: 0x68 });
  return {
    get(reg: number, count = 1): Uint8Array {
      io.write(Uint8Array.of(reg));
      return new Uint8Array(io.read(count));
    },
    set(reg: number, value: number): void {
      io.write(Uint8Array.of(reg, value));
    },
  };
}

suite("drivers/mpu6050", () => {
  test("reset-values-and-who-am-i", () => {
    // Register map §3: all registers reset to 0x00 except PWR_MGMT_1 = 0x40 (sleep) and WHO_AM_I = 0x68.
    const reg = registers(rig());
    equal(reg.get(Register.whoAmI)[0], 0x68);
    equal(reg.get(Register.pwrMgmt1)[0], 0x40);
    equal(reg.get(Register.smplrtDiv)[0], 0);
    equal(reg.get(Register.accelConfig)[0], 0);
  });

  test("wrong-who-am-i-throws-naming-address", () => {
    const r = rig();
    r.model.registers[Register.whoAmI] = 0x70; // an MPU-6500 answers 0x70
    throws(() => r.make(), /MPU-6050: no working sensor at address 0x68 \(WHO_AM_I is 0x70, not 0x68\)/);
  });

  test("sample-rate-divider-and-scale-factors", () => {
    // §4.2: sample rate = gyroscope output rate (8 kHz with DLPF_CFG 0, else 1 kHz) / (1 + SMPLRT_DIV).
    equal(sampleRate(0, 4), 1600);
    equal(sampleRate(1, 0), 1000);
    equal(dividerFor(1600, 0), 4);
    equal(dividerFor(1600, 1), -1, "1.6 kHz needs the 8 kHz base");
    // AFS_SEL 0–3: 16384, 8192, 4096, 2048 LSB/g (Registers 59–64; product specification §6.2).
    equal(countsPerG(2), 16384);
    equal(countsPerG(16), 2048);
    equal(countsToMillis(16384, millisScale(16384)), 9807, "1 g at ±2 g");
    equal(countsToMillis(-32768, millisScale(16384)), -19613, "-2 g");
    equal(countsToMillis(2048, millisScale(2048)), 9807, "1 g at ±16 g");
  });

  test("invalid-options-rejected-before-io", () => {
    const r = rig();
    throws(() => r.make({ rate: 1500 }), /option "rate" must divide 8000 Hz by an integer/);
    throws(() => r.make({ rate: 1600, dlpf: 1 }), /option "rate" must divide 1000 Hz/);
    throws(() => r.make({ dlpf: 7 }), /option "dlpf"/);
    throws(() => r.make({ range: 3 as never }), /option "range"/);
    throws(
      () => r.make({ sensor: { io: r.bus.ioClass(), address: 0x53 } }),
      /option "sensor.address" must be 0x68 or 0x69/,
    );
    equal(r.model.registers[Register.pwrMgmt1], 0x40, "still asleep: nothing was written");
  });

  test("constructor-wakes-and-programs-fifo", () => {
    const r = rig();
    const s = r.make({ range: 8 });
    const reg = registers(r);
    equal(reg.get(Register.pwrMgmt1)[0]! & PwrMgmt1.sleep, 0);
    equal(reg.get(Register.fifoEn)[0], FifoEn.accel);
    equal(reg.get(Register.userCtrl)[0], UserCtrl.fifoEnable);
    equal(reg.get(Register.smplrtDiv)[0], 4);
    equal(reg.get(Register.accelConfig)[0], 2 << 3);
    equal(s.configuration.rate, 1600);
  });

  test("burst-drain-1600-hz-for-5-s-without-loss", async () => {
    const r = rig();
    const s = r.make({ rate: 1600 });
    r.clock.advance(5000);
    const v = s.sample();
    ok(v);
    equal(v.vibration.samples, 8000, "ODR × time");
    equal(v.vibration.overflows, 0);
    equal(r.model.samplesProduced, 8000);
    await settle();
    equal(r.errors.length, 0, r.errors.join("; "));
  });

  test("accelerometer-updates-at-1-khz-so-1600-hz-repeats-entries", () => {
    // §4.2 note: the accelerometer output rate is 1 kHz; above it the same sample reaches the FIFO more than once.
    const ramp: Motion = { vibration: (now, axis) => (axis === 0 ? now * 0.02 : axis === 2 ? G : 0) };
    const r = rig({ motion: ramp });
    const s = r.make({ rate: 1600, range: 16, ringFrames: 8192 });
    r.clock.advance(5000);
    s.drain();
    const frames = new Int16Array(3 * 8000);
    equal(s.readCounts(frames), 8000);
    let repeats = 0;
    for (let i = 1; i < 8000; i++) if (frames[3 * i] === frames[3 * (i - 1)]) repeats++;
    equal(repeats, 8000 - 5001, "8000 entries carry the 5001 accelerometer updates from 0 to 5000 ms");
  });

  test("fifo-overflow-drops-oldest-bytes-and-sets-int-status-bit-4", () => {
    // §4.31: when the FIFO has overflowed the oldest data is lost and FIFO_OFLOW_INT is set; 1024 bytes = 170⅔ frames.
    const ramp: Motion = { vibration: (now, axis) => (axis === 0 ? now * (G / 16384) : 0) }; // x = the accelerometer's 1 ms tick
    const r = rig({ motion: ramp });
    const reg = registers(r);
    reg.set(Register.pwrMgmt1, PwrMgmt1.clockPllX);
    reg.set(Register.smplrtDiv, 9); // 800 Hz
    reg.set(Register.fifoEn, FifoEn.accel);
    reg.set(Register.userCtrl, UserCtrl.fifoEnable);
    r.clock.advance(171 * 1.25); // 171 frames = 1026 bytes
    const count = reg.get(Register.fifoCountH, 2);
    equal((count[0]! << 8) | count[1]!, 1024);
    equal(reg.get(Register.intStatus)[0]! & Int.fifoOverflow, Int.fifoOverflow);
    equal(reg.get(Register.intStatus)[0]! & Int.fifoOverflow, 0, "INT_STATUS clears when read");
    const first = reg.get(Register.fifoRW, 6);
    // The two oldest bytes (frame 1's X) were dropped: the FIFO now starts with frame 1's Y, then Z, then frame 2's X.
    equal((first[4]! << 8) | first[5]!, 2, "frame 2's X (tick ⌊2 × 1.25⌋ = 2 ms) where a frame should start");
  });

  test("fifo-count-latched-by-reading-high-byte", () => {
    // §4.30: FIFO_COUNT_H loads both registers; reading only FIFO_COUNT_L does not update them.
    const r = rig();
    const reg = registers(r);
    reg.set(Register.pwrMgmt1, PwrMgmt1.clockPllX);
    reg.set(Register.smplrtDiv, 9);
    reg.set(Register.fifoEn, FifoEn.accel);
    reg.set(Register.userCtrl, UserCtrl.fifoEnable);
    r.clock.advance(10); // 8 frames
    equal(reg.get(Register.fifoCountL)[0], 0, "stale before FIFO_COUNT_H is read");
    const both = reg.get(Register.fifoCountH, 2);
    equal(both[1], 48);
    r.clock.advance(10);
    equal(reg.get(Register.fifoCountL)[0], 48, "still the latched value");
  });

  test("overflow-detected-counted-and-fifo-resynchronised", async () => {
    const r = rig();
    const s = r.make({ rate: 1600, pollMs: 1000 });
    r.clock.advance(3000);
    equal(s.overflows, 3);
    const v = s.sample();
    equal(v, undefined, "every drain found an overflow: nothing trustworthy to summarise");
    await settle();
    ok(/MPU-6050: the FIFO overflowed 3 times and no sample was kept/.test(r.errors[0] ?? ""), String(r.errors[0]));
    r.clock.advance(10);
    const w = s.sample();
    ok(w, "frames after the FIFO reset are aligned again");
    equal(w.vibration.samples, 16);
    ok(Math.abs(w.accelerometer.z - G) < 0.25, "z " + w.accelerometer.z + " (gravity ± the 0.2 m/s² tone over 10 ms)");
    equal(r.errors.length, 1);
  });

  test("overflow-interrupt-via-sim-gpio-drains-at-once", () => {
    const r = rig({ pin: 9 });
    const s = r.make({ rate: 1600, pollMs: 1000 });
    equal(r.model.registers[Register.intEnable], Int.fifoOverflow);
    r.clock.advance(500);
    // 171 frames overflow after 106.9 ms: the INT edge drains and resets at once, rather than at the 1000 ms poll.
    ok(s.overflows >= 4, "overflows " + s.overflows);
    equal(r.model.interrupt, false, "reading INT_STATUS released the latched pin");
  });

  test("interrupt-and-poll-together-lose-nothing", () => {
    const r = rig({ pin: 9 });
    const s = r.make({ rate: 1600 });
    r.clock.advance(5000);
    equal(s.sample()?.vibration.samples, 8000);
    equal(s.overflows, 0);
  });

  test("summary-rms-and-mean-in-m-per-s2", () => {
    const r = rig();
    const s = r.make({ rate: 1000, dlpf: 0 });
    r.clock.advance(1000);
    const v = s.sample();
    ok(v);
    equal(v.vibration.samples, 1000);
    ok(Math.abs(v.vibration.rms.x - 1 / Math.SQRT2) < 0.01, "x rms " + v.vibration.rms.x);
    ok(Math.abs(v.vibration.rms.y - 0.5 / Math.SQRT2) < 0.01, "y rms " + v.vibration.rms.y);
    ok(Math.abs(v.accelerometer.z - G) < 0.01, "z mean " + v.accelerometer.z);
    const mm = new Int32Array(3);
    r.clock.advance(2);
    equal(s.read(mm), 1);
    ok(Math.abs(mm[2]! - 9807) < 250, "z in mm/s² " + mm[2]);
  });

  test("faults-reported-deferred-and-recover", async () => {
    const r = rig();
    const s = r.make();
    r.clock.advance(100);
    s.sample();
    r.model.faults.nack = true;
    r.clock.advance(200);
    equal(s.sample(), undefined);
    await settle();
    equal(r.errors.length, 1);
    ok(/MPU-6050: .*NACK/.test(r.errors[0] ?? ""), r.errors[0]);
    r.model.faults.nack = false;
    r.clock.advance(100);
    ok(s.sample(), "recovers");
    r.model.faults.frozen = true;
    r.clock.advance(100);
    equal(s.sample(), undefined);
    r.model.faults.frozen = false;
    r.model.faults.outOfRange = true;
    r.clock.advance(100);
    equal(s.sample(), undefined);
    r.model.faults.outOfRange = false;
    r.model.faults.stuck = true;
    r.clock.advance(1000);
    equal(s.sample(), undefined);
    await settle();
    ok(/output frozen/.test(r.errors[1] ?? ""), r.errors[1]);
    ok(/x axis at the end of its range/.test(r.errors[2] ?? ""), r.errors[2]);
    ok(/no samples for 1000 ms/.test(r.errors[3] ?? ""), r.errors[3]);
    equal(s.errors, 4);
  });

  test("configure-changes-only-given-options", () => {
    const r = rig();
    const s = r.make({ range: 8 });
    s.configure({ rate: 1000 });
    equal(s.configuration.range, 8);
    equal(r.model.rate, 1000);
    s.configure({ dlpf: 3, rate: 200 });
    equal(r.model.registers[Register.config], 3);
    equal(r.model.registers[Register.smplrtDiv], 4);
    r.clock.advance(1000);
    equal(s.sample()?.vibration.samples, 200);
  });

  test("close-twice-no-callback-after-close", async () => {
    const r = rig({ pin: 3 });
    const s = r.make();
    r.model.faults.nack = true;
    s.drain();
    s.close();
    s.close();
    await settle();
    equal(r.errors.length, 0);
    throws(() => s.sample(), /MPU-6050: closed/);
    throws(() => s.read(new Int32Array(3)), /closed/);
  });

  test("part-options-validated-naming-the-field", () => {
    throws(
      () => mpu6050Part.options({ rate: 1500 }, "sensors[2]."),
      /^sensors\[2\]\.rate: expected 8000 Hz divided by an integer/,
    );
    throws(() => mpu6050Part.options({ range: 5 }, "sensors[2]."), /^sensors\[2\]\.range/);
    throws(() => mpu6050Part.options({ watermark: 5 }, "sensors[2]."), /^sensors\[2\]\.watermark: unknown option/);
    const o = mpu6050Part.options({}, "");
    equal(o.rate, 1600);
    equal(o.range, 4);
  });
});
