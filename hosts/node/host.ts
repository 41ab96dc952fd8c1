// The Node host: real sockets, real timers, a file-backed store and a simulated I2C bus with device models.
import { performance } from "node:perf_hooks";
import { hostname } from "node:os";
import type { Host } from "../../src/host.js";
import type { Clock, I2CConstructor, Store } from "../../modules/io/io.js";
import { SimI2CBus } from "../../modules/sim/i2c-bus.js";
import { SHT3xModel } from "../../modules/drivers/sht3x/model.js";
import { MachineEnvironment, type MachineOptions } from "../../modules/sim/machine.js";
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
  /** The simulated machine the SHT3x model measures. */
  machine?: MachineOptions;
  clock?: Clock;
}

export interface NodeHost extends Host {
  readonly bus: SimI2CBus;
  readonly machine: MachineEnvironment;
  readonly sht3x: SHT3xModel;
}

export function createNodeHost(options: NodeHostOptions): NodeHost {
  const clock = options.clock ?? nodeClock;
  const bus = new SimI2CBus(clock);
  const machine = new MachineEnvironment(options.machine);
  const start = clock.now();
  // The model sees time since the host started, so a fault "at 60 s" means 60 s after boot.
  const sht3x = new SHT3xModel({ environment: { temperature: (now) => machine.temperature(now - start), humidity: (now) => machine.humidity(now - start) } });
  bus.attach(0x44, sht3x);
  const store: Store = new FileStore(options.storePath);
  const i2c: I2CConstructor = bus.ioClass();
  return {
    name: "node",
    clock, i2c, store, bus, machine, sht3x,
    tcp: NodeTCPSocket,
    deviceId: options.deviceId ?? hostname().replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 32),
    log: options.log ?? ((line) => console.log(line)),
    connectNetwork: async () => {},
  };
}
