// The float64 twin (bench/reference.mjs, what `bench:skab --reference` runs) has the integer detector's recovery: on a
// synthetic step that lasts past the freeze and then returns, configured as the app configures the slow model
// (SLOW_MODEL_OPTIONS), it clears the alarm once the cause has ended; without recovery its baseline has moved to the
// step and the alarm stays raised through the normal running that follows. Both follow the integer detector.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { MultivariateDetector } from "../../modules/detector/multivariate.js";
import { SLOW_MODEL_OPTIONS } from "../../modules/detector/select.js";

interface Twin {
  update(values: Float64Array): boolean;
  readonly alarm: boolean;
  readonly episodeChannels: number;
}
const root = new URL("../../../", import.meta.url).pathname;
const reference = (await import(pathToFileURL(join(root, "bench/reference.mjs")).href)) as {
  FloatMultivariateDetector: new (options: Record<string, unknown>) => Twin;
};

const P = 4,
  CAL = 400,
  STEP = 1000, // channel 1 steps up by ~3σ here …
  RETURN = 1600, // … and comes back here: 600 updates, past the 240-update freeze, within the 900-update episode
  END = RETURN + 800;

/** Four noisy channels (deterministic xorshift, a sum of four uniforms ≈ σ 100 units) with the step on channel 1. */
function series(): number[][] {
  let seed = 0x2545f491;
  const rnd = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const rows: number[][] = [];
  for (let r = 0; r < END; r++) {
    const row: number[] = [];
    for (let c = 0; c < P; c++) {
      let g = 0;
      for (let k = 0; k < 4; k++) g += rnd() - 0.5;
      row.push(Math.round(10000 + c * 1000 + 170 * g + (c === 1 && r >= STEP && r < RETURN ? 500 : 0)));
    }
    rows.push(row);
  }
  return rows;
}

interface Run {
  alarms: Uint8Array;
  /** The episode's channels on the last update of the step. */
  named: number;
}

function run(detector: { update(v: never): boolean; episodeChannels: number }, values: Int32Array | Float64Array): Run {
  const alarms = new Uint8Array(END);
  let named = 0;
  series().forEach((row, r) => {
    for (let c = 0; c < P; c++) values[c] = row[c]!;
    alarms[r] = detector.update(values as never) ? 1 : 0;
    if (r === RETURN - 1) named = detector.episodeChannels;
  });
  return { alarms, named };
}

const count = (a: Uint8Array, from: number, to: number): number => a.subarray(from, to).reduce((s, x) => s + x, 0);
const twin = (options: object): Run =>
  run(
    new reference.FloatMultivariateDetector({ channels: P, calibrationSamples: CAL, ...options }),
    new Float64Array(P),
  );
const integer = (options: object): Run =>
  run(new MultivariateDetector({ channels: P, calibrationSamples: CAL, ...options }), new Int32Array(P));

// The normal running after the cause has ended: from 100 updates after the return (the fast filter has come back).
const AFTER = [RETURN + 100, RETURN + 400] as const;

test("the twin with the slow model's recovery clears an alarm whose cause has ended", () => {
  const { alarms, named } = twin(SLOW_MODEL_OPTIONS);
  assert.equal(count(alarms, CAL, STEP), 0, "no alarm before the step");
  assert.ok(count(alarms, STEP, STEP + 20) > 0, "the step raises the alarm");
  assert.equal(named, 1 << 1, "the episode names the stepped channel (1)");
  assert.equal(count(alarms, ...AFTER), 0, "no alarm in the normal running after the return");
});

test("the twin without recovery keeps the alarm raised after the return (its baseline moved to the step)", () => {
  const { alarms } = twin({});
  assert.ok(count(alarms, STEP, STEP + 20) > 0, "the step raises the alarm");
  assert.ok(
    count(alarms, ...AFTER) >= 0.9 * (AFTER[1] - AFTER[0]),
    "in alarm through the normal running after the return: " + count(alarms, ...AFTER),
  );
});

test("the twin follows the integer detector on the step and return, with and without recovery", () => {
  for (const options of [SLOW_MODEL_OPTIONS, {}]) {
    const f = twin(options),
      i = integer(options);
    let differ = 0;
    for (let r = 0; r < END; r++) if (f.alarms[r] !== i.alarms[r]) differ++;
    assert.ok(
      differ <= END / 100,
      JSON.stringify(options) + ": alarm differs on " + differ + " of " + END + " updates",
    );
    assert.equal(f.named, i.named, JSON.stringify(options) + ": the same episode channels");
    assert.equal(count(f.alarms, ...AFTER), count(i.alarms, ...AFTER), JSON.stringify(options) + ": after the return");
  }
});
