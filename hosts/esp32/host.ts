// ESP32 host: the board's I2C bus, lwIP TCP/TLS sockets, NVS preferences, Wi-Fi station networking and provisioning.
import Net from "net";
import device from "embedded:provider/builtin";
import type { Host } from "telltale/io/host";
import type { DigitalConstructor, PulseCountConstructor } from "telltale/io/io";
import { TickClock } from "telltale/hosts/moddable/clock";
import { PreferenceStore } from "telltale/hosts/moddable/store";
import { HostSocket } from "telltale/hosts/moddable/socket";
import { hmacSha256 } from "telltale/hosts/moddable/hmac";
import { sha256, verifyP256 } from "telltale/hosts/moddable/p256";
import { vibrationNative } from "telltale/detector/vibration-native";
import { openOutboxFlash } from "telltale/hosts/moddable/outbox-flash";
import { boardI2C } from "telltale/hosts/esp32/i2c";
import { PartitionFlash } from "telltale/hosts/esp32/flash";
import { freeHeap, resetReason } from "telltale/hosts/esp32/system";
import { startProvisioning } from "telltale/hosts/esp32/provisioning";
import { EspUpdates } from "telltale/hosts/esp32/updates";
import { restart as restartChip } from "telltale/hosts/esp32/ota-native";
import config from "mc/config";

/** ESP-IDF NVS keeps strings of up to 4000 bytes including the terminator. */
const NVS_MAX_STRING = 3999;

function log(line: string): void {
  trace(line + "\n");
}

/** The data partition of hosts/esp32/partitions.csv that holds the durable outbox. */
const OUTBOX_PARTITION = "storage";

/**
 * @moddable/typings 5.6 declares embedded:io/pulsecount with a required `control` pin and no close(); Moddable's ESP32
 * implementation (modules/io/pulsecount/esp32/_pulsecount.c) treats `control` as optional and has close(), as ECMA-419
 * requires: the class is widened, not converted.
 */
const PulseCount = device.io.PulseCount as unknown as PulseCountConstructor;

/**
 * The portable contract treats a Digital's mode as an opaque constant of the class (`mode: unknown`); the SDK's own
 * typings (8.2.3) type it as a number. The class is the same: it is typed to the contract, not converted.
 */
const Digital = device.io.Digital as unknown as DigitalConstructor;

/** The joined network's signal in dBm (network.md, "class Net"); undefined while not joined. */
function rssi(): number | undefined {
  const value: unknown = Net.get("RSSI");
  return typeof value === "number" && value < 0 ? value : undefined;
}

/** The station MAC as 12 lower-case hex digits ("a4d18cdbc020"). */
function macId(): string {
  const mac: unknown = Net.get("MAC");
  if (typeof mac !== "string" || mac.length === 0) throw new Error("esp32 host: the Wi-Fi MAC address is unavailable");
  return mac.split(":").join("").toLowerCase();
}

export default function createHost(): Host {
  // The whole partition; a build with another partition table has none, and health telemetry says so.
  const { flash, flashProblem } = openOutboxFlash(
    `partition "${OUTBOX_PARTITION}"`,
    () => new PartitionFlash({ partition: OUTBOX_PARTITION }),
    (line) => log("esp32 host: " + line),
  );
  const store = new PreferenceStore({ maxValueBytes: NVS_MAX_STRING });
  const deviceId = macId();
  const wifi = startProvisioning(store, deviceId, log);
  // Without two OTA slots and otadata (another partition table) there are no updates, and the log says why.
  let updates: EspUpdates | undefined;
  try {
    updates = new EspUpdates(Number(config.imageVersion ?? 1000));
  } catch (e) {
    log("esp32 host: no over-the-air updates: " + String(e));
  }
  return Object.freeze({
    name: "esp32",
    clock: new TickClock(),
    i2c: boardI2C(),
    digital: Digital,
    pulseCount: PulseCount,
    tcp: HostSocket,
    store,
    flash,
    flashProblem,
    log,
    hmacSha256,
    resetReason: resetReason(),
    freeMemory: freeHeap,
    rssi,
    deviceId,
    sha256,
    verifyP256,
    updates,
    restart: (reason: string) => {
      if (updates) updates.restart(reason, log);
      log("esp32 host: restart: " + reason);
      restartChip();
    },
    vibrationNative,
    connectNetwork: () => wifi.connect(),
  });
}
