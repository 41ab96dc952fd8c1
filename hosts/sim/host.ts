// Desktop-simulator host (mcconfig -p lin/mac/win): a chip model for each declared sensor on a simulated I2C bus,
// fed by a simulated machine; real TCP/TLS sockets, Preference storage and trace logging from the Moddable runtime.
import config from "mc/config";
import type { Host } from "telltale/io/host";
import type { FaultKind } from "telltale/sim/machine";
import { createSimWorld } from "telltale/sim/world";
import { parseConfig } from "telltale/config/config";
import type { SensorDeclaration } from "telltale/drivers/part";
import { TickClock } from "telltale/hosts/esp32/clock";
import { PreferenceStore } from "telltale/hosts/esp32/store";
import { HostSocket } from "telltale/hosts/esp32/socket";

/** The device's limit (ESP-IDF NVS strings), so the simulator refuses what the board would refuse. */
const NVS_MAX_STRING = 3999;
function log(line: string): void {
  trace(line + "\n");
}

/** The sensors the app config declares, so the simulated bus holds the chips the app will probe. */
function declaredSensors(): readonly SensorDeclaration[] {
  try {
    return parseConfig({ sensors: config.sensors }).sensors;
  } catch (e) {
    log("sim host: no simulated sensors: " + (e as Error).message);
    return [];
  }
}

/** An optional fault for demonstrations: "sim": {"fault": {"kind": "step"|"drift"|…, "atMs": n, "size": n}}. */
function fault(): { kind: FaultKind; atMs: number; size: number } | undefined {
  const sim: unknown = config.sim;
  if (typeof sim !== "object" || sim === null || !("fault" in sim) || sim.fault === undefined) return undefined;
  const f: unknown = sim.fault;
  if (typeof f !== "object" || f === null) throw new TypeError("sim host: config.sim.fault must be an object");
  const kind = "kind" in f ? f.kind : undefined;
  const atMs = "atMs" in f ? f.atMs : 0;
  const size = "size" in f ? f.size : undefined;
  const kinds: readonly FaultKind[] = ["none", "step", "drift", "wear", "pressure-drop", "overcurrent"];
  if (!kinds.includes(kind as FaultKind)) throw new RangeError("sim host: config.sim.fault.kind must be one of " + kinds.join(", "));
  if (typeof atMs !== "number" || !(atMs >= 0)) throw new RangeError("sim host: config.sim.fault.atMs must be a number of ms >= 0");
  if (typeof size !== "number" || !Number.isFinite(size)) throw new RangeError("sim host: config.sim.fault.size must be a number (°C)");
  return { kind: kind as FaultKind, atMs, size };
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
  const injected = fault();
  const world = createSimWorld(clock, declaredSensors(), injected ? { fault: injected } : {});
  return Object.freeze({
    name: "sim",
    clock,
    i2c: world.bus.ioClass(),
    digital: world.gpio.ioDigital(),
    pulseCount: world.gpio.ioPulseCount(),
    tcp: HostSocket,
    store,
    log,
    deviceId: simId(store),
    connectNetwork: () => Promise.resolve(),
  });
}
