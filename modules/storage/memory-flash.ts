// Flash held in RAM with NOR semantics: the outbox's stand-in on a host without a flash partition (lost on reboot).
import type { Flash } from "telltale/io/io";

export interface MemoryFlashOptions {
  /** Total size in bytes: a whole number of blocks. */
  byteLength: number;
  /** Erase block size in bytes, default 4096. */
  blockSize?: number;
}

/** Checks `offset`/`length` against a flash of `size` bytes; shared by the flash implementations. */
export function checkRange(offset: number, length: number, size: number, what: string): void {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > size)
    throw new RangeError("Flash: " + what + " of " + length + " bytes at " + offset + " is outside 0-" + size);
}

/** A view of `bytes` as a Uint8Array without copying. */
export function byteView(bytes: ArrayBuffer | ArrayBufferView): Uint8Array {
  return ArrayBuffer.isView(bytes)
    ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    : new Uint8Array(bytes);
}

export class MemoryFlash implements Flash {
  readonly byteLength: number;
  readonly blockSize: number;
  readonly #bytes: Uint8Array;

  constructor(options: MemoryFlashOptions) {
    const blockSize = options?.blockSize ?? 4096;
    const byteLength = options?.byteLength;
    if (!Number.isInteger(blockSize) || blockSize < 64)
      throw new RangeError('MemoryFlash: option "blockSize" must be an integer of at least 64');
    if (!Number.isInteger(byteLength) || byteLength < blockSize || byteLength % blockSize !== 0)
      throw new RangeError(
        'MemoryFlash: option "byteLength" must be a positive multiple of blockSize (' + blockSize + ")",
      );
    this.byteLength = byteLength;
    this.blockSize = blockSize;
    this.#bytes = new Uint8Array(byteLength).fill(0xff);
  }

  read(offset: number, length: number): ArrayBuffer {
    checkRange(offset, length, this.byteLength, "read");
    return this.#bytes.slice(offset, offset + length).buffer;
  }

  write(offset: number, bytes: ArrayBuffer | ArrayBufferView): void {
    const source = byteView(bytes);
    checkRange(offset, source.length, this.byteLength, "write");
    const target = this.#bytes;
    // Programming only clears bits.
    for (let i = 0; i < source.length; i++) target[offset + i]! &= source[i]!;
  }

  erase(sector: number): void {
    checkRange(sector * this.blockSize, this.blockSize, this.byteLength, "erase");
    this.#bytes.fill(0xff, sector * this.blockSize, (sector + 1) * this.blockSize);
  }
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(MemoryFlash.prototype);
