// The captive portal's request handling: a parsed HTTP request in, a response out; the form, its checks, the store.
import type { Store } from "telltale/io/io";
import { utf8Read } from "telltale/text/utf8";
import { messageOf } from "telltale/errors/message";
import {
  checkAgainst,
  ProvisionError,
  saveProvisioned,
  type ProvisionField,
  type Provisioned,
} from "telltale/provision/credentials";

/** A request as an HTTP server adapter parsed it. Header names are lower case. */
export interface PortalRequest {
  method: string;
  /** The request target as sent ("/save", "/generate_204?x=1"). */
  path: string;
  headers: Readonly<Record<string, string>>;
  /** The body as received, at most `maxBodyBytes + 1` bytes (an adapter stops reading past the limit). */
  body: Uint8Array;
}

export interface PortalResponse {
  status: number;
  /** Header names in lower case; the adapter adds content-length and connection. */
  headers: Record<string, string>;
  /** HTML or text; the adapter sends it as UTF-8. */
  body: string;
  /** True when the settings were stored: the adapter restarts the device once the response is sent. */
  saved: boolean;
}

export interface PortalOptions {
  store: Store;
  /** The address the form is served at, with a trailing slash ("http://192.168.4.1/"); probes are sent there. */
  url: string;
  /** The app configuration the device runs without provisioning: provisioned values are checked laid over it. */
  base?: Readonly<Record<string, unknown>>;
  /** The device's own id, shown as the placeholder of the device name. */
  deviceId?: string;
  log?: (line: string) => void;
  /** The largest request body read, bytes (default 1024: the four fields at their longest, percent-encoded, fit). */
  maxBodyBytes?: number;
}

/** The default and the longest request target read, in characters. */
export const PORTAL_MAX_BODY = 1024;
const MAX_PATH = 512;

/**
 * The paths operating systems fetch to find a captive portal (Android, iOS/macOS, Windows, Firefox, Chrome OS); each
 * gets a redirect to the form, which makes the system open its sign-in window.
 */
export const PROBE_PATHS: readonly string[] = Object.freeze([
  "/generate_204",
  "/gen_204",
  "/hotspot-detect.html",
  "/library/test/success.html",
  "/connecttest.txt",
  "/ncsi.txt",
  "/redirect",
  "/canonical.html",
  "/success.txt",
]);

/** The form's fields, in order, with their labels (a refusal names the label). */
const FIELDS: readonly (readonly [ProvisionField, string, string])[] = Object.freeze([
  Object.freeze(["ssid", "ssid", "Wi-Fi network (SSID)"] as const),
  Object.freeze(["password", "password", "Wi-Fi password"] as const),
  Object.freeze(["broker", "broker", "MQTT broker URL"] as const),
  Object.freeze(["deviceId", "device", "Device name"] as const),
]);

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) =>
    c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&#39;",
  );
}

function labelOf(field: ProvisionField): string {
  for (const f of FIELDS) if (f[0] === field) return f[2];
  return field;
}

/** Why a request body was refused before its fields were read (status 400, 413 or 415). */
class RequestProblem extends Error {
  override name = "RequestProblem";
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Decodes one application/x-www-form-urlencoded name or value (WHATWG URL §5.1) as strict UTF-8. */
function formDecode(text: string, what: string): string {
  const bytes = new Uint8Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2b) bytes[n++] = 0x20;
    else if (c === 0x25) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex))
        throw new RequestProblem(400, what + ": a % not followed by two hex digits (bad percent-encoding)");
      bytes[n++] = parseInt(hex, 16);
      i += 2;
    } else bytes[n++] = c;
  }
  const decoded = utf8Read(bytes, 0, n);
  if (decoded === undefined) throw new RequestProblem(400, what + ": not valid UTF-8");
  return decoded;
}

/** The fields of an urlencoded body; every byte must be ASCII, as the encoding produces. */
function parseForm(body: Uint8Array): Record<string, string> {
  let text = "";
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    if (b > 0x7e || b < 0x20)
      throw new RequestProblem(
        400,
        "the body has byte 0x" + b.toString(16) + " at " + i + "; urlencoded text is ASCII",
      );
    text += String.fromCharCode(b);
  }
  const fields: Record<string, string> = {};
  if (text === "") return fields;
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = formDecode(eq < 0 ? pair : pair.slice(0, eq), "a field name");
    const value = formDecode(eq < 0 ? "" : pair.slice(eq + 1), "field " + JSON.stringify(name));
    if (Object.hasOwn(fields, name)) throw new RequestProblem(400, "field " + JSON.stringify(name) + " is sent twice");
    fields[name] = value;
  }
  return fields;
}

/** The media type of a content-type header, lower case, and whether its charset (if any) is UTF-8. */
function mediaType(header: string | undefined): { type: string; utf8: boolean } {
  if (header === undefined) return { type: "", utf8: true };
  const parts = header.split(";");
  const type = parts[0]!.trim().toLowerCase();
  let utf8 = true;
  for (let i = 1; i < parts.length; i++) {
    const [name = "", value = ""] = parts[i]!.split("=");
    if (name.trim().toLowerCase() === "charset") utf8 = /^"?utf-?8"?$/i.test(value.trim());
  }
  return { type, utf8 };
}

/**
 * The portal: serves the form, redirects captive-portal probes to it, checks and stores what is posted. One instance
 * per portal session; it keeps nothing between requests but its options.
 */
export class Portal {
  readonly #store: Store;
  readonly #url: string;
  readonly #base: Readonly<Record<string, unknown>>;
  readonly #deviceId: string;
  readonly #log: (line: string) => void;
  readonly maxBodyBytes: number;

  constructor(options: PortalOptions) {
    if (!/^https?:\/\/[^/]+\/$/.test(options.url))
      throw new RangeError('Portal: option "url" must be http://host/ (with the trailing slash), got ' + options.url);
    const max = options.maxBodyBytes ?? PORTAL_MAX_BODY;
    if (!Number.isInteger(max) || max < 64 || max > 65536)
      throw new RangeError('Portal: option "maxBodyBytes" must be an integer from 64 to 65536, got ' + max);
    this.#store = options.store;
    this.#url = options.url;
    this.#base = options.base ?? {};
    this.#deviceId = options.deviceId ?? "";
    this.#log = options.log ?? (() => {});
    this.maxBodyBytes = max;
  }

  /** Answers one request; never throws (a fault becomes a 500 naming it). */
  handle(request: PortalRequest): PortalResponse {
    try {
      return this.#route(request);
    } catch (e) {
      this.#log("portal: " + messageOf(e));
      return this.#text(500, "internal error: " + messageOf(e));
    }
  }

  #route(request: PortalRequest): PortalResponse {
    const method = request.method;
    if (request.path.length > MAX_PATH)
      return this.#text(414, "the request target is " + request.path.length + " characters; at most " + MAX_PATH);
    const q = request.path.indexOf("?");
    const path = q < 0 ? request.path : request.path.slice(0, q);
    if (method === "POST") {
      if (path !== "/" && path !== "/save") return this.#text(404, "POST goes to /save");
      return this.#save(request);
    }
    if (method !== "GET" && method !== "HEAD") {
      const response = this.#text(405, "method " + method + " is not served here; use GET or POST");
      response.headers.allow = "GET, HEAD, POST";
      return response;
    }
    if (path === "/" || path === "/index.html") return this.#page(200, this.#form({}, undefined));
    // Probes and every other address: a captive portal answers every name, so every page leads to the form.
    return {
      status: 302,
      headers: { location: this.#url, "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
      body: "the settings page is at " + this.#url,
      saved: false,
    };
  }

  #save(request: PortalRequest): PortalResponse {
    const declared = request.headers["content-length"];
    const length = declared === undefined ? request.body.length : Number(declared);
    if (declared !== undefined && !/^\d+$/.test(declared.trim()))
      return this.#text(400, "content-length " + JSON.stringify(declared) + " is not a number; nothing was stored");
    if (length > this.maxBodyBytes || request.body.length > this.maxBodyBytes)
      return this.#text(
        413,
        "the body is " +
          Math.max(length, request.body.length) +
          " bytes; at most " +
          this.maxBodyBytes +
          "; nothing was stored",
      );
    const media = mediaType(request.headers["content-type"]);
    if (media.type !== "application/x-www-form-urlencoded" || !media.utf8)
      return this.#text(
        415,
        "expected content-type application/x-www-form-urlencoded (UTF-8), got " +
          JSON.stringify(request.headers["content-type"] ?? "none") +
          "; nothing was stored",
      );
    let fields: Record<string, string>;
    try {
      fields = parseForm(request.body);
    } catch (e) {
      if (e instanceof RequestProblem) return this.#text(e.status, e.message + "; nothing was stored");
      throw e;
    }
    for (const [, name] of FIELDS)
      if (!Object.hasOwn(fields, name))
        return this.#text(400, "missing field " + JSON.stringify(name) + "; nothing was stored");
    const ssid = fields.ssid!,
      broker = fields.broker!.trim(),
      deviceId = fields.device!.trim();
    const p: Provisioned = { ssid, password: fields.password! };
    if (broker !== "") p.broker = broker;
    if (deviceId !== "") p.deviceId = deviceId;
    try {
      checkAgainst(this.#base, p);
      saveProvisioned(this.#store, p);
    } catch (e) {
      const field = e instanceof ProvisionError ? e.field : "ssid";
      const problem = e instanceof ProvisionError ? e.message.slice(e.field.length + 2) : "not stored: " + messageOf(e);
      this.#log("portal: refused: " + labelOf(field) + ": " + problem);
      return this.#page(400, this.#form(fields, { field, message: labelOf(field) + ": " + problem }));
    }
    this.#log("portal: settings stored for Wi-Fi " + JSON.stringify(ssid) + "; restarting");
    const response = this.#page(
      200,
      "<h1>Saved</h1><p>Telltale restarts now and joins <b>" +
        escapeHtml(ssid) +
        "</b>. This network goes away; reconnect your phone or computer to your usual network.</p>",
    );
    response.saved = true;
    return response;
  }

  #form(values: Record<string, string>, error: { field: ProvisionField; message: string } | undefined): string {
    let html = "<h1>Telltale setup</h1>";
    if (error) html += '<p class="e" role="alert">' + escapeHtml(error.message) + "</p>";
    html += '<form method="post" action="/save">';
    for (const [field, name, label] of FIELDS) {
      const type = field === "password" ? "password" : "text";
      // The password is never sent back.
      const value = field === "password" ? "" : (values[name] ?? "");
      const hint =
        field === "password"
          ? "8–63 characters; empty for an open network"
          : field === "broker"
            ? "mqtt://host:1883 or mqtts://host:8883; empty keeps the built-in one"
            : field === "deviceId"
              ? "letters, digits, _ or -; empty: " + (this.#deviceId || "the board's own")
              : "";
      html +=
        "<label>" +
        escapeHtml(label) +
        '<input name="' +
        name +
        '" type="' +
        type +
        '" value="' +
        escapeHtml(value) +
        '"' +
        (field === "ssid" ? " required maxlength=32" : "") +
        (error?.field === field ? ' aria-invalid="true" autofocus' : "") +
        "></label>" +
        (hint ? "<small>" + escapeHtml(hint) + "</small>" : "");
    }
    return html + "<button>Save and restart</button></form>";
  }

  #page(status: number, content: string): PortalResponse {
    return {
      status,
      headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
      body:
        '<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">' +
        "<title>Telltale setup</title><style>body{font:16px sans-serif;max-width:28em;margin:1em auto;padding:0 1em}" +
        "label{display:block;margin-top:1em}input{display:block;width:100%;font-size:1em}small{color:#555}" +
        ".e{color:#b00}button{margin-top:1.5em;font-size:1em}</style></head><body>" +
        content +
        "</body></html>",
      saved: false,
    };
  }

  #text(status: number, message: string): PortalResponse {
    return {
      status,
      headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
      body: message + "\n",
      saved: false,
    };
  }
}

// Frozen so that, preloaded, the prototypes stay in flash.
Object.freeze(Portal.prototype);
Object.freeze(RequestProblem.prototype);
