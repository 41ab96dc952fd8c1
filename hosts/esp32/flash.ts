// The outbox's flash on ESP32: a window of a data partition through Moddable's `flash` module (ESP-IDF esp_partition_*).
import ModdableFlash from "flash";
import type { Flash } from "telltale/io/io";

export interface PartitionFlashOptions {
  /** Label of a data partition in the partition table. */
  partition: string;
  /** Bytes of the partition to use, from its start: a whole number of blocks; default the whole partition. */
  byteLength?: number;
}

/**
 * Moddable's class takes `write(offset, byteLength, buffer)` with an ArrayBuffer and erases 4 KiB sectors;
 * this adapter gives it the `Flash` shape and keeps the outbox inside its window of the partition.
 */
export class PartitionFlash implements Flash {
  readonly byteLength: number;
  readonly blockSize: number;
  readonly #flash: ModdableFlash;

  constructor(options: PartitionFlashOptions) {
    const partition = options?.partition;
    if (typeof partition !== "string" || partition.length === 0)
      throw new TypeError('PartitionFlash: option "partition" must be a partition label');
    const flash = new ModdableFlash(partition);
    const blockSize = flash.blockSize;
    const byteLength = options.byteLength ?? flash.byteLength - (flash.byteLength % blockSize);
    if (
      !Number.isInteger(byteLength) ||
      byteLength < blockSize ||
      byteLength % blockSize !== 0 ||
      byteLength > flash.byteLength
    )
      throw new RangeError(
        'PartitionFlash: option "byteLength" must be a multiple of ' +
          blockSize +
          " up to " +
          flash.byteLength +
          " (partition " +
          partition +
          ")",
      );
    this.#flash = flash;
    this.blockSize = blockSize;
    this.byteLength = byteLength;
  }

  read(offset: number, length: number): ArrayBuffer {
    this.#check(offset, length);
    return this.#flash.read(offset, length) as ArrayBuffer;
  }

  write(offset: number, bytes: ArrayBuffer | ArrayBufferView): void {
    let buffer: ArrayBuffer;
    if (!ArrayBuffer.isView(bytes)) buffer = bytes;
    else if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength)
      buffer = bytes.buffer as ArrayBuffer;
    // The native write takes a whole ArrayBuffer, so a view into a larger one is copied out.
    else buffer = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice().buffer;
    this.#check(offset, buffer.byteLength);
    this.#flash.write(offset, buffer.byteLength, buffer);
  }

  erase(sector: number): void {
    this.#check(sector * this.blockSize, this.blockSize);
    this.#flash.erase(sector);
  }

  #check(offset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > this.byteLength)
      throw new RangeError("PartitionFlash: " + length + " bytes at " + offset + " are outside 0-" + this.byteLength);
  }
}
