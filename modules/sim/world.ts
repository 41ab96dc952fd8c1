// The simulated world a simulator or Node host builds: a machine, a clock, an I2C bus with chip models on it.
// Dependencies run one way: world → models (the table of chip models) → drivers' models → sim's bus and environment.
import type { Clock } from "telltale/io/io";
import type { SensorDeclaration } from "telltale/drivers/part";
import { SimI2CBus } from "telltale/sim/i2c-bus";
import { SimGPIO } from "telltale/sim/gpio";
import { MachineEnvironment, type MachineOptions } from "telltale/sim/machine";
import { models as standardModels, type ModelContext, type ModelTable } from "telltale/sim/models";

export interface SimWorld extends ModelContext {
  readonly clock: Clock;
  readonly bus: SimI2CBus;
  /** GPIO pins: switches, pulse trains and interrupt lines the world drives, outputs it records. */
  readonly gpio: SimGPIO;
  readonly machine: MachineEnvironment;
  /** Time since the world was made, ms: models see the machine's time, so a fault "at 60 s" is 60 s after boot. */
  elapsed(now: number): number;
  /** The models attached per sensor name, for tests and fault injection. */
  readonly attached: Map<string, unknown>;
}

/**
 * Builds the world and attaches, for every declared sensor whose part `table` lists, its model (default: every chip
 * model the firmware has, from sim/models).
 */
export function createSimWorld(
  clock: Clock,
  sensors: readonly SensorDeclaration[],
  machine: MachineOptions = {},
  table: ModelTable = standardModels,
): SimWorld {
  const start = clock.now();
  const world: SimWorld = {
    clock,
    bus: new SimI2CBus(clock),
    gpio: new SimGPIO(clock),
    machine: new MachineEnvironment(machine),
    elapsed: (now) => now - start,
    attached: new Map(),
  };
  for (const declaration of sensors) {
    const attach = table[declaration.part];
    if (attach) world.attached.set(declaration.name, attach(world, declaration));
  }
  return world;
}
