// The MQTT block stream: the device asks on `<prefix>/<id>/ota/get`, the publisher answers each block on `…/ota/block`.
import type { BlockSink, BlockSource } from "telltale/ota/download";

/** Bytes before a block's data: the image version and the block index, both unsigned 32-bit big-endian. */
export const BLOCK_HEADER = 8;

/** A block message: version, index, then the block's bytes. */
export function encodeBlock(version: number, index: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(BLOCK_HEADER + bytes.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, version);
  view.setUint32(4, index);
  out.set(bytes, BLOCK_HEADER);
  return out;
}

/** A block message's parts, or undefined when it is shorter than its header. The bytes are a view of `payload`. */
export function decodeBlock(payload: Uint8Array): { version: number; index: number; bytes: Uint8Array } | undefined {
  if (payload.length < BLOCK_HEADER) return undefined;
  const view = new DataView(payload.buffer, payload.byteOffset, BLOCK_HEADER);
  return { version: view.getUint32(0), index: view.getUint32(4), bytes: payload.subarray(BLOCK_HEADER) };
}

/** The request text: `{"version": V, "block": first, "count": n}`. */
export function blockRequest(version: number, first: number, count: number): string {
  return JSON.stringify({ version, block: first, count });
}

/** A request as the publisher reads it, or undefined when it is not one. */
export function parseBlockRequest(text: string): { version: number; block: number; count: number } | undefined {
  try {
    const r = JSON.parse(text) as Record<string, unknown>;
    const { version, block, count } = r;
    const isCount = (n: unknown, min: number): n is number =>
      typeof n === "number" && n === Math.floor(n) && n >= min && n <= 0xffffffff;
    if (isCount(version, 0) && isCount(block, 0) && isCount(count, 1)) return { version, block, count };
  } catch {
    /* not JSON */
  }
  return undefined;
}

export interface MqttBlockSourceOptions {
  readonly version: number;
  /** Blocks asked for at once (the answers of one request are the only ones outstanding). */
  readonly window: number;
  /** Sends a request (QoS 0: a lost one is asked again after the timeout). */
  readonly send: (text: string) => void;
}

/**
 * Blocks over the app's MQTT session. request() publishes the ask; the service hands each `…/ota/block` message to
 * deliver(), which passes blocks of this version to the download. A window of blocks is one request; the next is
 * asked once they are all in, or again after the download's timeout.
 */
export class MqttBlockSource implements BlockSource {
  readonly name = "mqtt";
  readonly window: number;
  readonly #version: number;
  readonly #send: (text: string) => void;
  #sink: BlockSink | undefined;
  /** Blocks of another version or without a header, discarded. */
  ignored = 0;

  constructor(options: MqttBlockSourceOptions) {
    this.#version = options.version;
    this.window = options.window;
    this.#send = options.send;
  }

  request(first: number, count: number, sink: BlockSink): void {
    this.#sink = sink;
    this.#send(blockRequest(this.#version, first, count));
  }

  cancel(): void {
    /* answers still in flight are welcome while their blocks are missing (deliver() checks) */
  }

  /** A message on `…/ota/block`. */
  deliver(payload: Uint8Array): void {
    const block = decodeBlock(payload);
    if (!block || block.version !== this.#version || !this.#sink) {
      this.ignored++;
      return;
    }
    this.#sink.block(block.index, block.bytes);
  }
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(MqttBlockSource.prototype);
