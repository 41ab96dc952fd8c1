// Blocks over HTTPS: one Range request per window of missing blocks, on a TLS socket of the host, closed after each answer.
import type { TCPSocket, TCPSocketConstructor, TLSOptions } from "telltale/io/io";
import type { BlockSink, BlockSource } from "telltale/ota/download";
import { RangeResponse, rangeRequest, type HttpsTarget } from "telltale/ota/http";
import { messageOf } from "telltale/errors/message";

export interface HttpsBlockSourceOptions {
  readonly tcp: TCPSocketConstructor;
  readonly target: HttpsTarget;
  /** TLS options: the CA the image server's certificate must chain to (verification is always on). */
  readonly secure: TLSOptions;
  readonly size: number;
  readonly blockSize: number;
  /** Blocks per Range request. */
  readonly window: number;
}

/**
 * Fetches `window` blocks per request with `Range: bytes=a-b` and checks the answer (modules/ota/http.ts): each block
 * goes to the download as soon as its last byte arrives, so a connection cut mid-answer keeps the whole blocks it
 * brought. One request at a time; a new connection per request (the server may close it; nothing waits on keep-alive).
 */
export class HttpsBlockSource implements BlockSource {
  readonly name = "https";
  readonly window: number;
  readonly #o: HttpsBlockSourceOptions;
  readonly #buffer: Uint8Array;
  #socket: TCPSocket | undefined;
  /** Increments per request: callbacks of a cancelled socket see another number and do nothing. */
  #generation = 0;

  constructor(options: HttpsBlockSourceOptions) {
    this.#o = options;
    this.window = options.window;
    this.#buffer = new Uint8Array(options.blockSize);
  }

  request(first: number, count: number, sink: BlockSink): void {
    this.cancel();
    const o = this.#o,
      generation = this.#generation,
      start = first * o.blockSize,
      end = Math.min(o.size, (first + count) * o.blockSize) - 1,
      buffer = this.#buffer;
    let filled = 0,
      index = first,
      sent = false,
      failed = false;
    const response = new RangeResponse(start, end, o.size, (_offset, bytes) => {
      let at = 0;
      while (at < bytes.length && generation === this.#generation) {
        const length = Math.min(o.blockSize, o.size - index * o.blockSize);
        const n = Math.min(length - filled, bytes.length - at);
        buffer.set(bytes.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled === length) {
          const block = index++;
          filled = 0;
          sink.block(block, buffer.slice(0, length));
        }
      }
    });
    const fail = (error: Error) => {
      if (failed || generation !== this.#generation) return;
      failed = true;
      this.cancel();
      sink.failed(error);
    };
    const pump = (socket: TCPSocket) => {
      for (;;) {
        const chunk = socket.read();
        if (chunk === undefined) break;
        response.feed(new Uint8Array(chunk));
        if (generation !== this.#generation) return;
      }
      if (response.done) this.cancel();
    };
    // Callbacks run after the constructor returns (ECMA-419), so `socket` is set when they use it.
    let socket: TCPSocket | undefined;
    try {
      socket = new o.tcp({
        address: o.target.host,
        port: o.target.port,
        secure: o.secure,
        onWritable: () => {
          if (sent || generation !== this.#generation) return;
          sent = true;
          try {
            socket!.write(ascii(rangeRequest(o.target, start, end)));
          } catch (e) {
            fail(new Error("HTTPS: " + messageOf(e)));
          }
        },
        onReadable: () => {
          if (generation !== this.#generation) return;
          try {
            pump(socket!);
          } catch (e) {
            fail(e as Error);
          }
        },
        onError: (error?: Error) => {
          if (generation !== this.#generation) return;
          try {
            pump(socket!);
            if (generation !== this.#generation) return;
            response.close();
            this.cancel();
          } catch (e) {
            fail(new Error(messageOf(e) + (error && !response.done ? " (" + error.message + ")" : "")));
          }
        },
      });
      this.#socket = socket;
    } catch (e) {
      const error = new Error("HTTPS: " + messageOf(e));
      void Promise.resolve().then(() => fail(error));
    }
  }

  cancel(): void {
    this.#generation++;
    const socket = this.#socket;
    this.#socket = undefined;
    try {
      socket?.close();
    } catch {
      /* already closed */
    }
  }
}

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0x7f;
  return out;
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(HttpsBlockSource.prototype);
