// For each part, how a simulated host puts its chip model into the world (fed by the machine).
import type { SensorDeclaration } from "telltale/drivers/part";
import type { SimWorld } from "telltale/sim/world";
import { SHT3xModel } from "telltale/drivers/sht3x/model";
// Drivers add one import line above and one entry below.

export type AttachModel = (world: SimWorld, declaration: SensorDeclaration) => unknown;

export const models: Readonly<Record<string, AttachModel>> = Object.freeze({
  sht3x: (world: SimWorld, d: SensorDeclaration) => {
    const m = world.machine;
    const model = new SHT3xModel({ environment: {
      temperature: (now) => m.temperature(world.elapsed(now)),
      humidity: (now) => m.humidity(world.elapsed(now)),
    } });
    world.bus.attach(d.address!, model);
    return model;
  },
});
