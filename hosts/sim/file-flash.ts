// The simulator's outbox flash: a file that behaves as NOR flash (erase to 0xFF, writes clear bits), so the outbox
// survives a restart of the simulator as it survives a reboot of the board.
import { File } from "file";
import type { Flash } from "telltale/io/io";
import { fitFlashFile, type FlashFile } from "telltale/storage/flash-file";

export interface FileFlashOptions {
  /** The backing file's path; made (erased) when missing. */
  path: string;
  byteLength: number;
  blockSize: number;
  /** Where a file of the wrong size is reported (truncated, emptied or grown: it is brought back to byteLength). */
  log: (line: string) => void;
}

/**
 * A file of another size than byteLength (truncated, emptied, grown; at start or while in use) is brought back to it,
 * keeping what it holds (see fitFlashFile), and the log says so: the simulator keeps running.
 */
export class FileFlash implements Flash {
  readonly byteLength: number;
  readonly blockSize: number;
  readonly #path: string;
  readonly #log: (line: string) => void;
  #file: File;

  constructor(options: FileFlashOptions) {
    const { path, byteLength, blockSize, log } = options;
    if (
      !Number.isInteger(blockSize) ||
      blockSize < 64 ||
      !Number.isInteger(byteLength) ||
      byteLength < 2 * blockSize ||
      byteLength % blockSize !== 0
    )
      throw new RangeError("FileFlash: byteLength must be a multiple of blockSize (>= 64) holding at least 2 blocks");
    const existed = File.exists(path);
    this.#file = new File(path, true);
    this.#path = path;
    this.#log = log;
    this.byteLength = byteLength;
    this.blockSize = blockSize;
    this.#fit(existed, "at start, ");
  }

  read(offset: number, length: number): ArrayBuffer {
    this.#check(offset, length);
    // Someone cut the file while it is in use: it gets its size back, the missing part erased.
    if (this.#file.length < this.byteLength) this.#fit(true, "while in use, ");
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
    this.#put(offset, merged);
  }

  erase(sector: number): void {
    this.#check(sector * this.blockSize, this.blockSize);
    this.#put(sector * this.blockSize, new Uint8Array(this.blockSize).fill(0xff));
  }

  #put(offset: number, bytes: Uint8Array): void {
    this.#file.position = offset;
    this.#file.write(
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer,
    );
  }

  #fit(existed: boolean, when: string): void {
    const file: FlashFile = {
      length: this.#file.length,
      write: (offset, bytes) => this.#put(offset, bytes),
      truncate: (length) => this.#truncate(length),
    };
    const line = fitFlashFile(file, this.byteLength, "outbox file " + this.#path, existed);
    if (line !== undefined) this.#log("flash: " + when + line);
  }

  // Moddable's File cannot shrink a file: the part kept is copied to a new one, which then takes the old one's name.
  #truncate(length: number): void {
    const path = this.#path,
      temporary = path + ".new";
    if (File.exists(temporary)) File.delete(temporary);
    const copy = new File(temporary, true);
    for (let at = 0; at < length; at += this.blockSize) {
      this.#file.position = at;
      copy.write(this.#file.read(ArrayBuffer, Math.min(this.blockSize, length - at)));
    }
    copy.close();
    this.#file.close();
    if (!File.rename(temporary, path.slice(path.lastIndexOf("/") + 1)))
      throw new Error("FileFlash: could not replace " + path + " with its first " + length + " bytes");
    this.#file = new File(path, true);
  }

  #check(offset: number, length: number): void {
    if (!(offset >= 0) || !(length >= 0) || offset + length > this.byteLength)
      throw new RangeError("FileFlash: " + length + " bytes at " + offset + " are outside 0-" + this.byteLength);
  }
}
