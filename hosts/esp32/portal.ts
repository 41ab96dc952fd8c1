// The captive portal on the ESP32: its own access point, a DNS server answering every name with the AP's address, and
// the SDK's HTTP server feeding modules/provision/portal.ts.
import WiFi, { type AccessPointOptions } from "wifi";
import Net from "net";
import DNSServer from "dns/server";
import { Server as HTTPServer } from "http";
import type { Store } from "telltale/io/io";
import { Portal, type PortalRequest } from "telltale/provision/portal";

/** The SDK's HTTP server (modules/network/http/http.js), as this file uses it. */
interface SdkServer {
  callback: (this: object, message: number, value?: unknown, etc?: unknown) => unknown;
  close(): void;
}
interface SdkServerClass {
  new (options: { port: number }): SdkServer;
  readonly status: number;
  readonly header: number;
  readonly headersComplete: number;
  readonly requestComplete: number;
  readonly prepareResponse: number;
  readonly responseComplete: number;
}
/**
 * Typed here, not through the "http" typings: `npm run typecheck` sees Node's "http" module too (src/main-node.ts),
 * which shadows the SDK's declaration of the same name.
 */
const Server = HTTPServer as unknown as SdkServerClass;

/** The ESP-IDF soft-AP's default address (esp_netif's default AP configuration). */
const DEFAULT_AP_ADDRESS = "192.168.4.1";
/** Headers read per request, and the longest one: a browser sends about 10 of a few hundred bytes. */
const MAX_HEADERS = 40;
const MAX_HEADER_BYTES = 1024;

export interface CaptivePortalOptions {
  store: Store;
  /** The access point's name ("Telltale-c020") and, optionally, its WPA2 password (8–63 characters). */
  apName: string;
  apPassword?: string;
  base: Readonly<Record<string, unknown>>;
  deviceId: string;
  log: (line: string) => void;
  /** Called once a "saved" answer has been sent: the device restarts into the new settings. */
  onSaved: () => void;
}

/** What one connection of the SDK's server gathered; kept on the server's request object for its life. */
interface Pending {
  method: string;
  path: string;
  headers: Record<string, string>;
  headerCount: number;
  body: Uint8Array;
  saved: boolean;
}

function apAddress(): string {
  const ip: unknown = (Net.get as (what: string, iface?: string) => unknown)("IP", "ap");
  return typeof ip === "string" && ip.length > 0 ? ip : DEFAULT_AP_ADDRESS;
}

/**
 * Opens the access point (with the station kept on, so that Improv can try a network meanwhile), the DNS server and
 * the HTTP server on port 80. Returns close(), which stops the servers (the access point stays until restart).
 */
export function openCaptivePortal(options: CaptivePortalOptions): { close(): void } {
  const ap: AccessPointOptions & { station: boolean } = { ssid: options.apName, station: true };
  if (options.apPassword) ap.password = options.apPassword;
  WiFi.accessPoint(ap);
  const address = apAddress();
  const portal = new Portal({
    store: options.store,
    url: "http://" + address + "/",
    base: options.base,
    deviceId: options.deviceId,
    log: options.log,
  });
  // Every A query is answered with the access point's address: a phone's connectivity check then reaches the portal.
  const dns = new DNSServer((message) => (message === 1 ? address : ""));
  const http = new Server({ port: 80 });
  http.callback = function (this: object, message: number, value?: unknown, etc?: unknown): unknown {
    // `this` is the SDK's object for one connection; the request's parts are gathered on it.
    const connection = this as unknown as { telltale?: Pending };
    switch (message) {
      case Server.status:
        connection.telltale = {
          method: String(etc),
          path: String(value),
          headers: {},
          headerCount: 0,
          body: new Uint8Array(0),
          saved: false,
        };
        return;
      case Server.header: {
        const pending = connection.telltale!;
        const name = String(value),
          data = String(etc);
        // Too many or too long: the connection is closed (a thrown error closes it in the SDK's server).
        if (++pending.headerCount > MAX_HEADERS || name.length + data.length > MAX_HEADER_BYTES)
          throw new Error("portal: request headers too large");
        pending.headers[name] = data;
        return;
      }
      case Server.headersComplete: {
        const declared = Number(connection.telltale!.headers["content-length"] ?? 0);
        // A body larger than the portal reads is skipped, not buffered; the portal answers 413 from the header.
        return declared > portal.maxBodyBytes ? false : ArrayBuffer;
      }
      case Server.requestComplete:
        if (value instanceof ArrayBuffer) connection.telltale!.body = new Uint8Array(value);
        return;
      case Server.prepareResponse: {
        const pending = connection.telltale!;
        const request: PortalRequest = {
          method: pending.method,
          path: pending.path,
          headers: pending.headers,
          body: pending.body,
        };
        const answer = portal.handle(request);
        pending.saved = answer.saved;
        const headers: string[] = [];
        for (const name of Object.keys(answer.headers)) headers.push(name, answer.headers[name]!);
        // The body as UTF-8 bytes: the server counts a string's characters as its content-length.
        const body = ArrayBuffer.fromString(answer.body);
        return { status: answer.status, headers, body: pending.method === "HEAD" ? new ArrayBuffer(0) : body };
      }
      case Server.responseComplete:
        if (connection.telltale?.saved) options.onSaved();
        return;
    }
  };
  options.log("portal: access point " + JSON.stringify(options.apName) + "; settings page at http://" + address + "/");
  return {
    close(): void {
      http.close();
      dns.close();
    },
  };
}
