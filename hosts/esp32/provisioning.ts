// Provisioning on the ESP32: which Wi-Fi to join, and when to open the captive portal; Improv on the serial port.
import config from "mc/config";
import Timer from "timer";
import WiFi from "wifi";
import type { Store } from "telltale/io/io";
import { messageOf } from "telltale/errors/message";
import { appConfigFromDevice } from "telltale/config/device";
import { FIRMWARE_VERSION } from "telltale/ha/discovery";
import type { ScannedNetwork } from "telltale/provision/improv-service";
import { loadProvisioned } from "telltale/provision/credentials";
import { WiFiStation } from "telltale/hosts/esp32/wifi";
import { openCaptivePortal } from "telltale/hosts/esp32/portal";
import { openImprovSerial } from "telltale/hosts/esp32/improv-serial";

/** Failed joins before the portal opens, unless config.provisionAfterFailedJoins says otherwise. */
const FAILED_JOINS = 5;
/** Time for the last answer to leave before the restart into new settings, ms. */
const RESTART_DELAY_MS = 1000;

function configValue(key: string): unknown {
  return (config as unknown as Readonly<Record<string, unknown>>)[key];
}

function configText(key: string): string | undefined {
  const value = configValue(key);
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/** An integer setting of mc/config (mcconfig passes text); `fallback` when absent or not a positive integer. */
function configCount(key: string, fallback: number, log: (line: string) => void): number {
  const value = configValue(key);
  if (value === undefined) return fallback;
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 1000) return n;
  log(
    "provision: config." +
      key +
      " must be a whole number from 1 to 1000, got " +
      JSON.stringify(value) +
      "; using " +
      fallback,
  );
  return fallback;
}

/**
 * The UART and pins Improv listens on: config.improv ({port, receive, transmit}; default UART0 on GPIO 3/1, the
 * USB bridge of ESP32 dev boards), or undefined when config.improv is false.
 */
function improvPins(log: (line: string) => void): { port: number; receive: number; transmit: number } | undefined {
  const value = configValue("improv");
  if (value === false || value === "false") return undefined;
  const pins = { port: 0, receive: 3, transmit: 1 };
  if (value === undefined) return pins;
  if (typeof value !== "object" || value === null) {
    log("provision: config.improv must be false or {port, receive, transmit}; Improv is off");
    return undefined;
  }
  for (const key of ["port", "receive", "transmit"] as const) {
    const n: unknown = (value as Record<string, unknown>)[key];
    if (n === undefined) continue;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 48) {
      log("provision: config.improv." + key + " must be a whole number from 0 to 48; Improv is off");
      return undefined;
    }
    pins[key] = n;
  }
  return pins;
}

/** The networks in range (the SDK's WiFi.scan: one callback per access point, then one with null). */
function scanNetworks(): Promise<ScannedNetwork[]> {
  return new Promise((resolve) => {
    const found: ScannedNetwork[] = [];
    WiFi.scan({}, (item) => {
      if (item) found.push({ ssid: item.ssid, rssi: item.rssi, secure: item.authentication !== "none" });
      else resolve(found);
    });
  });
}

function restart(log: (line: string) => void): void {
  log("provision: restarting into the new settings");
  Timer.set(() => System.restart(), RESTART_DELAY_MS);
}

/**
 * The station for this start: the provisioned Wi-Fi (host.store, key "provision") else mc/config's ssid/password.
 * With neither, or after config.provisionAfterFailedJoins (default 5) failed joins before the first success, the
 * captive portal opens on an access point "Telltale-<last 4 MAC digits>" (open, or WPA2 with config.provisionPassword).
 * Improv runs on the serial port from the start, in every case. Saved settings restart the device.
 */
export function startProvisioning(
  store: Store,
  deviceId: string,
  log: (line: string) => void,
): { connect(): Promise<void> } {
  const { provisioned, problem } = loadProvisioned(store);
  if (problem) log("provision: the provisioned settings are not used: " + problem);
  const ssid = configText("ssid");
  const credentials = provisioned
    ? { ssid: provisioned.ssid, password: provisioned.password }
    : ssid
      ? { ssid, password: configText("password") ?? "" }
      : undefined;
  let base: Record<string, unknown> = {};
  try {
    base = appConfigFromDevice(config);
  } catch (e) {
    log("provision: the built-in configuration cannot be read (" + messageOf(e) + "); the portal checks fields alone");
  }
  const onSaved = () => restart(log);
  let portalOpen = false;
  const station: WiFiStation = new WiFiStation({
    log,
    credentials,
    failedJoins: configCount("provisionAfterFailedJoins", FAILED_JOINS, log),
    onGiveUp: () => {
      if (portalOpen) return;
      portalOpen = true;
      try {
        openCaptivePortal({
          store,
          apName: "Telltale-" + deviceId.slice(-4),
          apPassword: configText("provisionPassword"),
          base,
          deviceId,
          log,
          onSaved,
        });
      } catch (e) {
        log("provision: the captive portal cannot open: " + messageOf(e));
      }
    },
  });
  const pins = improvPins(log);
  const improv = pins
    ? openImprovSerial({
        ...pins,
        baud: 115200,
        store,
        deviceInfo: ["Telltale", FIRMWARE_VERSION, "esp32", deviceId],
        join: (ssid, password) => station.tryJoin(ssid, password).then(() => undefined),
        scan: scanNetworks,
        onSaved,
        log,
      })
    : undefined;
  return {
    connect: () => {
      const joined = station.connect();
      // Improv answers "provisioned" once the station has joined by itself.
      if (improv)
        joined.then(
          () => improv.service.online(),
          () => {},
        );
      return joined;
    },
  };
}
