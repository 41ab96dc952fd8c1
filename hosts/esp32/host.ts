// ESP32 host: the board's I2C bus, lwIP TCP/TLS sockets, NVS preferences and Wi-Fi station networking.
import Net from "net";
import device from "embedded:provider/builtin";
import type { Host } from "telltale/io/host";
import type { PulseCountConstructor } from "telltale/io/io";
import { TickClock } from "telltale/hosts/esp32/clock";
import { PreferenceStore } from "telltale/hosts/esp32/store";
import { HostSocket } from "telltale/hosts/esp32/socket";
import { boardI2C } from "telltale/hosts/esp32/i2c";
import { connectWiFi } from "telltale/hosts/esp32/wifi";
import { PartitionFlash } from "telltale/hosts/esp32/flash";

/** ESP-IDF NVS keeps strings of up to 4000 bytes including the terminator. */
const NVS_MAX_STRING = 3999;

function log(line: string): void {
  trace(line + "\n");
}

/**
 * The outbox takes the first 64 KiB of the "storage" data partition of Moddable's default ESP32 partition table
 * (which the file system would use; Telltale keeps no files). Without that partition the outbox stays in RAM.
 */
function outboxFlash(): PartitionFlash | undefined {
  try {
    return new PartitionFlash({ partition: "storage", byteLength: 65536 });
  } catch (e) {
    log("esp32 host: no flash for the outbox (" + (e as Error).message + ")");
    return undefined;
  }
}

/**
 * @moddable/typings 5.6 declares embedded:io/pulsecount with a required `control` pin and no close(); Moddable's ESP32
 * implementation (modules/io/pulsecount/esp32/_pulsecount.c) treats `control` as optional and has close(), as ECMA-419
 * requires: the class is widened, not converted.
 */
const PulseCount = device.io.PulseCount as unknown as PulseCountConstructor;

/** The station MAC as 12 lower-case hex digits ("a4d18cdbc020"). */
function macId(): string {
  const mac: unknown = Net.get("MAC");
  if (typeof mac !== "string" || mac.length === 0) throw new Error("esp32 host: the Wi-Fi MAC address is unavailable");
  return mac.split(":").join("").toLowerCase();
}

export default function createHost(): Host {
  return Object.freeze({
    name: "esp32",
    clock: new TickClock(),
    i2c: boardI2C(),
    digital: device.io.Digital,
    pulseCount: PulseCount,
    tcp: HostSocket,
    store: new PreferenceStore({ maxValueBytes: NVS_MAX_STRING }),
    flash: outboxFlash(),
    log,
    deviceId: macId(),
    connectNetwork: () => connectWiFi(log),
  });
}
