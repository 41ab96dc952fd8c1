// Device and simulator entry point: builds this platform's host and starts the app with the manifest's "config".
import config from "mc/config";
import createHost from "telltale/host";
import { startApp } from "telltale/start";
import { appConfigFromDevice } from "telltale/config/device";
import { provisionedConfig } from "telltale/provision/credentials";
import type { Host } from "telltale/io/host";
import { messageOf } from "telltale/errors/message";

// Not preloaded: this runs at start, on the device. The app gets its keys of `config` (and the flat mcconfig keys)
// as a new, writable object; the rest (ssid, password, sntp, i2c, sim, the SDK's own keys) stay out. A broker URL and
// device name given through the captive portal or Improv (modules/provision) are laid over it.
function start(): void {
  let host: Host | undefined;
  try {
    host = createHost();
    const log = (line: string) => host!.log(line);
    startApp(host, provisionedConfig(appConfigFromDevice(config), host.store, log));
  } catch (e) {
    // No host, or no valid configuration (new or stored): say why and stay up, rather than reset in a loop.
    const line = "telltale: not started: " + messageOf(e);
    if (host) host.log(line);
    else trace(line + "\n");
  }
}

start();
