// `npm run dashboard -- --broker mqtt://HOST:PORT`: the dashboard against any broker with a WebSocket listener.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
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

function fail(message: string): never {
  console.error("telltale dashboard: " + message + "\n" + USAGE);
  process.exit(2);
}

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) fail(`--${name} expects a number above 0, got "${value}"`);
  return n;
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        broker: { type: "string" },
        ca: { type: "string" },
        ws: { type: "string" },
        prefix: { type: "string" },
        "ha-prefix": { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        db: { type: "string" },
        retention: { type: "string" },
        "max-rows": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (e) {
    fail((e as Error).message);
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  if (!args.broker) fail("--broker is required");
  let ca: string | undefined;
  if (args.ca) {
    try {
      ca = readFileSync(args.ca, "utf8");
    } catch (e) {
      fail(`cannot read --ca ${args.ca}: ${(e as Error).message}`);
    }
  }
  const port = args.port === undefined ? 8080 : Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port expects 0–65535, got "${args.port}"`);
  const retention = positive("retention", args.retention);
  const maxRows = positive("max-rows", args["max-rows"]);
  if (maxRows !== undefined && !Number.isInteger(maxRows)) fail(`--max-rows expects an integer, got "${maxRows}"`);
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
