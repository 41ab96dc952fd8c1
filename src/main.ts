// Device and simulator entry point: builds this platform's host and starts the app with the manifest's "config".
import config from "mc/config";
import createHost from "telltale/host";
import { startApp } from "telltale/app";
import type { Host } from "telltale/io/host";

/**
 * The manifest "config" keys that belong to the app (modules/config/config.ts). The rest (ssid, password,
 * sntp, i2c, sim, and the SDK's own keys) stay out: the app stores its config as the last good one.
 */
const APP_KEYS = ["deviceId", "intervalMs", "topicPrefix", "broker", "sensors", "detector"];

function appConfig(): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const key of APP_KEYS) {
    const value: unknown = config[key];
    // An empty deviceId in the manifest means "derive it from the board" (the host's deviceId).
    if (value !== undefined && !(key === "deviceId" && value === "")) result[key] = value;
  }
  return result;
}

let host: Host | undefined;
try {
  host = createHost();
  startApp(host, appConfig());
} catch (e) {
  // No host, or no valid configuration (new or stored): say why and stay up, rather than reset in a loop.
  const line = "telltale: not started: " + (e instanceof Error ? e.message : String(e));
  if (host) host.log(line);
  else trace(line + "\n");
}
