// `npm start`: the firmware on Node with a simulated SHT3x on a machine that develops a fault, and a broker.
import { createNodeHost } from "../hosts/node/host.js";
import { startEmbeddedBroker } from "../hosts/node/broker.js";
import { FileStore } from "../hosts/node/store.js";
import { bootApp } from "./start.js";
import { startWatchdog } from "../hosts/node/watchdog.js";
import { bootFromEnv, NodeUpdates, RESTART_EXIT } from "../hosts/node/updates.js";
import { cliConfig } from "./cli-config.js";
import { startDashboardBeside } from "../dashboard/server.js";
import { CommandLine } from "../dashboard/cli.js";
import { chooseStartConfig } from "telltale/config/remote";
import { messageOf } from "telltale/errors/message";

const USAGE = `usage: npm start -- [options]
  --broker URL        mqtt://HOST:PORT or mqtts://HOST:PORT (default: the file's broker.url, else an embedded
                      aedes broker on loopback)
  --ca FILE           PEM file of the CA that signed the broker's certificate (mqtts)
  --config FILE       device configuration (JSON object); its settings override the defaults here, and the
                      options override it: --broker its broker.url, --ca broker.ca, --interval intervalMs,
                      --device-id deviceId
  --interval MS       sampling/telemetry interval (default 1000)
  --fault KIND        step | drift | none (default step)
  --fault-at S        seconds after start when the fault begins (default 150: after the 120-sample calibration)
  --cycle S           period of the machine's normal temperature/humidity cycle in seconds (default 60)
  --device-id ID      device id in topics (default: this host's name)
  --flash DIR         folder for the persistent store and the outbox (default ./telltale-flash)
  --duration S        stop after S seconds (default: run until Ctrl-C)
  --watchdog MS       end the process (exit 76) when the event loop is stuck this long (default 10000; 0: off)`;

async function main(): Promise<void> {
  const cli: CommandLine = new CommandLine("telltale", USAGE);
  const args = cli.parse([
    "broker",
    "ca",
    "config",
    "interval",
    "fault",
    "fault-at",
    "cycle",
    "device-id",
    "flash",
    "duration",
    "watchdog",
  ] as const);
  if (!args) return;

  // An empty value is never meant (`--fault-at ''` would be 0, `--flash ''` the root folder); cli-config.ts says what
  // --broker, --interval and --device-id expect.
  for (const [name, value] of Object.entries(args))
    if (value === "" && !["broker", "interval", "device-id"].includes(name))
      cli.fail(`--${name} expects a value, got an empty string`);
  const number = (name: string, value: string | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) cli.fail(`--${name} expects a non-negative number, got "${value}"`);
    return n;
  };
  const fault = args.fault ?? "step";
  if (fault !== "step" && fault !== "drift" && fault !== "none")
    cli.fail(`--fault expects step, drift or none, got "${fault}"`);

  const file: unknown = args.config ? cli.readFile("--config", args.config, JSON.parse) : undefined;
  const ca = args.ca ? cli.readFile("--ca", args.ca) : undefined;
  // Options override the file, which overrides the command line's defaults (cli-config.ts).
  let candidate: ReturnType<typeof cliConfig>;
  try {
    candidate = cliConfig(file, "--config " + args.config, {
      broker: args.broker,
      ca,
      interval: args.interval,
      deviceId: args["device-id"],
    });
  } catch (e) {
    cli.fail(messageOf(e));
  }
  const config = candidate.config;
  let broker: { close(): Promise<void>; wsUrl?: string } | undefined;
  if (candidate.embedded) {
    const embedded = await startEmbeddedBroker();
    broker = embedded;
    (config.broker as Record<string, unknown>).url = embedded.url;
    console.log(
      `embedded broker (aedes) listening on ${embedded.url}; watch it with: mosquitto_sub -p ${embedded.port} -t 'telltale/#' -v`,
    );
  }

  // A fault: a step of +4 °C (a bearing seizing), or a drift of +8 °C per minute (cooling failing outright).
  // The detector learns the machine's normal cycle during calibration (120 samples: two cycles at the defaults),
  // so the cycle itself is not an alarm; the fault breaks the way temperature and humidity move together.
  const faultAt = number("fault-at", args["fault-at"], 150) * 1000;
  const cycleMs = number("cycle", args.cycle, 60) * 1000;
  if (cycleMs < 1000) cli.fail(`--cycle expects at least 1 second, got "${args.cycle}"`);
  // The configuration is chosen before the host is made, so the simulated bus holds a chip for each sensor of the
  // configuration that runs: this one, or the last good one when this one is refused.
  const storePath = (args.flash ?? "telltale-flash") + "/store.json";
  const store = new FileStore(storePath);
  let chosen: ReturnType<typeof chooseStartConfig>;
  try {
    chosen = chooseStartConfig(config, store, (line) => console.log(line));
  } catch (e) {
    await broker?.close();
    cli.fail(messageOf(e));
  }
  const watchdogMs = number("watchdog", args.watchdog, 10_000);
  if (watchdogMs > 0) await startWatchdog({ limitMs: Math.max(100, Math.round(watchdogMs)) });
  // Under the supervisor (npm start) the host has its two slots and restarts into the next boot; run alone, neither.
  const boot = bootFromEnv(process.env);
  const host = createNodeHost({
    ...(boot && {
      updates: new NodeUpdates(boot),
      restart: (reason: string) => {
        console.log("telltale: restarting: " + reason);
        process.exit(RESTART_EXIT);
      },
    }),
    storePath,
    store,
    deviceId: args["device-id"],
    sensors: chosen.config.sensors,
    machine: { periodMs: cycleMs, fault: { kind: fault, atMs: faultAt, size: fault === "step" ? 4 : 8 } },
  });
  if (fault !== "none") console.log(`simulated machine: ${fault} fault at ${faultAt / 1000} s`);
  if (chosen.error) host.log("error: " + chosen.error.message + "; running with the last good configuration");
  const dashboard = await startDashboardBeside(chosen.config, broker?.wsUrl);
  const app = bootApp(host, chosen.config, chosen.state);
  const stop = async () => {
    app.stop();
    await new Promise((r) => setTimeout(r, 200));
    await dashboard?.close();
    await broker?.close();
    process.exit(0);
  };
  const shutdown = () => {
    stop().catch((e) => {
      console.error("telltale: " + messageOf(e));
      process.exit(1);
    });
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  if (args.duration) setTimeout(shutdown, number("duration", args.duration, 0) * 1000);
}

main().catch((e) => {
  console.error("telltale: " + (e as Error).stack);
  process.exit(1);
});
