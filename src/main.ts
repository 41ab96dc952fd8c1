// Device and simulator entry point: builds this platform's host and starts the app with the manifest's "config".
import config from "mc/config";
import createHost from "telltale/host";
import { startApp } from "telltale/start";
import { appConfigFromDevice } from "telltale/config/device";
import type { Host } from "telltale/io/host";
import { messageOf } from "telltale/errors/message";

// Not preloaded: this runs at start, on the device. The app gets its keys of `config` (and the flat mcconfig keys)
// as a new, writable object; the rest (ssid, password, sntp, i2c, sim, the SDK's own keys) stay out.
function start(): void {
  let host: Host | undefined;
  try {
    host = createHost();
    startApp(host, appConfigFromDevice(config));
  } catch (e) {
    // No host, or no valid configuration (new or stored): say why and stay up, rather than reset in a loop.
    const line = "telltale: not started: " + messageOf(e);
    if (host) host.log(line);
    else trace(line + "\n");
  }
}

start();
