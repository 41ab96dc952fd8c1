// The simulated world: it attaches chip models from the table it is handed and knows no part itself.
import { suite, test, equal, ok } from "../../harness.js";
import { createSimWorld } from "telltale/sim/world";
import { models, type ModelContext } from "telltale/sim/models";
import type { SensorDeclaration } from "telltale/drivers/part";
import { SHT3xModel } from "telltale/drivers/sht3x/model";
import { ManualClock } from "../../support/manual-clock.js";

const SHT3X: SensorDeclaration = { part: "sht3x", name: "air", address: 0x44, options: {} };

suite("sim/world", () => {
  test("default-table-attaches-the-standard-model", () => {
    const world = createSimWorld(new ManualClock(), [SHT3X]);
    ok(world.attached.get("air") instanceof SHT3xModel, "an SHT3x model on the bus");
  });

  test("attaches-only-from-the-table-it-is-given", () => {
    const seen: string[] = [];
    const table = Object.freeze({
      sht3x: (w: ModelContext, d: SensorDeclaration) => {
        seen.push(d.name + "@" + d.address);
        return w.elapsed(w.clock.now());
      },
    });
    const world = createSimWorld(
      new ManualClock(),
      [SHT3X, { part: "bme280", name: "baro", address: 0x76, options: {} }],
      {},
      table,
    );
    equal(seen.join(), "air@68");
    equal(world.attached.get("air"), 0, "the table's own return value, at elapsed 0");
    equal(world.attached.has("baro"), false, "a part the table lacks gets no model");
  });

  test("standard-table-is-frozen", () => {
    ok(Object.isFrozen(models), "models table frozen (preloadable)");
  });
});
