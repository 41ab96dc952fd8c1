// node:net / node:tls wrapped in the ECMA-419 TCP socket shape (onReadable/onWritable/onError, read/write).
import net from "node:net";
import tls from "node:tls";
import type { TCPSocket, TCPSocketOptions, TLSOptions } from "../../modules/io/io.js";

/** How many bytes we tell the caller it may write while the kernel buffer drains. */
const WRITABLE = 64 * 1024;

/** Verification failures that mean "no trusted CA signed it": which CAs were trusted is said by the caller. */
const UNTRUSTED = Object.freeze([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
]);

const TLS_REASONS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "server certificate is self-signed and not trusted",
  CERT_HAS_EXPIRED: "server certificate has expired",
  CERT_NOT_YET_VALID: "server certificate is not yet valid",
  ERR_TLS_CERT_ALTNAME_INVALID: "server certificate does not match the host name",
  // Alerts from a broker that requires mutual TLS.
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: "broker requires a client certificate",
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: "broker does not trust the client certificate",
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: "broker rejected the client certificate",
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: "broker rejected the client certificate as expired",
};

/** Turns Node's error into one sentence naming the cause; `secure` is the socket's TLS options (undefined: plain TCP). */
export function describeSocketError(
  error: NodeJS.ErrnoException,
  address: string,
  port: number,
  secure: TLSOptions | undefined,
): Error {
  const code = error.code ?? "";
  if (UNTRUSTED.includes(code))
    // Without a CA of its own, Node's tls trusts its built-in root store (Mozilla's CAs), not the configured one.
    return new Error(
      `TLS: server certificate is not trusted by ${secure?.ca === undefined ? "Node's built-in root CAs (no CA is configured)" : "the configured CA"} (${code}) at ${address}:${port}`,
    );
  if (TLS_REASONS[code]) return new Error(`TLS: ${TLS_REASONS[code]} (${code}) at ${address}:${port}`);
  if (code === "ECONNREFUSED") return new Error(`TCP: connection refused by ${address}:${port}`);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return new Error(`TCP: cannot resolve host name ${address}`);
  if (code === "ECONNRESET") return new Error(`TCP: connection reset by ${address}:${port}`);
  if (code === "ETIMEDOUT") return new Error(`TCP: connection to ${address}:${port} timed out`);
  return new Error(`${secure ? "TLS" : "TCP"}: ${error.message}${code ? " (" + code + ")" : ""}`);
}

export class NodeTCPSocket implements TCPSocket {
  /** Every socket opened, for tests that cut connections from the outside. */
  static readonly open = new Set<NodeTCPSocket>();
  readonly #socket: net.Socket;
  readonly #chunks: Buffer[] = [];
  #available = 0;
  #closed = false;
  #writablePending = false;
  #options: TCPSocketOptions;

  constructor(options: TCPSocketOptions) {
    const { address, port, secure } = options;
    if (typeof address !== "string" || address.length === 0)
      throw new TypeError('TCP: option "address" must be a host name or IP address');
    if (port !== (port | 0) || port < 1 || port > 65535)
      throw new RangeError('TCP: option "port" must be an integer 1–65535');
    this.#options = options;
    if (secure) {
      const serverName = secure.serverName ?? address;
      this.#socket = tls.connect({
        host: address,
        port,
        ca: secure.ca,
        cert: secure.certificate,
        key: secure.key,
        servername: net.isIP(serverName) ? undefined : serverName,
        rejectUnauthorized: secure.verify !== false,
        checkServerIdentity: (host, cert) => tls.checkServerIdentity(serverName || host, cert),
      });
      this.#socket.once("secureConnect", () => this.#writable(WRITABLE));
    } else {
      this.#socket = net.connect({ host: address, port });
      this.#socket.once("connect", () => this.#writable(WRITABLE));
    }
    this.#socket.setNoDelay(true);
    this.#socket.on("data", (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#available += chunk.length;
      if (!this.#closed) this.#options.onReadable?.call(this, this.#available);
    });
    this.#socket.on("drain", () => this.#writable(WRITABLE));
    let reported = false;
    const fail = (error: Error) => {
      if (reported || this.#closed) return;
      reported = true;
      this.#closed = true;
      NodeTCPSocket.open.delete(this);
      this.#socket.destroy();
      this.#options.onError?.call(this, error);
    };
    this.#socket.on("error", (e: NodeJS.ErrnoException) => fail(describeSocketError(e, address, port, secure)));
    this.#socket.on("close", () => fail(new Error("connection closed by peer")));
    NodeTCPSocket.open.add(this);
  }

  #writable(count: number): void {
    if (!this.#closed) this.#options.onWritable?.call(this, count);
  }

  read(count?: number): ArrayBuffer | undefined {
    if (this.#available === 0) return undefined;
    const n = count === undefined ? this.#available : Math.min(count, this.#available);
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const head = this.#chunks[0]!; // #available counts the bytes held in #chunks
      const take = Math.min(head.length, n - filled);
      out.set(head.subarray(0, take), filled);
      filled += take;
      if (take === head.length) this.#chunks.shift();
      else this.#chunks[0] = head.subarray(take);
    }
    this.#available -= n;
    return out.buffer;
  }

  write(buffer: ArrayBuffer | ArrayBufferView): void {
    if (this.#closed) throw new Error("TCP: socket is closed");
    const bytes = ArrayBuffer.isView(buffer)
      ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
      : new Uint8Array(buffer);
    // Below Node's buffer mark no 'drain' will come: report the space again once this write is queued,
    // so a writer that spends its onWritable allowance is told it may go on (ECMA-419 semantics).
    if (this.#socket.write(Buffer.from(bytes))) this.#scheduleWritable();
  }

  #scheduleWritable(): void {
    if (this.#writablePending) return;
    this.#writablePending = true;
    setImmediate(() => {
      this.#writablePending = false;
      this.#writable(Math.max(0, WRITABLE - this.#socket.writableLength));
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    NodeTCPSocket.open.delete(this);
    this.#socket.end();
    this.#socket.destroySoon?.();
    setTimeout(() => this.#socket.destroy(), 1000).unref();
  }

  /** Test hook: drop the connection abruptly, as a power cut or a pulled cable would. */
  destroy(): void {
    this.#socket.destroy();
  }
}
