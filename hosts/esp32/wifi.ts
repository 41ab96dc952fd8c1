// Wi-Fi station bring-up for the esp32 host: resolves once the station has an IP address, then keeps it joined.
import WiFi, { type WiFiOptions } from "wifi";
import Net from "net";
import Timer from "timer";
import config from "mc/config";

/** How often the watchdog checks the address and re-joins when it is gone, ms. */
const WATCHDOG_MS = 15_000;

function hasAddress(): boolean {
  // Typed as string, but undefined while the station has no address (network.md, "class Net").
  const ip: unknown = Net.get("IP");
  return typeof ip === "string" && ip.length > 0;
}

/**
 * The station, joined once per instance (the host holds one; a preloaded module keeps no state of its own).
 * With `ssid` in the config the SDK's setup/network module has usually joined already (and set the clock
 * from `config.sntp`) before main runs; then this only starts the watchdog, which setup/network does not provide.
 */
export class WiFiStation {
  #started: Promise<void> | undefined;
  readonly #log: (line: string) => void;
  constructor(log: (line: string) => void) {
    this.#log = log;
  }
  connect(): Promise<void> {
    this.#started ??= start(this.#log);
    return this.#started;
  }
}

function start(log: (line: string) => void): Promise<void> {
  const ssid: unknown = config.ssid;
  const password: unknown = config.password;
  if (typeof ssid !== "string" || ssid.length === 0) {
    if (hasAddress()) return Promise.resolve();
    return Promise.reject(
      new Error('Wi-Fi: no "ssid" configured; build with mcconfig ... ssid=<name> password=<secret>'),
    );
  }
  const options: WiFiOptions = typeof password === "string" && password.length > 0 ? { ssid, password } : { ssid };
  Timer.repeat(() => {
    if (hasAddress()) return;
    log("Wi-Fi: no IP address; joining " + JSON.stringify(ssid) + " again");
    WiFi.connect(options);
  }, WATCHDOG_MS);
  if (hasAddress()) return Promise.resolve();
  return new Promise((resolve) => {
    const monitor = new WiFi(options, (message) => {
      if (message !== WiFi.gotIP) return;
      monitor.close();
      log("Wi-Fi: joined " + JSON.stringify(ssid) + " as " + String(Net.get("IP")));
      resolve();
    });
  });
}
