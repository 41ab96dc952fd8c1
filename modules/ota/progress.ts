// Download progress that survives a reboot: which blocks of which image are in the slot, as a bitmap kept in the store.
import type { Store } from "telltale/io/io";
import { decodeBase64, encodeBase64 } from "telltale/storage/base64";
import type { UpdateManifest } from "telltale/ota/manifest";

/** Store key of the progress record: `{version, sha256, size, blockSize, blocks}` (blocks: the bitmap in base64). */
export const PROGRESS_KEY = "ota.progress";

/** The blocks of one image that are written, one bit each (block i is bit i & 7 of byte i >> 3). */
export class BlockMap {
  readonly size: number;
  readonly blockSize: number;
  readonly count: number;
  readonly #bits: Uint8Array;
  #have = 0;

  constructor(size: number, blockSize: number, bits?: Uint8Array) {
    this.size = size;
    this.blockSize = blockSize;
    this.count = Math.ceil(size / blockSize);
    this.#bits = new Uint8Array((this.count + 7) >> 3);
    if (bits && bits.length === this.#bits.length) {
      this.#bits.set(bits);
      // Bits past the last block would count blocks that do not exist.
      const spare = this.#bits.length * 8 - this.count;
      if (spare > 0) this.#bits[this.#bits.length - 1]! &= 0xff >> spare;
      for (let i = 0; i < this.count; i++) if (this.has(i)) this.#have++;
    }
  }

  /** Blocks written so far. */
  get have(): number {
    return this.#have;
  }
  get complete(): boolean {
    return this.#have === this.count;
  }
  /** Whole percent of the image's bytes written (the last block may be short). */
  get percent(): number {
    if (this.complete) return 100;
    let bytes = 0;
    for (let i = 0; i < this.count; i++) if (this.has(i)) bytes += this.lengthOf(i);
    return Math.floor((bytes * 100) / this.size);
  }

  has(index: number): boolean {
    return (this.#bits[index >> 3]! & (1 << (index & 7))) !== 0;
  }

  set(index: number): void {
    if (index < 0 || index >= this.count || this.has(index)) return;
    this.#bits[index >> 3]! |= 1 << (index & 7);
    this.#have++;
  }

  /** The byte count of block `index`: blockSize, or what is left for the last one. */
  lengthOf(index: number): number {
    return Math.min(this.blockSize, this.size - index * this.blockSize);
  }

  /** The first block not yet written at or after `from` (wrapping to the start), or -1 when none is missing. */
  nextMissing(from = 0): number {
    for (let n = 0; n < this.count; n++) {
      const i = (from + n) % this.count;
      if (!this.has(i)) return i;
    }
    return -1;
  }

  /** How many missing blocks follow one another from `first`, at most `max`. */
  runFrom(first: number, max: number): number {
    let n = 0;
    while (n < max && first + n < this.count && !this.has(first + n)) n++;
    return n;
  }

  /** Whether any block of `first` … `first + count − 1` is missing. */
  missingIn(first: number, count: number): boolean {
    for (let i = first; i < first + count && i < this.count; i++) if (!this.has(i)) return true;
    return false;
  }

  get bits(): Uint8Array {
    return this.#bits.slice();
  }
}

/** The progress of `manifest`'s image from the store, or undefined when the store holds none for this very image. */
export function loadProgress(store: Store, manifest: UpdateManifest): BlockMap | undefined {
  let text: string | undefined;
  try {
    text = store.get(PROGRESS_KEY);
  } catch {
    return undefined;
  }
  if (text === undefined) return undefined;
  try {
    const r = JSON.parse(text) as Record<string, unknown>;
    if (
      r.version !== manifest.version ||
      r.sha256 !== manifest.sha256 ||
      r.size !== manifest.size ||
      r.blockSize !== manifest.blockSize ||
      typeof r.blocks !== "string"
    )
      return undefined;
    const bits = decodeBase64(r.blocks);
    if (bits.length !== (Math.ceil(manifest.size / manifest.blockSize) + 7) >> 3) return undefined;
    return new BlockMap(manifest.size, manifest.blockSize, bits);
  } catch {
    return undefined;
  }
}

/** Keeps `map` as the progress of `manifest`'s image; throws when the store refuses (the caller logs it). */
export function saveProgress(store: Store, manifest: UpdateManifest, map: BlockMap): void {
  store.set(
    PROGRESS_KEY,
    JSON.stringify({
      version: manifest.version,
      sha256: manifest.sha256,
      size: manifest.size,
      blockSize: manifest.blockSize,
      blocks: encodeBase64(map.bits),
    }),
  );
}

export function clearProgress(store: Store): void {
  try {
    if (store.get(PROGRESS_KEY) !== undefined) store.delete(PROGRESS_KEY);
  } catch {
    /* a record left behind names another image or is re-verified: harmless */
  }
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(BlockMap.prototype);
