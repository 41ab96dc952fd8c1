// TCP/TLS client socket for Moddable hosts: Net.resolve, then embedded:io/socket/tcp or the TLS socket over it.
import TCP from "embedded:io/socket/tcp";
import TLSSocket from "embedded:io/socket/tcp/tls";
import Net from "net";
import Timer from "timer";
import Transform from "crypt/transform";
import type { TCPSocket, TCPSocketOptions, TLSOptions } from "telltale/io/io";

/** Largest plaintext a TLS write may carry: ssl/session drops bigger writes (maxFragmentSize, session_419.js). */
const TLS_MAX_WRITE = 16384;

/** What this class uses of Moddable's TCP and TLS sockets; both classes satisfy it as typed. */
interface Transport {
  read(count: number): unknown;
  write(buffer: ArrayBuffer): unknown;
  close(): unknown;
}

/** The `secure` dictionary handed to Moddable's ssl/session (documentation/network/securesocket.md). */
type SessionOptions = {
  serverName?: string;
  /** DER certificate of the CA to trust; without it the SDK's certificate store is searched. */
  certificate?: ArrayBuffer;
  verify?: boolean;
  clientCertificates?: ArrayBuffer[];
  clientKey?: ArrayBuffer;
};

function isIPv4(address: string): boolean {
  const parts = address.split(".");
  if (parts.length !== 4) return false;
  for (const part of parts) {
    if (part.length === 0 || part.length > 3) return false;
    for (let i = 0; i < part.length; i++) {
      const c = part.charCodeAt(i);
      if (c < 48 || c > 57) return false;
    }
    if (Number(part) > 255) return false;
  }
  return true;
}

function pemToDER(pem: string, option: string): ArrayBuffer {
  try {
    return Transform.pemToDER(pem);
  } catch {
    throw new TypeError('TCP: option "' + option + '" is not PEM text');
  }
}

function checkString(value: unknown, option: string): void {
  if (value !== undefined && typeof value !== "string")
    throw new TypeError('TCP: option "' + option + '" must be a string');
}

/** Validates `secure` and converts its PEM text to the DER that Moddable's TLS needs. */
function sessionOptions(tls: TLSOptions, address: string): SessionOptions {
  if (typeof tls !== "object" || tls === null) throw new TypeError('TCP: option "secure" must be an object');
  checkString(tls.ca, "secure.ca");
  checkString(tls.serverName, "secure.serverName");
  checkString(tls.certificate, "secure.certificate");
  checkString(tls.key, "secure.key");
  if (tls.verify !== undefined && typeof tls.verify !== "boolean")
    throw new TypeError('TCP: option "secure.verify" must be a boolean');
  if ((tls.certificate === undefined) !== (tls.key === undefined))
    throw new TypeError('TCP: options "secure.certificate" and "secure.key" go together');

  const result: SessionOptions = {};
  // SNI names a host, never an address (RFC 6066 §3).
  const serverName = tls.serverName ?? (isIPv4(address) ? undefined : address);
  if (serverName) result.serverName = serverName;
  // Moddable's certificate manager registers one CA: a PEM bundle contributes its first certificate.
  if (tls.ca !== undefined) result.certificate = pemToDER(tls.ca, "secure.ca");
  if (tls.verify === false) result.verify = false;
  if (tls.certificate !== undefined && tls.key !== undefined) {
    result.clientCertificates = [pemToDER(tls.certificate, "secure.certificate")];
    const key = pemToDER(tls.key, "secure.key");
    // ssl/cert parses PKCS#8; a PKCS#1 ("RSA PRIVATE KEY") key is wrapped first (crypt.md, "class Transform").
    result.clientKey = tls.key.includes("BEGIN RSA PRIVATE KEY") ? Transform.privateKeyToPrivateKeyInfo(key) : key;
  }
  return result;
}

/** One copy only for a view of part of a buffer; the TLS socket wants whole ArrayBuffers. */
function toArrayBuffer(buffer: ArrayBuffer | ArrayBufferView): ArrayBuffer {
  if (buffer instanceof ArrayBuffer) return buffer;
  if (ArrayBuffer.isView(buffer) && buffer.buffer instanceof ArrayBuffer) {
    const whole = buffer.buffer;
    if (buffer.byteOffset === 0 && buffer.byteLength === whole.byteLength) return whole;
    return whole.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
  }
  throw new TypeError("TCP: write() takes an ArrayBuffer or a view of one");
}

function toError(e: unknown, fallback: string): Error {
  return e instanceof Error ? e : new Error(fallback + ": " + String(e));
}

/**
 * The host's `tcp` class. `address` may be a host name. With `secure`, the server's certificate chain is
 * verified (against `secure.ca` or the SDK's store) unless `secure.verify` is false; SNI carries the name.
 * Callbacks run with `this` set to the socket, never from inside a public method, and never after close().
 */
export class HostSocket implements TCPSocket {
  readonly #onReadable: TCPSocketOptions["onReadable"];
  readonly #onWritable: TCPSocketOptions["onWritable"];
  readonly #onError: TCPSocketOptions["onError"];
  readonly #secure: SessionOptions | undefined;
  readonly #port: number;
  #transport: Transport | undefined;
  /** Bytes the transport last reported readable, less what was read since. */
  #readable = 0;
  #closed = false;
  #failed = false;
  #deferred: Timer | undefined;

  constructor(options: TCPSocketOptions) {
    if (typeof options !== "object" || options === null) throw new TypeError("TCP: options must be an object");
    const { address, port, secure, onReadable, onWritable, onError } = options;
    if (typeof address !== "string" || address.length === 0)
      throw new TypeError('TCP: option "address" must be a non-empty string');
    if (typeof port !== "number" || port !== Math.floor(port) || port < 1 || port > 65535)
      throw new RangeError('TCP: option "port" must be an integer 1-65535');
    for (const [name, callback] of [
      ["onReadable", onReadable],
      ["onWritable", onWritable],
      ["onError", onError],
    ] as const)
      if (callback !== undefined && typeof callback !== "function")
        throw new TypeError('TCP: option "' + name + '" must be a function');
    this.#secure = secure === undefined ? undefined : sessionOptions(secure, address);
    this.#port = port;
    this.#onReadable = onReadable;
    this.#onWritable = onWritable;
    this.#onError = onError;

    // The connection is always opened from a callback, so a failure reaches onError, never the caller's stack.
    if (isIPv4(address)) {
      this.#defer(() => this.#connect(address));
      return;
    }
    try {
      Net.resolve(address, (name, ip) => {
        if (typeof ip === "string" && ip.length > 0) this.#connect(ip);
        else this.#fail(new Error('TCP: cannot resolve "' + name + '"'));
      });
    } catch (e) {
      // lwIP has a small queue of look-ups; a full queue is a runtime fault, reported like the others.
      const error = toError(e, "TCP: cannot resolve " + JSON.stringify(address));
      this.#defer(() => this.#fail(error));
    }
  }

  read(count?: number): ArrayBuffer | undefined {
    if (this.#closed) throw new Error("TCP: closed");
    const transport = this.#transport;
    let n = this.#readable;
    if (count !== undefined && count < n) n = count;
    if (transport === undefined || !(n > 0)) return undefined;
    const data = transport.read(n);
    this.#readable -= n;
    return data instanceof ArrayBuffer ? data : undefined;
  }

  write(buffer: ArrayBuffer | ArrayBufferView): void {
    if (this.#closed) throw new Error("TCP: closed");
    const transport = this.#transport;
    if (transport === undefined) throw new Error(this.#failed ? "TCP: connection failed" : "TCP: not connected yet");
    const bytes = toArrayBuffer(buffer);
    if (this.#secure !== undefined && bytes.byteLength > TLS_MAX_WRITE)
      throw new RangeError("TCP: a TLS write carries at most " + TLS_MAX_WRITE + " bytes, got " + bytes.byteLength);
    transport.write(bytes);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    Timer.clear(this.#deferred);
    this.#deferred = undefined;
    this.#release();
  }

  #defer(action: () => void): void {
    this.#deferred = Timer.set(() => {
      this.#deferred = undefined;
      action();
    }, 0);
  }

  #connect(ip: string): void {
    if (this.#closed || this.#failed) return;
    let transport: Transport;
    try {
      transport = this.#open(ip);
    } catch (e) {
      return this.#fail(toError(e, "TCP: cannot connect to " + ip));
    }
    // The transport may have reported an error from inside its constructor.
    if (this.#closed || this.#failed) transport.close();
    else this.#transport = transport;
  }

  #open(ip: string): Transport {
    const callbacks = {
      onReadable: (count: number) => {
        if (this.#closed || this.#failed) return;
        this.#readable = count;
        this.#onReadable?.call(this, count);
      },
      onWritable: (count: number) => {
        if (this.#closed || this.#failed) return;
        this.#onWritable?.call(this, count);
      },
      onError: () => this.#fail(new Error("TCP: connection to " + ip + ":" + this.#port + " failed or closed")),
    };
    if (this.#secure === undefined) return new TCP({ address: ip, port: this.#port, ...callbacks });
    // tlssocket.js builds its TCP socket from `TCP.io` with these same options, and takes SNI from
    // `secure.serverName`; `host` is set to the address so the TCP layer never resolves a name again.
    const options = { address: ip, host: ip, port: this.#port, secure: this.#secure, TCP: { io: TCP }, ...callbacks };
    return new TLSSocket(options);
  }

  #fail(error: Error): void {
    if (this.#closed || this.#failed) return;
    this.#failed = true;
    this.#release();
    this.#onError?.call(this, error);
  }

  #release(): void {
    const transport = this.#transport;
    this.#transport = undefined;
    this.#readable = 0;
    transport?.close();
  }
}
