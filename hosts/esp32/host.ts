// ESP32 host: the board's I2C bus, lwIP TCP/TLS sockets, NVS preferences and Wi-Fi station networking.
import Net from "net";
import type { Host } from "../../src/host";
import { TickClock } from "telltale/hosts/esp32/clock";
import { PreferenceStore } from "telltale/hosts/esp32/store";
import { HostSocket } from "telltale/hosts/esp32/socket";
import { boardI2C } from "telltale/hosts/esp32/i2c";
import { connectWiFi } from "telltale/hosts/esp32/wifi";

/** ESP-IDF NVS keeps strings of up to 4000 bytes including the terminator. */
const NVS_MAX_STRING = 3999;

function log(line: string): void {
  trace(line + "\n");
}

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
    tcp: HostSocket,
    store: new PreferenceStore({ maxValueBytes: NVS_MAX_STRING }),
    log,
    deviceId: macId(),
    connectNetwork: () => connectWiFi(log),
  });
}
