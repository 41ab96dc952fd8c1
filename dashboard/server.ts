// The dashboard server: the page and its libraries (from node_modules), the history endpoint, and the collector.
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { Collector, type CollectorStats } from "./collector.js";
import { History, type DeviceHistory } from "./history.js";

const gzipAsync = promisify(gzip);
const require = createRequire(import.meta.url);
/** The page's own files: dashboard/public in the source tree (this file runs from build/dashboard/). */
const PUBLIC = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "dashboard", "public");
const packageDir = (name: string) => dirname(require.resolve(name + "/package.json"));

/** What the server sends, by URL path: no file outside this table is ever read. */
const FILES: Record<string, { path: () => string; type: string }> = {
  "/": { path: () => join(PUBLIC, "index.html"), type: "text/html; charset=utf-8" },
  "/app.js": { path: () => join(PUBLIC, "app.js"), type: "text/javascript; charset=utf-8" },
  "/style.css": { path: () => join(PUBLIC, "style.css"), type: "text/css; charset=utf-8" },
  "/vendor/uPlot.esm.js": {
    path: () => join(packageDir("uplot"), "dist", "uPlot.esm.js"),
    type: "text/javascript; charset=utf-8",
  },
  "/vendor/uPlot.min.css": { path: () => join(packageDir("uplot"), "dist", "uPlot.min.css"), type: "text/css" },
  "/vendor/mqtt.esm.js": {
    path: () => join(packageDir("mqtt"), "dist", "mqtt.esm.js"),
    type: "text/javascript; charset=utf-8",
  },
};

/** The period the page loads at once and keeps (the retention when that is shorter). */
export const PAGE_WINDOW_MS = 3600_000;

export interface DashboardOptions {
  /** The broker the collector reads: mqtt://HOST:PORT or mqtts://HOST:PORT. */
  broker: string;
  /** PEM of the CA of an mqtts broker, and a client certificate and key when it requires mutual TLS. */
  ca?: string;
  certificate?: string;
  key?: string;
  username?: string;
  password?: string;
  /** The broker's MQTT-over-WebSocket URL the page connects to (default ws://<broker host>:9001). */
  ws?: string;
  /** The devices' topic prefix (default "telltale"), and Home Assistant's discovery prefix (default "homeassistant"). */
  prefix?: string;
  haPrefix?: string;
  /** Where the server listens (default 127.0.0.1:8080; port 0 picks a free one). */
  host?: string;
  port?: number;
  /** When the port is taken, listen on a free one instead of failing (for `npm start`). */
  anyPortIfTaken?: boolean;
  /** The history's SQLite file (default telltale-dashboard.db) and limits. */
  db?: string;
  retentionMs?: number;
  maxRows?: number;
  log?: (line: string) => void;
  now?: () => number;
}

export interface Dashboard {
  /** The page's address. */
  url: string;
  /** The WebSocket URL the page is told to use. */
  ws: string;
  history: History;
  collector: Collector;
  close(): Promise<void>;
}

/** Checks the collector's broker URL; returns the page's default WebSocket URL: port 9001 on the broker's host. */
export function defaultWsUrl(broker: string): string {
  let url: URL | undefined;
  try {
    url = new URL(broker);
  } catch {
    /* named below */
  }
  if (!url || (url.protocol !== "mqtt:" && url.protocol !== "mqtts:") || url.hostname === "")
    throw new Error(`dashboard: --broker expects mqtt://HOST:PORT or mqtts://HOST:PORT, got "${broker}"`);
  return `ws://${url.hostname}:9001`;
}

function send(response: ServerResponse, status: number, type: string, body: string | Buffer, extra = {}): void {
  response.writeHead(status, { "content-type": type, "cache-control": "no-store", ...extra });
  response.end(body);
}

function sendError(response: ServerResponse, status: number, message: string): void {
  send(response, status, "application/json", JSON.stringify({ error: message }));
}

/** The history response, built from the stored payload text without parsing it again (it was validated as JSON). */
function historyJson(now: number, since: number, devices: DeviceHistory[]): string {
  const rows = (list: [number, string][]) => "[" + list.map(([at, p]) => "[" + at + "," + p + "]").join(",") + "]";
  const parts = devices.map(
    (d) =>
      `{"id":${JSON.stringify(d.id)},"status":${JSON.stringify(d.status)},"statusAt":${d.statusAt},` +
      `"discovery":${d.discovery ?? "null"},` +
      `"alarmBefore":${d.alarmBefore ? rows([d.alarmBefore]).slice(1, -1) : "null"},` +
      `"telemetry":${rows(d.telemetry)},"alarms":${rows(d.alarms)}}`,
  );
  return `{"now":${now},"since":${since},"devices":[${parts.join(",")}]}`;
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Opens the history, connects the collector to the broker and serves the page. */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const log = options.log ?? ((line: string) => console.log(line));
  const now = options.now ?? Date.now;
  const prefix = options.prefix ?? "telltale",
    haPrefix = options.haPrefix ?? "homeassistant";
  const wsDefault = defaultWsUrl(options.broker),
    ws = options.ws ?? wsDefault;
  if (!/^wss?:\/\/[^/]/.test(ws))
    throw new Error(`dashboard: --ws expects ws://HOST:PORT or wss://HOST:PORT, got "${ws}"`);
  const history = new History({
    path: options.db ?? "telltale-dashboard.db",
    retentionMs: options.retentionMs,
    maxRows: options.maxRows,
  });
  const { ca, certificate, key, username, password } = options;
  const collector = new Collector({
    url: options.broker,
    credentials: { ca, certificate, key, username, password },
    prefix,
    haPrefix,
    history,
    log,
    now,
  });
  const prune = () => {
    try {
      history.prune(now());
    } catch (e) {
      log("dashboard: pruning the history failed: " + (e as Error).message);
    }
  };
  prune();
  const pruneTimer = setInterval(prune, 60_000);
  pruneTimer.unref();

  const server = createServer((request, response) => {
    handle(request, response).catch((e: Error) => sendError(response, 500, e.message));
  });
  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (request.method !== "GET" && request.method !== "HEAD") return sendError(response, 405, "GET only");
    const file = FILES[url.pathname === "/index.html" ? "/" : url.pathname];
    if (file) return send(response, 200, file.type, await readFile(file.path()));
    if (url.pathname === "/api/config")
      return send(
        response,
        200,
        "application/json",
        JSON.stringify({ ws, prefix, haPrefix, windowMs: Math.min(PAGE_WINDOW_MS, history.retentionMs) }),
      );
    if (url.pathname === "/api/health") {
      const stats: CollectorStats & { rows: number } = { ...collector.stats, rows: history.rows };
      return send(response, 200, "application/json", JSON.stringify(stats));
    }
    if (url.pathname === "/api/history") {
      const raw = url.searchParams.get("minutes") ?? "60";
      const minutes = Number(raw);
      if (!Number.isFinite(minutes) || minutes <= 0 || minutes * 60_000 > history.retentionMs)
        return sendError(
          response,
          400,
          `minutes must be a number above 0 and at most the retention (${history.retentionMs / 60_000}), got "${raw}"`,
        );
      const t = now(),
        since = Math.round(t - minutes * 60_000);
      const body = historyJson(t, since, history.since(since));
      if (/\bgzip\b/.test(String(request.headers["accept-encoding"])))
        return send(response, 200, "application/json", await gzipAsync(body), { "content-encoding": "gzip" });
      return send(response, 200, "application/json", body);
    }
    sendError(response, 404, `no such page: ${url.pathname}`);
  }

  const host = options.host ?? "127.0.0.1";
  let port: number;
  try {
    try {
      port = await listen(server, host, options.port ?? 8080);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE" || !options.anyPortIfTaken) throw e;
      port = await listen(server, host, 0);
    }
  } catch (e) {
    clearInterval(pruneTimer);
    history.close();
    throw new Error(`dashboard: cannot listen on ${host}:${options.port ?? 8080}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  collector.start();
  const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return {
    url: `http://${shown.includes(":") ? "[" + shown + "]" : shown}:${port}/`,
    ws,
    history,
    collector,
    close: async () => {
      clearInterval(pruneTimer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await collector.stop();
      history.close();
    },
  };
}

/** What the dashboard needs of a device's configuration to read the broker it publishes to (Config has it). */
export interface DeviceBroker {
  topicPrefix: string;
  homeAssistant?: { prefix: string };
  broker: {
    scheme: string;
    host: string;
    port: number;
    ca?: string;
    certificate?: string;
    key?: string;
    username?: string;
    password?: string;
  };
}

/**
 * `npm start`'s dashboard, reading the broker the device uses (its page over `ws`, the embedded broker's WebSocket
 * listener, when there is one): started beside the firmware, its URL printed; one that cannot start is reported and
 * the firmware runs without it.
 */
export async function startDashboardBeside(device: DeviceBroker, ws?: string): Promise<Dashboard | undefined> {
  const b = device.broker;
  const options: DashboardOptions = {
    broker: `${b.scheme}://${b.host.includes(":") ? "[" + b.host + "]" : b.host}:${b.port}`,
    ca: b.ca,
    certificate: b.certificate,
    key: b.key,
    username: b.username,
    password: b.password,
    prefix: device.topicPrefix,
    haPrefix: device.homeAssistant?.prefix,
    ws,
    anyPortIfTaken: true,
  };
  try {
    const dashboard = await startDashboard(options);
    console.log(`dashboard: ${dashboard.url} (history in ${options.db ?? "telltale-dashboard.db"})`);
    return dashboard;
  } catch (e) {
    console.error(`telltale: ${(e as Error).message}; running without the dashboard`);
    return undefined;
  }
}
