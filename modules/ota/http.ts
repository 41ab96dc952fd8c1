// A small HTTP/1.1 Range client's pure half: the https URL, the request text, and a parser that checks a 206 answer byte by byte.

/** Where an image is: host, port and path of an https:// URL. */
export interface HttpsTarget {
  readonly host: string;
  readonly port: number;
  /** The path and query as sent in the request line (at least "/"). */
  readonly path: string;
}

export class HttpError extends Error {
  // A field, not an assignment: on a preloaded host Error.prototype is frozen and `this.name = …` throws.
  override name = "HttpError";
}

/** The longest status line and headers accepted (a Range answer's are a few hundred bytes). */
export const MAX_HEAD = 8192;

/** Parses "https://host[:port][/path]" (no URL class on devices); throws HttpError naming the problem. */
export function parseHttpsUrl(url: string): HttpsTarget {
  // Made per call: module-level RegExps of preloaded modules have crashed XS (see modules/config/config.ts).
  const m = /^https:\/\/(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(\/[\x21-\x7e]*)?$/.exec(url);
  if (!m) throw new HttpError("expected https://host[:port]/path, got " + JSON.stringify(url.slice(0, 80)));
  const port = m[2] === undefined ? 443 : Number(m[2]);
  if (port < 1 || port > 65535) throw new HttpError("port " + port + " is outside 1–65535");
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port, path: m[3] ?? "/" };
}

/** The request for bytes `start`–`end` (inclusive) of `target`, closing the connection after the answer. */
export function rangeRequest(target: HttpsTarget, start: number, end: number): string {
  const host = target.host.includes(":") ? "[" + target.host + "]" : target.host;
  return (
    "GET " +
    target.path +
    " HTTP/1.1\r\nHost: " +
    host +
    (target.port === 443 ? "" : ":" + target.port) +
    "\r\nRange: bytes=" +
    start +
    "-" +
    end +
    "\r\nAccept-Encoding: identity\r\nConnection: close\r\nUser-Agent: telltale-ota\r\n\r\n"
  );
}

const HEAD = 0,
  BODY = 1,
  DONE = 2;

/**
 * Reads the answer to rangeRequest(start, end) of an image of `total` bytes: it must be `206 Partial Content` with
 * `Content-Range: bytes start-end/total`, a matching `Content-Length` and no transfer coding. Body bytes go to
 * `onBody(offset in the image, bytes)` as they arrive; anything else throws HttpError with the reason.
 */
export class RangeResponse {
  readonly start: number;
  readonly end: number;
  readonly total: number;
  readonly #onBody: (offset: number, bytes: Uint8Array) => void;
  #state = HEAD;
  #head = "";
  #received = 0;

  constructor(start: number, end: number, total: number, onBody: (offset: number, bytes: Uint8Array) => void) {
    this.start = start;
    this.end = end;
    this.total = total;
    this.#onBody = onBody;
  }

  /** Body bytes received so far. */
  get received(): number {
    return this.#received;
  }
  get done(): boolean {
    return this.#state === DONE;
  }

  feed(bytes: Uint8Array): void {
    let at = 0;
    if (this.#state === HEAD) {
      // The head is ASCII: one character per byte. Scan for the blank line, keeping only what belongs to the head.
      while (at < bytes.length && this.#state === HEAD) {
        this.#head += String.fromCharCode(bytes[at++]!);
        if (this.#head.length > MAX_HEAD)
          throw new HttpError("the answer's headers are longer than " + MAX_HEAD + " bytes");
        if (this.#head.endsWith("\r\n\r\n")) this.#checkHead();
      }
    }
    if (this.#state === BODY && at < bytes.length) {
      const want = this.end - this.start + 1 - this.#received;
      const n = Math.min(want, bytes.length - at);
      const offset = this.start + this.#received;
      this.#received += n;
      if (this.#received === this.end - this.start + 1) this.#state = DONE;
      this.#onBody(offset, bytes.subarray(at, at + n));
    }
  }

  /** The connection closed: throws unless the whole range arrived. */
  close(): void {
    if (this.#state === DONE) return;
    if (this.#state === HEAD) throw new HttpError("the connection closed before the answer's headers ended");
    throw new HttpError(
      "short body: the connection closed after " + this.#received + " of " + (this.end - this.start + 1) + " bytes",
    );
  }

  #checkHead(): void {
    const lines = this.#head.slice(0, -4).split("\r\n");
    const status = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]!);
    if (!status) throw new HttpError("not an HTTP/1.1 answer: " + JSON.stringify(lines[0]!.slice(0, 60)));
    if (status[1] !== "206")
      throw new HttpError(
        "HTTP " +
          status[1] +
          (status[2] ? " " + status[2] : "") +
          " for bytes " +
          this.start +
          "-" +
          this.end +
          " (expected 206 Partial Content)",
      );
    let range: string | undefined, length: string | undefined, coding: string | undefined;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!,
        colon = line.indexOf(":");
      if (colon <= 0) throw new HttpError("a malformed header line: " + JSON.stringify(line.slice(0, 60)));
      const name = line.slice(0, colon).trim().toLowerCase(),
        value = line.slice(colon + 1).trim();
      if (name === "content-range") range = value;
      else if (name === "content-length") length = value;
      else if (name === "transfer-encoding") coding = value;
    }
    if (coding !== undefined && coding.toLowerCase() !== "identity")
      throw new HttpError("Transfer-Encoding " + coding + " is not supported (a Range answer needs none)");
    const expected = "bytes " + this.start + "-" + this.end + "/" + this.total;
    if (range !== expected)
      throw new HttpError(
        "wrong Content-Range: " + (range === undefined ? "none" : JSON.stringify(range)) + ", expected " + expected,
      );
    const size = this.end - this.start + 1;
    if (length === undefined || !/^\d{1,10}$/.test(length) || Number(length) !== size)
      throw new HttpError(
        "wrong Content-Length: " + (length === undefined ? "none" : JSON.stringify(length)) + ", expected " + size,
      );
    this.#state = BODY;
  }
}

// Frozen so that, preloaded, the prototypes stay in flash.
Object.freeze(HttpError.prototype);
Object.freeze(RangeResponse.prototype);
