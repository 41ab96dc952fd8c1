// The simulated GPIO controller: levels, pulls, deferred edge callbacks, output recording, pulse counting, world wiring.
import { suite, test, equal, ok, throws, deepEqual } from "../../harness.js";
import { SimGPIO } from "telltale/sim/gpio";
import { createSimWorld } from "telltale/sim/world";
import { parts } from "telltale/drivers/registry";
import type { PartDescriptor, SensorDeclaration, SensorIO } from "telltale/drivers/part";
import type { ADXL345Model } from "telltale/drivers/adxl345/model";
import { ManualClock } from "../../support/manual-clock.js";

function part(name: string): PartDescriptor {
  const descriptor = parts[name];
  if (!descriptor) throw new Error("no part " + JSON.stringify(name) + " in the registry");
  return descriptor;
}

suite("sim/gpio", () => {
  test("pull-decides-a-floating-input-and-the-world-overrides-it", () => {
    const clock = new ManualClock();
    const gpio = new SimGPIO(clock);
    const Digital = gpio.ioDigital();
    const up = new Digital({ pin: 2, mode: Digital.InputPullUp });
    equal(up.read(), 1);
    gpio.set(2, 0);
    equal(up.read(), 0);
    gpio.set(2, undefined);
    equal(up.read(), 1);
    const down = new Digital({ pin: 3, mode: Digital.InputPullDown });
    equal(down.read(), 0);
  });

  test("edge-callback-is-deferred-and-coalesced", () => {
    const clock = new ManualClock();
    const gpio = new SimGPIO(clock);
    const Digital = gpio.ioDigital();
    let calls = 0;
    const pin = new Digital({
      pin: 4,
      mode: Digital.Input,
      edge: Digital.Rising,
      onReadable() {
        calls++;
      },
    });
    gpio.pulse(4, 3);
    equal(calls, 0, "not inside the call that moved the pin");
    clock.advance(0);
    equal(calls, 1, "one pending callback per pin, like a device's ISR message");
    gpio.set(4, 1);
    gpio.set(4, 0); // falling: not asked for
    clock.advance(0);
    equal(calls, 2);
    gpio.set(4, 1);
    pin.close();
    clock.advance(0);
    equal(calls, 2, "no callback after close");
  });

  test("outputs-are-recorded-and-inputs-refuse-writes", () => {
    const clock = new ManualClock();
    const gpio = new SimGPIO(clock);
    const Digital = gpio.ioDigital();
    const out = new Digital({ pin: 5, mode: Digital.Output });
    clock.advance(10);
    out.write(1);
    clock.advance(5);
    out.write(0);
    deepEqual(gpio.writes(5), [
      { at: 10, value: 1 },
      { at: 15, value: 0 },
    ]);
    equal(gpio.level(5), 0);
    throws(() => new Digital({ pin: 5, mode: Digital.Input }), /pin 5 in use/);
    out.close();
    out.close();
    throws(() => out.write(1), /closed/);
    const input = new Digital({ pin: 5, mode: Digital.Input });
    throws(() => input.write(1), /write on an input/);
    throws(() => new Digital({ pin: 300, mode: Digital.Input }), /invalid pin 300/);
    throws(
      () => new Digital({ pin: 6, mode: Digital.Output, edge: Digital.Rising, onReadable() {} }),
      /onReadable needs an input/,
    );
  });

  test("pulse-count-counts-rising-edges-and-integrates-a-pulse-train", () => {
    const clock = new ManualClock();
    const gpio = new SimGPIO(clock);
    const PulseCount = gpio.ioPulseCount();
    const counter = new PulseCount({ signal: 12 });
    gpio.pulse(12, 7);
    equal(counter.read(), 7);
    counter.write(0);
    gpio.drivePulses(12, () => 25);
    clock.advance(2000);
    equal(counter.read(), 50, "25 Hz for 2 s");
    gpio.drivePulses(12, (now) => (now < 3000 ? 10 : 0));
    clock.advance(500);
    equal(counter.read(), 55);
    counter.close();
    throws(() => counter.read(), /closed/);
  });

  test("world-wires-accelerometer-int-tachometer-and-relay", () => {
    const clock = new ManualClock();
    const sensors: SensorDeclaration[] = [
      { part: "adxl345", name: "bearing", address: 0x53, pin: 14, options: part("adxl345").options({}, "") },
      {
        part: "pulse-counter",
        name: "shaft",
        pin: 15,
        options: part("pulse-counter").options({ pulsesPerRevolution: 2 }, ""),
      },
      { part: "relay", name: "siren", pin: 16, options: part("relay").options({ followAlarm: true }, "") },
    ];
    const world = createSimWorld(clock, sensors);
    const io: SensorIO = {
      i2c: world.bus.ioClass(),
      digital: world.gpio.ioDigital(),
      pulseCount: world.gpio.ioPulseCount(),
      clock,
    };
    const errors: string[] = [];
    const [bearing, shaft, siren] = sensors.map((d) => part(d.part).create(d, io, (e) => errors.push(e.message)));
    ok(bearing && shaft && siren, "three sensors");
    clock.advance(2000);
    const v = bearing.sample() as { vibration: { samples: number; rms: { x: number } } };
    equal(v.vibration.samples, 3200, "drained on the INT1 line, nothing lost");
    ok(world.gpio.edges(14) >= 199, "watermark edges " + world.gpio.edges(14));
    // The machine's imbalance: 0.5 m/s² at shaft speed plus a 0.05 m/s² bearing tone and noise: RMS ≈ 0.36 m/s².
    ok(v.vibration.rms.x > 0.3 && v.vibration.rms.x < 0.45, "x rms " + v.vibration.rms.x);
    const t = shaft.sample() as { tachometer: { rpm: number } };
    ok(Math.abs(t.tachometer.rpm - 1475) < 40, "rpm " + t.tachometer.rpm);
    siren.onAlarm?.(true);
    equal(world.gpio.level(16), 1);
    equal((world.attached.get("bearing") as ADXL345Model).rate, 1600);
    equal(errors.length, 0, errors.join("; "));
    for (const s of [bearing, shaft, siren]) s.close();
  });
});
