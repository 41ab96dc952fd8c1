// A file that stands in for flash, brought back to its size when it was truncated or grew: what is kept, and the log line.

/** The little a host's file must do for fitFlashFile (Node's fs, Moddable's File). */
export interface FlashFile {
  /** Its size now, in bytes. */
  readonly length: number;
  write(offset: number, bytes: Uint8Array): void;
  /** Cuts the file to `length` bytes. */
  truncate(length: number): void;
}

const ERASED_CHUNK = 4096;

/**
 * Makes `file` exactly `byteLength` bytes and keeps what it can: a short file keeps the bytes it holds and is extended
 * with erased flash (0xFF), so the outbox recovers every record in the part that is left and reads a record cut off
 * as a torn write; a long file keeps its first `byteLength` bytes. Returns the log line naming `name` and the sizes
 * found and expected, or undefined when there was nothing to say (the right size, or a new file).
 */
export function fitFlashFile(file: FlashFile, byteLength: number, name: string, existed: boolean): string | undefined {
  const found = file.length;
  if (found === byteLength) return undefined;
  const wrongSize = (kept: number, rest: string) =>
    name + " holds " + found + " bytes, expected " + byteLength + ": kept the first " + kept + " and " + rest;
  if (found > byteLength) {
    file.truncate(byteLength);
    return wrongSize(byteLength, "dropped the " + (found - byteLength) + " beyond");
  }
  const chunk = new Uint8Array(ERASED_CHUNK).fill(0xff);
  for (let at = found; at < byteLength; at += ERASED_CHUNK)
    file.write(at, at + ERASED_CHUNK <= byteLength ? chunk : chunk.subarray(0, byteLength - at));
  if (!existed) return undefined;
  if (found === 0) return name + " was empty (0 bytes, expected " + byteLength + "): the outbox starts empty";
  return wrongSize(found, "erased the rest (records cut off there are lost)");
}
