// Simulated NOR flash that can lose power at any byte of a write or during an erase, for outbox recovery tests.
import type { Flash } from "telltale/io/io";
import { byteView, checkRange } from "telltale/storage/memory-flash";

export interface SimFlashOptions {
  byteLength: number;
  /** Erase block size, default 4096. */
  blockSize?: number;
}

/** Thrown by the write or erase that the power cut interrupted, and by every call until powerOn(). */
export class PowerCut extends Error {
  override name = "PowerCut";
  constructor(message: string) {
    super(message);
  }
}

/**
 * Bytes live in RAM and survive a "power cut": a test cuts power, catches PowerCut, calls powerOn() and
 * opens a fresh reader on the same SimFlash, as firmware would after a reboot. Writes only clear bits
 * (AND), erases set a whole block to 0xFF, and the counters show wear.
 */
export class SimFlash implements Flash {
  readonly byteLength: number;
  readonly blockSize: number;
  readonly bytes: Uint8Array;
  /** Erases per block: wear. */
  readonly erases: Uint32Array;
  writes = 0;
  bytesWritten = 0;
  #budget = -1;
  #partial = 0;
  #cutErase = false;
  #powered = true;

  constructor(options: SimFlashOptions) {
    const blockSize = options?.blockSize ?? 4096;
    const byteLength = options?.byteLength;
    if (!Number.isInteger(blockSize) || blockSize < 16)
      throw new RangeError('SimFlash: option "blockSize" must be an integer of at least 16');
    if (!Number.isInteger(byteLength) || byteLength < blockSize || byteLength % blockSize !== 0)
      throw new RangeError(
        'SimFlash: option "byteLength" must be a positive multiple of blockSize (' + blockSize + ")",
      );
    this.byteLength = byteLength;
    this.blockSize = blockSize;
    this.bytes = new Uint8Array(byteLength).fill(0xff);
    this.erases = new Uint32Array(byteLength / blockSize);
  }

  get powered(): boolean {
    return this.#powered;
  }

  /**
   * Power fails once `bytes` more bytes have been programmed: the write in progress keeps that many of its bytes,
   * and the next byte gets only the bits of `partialBits` programmed (0, the default, programs none of it).
   */
  cutPowerAfter(bytes: number, partialBits = 0): void {
    if (!Number.isInteger(bytes) || bytes < 0)
      throw new RangeError("SimFlash: cutPowerAfter() needs a byte count >= 0");
    this.#budget = bytes;
    this.#partial = partialBits & 0xff;
  }

  /** Power fails in the middle of the next erase: the first half of the block is erased, the rest is not. */
  cutPowerInNextErase(): void {
    this.#cutErase = true;
  }

  /** Restores power after a cut and cancels any cut still armed. */
  powerOn(): void {
    this.#powered = true;
    this.#budget = -1;
    this.#cutErase = false;
  }

  read(offset: number, length: number): ArrayBuffer {
    this.#checkPower();
    checkRange(offset, length, this.byteLength, "read");
    return this.bytes.slice(offset, offset + length).buffer;
  }

  write(offset: number, bytes: ArrayBuffer | ArrayBufferView): void {
    this.#checkPower();
    const source = byteView(bytes);
    checkRange(offset, source.length, this.byteLength, "write");
    this.writes++;
    const target = this.bytes;
    let n = source.length;
    const cut = this.#budget >= 0 && this.#budget < n;
    if (cut) n = this.#budget;
    for (let i = 0; i < n; i++) target[offset + i]! &= source[i]!;
    this.bytesWritten += n;
    if (this.#budget >= 0) this.#budget -= n;
    if (cut) {
      // Bits to clear in the interrupted byte, of which only those in the partial mask made it.
      target[offset + n]! &= ~(~source[n]! & this.#partial) & 0xff;
      this.#powered = false;
      this.#budget = -1;
      throw new PowerCut("SimFlash: power cut after " + n + " of " + source.length + " bytes written at " + offset);
    }
  }

  erase(sector: number): void {
    this.#checkPower();
    checkRange(sector * this.blockSize, this.blockSize, this.byteLength, "erase");
    const from = sector * this.blockSize;
    this.erases[sector]!++;
    if (this.#cutErase) {
      this.bytes.fill(0xff, from, from + this.blockSize / 2);
      this.#cutErase = false;
      this.#powered = false;
      throw new PowerCut("SimFlash: power cut while erasing block " + sector);
    }
    this.bytes.fill(0xff, from, from + this.blockSize);
  }

  #checkPower(): void {
    if (!this.#powered) throw new PowerCut("SimFlash: no power");
  }
}

Object.freeze(PowerCut.prototype);
Object.freeze(SimFlash.prototype);
