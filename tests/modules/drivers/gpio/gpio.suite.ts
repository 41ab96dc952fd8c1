// The GPIO parts on the simulated controller: debounced input, pulse counter (frequency, rpm), relay following the alarm.
import { suite, test, equal, ok, throws, settle } from "../../../harness.js";
import DigitalInput from "telltale/drivers/gpio/digital-input";
import PulseCounter from "telltale/drivers/gpio/pulse-counter";
import Relay from "telltale/drivers/gpio/relay";
import { digitalInputPart, pulseCounterPart, relayPart } from "telltale/drivers/gpio/part";
import { SimGPIO } from "telltale/sim/gpio";
import { ManualClock } from "../../../support/manual-clock.js";

function rig() {
  const clock = new ManualClock();
  const gpio = new SimGPIO(clock);
  return { clock, gpio, Digital: gpio.ioDigital(), PulseCount: gpio.ioPulseCount() };
}

suite("drivers/gpio digital-input", () => {
  test("bounces-within-the-window-are-ignored", () => {
    const r = rig();
    const changes: number[] = [];
    const door = new DigitalInput({
      sensor: { io: r.Digital, pin: 2 },
      clock: r.clock,
      debounceMs: 50,
      onChange: (s) => changes.push(s),
    });
    equal(door.state, 1, "pull-up: an open contact reads 1");
    // The contact closes with five bounces over 8 ms.
    for (const level of [0, 1, 0, 1, 0]) {
      r.gpio.set(2, level);
      r.clock.advance(2);
    }
    equal(door.state, 1, "not settled yet");
    r.clock.advance(49);
    equal(door.state, 0);
    equal(door.changes, 1);
    // A 20 ms glitch back to 1 settles at the old level: no change.
    r.gpio.set(2, 1);
    r.clock.advance(20);
    r.gpio.set(2, 0);
    r.clock.advance(100);
    equal(door.changes, 1);
    const s = door.sample();
    equal(s.input.state, 0);
    equal(s.input.changes, 1);
    equal(door.sample().input.changes, 0, "changes are per sample window");
    equal(changes.join(","), "0");
  });

  test("zero-debounce-and-invert", () => {
    const r = rig();
    const float = new DigitalInput({
      sensor: { io: r.Digital, pin: 3 },
      clock: r.clock,
      debounceMs: 0,
      pull: "down",
      invert: true,
    });
    equal(float.state, 1, "pulled down, inverted");
    r.gpio.set(3, 1);
    r.clock.advance(0);
    equal(float.state, 0);
    equal(float.health().changes, 1);
  });

  test("invalid-options-and-close-twice", () => {
    const r = rig();
    throws(
      () => new DigitalInput({ sensor: { io: r.Digital, pin: 2 }, clock: r.clock, debounceMs: -1 }),
      /option "debounceMs"/,
    );
    throws(
      () => new DigitalInput({ sensor: { io: r.Digital, pin: 2 }, clock: r.clock, pull: "sideways" as never }),
      /option "pull"/,
    );
    throws(() => new DigitalInput({ sensor: { io: r.Digital, pin: 1.5 }, clock: r.clock }), /option "sensor.pin"/);
    const changes: number[] = [];
    const d = new DigitalInput({ sensor: { io: r.Digital, pin: 2 }, clock: r.clock, onChange: (s) => changes.push(s) });
    r.gpio.set(2, 0);
    d.close();
    d.close();
    r.clock.advance(100);
    equal(changes.length, 0, "no callback after close");
    throws(() => d.sample(), /digital-input: closed/);
    throws(() => digitalInputPart.options({ debounceMs: 20000 }, "sensors[3]."), /^sensors\[3\]\.debounceMs/);
    throws(() => digitalInputPart.options({ bounce: 1 }, "sensors[3]."), /^sensors\[3\]\.bounce: unknown option/);
  });
});

suite("drivers/gpio pulse-counter", () => {
  test("frequency-and-rpm-over-the-window", () => {
    const r = rig();
    r.gpio.drivePulses(7, () => 100);
    const tach = new PulseCounter({ sensor: { io: r.PulseCount, pin: 7 }, clock: r.clock, pulsesPerRevolution: 2 });
    r.clock.advance(1000);
    const s = tach.sample();
    ok(s);
    equal(s.tachometer.pulses, 100);
    equal(s.tachometer.frequency, 100);
    equal(s.tachometer.rpm, 3000, "100 Hz / 2 pulses per turn × 60");
    r.clock.advance(500);
    equal(tach.sample()?.tachometer.frequency, 100);
    equal(tach.sample(), undefined, "no time has passed");
  });

  test("count-running-backwards-is-reported-deferred", async () => {
    // A quadrature counter (Moddable's ESP32 pulsecount decodes two phases) can count down: that is a fault, not 0 Hz.
    const r = rig();
    const values = [10, 4];
    class Backwards {
      read(): number {
        return values.shift() ?? 4;
      }
      write(): void {}
      close(): void {}
    }
    const errors: string[] = [];
    const tach = new PulseCounter({
      sensor: { io: Backwards, pin: 8 },
      clock: r.clock,
      onError: (e) => errors.push(e.message),
    });
    r.clock.advance(100);
    equal(tach.sample(), undefined);
    equal(errors.length, 0, "deferred");
    await settle();
    ok(/pulse-counter: the count went back by 6/.test(errors[0] ?? ""), String(errors[0]));
    equal(tach.errors, 1);
    tach.close();
    tach.close();
    throws(() => tach.sample(), /pulse-counter: closed/);
    throws(
      () => pulseCounterPart.options({ pulsesPerRevolution: 0 }, "sensors[4]."),
      /^sensors\[4\]\.pulsesPerRevolution/,
    );
  });
});

suite("drivers/gpio relay", () => {
  test("follows-the-alarm", () => {
    const r = rig();
    const relay = new Relay({ sensor: { io: r.Digital, pin: 20 }, followAlarm: true });
    equal(r.gpio.level(20), 0, "starts off");
    relay.onAlarm(true);
    equal(r.gpio.level(20), 1);
    equal(relay.sample().relay.on, 1);
    relay.onAlarm(false);
    equal(r.gpio.level(20), 0);
    equal(relay.health().on, 0);
  });

  test("active-low-inverts-the-level", () => {
    const r = rig();
    const relay = new Relay({ sensor: { io: r.Digital, pin: 21 }, followAlarm: true, activeLow: true });
    equal(r.gpio.level(21), 1, "off is high on an active-low board");
    relay.onAlarm(true);
    equal(r.gpio.level(21), 0);
    equal(relay.on, true);
    relay.close();
    equal(
      r.gpio
        .writes(21)
        .map((w) => w.value)
        .join(","),
      "1,0,1",
      "closing leaves the relay off",
    );
  });

  test("ignores-the-alarm-unless-asked-and-close-twice", () => {
    const r = rig();
    const relay = new Relay({ sensor: { io: r.Digital, pin: 22 } });
    relay.onAlarm(true);
    equal(r.gpio.level(22), 0);
    relay.write(true);
    equal(r.gpio.level(22), 1);
    relay.close();
    relay.close();
    throws(() => relay.write(false), /relay: closed/);
    relay.onAlarm(true); // after close: ignored, no throw
    throws(() => relayPart.options({ followAlarm: "yes" }, "sensors[5]."), /^sensors\[5\]\.followAlarm/);
    equal(relayPart.channels({ part: "relay", name: "r", pin: 22, options: {} }).length, 0);
  });
});
