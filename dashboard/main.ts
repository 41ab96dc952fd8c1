// `npm run dashboard -- --broker mqtt://HOST:PORT`: the dashboard against any broker with a WebSocket listener.
import { CommandLine } from "./cli.js";
import { startDashboard } from "./server.js";
import { DEFAULT_MAX_ROWS } from "./history.js";

const USAGE = `usage: npm run dashboard -- --broker URL [options]
  --broker URL        mqtt://HOST:PORT or mqtts://HOST:PORT the collector reads (required)
  --ca FILE           PEM file of the CA that signed the broker's certificate (mqtts)
  --ws URL            the broker's MQTT-over-WebSocket listener the page uses (default ws://<broker host>:9001)
  --prefix P          the devices' topic prefix (default telltale)
  --ha-prefix P       Home Assistant's discovery prefix, for the firmware version and units (default homeassistant)
  --host H            address to serve the page on (default 127.0.0.1; 0.0.0.0 for other machines)
  --port N            port to serve the page on (default 8080)
  --db FILE           the history's SQLite file (default telltale-dashboard.db)
  --retention HOURS   history kept (default 24)
  --max-rows N        telemetry rows kept at most (default ${DEFAULT_MAX_ROWS})`;

const cli: CommandLine = new CommandLine("telltale dashboard", USAGE);

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) cli.fail(`--${name} expects a number above 0, got "${value}"`);
  return n;
}

async function main(): Promise<void> {
  const args = cli.parse([
    "broker",
    "ca",
    "ws",
    "prefix",
    "ha-prefix",
    "host",
    "port",
    "db",
    "retention",
    "max-rows",
  ] as const);
  if (!args) return;
  if (!args.broker) cli.fail("--broker is required");
  const ca = args.ca ? cli.readFile("--ca", args.ca) : undefined;
  const port = args.port === undefined ? 8080 : Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) cli.fail(`--port expects 0–65535, got "${args.port}"`);
  const retention = positive("retention", args.retention);
  const maxRows = positive("max-rows", args["max-rows"]);
  if (maxRows !== undefined && !Number.isInteger(maxRows)) cli.fail(`--max-rows expects an integer, got "${maxRows}"`);
  let dashboard;
  try {
    dashboard = await startDashboard({
      broker: args.broker,
      ca,
      ws: args.ws,
      prefix: args.prefix,
      haPrefix: args["ha-prefix"],
      host: args.host,
      port,
      db: args.db,
      retentionMs: retention === undefined ? undefined : Math.round(retention * 3600_000),
      maxRows,
    });
  } catch (e) {
    // Its messages start "dashboard: …".
    console.error("telltale " + (e as Error).message);
    process.exit(2);
  }
  console.log(`dashboard: ${dashboard.url} (the page reads the broker at ${dashboard.ws})`);
  const stop = () => {
    dashboard.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e) => {
  console.error("telltale dashboard: " + (e as Error).stack);
  process.exit(1);
});
