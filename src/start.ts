// Boot: chooses the configuration (a remote change on trial, the last good one, or this one), counts the start, and starts the app, in safe mode after too many failed starts.
import type { Host } from "telltale/io/host";
import type { Config } from "telltale/config/config";
import { chooseStartConfig, type ConfigState } from "telltale/config/remote";
import { messageOf } from "telltale/errors/message";
import { App } from "./app.js";
import { BootGuard, HealthyPeriod } from "./boot-guard.js";

/** Validates the configuration (keeping the last good one if this one is bad) and boots the app with it. */
export function startApp(host: Host, rawConfig: unknown): App {
  // A remote change on trial, the last good one, or this one (modules/config/remote.ts).
  const { config, error, state } = chooseStartConfig(rawConfig, host.store, (line) => host.log(line));
  if (error) host.log("error: " + error.message + "; running with the last good configuration");
  return bootApp(host, config, state);
}

/**
 * Counts this start with the boot guard, then starts the app: the full app, or in safe mode (src/boot-guard.ts) one
 * with no sensors and no sampling that runs only the services declared safe (`runsInSafeMode`). The app gets the host
 * with its `restart` wrapped, so that a restart the firmware asks for (OTA, configuration) is not a failed start.
 */
export function bootApp(host: Host, config: Config, configState?: ConfigState): App {
  const guard = new BootGuard({ store: host.store, settings: config.safeMode, log: (line) => host.log(line) });
  const restart = host.restart;
  const guarded: Host = restart
    ? {
        ...host,
        restart: (reason) => {
          guard.restarting();
          restart(reason);
        },
      }
    : host;
  // Safe mode declares no sensors (no driver runs) and the z-score detector (no learned baseline is read): the parts
  // most likely to crash a start stay out.
  const app = new App(
    guarded,
    guard.safeMode ? { ...config, sensors: [], detector: { ...config.detector, model: "zscore" } } : config,
    configState,
    guard,
  );
  app.use(new HealthyPeriod(app, guard, config.safeMode));
  app.start().catch((e) => host.log("error: start failed: " + messageOf(e)));
  return app;
}
