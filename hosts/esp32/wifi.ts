// Wi-Fi station bring-up for the esp32 host: joins the provisioned network (else mc/config's), keeps it joined, and
// hands over to provisioning when there is nothing to join or the joins keep failing.
import WiFi, { type WiFiOptions } from "wifi";
import Net from "net";
import Timer from "timer";

/** How often the watchdog checks the address and re-joins when it is gone, ms. */
const WATCHDOG_MS = 15_000;
/** How long one tried join (Improv) may take before it counts as failed, ms. */
const TRY_JOIN_MS = 30_000;

/** The station's address: in AP+station mode Net.get("IP") is ambiguous and answers undefined (network.md, "Net"). */
export function stationAddress(): string | undefined {
  const ip: unknown = (Net.get as (what: string, iface?: string) => unknown)("IP", "station");
  return typeof ip === "string" && ip.length > 0 ? ip : undefined;
}

export interface WiFiStationOptions {
  log: (line: string) => void;
  /** The network to join: the provisioned one, else mc/config's; undefined when there is none. */
  credentials: { ssid: string; password: string } | undefined;
  /** Failed joins before `onGiveUp` (each is a "disconnect" after the SDK's own retries, about 15 s apart). */
  failedJoins: number;
  /** No network to join, or `failedJoins` failed before the first success: the host opens provisioning. */
  onGiveUp: (reason: string) => void;
}

/**
 * The station, joined once per instance (the host holds one; a preloaded module keeps no state of its own).
 * With `ssid` in the config the SDK's setup/network module has usually joined already (and set the clock from
 * `config.sntp`) before main runs; then this only starts the watchdog, which setup/network does not provide.
 * Until the network is joined connect() stays pending: the app samples locally, and provisioning, once it has stored
 * new settings, restarts the device.
 */
export class WiFiStation {
  readonly #options: WiFiStationOptions;
  #started: Promise<void> | undefined;
  #failures = 0;
  #gaveUp = false;
  /** True while Improv tries other credentials: the watchdog leaves the station alone. */
  #trying = false;
  #watchdog: Timer | undefined;

  constructor(options: WiFiStationOptions) {
    this.#options = options;
  }

  connect(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  #giveUp(reason: string): void {
    if (this.#gaveUp) return;
    this.#gaveUp = true;
    if (this.#watchdog !== undefined) Timer.clear(this.#watchdog);
    this.#watchdog = undefined;
    this.#options.log("Wi-Fi: " + reason + "; opening provisioning");
    this.#options.onGiveUp(reason);
  }

  #start(): Promise<void> {
    const log = this.#options.log;
    const credentials = this.#options.credentials;
    if (!credentials) {
      if (stationAddress() !== undefined) return Promise.resolve();
      this.#giveUp("no Wi-Fi credentials (none provisioned, none built in)");
      return new Promise(() => {});
    }
    const { ssid, password } = credentials;
    const options: WiFiOptions = password.length > 0 ? { ssid, password } : { ssid };
    this.#watchdog = Timer.repeat(() => {
      if (this.#trying || this.#gaveUp || stationAddress() !== undefined) return;
      log("Wi-Fi: no IP address; joining " + JSON.stringify(ssid) + " again");
      WiFi.connect(options);
    }, WATCHDOG_MS);
    if (stationAddress() !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      let joined = false;
      const monitor = new WiFi(options, (message) => {
        if (message === WiFi.gotIP) {
          joined = true;
          monitor.close();
          log("Wi-Fi: joined " + JSON.stringify(ssid) + " as " + String(stationAddress()));
          resolve();
        } else if (message === WiFi.disconnected && !joined && !this.#trying) {
          this.#failures++;
          log(
            "Wi-Fi: join " +
              this.#failures +
              " of " +
              this.#options.failedJoins +
              " to " +
              JSON.stringify(ssid) +
              " failed",
          );
          if (this.#failures >= this.#options.failedJoins) {
            monitor.close();
            this.#giveUp(this.#failures + " joins to " + JSON.stringify(ssid) + " failed");
          }
        }
      });
    });
  }

  /**
   * Tries `ssid`/`password` (Improv's "send Wi-Fi settings"): resolves once the station has an address, rejects when
   * the network refuses them or nothing answers within TRY_JOIN_MS.
   */
  tryJoin(ssid: string, password: string): Promise<void> {
    this.#trying = true;
    return new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        Timer.clear(timer);
        monitor.close();
        this.#trying = false;
        if (error) reject(error);
        else resolve();
      };
      const timer = Timer.set(() => done(new Error("no address after " + TRY_JOIN_MS / 1000 + " s")), TRY_JOIN_MS);
      const monitor = new WiFi(password.length > 0 ? { ssid, password } : { ssid }, (message, reason?: unknown) => {
        if (message === WiFi.gotIP) done();
        else if (message === WiFi.disconnected)
          done(new Error(reason === -1 ? "the network refused the password" : "the network did not answer"));
      });
    });
  }
}
