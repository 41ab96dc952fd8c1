// The Node host: real sockets, real timers, a file-backed store and a simulated I2C bus with device models.
import { performance } from "node:perf_hooks";
import { hostname } from "node:os";
import type { Host } from "../../src/host.js";
import type { Clock, I2CConstructor, Store } from "../../modules/io/io.js";
import type { MachineOptions } from "../../modules/sim/machine.js";
import type { SensorDeclaration } from "../../modules/drivers/part.js";
import { createSimWorld, type SimWorld } from "../../modules/sim/world.js";
import { NodeTCPSocket } from "./tcp.js";
import { FileStore } from "./store.js";

export const nodeClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface NodeHostOptions {
  /** Where the store's file lives. */
  storePath: string;
  deviceId?: string;
  log?: (line: string) => void;
  /** The simulated machine the chip models measure. */
  machine?: MachineOptions;
  /** The declared sensors: a chip model is attached for each. */
  sensors: readonly SensorDeclaration[];
  clock?: Clock;
}

export interface NodeHost extends Host {
  readonly world: SimWorld;
}

export function createNodeHost(options: NodeHostOptions): NodeHost {
  const clock = options.clock ?? nodeClock;
  const world = createSimWorld(clock, options.sensors, options.machine);
  const store: Store = new FileStore(options.storePath);
  const i2c: I2CConstructor = world.bus.ioClass();
  return {
    name: "node",
    clock, i2c, store, world,
    tcp: NodeTCPSocket,
    deviceId: options.deviceId ?? hostname().replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 32),
    log: options.log ?? ((line) => console.log(line)),
    connectNetwork: async () => {},
  };
}
