// The app suites' rig: a host on a manual clock with simulated parts, a store over a Map, and a network that refuses
// (or a scripted broker's socket class), the offline configuration, and the loops that drive the clock through rounds.
import type { Host } from "telltale/io/host";
import { parseConfig, type Config } from "telltale/config/config";
import { SimI2CBus } from "telltale/sim/i2c-bus";
import { SHT3xModel } from "telltale/drivers/sht3x/model";
import { settle } from "../harness.js";
import { ManualClock } from "./manual-clock.js";
import { RefusingSocket, mapStore } from "./test-host.js";

/** A broker no test reaches (TEST-NET-1, RFC 5737); the rig's network refuses it anyway. */
export const UNREACHABLE_BROKER = "mqtt://192.0.2.1:1883";

export interface AppRigOptions {
  /** The host's clock; a new one unless the test needs it first (e.g. for a simulated world). */
  clock?: ManualClock;
  /** The host's I2C bus (on `clock`); by default a new one with an SHT3x at 0x44 reading 30 °C / 50 %RH. */
  bus?: SimI2CBus;
  /** The host's store, which the test reads and changes directly (what survives a restart); a new one by default. */
  store?: Map<string, string>;
  /** The host's device id: "t1" by default. */
  deviceId?: string;
  /** With true, host.restart records its reasons in `restarts`; without it the host cannot restart. */
  restart?: boolean;
  /** Host fields that differ from the rig's (tcp, flash, updates, hmacSha256, …), given last. */
  host?: Partial<Host>;
}

export interface AppRig {
  clock: ManualClock;
  bus: SimI2CBus;
  store: Map<string, string>;
  host: Host;
  /** Every line the host logged. */
  log: string[];
  /** The reasons of host.restart, with `restart: true`. */
  restarts: string[];
  /** The default bus's SHT3x, whose faults a test may set; undefined when the options gave the bus. */
  sht3x: SHT3xModel | undefined;
}

/** A test host named "test": the parts and store the options give, logging into `log`. */
export function appRig(options: AppRigOptions = {}): AppRig {
  const clock = options.clock ?? new ManualClock();
  let bus = options.bus,
    sht3x: SHT3xModel | undefined;
  if (!bus) {
    bus = new SimI2CBus(clock);
    sht3x = new SHT3xModel({ environment: { temperature: () => 30, humidity: () => 50 } });
    bus.attach(0x44, sht3x);
  }
  const store = options.store ?? new Map<string, string>();
  const log: string[] = [],
    restarts: string[] = [];
  const host: Host = {
    name: "test",
    clock,
    i2c: bus.ioClass(),
    tcp: RefusingSocket,
    deviceId: options.deviceId ?? "t1",
    store: mapStore(store),
    log: (line) => log.push(line),
    connectNetwork: async () => {},
    restart: options.restart ? (reason) => restarts.push(reason) : undefined,
    ...options.host,
  };
  return { clock, bus, store, host, log, restarts, sht3x };
}

/** The app suites' configuration: a round a second, the unreachable broker, a z-score detector calibrated on 5. */
export function offlineConfig(extra: Record<string, unknown> = {}): Config {
  return parseConfig({
    intervalMs: 1000,
    broker: { url: UNREACHABLE_BROKER },
    detector: { model: "zscore", calibrationSamples: 5 },
    ...extra,
  });
}

/** Moves `clock` on by `count` steps of `stepMs`, letting promises settle for `turns` microtask turns after each. */
export async function ticks(clock: ManualClock, count: number, stepMs = 1000, turns = 8): Promise<void> {
  for (let i = 0; i < count; i++) {
    clock.advance(stepMs);
    await settle(turns);
  }
}

/** Moves `clock` on by at least `ms`, in steps of `stepMs`, as `ticks` does. */
export async function runFor(clock: ManualClock, ms: number, stepMs = 500, turns = 8): Promise<void> {
  await ticks(clock, Math.ceil(ms / stepMs), stepMs, turns);
}
