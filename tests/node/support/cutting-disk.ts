// A Disk that loses power after a set number of units: each byte written is one, each other write operation one.
import { realDisk, type Disk } from "../../../hosts/node/disk.js";

export class PowerCut extends Error {
  override name = "PowerCut";
}

/**
 * Real writes to real files, up to `budget` units: the write in progress when it runs out lands only partly (its
 * first bytes, as a torn write), and that call and every later one throw PowerCut. What the page cache held is kept
 * (a process kill, not the loss of unsynced pages; the code under test fsyncs before each rename it relies on).
 */
export class CuttingDisk implements Disk {
  #left: number;
  /** Units used so far (a run with an infinite budget measures a phase). */
  used = 0;
  cut = false;

  constructor(budget = Infinity) {
    this.#left = budget;
  }

  #take(units: number): number {
    if (this.cut) throw new PowerCut("power is off");
    const n = Math.min(units, this.#left);
    this.#left -= n;
    this.used += n;
    return n;
  }

  #op(): void {
    if (this.#take(1) < 1) {
      this.cut = true;
      throw new PowerCut("power cut before an operation");
    }
  }

  open(path: string, flags: string): number {
    this.#op();
    return realDisk.open(path, flags);
  }
  write(fd: number, bytes: Uint8Array, position: number): void {
    const n = this.#take(bytes.length);
    if (n > 0) realDisk.write(fd, bytes.subarray(0, n), position);
    if (n < bytes.length) {
      this.cut = true;
      throw new PowerCut(`power cut after ${n} of ${bytes.length} bytes`);
    }
  }
  truncate(fd: number, byteLength: number): void {
    this.#op();
    realDisk.truncate(fd, byteLength);
  }
  fsync(fd: number): void {
    this.#op();
    realDisk.fsync(fd);
  }
  /** Free, and done even after the cut: a dead process's files are closed by the kernel. */
  close(fd: number): void {
    realDisk.close(fd);
  }
  rename(from: string, to: string): void {
    this.#op();
    realDisk.rename(from, to);
  }
  mkdir(path: string): void {
    this.#op();
    realDisk.mkdir(path);
  }
  rm(path: string): void {
    this.#op();
    realDisk.rm(path);
  }
  symlink(target: string, path: string): void {
    this.#op();
    realDisk.symlink(target, path);
  }
  syncDir(path: string): void {
    this.#op();
    realDisk.syncDir(path);
  }
}
