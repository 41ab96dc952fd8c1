// Desktop-simulator host (mcconfig -p lin/mac/win): simulated SHT3x chips on a simulated I2C bus, fed by a
// simulated machine; real TCP/TLS sockets, Preference storage and trace logging from the Moddable runtime.
import config from "mc/config";
import type { Host } from "../../src/host";
import { SimI2CBus } from "telltale/sim/i2c-bus";
import { MachineEnvironment, type FaultKind } from "telltale/sim/machine";
import { SHT3xModel } from "telltale/drivers/sht3x/model";
import { TickClock } from "telltale/hosts/esp32/clock";
import { PreferenceStore } from "telltale/hosts/esp32/store";
import { HostSocket } from "telltale/hosts/esp32/socket";

/** The device's limit (ESP-IDF NVS strings), so the simulator refuses what the board would refuse. */
const NVS_MAX_STRING = 3999;
/** Where the app looks for an SHT3x when the config declares no sensors (modules/config/config.ts). */
const DEFAULT_ADDRESSES = [0x44];

function log(line: string): void {
  trace(line + "\n");
}

/** SHT3x addresses declared in the app config, so the simulated bus holds the chips the app will probe. */
function sht3xAddresses(): number[] {
  const sensors: unknown = config.sensors;
  if (!Array.isArray(sensors)) return DEFAULT_ADDRESSES;
  const addresses: number[] = [];
  for (const sensor of sensors) {
    if (typeof sensor !== "object" || sensor === null || !("part" in sensor) || sensor.part !== "sht3x") continue;
    const address = "address" in sensor ? sensor.address : 0x44;
    if ((address === 0x44 || address === 0x45) && !addresses.includes(address)) addresses.push(address);
  }
  return addresses;
}

/** An optional fault for demonstrations: "sim": {"fault": {"kind": "step"|"drift", "atMs": n, "size": °C}}. */
function fault(): { kind: FaultKind; atMs: number; size: number } | undefined {
  const sim: unknown = config.sim;
  if (typeof sim !== "object" || sim === null || !("fault" in sim) || sim.fault === undefined) return undefined;
  const f: unknown = sim.fault;
  if (typeof f !== "object" || f === null) throw new TypeError("sim host: config.sim.fault must be an object");
  const kind = "kind" in f ? f.kind : undefined;
  const atMs = "atMs" in f ? f.atMs : 0;
  const size = "size" in f ? f.size : undefined;
  if (kind !== "none" && kind !== "step" && kind !== "drift") throw new RangeError('sim host: config.sim.fault.kind must be "none", "step" or "drift"');
  if (typeof atMs !== "number" || !(atMs >= 0)) throw new RangeError("sim host: config.sim.fault.atMs must be a number of ms >= 0");
  if (typeof size !== "number" || !Number.isFinite(size)) throw new RangeError("sim host: config.sim.fault.size must be a number (°C)");
  return { kind, atMs, size };
}

/** "sim-" and 8 hex digits, made once and kept in preferences so the simulator keeps its identity. */
function simId(store: PreferenceStore): string {
  let id = store.get("simId");
  if (id === undefined) {
    id = "sim-" + ((Math.random() * 0x100000000) >>> 0).toString(16).padStart(8, "0");
    store.set("simId", id);
  }
  return id;
}

export default function createHost(): Host {
  const clock = new TickClock();
  const store = new PreferenceStore({ maxValueBytes: NVS_MAX_STRING });
  const bus = new SimI2CBus(clock);
  const injected = fault();
  for (const address of sht3xAddresses()) {
    // One machine per chip, seeded apart, so two sensors do not report identical noise.
    const environment = new MachineEnvironment({ seed: address, fault: injected });
    bus.attach(address, new SHT3xModel({ environment }));
  }
  return Object.freeze({
    name: "sim",
    clock,
    i2c: bus.ioClass(),
    tcp: HostSocket,
    store,
    log,
    deviceId: simId(store),
    connectNetwork: () => Promise.resolve(),
  });
}
