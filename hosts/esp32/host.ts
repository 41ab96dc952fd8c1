// ESP32 host: the board's I2C bus, lwIP TCP/TLS sockets, NVS preferences and Wi-Fi station networking.
import Net from "net";
import device from "embedded:provider/builtin";
import type { Host } from "telltale/io/host";
import type { DigitalConstructor, PulseCountConstructor } from "telltale/io/io";
import { TickClock } from "telltale/hosts/moddable/clock";
import { PreferenceStore } from "telltale/hosts/moddable/store";
import { HostSocket } from "telltale/hosts/moddable/socket";
import { hmacSha256 } from "telltale/hosts/moddable/hmac";
import { vibrationNative } from "telltale/detector/vibration-native";
import { openOutboxFlash } from "telltale/hosts/moddable/outbox-flash";
import { boardI2C } from "telltale/hosts/esp32/i2c";
import { WiFiStation } from "telltale/hosts/esp32/wifi";
import { PartitionFlash } from "telltale/hosts/esp32/flash";

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
  const wifi = new WiFiStation(log);
  return Object.freeze({
    name: "esp32",
    clock: new TickClock(),
    i2c: boardI2C(),
    digital: Digital,
    pulseCount: PulseCount,
    tcp: HostSocket,
    store: new PreferenceStore({ maxValueBytes: NVS_MAX_STRING }),
    flash,
    flashProblem,
    log,
    hmacSha256,
    vibrationNative,
    deviceId: macId(),
    connectNetwork: () => wifi.connect(),
  });
}
