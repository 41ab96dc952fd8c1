// fitFlashFile on a file held in memory: an emptied, truncated or grown flash file comes back to size, keeping its records.
import { suite, test, equal, deepEqual } from "../../harness.js";
import { fitFlashFile, type FlashFile } from "telltale/storage/flash-file";
import { Outbox, TELEMETRY } from "telltale/storage/outbox";
import type { Flash } from "telltale/io/io";

/** A file's bytes, which a test may cut or grow, seen as a file and, once fitted, as 1 KiB-block flash. */
class MemoryFile implements FlashFile, Flash {
  bytes = new Uint8Array(0);
  readonly blockSize = 1024;
  constructor(readonly byteLength: number) {}
  get length(): number {
    return this.bytes.length;
  }
  write(offset: number, bytes: ArrayBuffer | ArrayBufferView): void {
    const source = ArrayBuffer.isView(bytes)
      ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      : new Uint8Array(bytes);
    if (offset + source.length > this.bytes.length) {
      // Bytes a write adds are exactly the bytes written: past the end, the AND below starts from 0xFF.
      const grown = new Uint8Array(offset + source.length).fill(0xff);
      grown.set(this.bytes, 0);
      this.bytes = grown;
    }
    for (let i = 0; i < source.length; i++) this.bytes[offset + i]! &= source[i]!;
  }
  truncate(length: number): void {
    this.bytes = this.bytes.slice(0, length);
  }
  read(offset: number, length: number): ArrayBuffer {
    return this.bytes.slice(offset, offset + length).buffer;
  }
  erase(sector: number): void {
    this.bytes.fill(0xff, sector * 1024, sector * 1024 + 1024);
  }
}

function filled(records: number): MemoryFile {
  const file = new MemoryFile(8192);
  fitFlashFile(file, 8192, "f", false);
  const o = new Outbox({ flash: file });
  for (let i = 0; i < records; i++) o.append(TELEMETRY, 1, false, new Uint8Array(4), new Uint8Array(200));
  return file;
}

suite("storage/flash-file", () => {
  test("a-new-file-is-erased-silently-and-a-right-one-left-alone", () => {
    const file = new MemoryFile(8192);
    equal(fitFlashFile(file, 8192, "f", false), undefined);
    deepEqual([file.length, file.bytes.every((b) => b === 0xff)], [8192, true]);
    equal(fitFlashFile(file, 8192, "f", true), undefined);
  });

  test("an-emptied-file-is-erased-and-reported", () => {
    const file = filled(3);
    file.truncate(0);
    equal(fitFlashFile(file, 8192, "f", true), "f was empty (0 bytes, expected 8192): the outbox starts empty");
    equal(new Outbox({ flash: file }).pending, 0);
  });

  test("a-file-cut-mid-segment-keeps-the-records-before-the-cut", () => {
    const file = filled(8); // 220-byte records, four per 1 KiB segment
    file.truncate(1024 + 500); // in segment 1's third record
    equal(
      fitFlashFile(file, 8192, "f", true),
      "f holds 1524 bytes, expected 8192: kept the first 1524 and erased the rest (records cut off there are lost)",
    );
    const o = new Outbox({ flash: file });
    deepEqual([o.pending, o.recovery.torn], [6, 1]);
  });

  test("a-grown-file-keeps-its-first-bytes", () => {
    const file = filled(5);
    file.write(8192, new Uint8Array(100));
    equal(
      fitFlashFile(file, 8192, "f", true),
      "f holds 8292 bytes, expected 8192: kept the first 8192 and dropped the 100 beyond",
    );
    deepEqual([file.length, new Outbox({ flash: file }).pending], [8192, 5]);
  });
});
