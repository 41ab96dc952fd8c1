// The file operations the Node bootloader (slots, boot state) writes through: one seam, so a test can cut power at any byte.
import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeSync,
} from "node:fs";

/**
 * Every write the slot and boot-state code makes goes through a Disk; reads go to node:fs directly (a power cut does
 * not tear a read). `realDisk` is node:fs; tests wrap it to stop at a chosen byte (tests/node/support/cutting-disk.ts).
 */
export interface Disk {
  /** `flags` as node:fs ("w", "r+", …). */
  open(path: string, flags: string): number;
  /** Writes all of `bytes` at `position`. */
  write(fd: number, bytes: Uint8Array, position: number): void;
  truncate(fd: number, byteLength: number): void;
  fsync(fd: number): void;
  close(fd: number): void;
  rename(from: string, to: string): void;
  /** With its parents; no error when it exists. */
  mkdir(path: string): void;
  /** Recursive; no error when missing. */
  rm(path: string): void;
  symlink(target: string, path: string): void;
  /** fsync of a directory, so a rename or a new entry in it survives a power cut. */
  syncDir(path: string): void;
}

export const realDisk: Disk = Object.freeze({
  open: (path: string, flags: string) => openSync(path, flags, 0o644),
  write(fd: number, bytes: Uint8Array, position: number) {
    for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
  },
  truncate: (fd: number, byteLength: number) => ftruncateSync(fd, byteLength),
  fsync: (fd: number) => fsyncSync(fd),
  close: (fd: number) => closeSync(fd),
  rename: (from: string, to: string) => renameSync(from, to),
  mkdir: (path: string) => void mkdirSync(path, { recursive: true }),
  rm: (path: string) => rmSync(path, { recursive: true, force: true }),
  symlink: (target: string, path: string) => symlinkSync(target, path),
  syncDir(path: string) {
    const fd = openSync(path, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  },
});

/** Writes `bytes` as the whole file at `path`, atomically: a temporary file, fsync, rename, fsync of the folder. */
export function writeFileAtomic(disk: Disk, path: string, bytes: Uint8Array): void {
  const temporary = path + ".tmp";
  const fd = disk.open(temporary, "w");
  try {
    disk.write(fd, bytes, 0);
    disk.fsync(fd);
  } finally {
    disk.close(fd);
  }
  disk.rename(temporary, path);
  disk.syncDir(path.slice(0, Math.max(1, path.lastIndexOf("/"))));
}
