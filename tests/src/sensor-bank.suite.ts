// The sensor bank against fake parts: the fixed-point channel vector, probe / fail / re-probe, health, and the alarm outputs.
import { suite, test, equal, deepEqual, ok } from "../harness.js";
import { SensorBank, FAIL_AFTER, REPROBE_TICKS } from "../../src/sensor-bank.js";
import type { Readings, SensorHealth } from "../../src/telemetry.js";
import type { PartDescriptor, SensorDeclaration, SensorInstance, SensorIO } from "telltale/drivers/part";
import type { I2CConstructor } from "telltale/io/io";
import { ManualClock } from "../support/manual-clock.js";

/** What a fake part does, per sensor name: the test changes it between rounds. */
interface Behaviour {
  /** Creates that throw before one succeeds. */
  failCreates: number;
  /** The next sample (undefined: no data this round). */
  sample: { a?: number; b?: number } | undefined;
  health?: Record<string, number>;
}

class FakeSensor implements SensorInstance {
  samples = 0;
  closed = 0;
  readonly alarms: boolean[] = [];
  constructor(
    readonly behaviour: Behaviour,
    readonly onError: (error: Error) => void,
  ) {}
  sample(): unknown {
    this.samples++;
    return this.behaviour.sample && { ...this.behaviour.sample };
  }
  close(): void {
    this.closed++;
  }
  onAlarm(alarm: boolean): void {
    this.alarms.push(alarm);
  }
  health(): Record<string, number> {
    return this.behaviour.health ?? {};
  }
}

function rig(names: string[] = ["s1", "s2"]) {
  const clock = new ManualClock();
  const behaviours: Record<string, Behaviour> = {},
    built: FakeSensor[] = [],
    probed: string[] = [],
    log: string[] = [];
  for (const name of names) behaviours[name] = { failCreates: 0, sample: { a: 1.234, b: 2 } };
  const fake: PartDescriptor = {
    part: "fake",
    bus: "i2c",
    channels: () => [
      { key: "a", unit: "°C", scale: 100, floor: 5, read: (s) => (s as { a?: number }).a },
      { key: "b", unit: "%", scale: 10, floor: 2, read: (s) => (s as { b?: number }).b },
    ],
    options: (raw) => raw,
    create(d, _io, onError) {
      const b = behaviours[d.name];
      if (!b) throw new Error("fake: no behaviour for " + d.name);
      if (b.failCreates > 0) {
        b.failCreates--;
        throw new Error("fake: no answer at 0x44");
      }
      const s = new FakeSensor(b, onError);
      built.push(s);
      return s;
    },
  };
  const sensors: SensorDeclaration[] = names.map((name) => ({ part: "fake", name, options: {} }));
  const io: SensorIO = { i2c: undefined as unknown as I2CConstructor, clock };
  const bank = new SensorBank({
    sensors,
    io,
    log: (line) => log.push(line),
    parts: { fake },
    onProbed: (i, d) => probed.push(i + ":" + d.name),
  });
  const round = () => {
    const readings: Readings = {},
      health: SensorHealth = {};
    const valid = bank.sample(readings, health);
    return { readings, health, valid };
  };
  return { clock, bank, behaviours, built, probed, log, round };
}

suite("sensor bank", () => {
  test("channels-form-a-fixed-point-vector-with-a-valid-mask", () => {
    const r = rig();
    deepEqual(r.bank.channelNames, ["s1.a", "s1.b", "s2.a", "s2.b"]);
    deepEqual(r.bank.floors, [5, 2, 5, 2]);
    r.bank.probe();
    r.behaviours.s2!.sample = { a: -0.016, b: 7.25 };
    const { readings, valid } = r.round();
    deepEqual(Array.from(r.bank.values), [123, 20, -2, 73], "round(value × scale)");
    equal(valid, 0b1111);
    deepEqual(readings, { s1: { a: 1.23, b: 2 }, s2: { a: -0.02, b: 7.25 } }, "readings in hundredths");
  });

  test("missing-or-non-finite-values-are-left-out", () => {
    const r = rig();
    r.bank.probe();
    r.round();
    r.behaviours.s1!.sample = { a: Number.NaN };
    const { readings, valid } = r.round();
    equal(valid, 0b1100, "neither of s1's channels this round");
    deepEqual(readings.s1, {});
    equal(r.bank.values[0], 123, "the vector keeps the last valid value; the mask says it is stale");
  });

  test("first-conversion-starts-5-ms-after-the-probe", () => {
    const r = rig(["s1"]);
    r.bank.probe();
    deepEqual(r.probed, ["0:s1"], "the hook sees the new driver");
    equal(r.built[0]?.samples, 0);
    r.clock.advance(5);
    equal(r.built[0]?.samples, 1);
  });

  test("failed-probe-is-logged-once-and-retried-every-10-rounds", () => {
    const r = rig(["s1"]);
    r.behaviours.s1!.failCreates = 2;
    r.bank.probe();
    deepEqual(r.log, [`sensor s1: failed: fake: no answer at 0x44 (re-probing every ${REPROBE_TICKS} samples)`]);
    for (let i = 0; i < REPROBE_TICKS - 1; i++) equal(r.round().health.s1?.state, "failed");
    equal(r.built.length, 0);
    r.round();
    equal(r.log.length, 1, "the same failure is not logged again");
    for (let i = 0; i < REPROBE_TICKS - 1; i++) r.round();
    const { health } = r.round();
    equal(r.built.length, 1, "built on the second re-probe");
    deepEqual(health.s1, { state: "ok", errors: 2 });
    equal(r.log[1], "sensor s1: recovered");
  });

  test("failed-samples-in-a-row-mark-the-sensor-failed-and-close-it", () => {
    const r = rig(["s1"]);
    r.bank.probe();
    r.behaviours.s1!.sample = undefined;
    for (let i = 0; i < FAIL_AFTER - 1; i++) r.round();
    equal(r.built[0]?.closed, 0);
    const { readings, health } = r.round();
    equal(r.built[0]?.closed, 1);
    deepEqual(readings, {});
    equal(health.s1?.state, "failed");
    ok(r.log.includes(`sensor s1: marked failed after ${FAIL_AFTER} failed samples`), r.log.join("\n"));
    r.behaviours.s1!.sample = { a: 1, b: 1 };
    for (let i = 0; i < REPROBE_TICKS; i++) r.round();
    equal(r.built.length, 2, "re-probed");
    equal(r.round().health.s1?.state, "ok");
  });

  test("driver-errors-are-counted-and-logged-and-part-health-is-merged", () => {
    const r = rig(["s1"]);
    r.bank.probe();
    r.built[0]!.onError(new Error("fake: CRC mismatch"));
    r.behaviours.s1!.health = { overflows: 3 };
    deepEqual(r.round().health.s1, { state: "ok", errors: 1, overflows: 3 });
    deepEqual(r.log, ["sensor s1: fake: CRC mismatch"]);
  });

  test("an-output-probed-during-an-alarm-follows-it-at-once", () => {
    const r = rig(["s1"]);
    r.behaviours.s1!.failCreates = 1;
    r.bank.probe();
    r.bank.alarm(true);
    for (let i = 0; i < REPROBE_TICKS; i++) r.round();
    equal(r.built.length, 1, "re-probed");
    deepEqual(r.built[0]!.alarms, [true], "a relay that starts off is switched on without a new alarm change");
    r.bank.alarm(false);
    r.behaviours.s1!.sample = undefined;
    for (let i = 0; i < FAIL_AFTER + REPROBE_TICKS; i++) r.round();
    equal(r.built.length, 2);
    deepEqual(r.built[1]!.alarms, [], "nothing to follow once cleared");
  });

  test("alarm-reaches-every-output-and-close-closes-every-driver", () => {
    const r = rig();
    r.bank.probe();
    r.bank.alarm(true);
    r.bank.alarm(false);
    deepEqual(
      r.built.map((s) => s.alarms),
      [
        [true, false],
        [true, false],
      ],
    );
    r.bank.close();
    r.bank.close();
    deepEqual(
      r.built.map((s) => s.closed),
      [1, 1],
      "closed once",
    );
  });
});
