// The simulator's outbox flash: a file that behaves as NOR flash (erase to 0xFF, writes clear bits), so the outbox
// survives a restart of the simulator as it survives a reboot of the board.
import { File } from "file";
import type { Flash } from "telltale/io/io";

export interface FileFlashOptions {
  /** The backing file's path; made (erased) when missing or of another size. */
  path: string;
  byteLength: number;
  blockSize: number;
}

export class FileFlash implements Flash {
  readonly byteLength: number;
  readonly blockSize: number;
  readonly #file: File;

  constructor(options: FileFlashOptions) {
    const { path, byteLength, blockSize } = options;
    if (
      !Number.isInteger(blockSize) ||
      blockSize < 64 ||
      !Number.isInteger(byteLength) ||
      byteLength < 2 * blockSize ||
      byteLength % blockSize !== 0
    )
      throw new RangeError("FileFlash: byteLength must be a multiple of blockSize (>= 64) holding at least 2 blocks");
    const fresh = !File.exists(path);
    this.#file = new File(path, true);
    this.byteLength = byteLength;
    this.blockSize = blockSize;
    if (fresh || this.#file.length !== byteLength) for (let s = 0; s < byteLength / blockSize; s++) this.erase(s);
  }

  read(offset: number, length: number): ArrayBuffer {
    this.#check(offset, length);
    this.#file.position = offset;
    return this.#file.read(ArrayBuffer, length);
  }

  write(offset: number, bytes: ArrayBuffer | ArrayBufferView): void {
    const source = ArrayBuffer.isView(bytes)
      ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      : new Uint8Array(bytes);
    this.#check(offset, source.length);
    // NOR flash can only clear bits: what is written is ANDed with what is there.
    const merged = new Uint8Array(this.read(offset, source.length));
    for (let i = 0; i < merged.length; i++) merged[i] = (merged[i] ?? 0xff) & (source[i] ?? 0xff);
    this.#file.position = offset;
    this.#file.write(merged.buffer);
  }

  erase(sector: number): void {
    this.#check(sector * this.blockSize, this.blockSize);
    this.#file.position = sector * this.blockSize;
    this.#file.write(new Uint8Array(this.blockSize).fill(0xff).buffer);
  }

  #check(offset: number, length: number): void {
    if (!(offset >= 0) || !(length >= 0) || offset + length > this.byteLength)
      throw new RangeError("FileFlash: " + length + " bytes at " + offset + " are outside 0-" + this.byteLength);
  }
}
