// Boot: chooses the configuration (the last good one when this one is refused) and starts the app with it.
import type { Host } from "telltale/io/host";
import { chooseStartConfig } from "telltale/config/remote";
import { messageOf } from "telltale/errors/message";
import { App } from "./app.js";

/** Validates the configuration (keeping the last good one if this one is bad) and starts the app. */
export function startApp(host: Host, rawConfig: unknown): App {
  // A remote change on trial, the last good one, or this one (modules/config/remote.ts).
  const { config, error, state } = chooseStartConfig(rawConfig, host.store, (line) => host.log(line));
  if (error) host.log("error: " + error.message + "; running with the last good configuration");
  const app = new App(host, config, state);
  app.start().catch((e) => host.log("error: start failed: " + messageOf(e)));
  return app;
}
