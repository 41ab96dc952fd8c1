// Flash on Node: a file the size of the partition with NOR semantics, written through so a kill -9 loses at most the write in progress.
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import type { Flash } from "../../modules/io/io.js";
import { fitFlashFile } from "../../modules/storage/flash-file.js";

export interface FileFlashOptions {
  path: string;
  /** Default 65536: sixteen 4 KiB blocks. */
  byteLength?: number;
  /** Default 4096, as on ESP32. */
  blockSize?: number;
  /** fsync after every write and erase: survives the machine losing power, not only the process (slow). */
  sync?: boolean;
  /** Where a file of the wrong size is reported (truncated, emptied or grown: it is brought back to byteLength). */
  log?: (line: string) => void;
}

export interface TearOptions {
  /** Bytes of the torn write that reach the file. */
  at: number;
  /** Only writes of at least this many bytes count (1-byte acknowledgement marks are skipped with 2). */
  minLength?: number;
  /** Counting writes that qualify, tear the one after this many (default 0: the next one). */
  skip?: number;
  /** Runs after the partial write instead of throwing: a test kills the process here (a power cut). */
  onTear?: () => void;
}

/**
 * Every write is a positioned write(2) straight to the file, with no buffering in the process, so the
 * kernel has it as soon as write() returns. Like NOR flash, a write stores the AND of old and new bytes.
 * A file of another size (truncated, emptied, grown; at start or while in use) is brought back to byteLength,
 * keeping what it holds (see fitFlashFile), and the log says so: it never stops the firmware.
 */
export class FileFlash implements Flash {
  readonly byteLength: number;
  readonly blockSize: number;
  readonly path: string;
  readonly #sync: boolean;
  readonly #log: (line: string) => void;
  #fd: number;
  #tear: (TearOptions & { left: number }) | undefined;

  constructor(options: FileFlashOptions) {
    const { path, byteLength = 65536, blockSize = 4096, sync = false, log = () => {} } = options;
    if (typeof path !== "string" || path.length === 0)
      throw new TypeError('FileFlash: option "path" must be a file path');
    if (!Number.isInteger(blockSize) || blockSize < 64)
      throw new RangeError('FileFlash: option "blockSize" must be an integer of at least 64');
    if (!Number.isInteger(byteLength) || byteLength < blockSize || byteLength % blockSize !== 0)
      throw new RangeError(
        'FileFlash: option "byteLength" must be a positive multiple of blockSize (' + blockSize + ")",
      );
    mkdirSync(dirname(path), { recursive: true });
    const existed = existsSync(path);
    this.#fd = openSync(path, "a+");
    closeSync(this.#fd);
    this.#fd = openSync(path, "r+");
    this.path = path;
    this.byteLength = byteLength;
    this.blockSize = blockSize;
    this.#sync = sync;
    this.#log = log;
    this.#fit(existed, "at start, ");
  }

  read(offset: number, length: number): ArrayBuffer {
    this.#check(offset, length, "read");
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.#fd, out, done, length - done, offset + done);
      // Someone cut the file while it is in use: it gets its size back, the missing part erased.
      if (n === 0) this.#fit(true, "while in use, ");
      done += n;
    }
    return out.buffer;
  }

  write(offset: number, bytes: ArrayBuffer | ArrayBufferView): void {
    const source = ArrayBuffer.isView(bytes)
      ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      : new Uint8Array(bytes);
    this.#check(offset, source.length, "write");
    const merged = new Uint8Array(this.read(offset, source.length));
    for (let i = 0; i < merged.length; i++) merged[i]! &= source[i]!;
    const tear = this.#tear;
    if (tear && source.length >= (tear.minLength ?? 0) && tear.left-- === 0) {
      this.#tear = undefined;
      const n = Math.min(tear.at, source.length);
      this.#put(merged.subarray(0, n), offset);
      if (tear.onTear) tear.onTear();
      throw new Error(`FileFlash: write of ${source.length} bytes at ${offset} torn after ${n} bytes (test hook)`);
    }
    this.#put(merged, offset);
  }

  erase(sector: number): void {
    this.#check(sector * this.blockSize, this.blockSize, "erase");
    this.#put(new Uint8Array(this.blockSize).fill(0xff), sector * this.blockSize);
  }

  /** Test hook: the chosen write stops after `at` bytes, as if power failed there. */
  tearWrite(options: TearOptions): void {
    this.#tear = { ...options, left: options.skip ?? 0 };
  }

  close(): void {
    if (this.#fd < 0) return;
    closeSync(this.#fd);
    this.#fd = -1;
  }

  #fit(existed: boolean, when: string): void {
    const fd = this.#fd;
    const line = fitFlashFile(
      {
        length: fstatSync(fd).size,
        write: (offset, bytes) => this.#put(bytes, offset),
        truncate: (length) => ftruncateSync(fd, length),
      },
      this.byteLength,
      "outbox file " + this.path,
      existed,
    );
    if (line !== undefined) this.#log("flash: " + when + line);
  }

  #put(bytes: Uint8Array, offset: number): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.#fd, bytes, done, bytes.length - done, offset + done);
    if (this.#sync) fsyncSync(this.#fd);
  }

  #check(offset: number, length: number, what: string): void {
    if (this.#fd < 0) throw new Error("FileFlash: closed");
    if (
      !Number.isInteger(offset) ||
      !Number.isInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > this.byteLength
    )
      throw new RangeError(`FileFlash: ${what} of ${length} bytes at ${offset} is outside 0-${this.byteLength}`);
  }
}
