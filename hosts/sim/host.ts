// Desktop-simulator host (mcconfig -p lin/mac/win): a chip model for each declared sensor on a simulated I2C bus,
// fed by a simulated machine; real TCP/TLS sockets, Preference storage and trace logging from the Moddable runtime.
import config from "mc/config";
import type { Host } from "telltale/io/host";
import { messageOf } from "telltale/errors/message";
import type { FaultKind } from "telltale/sim/machine";
import { createSimWorld } from "telltale/sim/world";
import { parseConfig } from "telltale/config/config";
import { appConfigFromDevice } from "telltale/config/device";
import type { SensorDeclaration } from "telltale/drivers/part";
import { TickClock } from "telltale/hosts/moddable/clock";
import { PreferenceStore } from "telltale/hosts/moddable/store";
import { HostSocket } from "telltale/hosts/moddable/socket";
import { hmacSha256 } from "telltale/hosts/moddable/hmac";
import { sha256, verifyP256 } from "telltale/hosts/moddable/p256";
import { vibrationNative } from "telltale/detector/vibration-native";
import { FileFlash } from "telltale/hosts/sim/file-flash";
import { openOutboxFlash } from "telltale/hosts/moddable/outbox-flash";
import { SimUpdates } from "telltale/hosts/sim/updates";

/** The device's limit (ESP-IDF NVS strings), so the simulator refuses what the board would refuse. */
const NVS_MAX_STRING = 3999;
function log(line: string): void {
  trace(line + "\n");
}

/** The sensors the app config declares, so the simulated bus holds the chips the app will probe. */
function declaredSensors(): readonly SensorDeclaration[] {
  try {
    return parseConfig({ sensors: appConfigFromDevice(config).sensors }).sensors;
  } catch (e) {
    log("sim host: no simulated sensors: " + messageOf(e));
    return [];
  }
}

/**
 * An optional fault for demonstrations: "sim": {"fault": {"kind": "step"|"drift"|…, "atMs": n, "size": n}} in the
 * manifest, or the flat mcconfig keys `fault=step faultAtMs=60000 faultSize=4` (which win).
 */
function fault(): { kind: FaultKind; atMs: number; size: number } | undefined {
  const sim: unknown = config.sim;
  let f: unknown = typeof sim === "object" && sim !== null && "fault" in sim ? sim.fault : undefined;
  if (f !== undefined && (typeof f !== "object" || f === null))
    throw new TypeError("sim host: config.sim.fault must be an object");
  const flat = (key: string): unknown => config[key];
  if (flat("fault") !== undefined)
    f = { kind: flat("fault"), atMs: Number(flat("faultAtMs") ?? 0), size: Number(flat("faultSize") ?? 4) };
  if (f === undefined) return undefined;
  const o = f as { kind?: unknown; atMs?: unknown; size?: unknown };
  const kind = o.kind,
    atMs = o.atMs ?? 0,
    size = o.size;
  const kinds: readonly FaultKind[] = ["none", "step", "drift", "wear", "pressure-drop", "overcurrent"];
  if (!kinds.includes(kind as FaultKind))
    throw new RangeError(
      "sim host: config.sim.fault.kind (or fault) must be one of " + kinds.join(", ") + ", got " + String(kind),
    );
  if (typeof atMs !== "number" || !(atMs >= 0))
    throw new RangeError("sim host: config.sim.fault.atMs (or faultAtMs) must be a number of ms >= 0");
  if (typeof size !== "number" || !Number.isFinite(size))
    throw new RangeError("sim host: config.sim.fault.size (or faultSize) must be a number (°C)");
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
  // 64 KB in a file under the SDK's file root (/tmp/ on Linux), as a board's partition would be.
  const root: unknown = (config.file as { root?: unknown } | undefined)?.root;
  const path = (typeof root === "string" ? root : "./") + "telltale-outbox.flash";
  const { flash, flashProblem } = openOutboxFlash(
    "file " + path,
    () => new FileFlash({ path, byteLength: 65536, blockSize: 4096, log: (line) => log("sim host: " + line) }),
    (line) => log("sim host: " + line),
  );
  const world = createSimWorld(clock, declaredSensors(), injected ? { fault: injected } : {});
  // Each launch of mcsim is a boot of the slot files (hosts/sim/updates.ts); the code that runs is always this mc.so.
  const updates = new SimUpdates({
    root: typeof root === "string" ? root : "./",
    firstVersion: Number(config.imageVersion ?? 1000),
    slotBytes: 4 * 1024 * 1024,
    bootTries: 3,
    log: (line) => log(line),
  });
  return Object.freeze({
    name: "sim",
    clock,
    i2c: world.bus.ioClass(),
    digital: world.gpio.ioDigital(),
    pulseCount: world.gpio.ioPulseCount(),
    tcp: HostSocket,
    store,
    flash,
    flashProblem,
    log,
    hmacSha256,
    // Each launch of the simulator is a power-on; it has no heap figure in a release build and no Wi-Fi.
    resetReason: "power-on",
    sha256,
    verifyP256,
    updates,
    // The simulator cannot reset itself: the next boot (and its slot bookkeeping) is the next launch of mcsim.
    restart: (reason: string) =>
      log("sim host: restart (" + reason + "): quit and relaunch the simulator to boot again"),
    vibrationNative,
    // The simulator's Math.random is the C library's rand(), never seeded, so the wall clock makes each start differ.
    random: () => ((Math.random() * 0x40000000 + Date.now()) % 0x40000000) / 0x40000000,
    deviceId: simId(store),
    connectNetwork: () => Promise.resolve(),
  });
}
