// The download of one verified manifest's image into the other slot: blocks from a source, progress kept for a resume, the whole image hashed back before it is handed to the bootloader.
import type { Clock, Store } from "telltale/io/io";
import type { Sha256, UpdateWriter, Updates } from "telltale/io/host";
import { messageOf } from "telltale/errors/message";
import type { UpdateManifest } from "telltale/ota/manifest";
import { BlockMap, clearProgress, loadProgress, saveProgress } from "telltale/ota/progress";

/** Where blocks come from: the MQTT block stream or HTTPS Range requests. */
export interface BlockSource {
  /** "mqtt" or "https": shown in the status. */
  readonly name: string;
  /** How many consecutive blocks one request may ask for. */
  readonly window: number;
  /**
   * Asks for blocks `first` … `first + count − 1`. Each arrives as `sink.block(index, bytes)`; a failure of the
   * request (a bad answer, a closed connection) as `sink.failed(error)`. Never calls the sink from inside request().
   */
  request(first: number, count: number, sink: BlockSink): void;
  /** Forgets the request in flight (its late blocks may still arrive and are welcome while missing). */
  cancel(): void;
}

export interface BlockSink {
  block(index: number, bytes: Uint8Array): void;
  failed(error: Error): void;
}

/** The update state as published on `<prefix>/<id>/ota` (with the device's version and fleet added by the service). */
export interface OtaState {
  state:
    "idle" | "downloading" | "verifying" | "pending-verification" | "committed" | "rolled-back" | "refused" | "failed";
  /** The version being downloaded, verified or refused. */
  target?: number;
  percent?: number;
  transport?: string;
  reason?: string;
}

export interface DownloadOptions {
  readonly manifest: UpdateManifest;
  readonly updates: Updates;
  readonly store: Store;
  readonly clock: Clock;
  readonly sha256: () => Sha256;
  readonly source: BlockSource;
  readonly log: (line: string) => void;
  /** How long a request may go unanswered (no block arriving) before it is asked again. */
  readonly timeoutMs: number;
  /** Requests in a row that may fail before the download gives up (its progress is kept for the next manifest). */
  readonly retries: number;
  readonly onState: (state: OtaState) => void;
  /** The end: true when the image is verified and complete(version) accepted it (the caller restarts). */
  readonly onDone: (ok: boolean, reason?: string) => void;
}

/** Blocks hashed per timer turn while verifying: the loop is never held for the whole image. */
const HASH_BLOCKS = 16;

/**
 * Downloads `manifest`'s image block by block into `updates.open(size, resume)`. After each block is written its bit
 * is set in the bitmap kept in the store (PROGRESS_KEY), so a dropped connection costs the blocks in flight and a
 * reboot resumes where the bitmap says. Once every block is in, the whole image is read back from the slot and hashed;
 * only an image whose SHA-256 is the signed one is completed. A mismatch discards the progress and says why.
 */
export class Download implements BlockSink {
  readonly #o: DownloadOptions;
  readonly #manifest: UpdateManifest;
  #map: BlockMap | undefined;
  #writer: UpdateWriter | undefined;
  #timer: unknown;
  #first = 0;
  #count = 0;
  #failures = 0;
  #percent = -1;
  #stopped = false;
  #storeProblem = false;

  constructor(options: DownloadOptions) {
    this.#o = options;
    this.#manifest = options.manifest;
  }

  get version(): number {
    return this.#manifest.version;
  }
  get sha256(): string {
    return this.#manifest.sha256;
  }
  /** Blocks written so far, and of how many. */
  get have(): number {
    return this.#map?.have ?? 0;
  }
  get blocks(): number {
    return this.#map?.count ?? 0;
  }

  start(): void {
    const o = this.#o,
      m = this.#manifest;
    const kept = loadProgress(o.store, m);
    try {
      this.#writer = o.updates.open(m.size, kept !== undefined);
    } catch (e) {
      this.#finish(false, "cannot open the update slot: " + messageOf(e));
      return;
    }
    this.#map = kept ?? new BlockMap(m.size, m.blockSize);
    if (kept) o.log(`ota: resuming version ${m.version}: ${kept.have} of ${kept.count} blocks are in the slot`);
    else this.#save();
    o.log(
      `ota: downloading version ${m.version} (${m.size} bytes, ${this.#map.count} blocks of ${m.blockSize}) over ${o.source.name}`,
    );
    this.#progress();
    this.#next();
  }

  /** Stops without losing progress (the app stops, or a newer manifest replaces this one). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#o.clock.clearTimeout(this.#timer);
    this.#o.source.cancel();
    this.#close();
  }

  block(index: number, bytes: Uint8Array): void {
    const map = this.#map;
    if (this.#stopped || !map || index < 0 || index >= map.count || map.has(index)) return;
    const expected = map.lengthOf(index);
    if (bytes.length !== expected) {
      this.failed(new Error("block " + index + " is " + bytes.length + " bytes, expected " + expected));
      return;
    }
    try {
      this.#writer!.write(index * map.blockSize, bytes);
    } catch (e) {
      this.#finish(false, "writing block " + index + " to the slot failed: " + messageOf(e));
      return;
    }
    map.set(index);
    this.#save();
    this.#failures = 0;
    this.#progress();
    if (!map.missingIn(this.#first, this.#count)) {
      this.#o.clock.clearTimeout(this.#timer);
      this.#next();
    } else this.#arm();
  }

  failed(error: Error): void {
    if (this.#stopped) return;
    this.#o.clock.clearTimeout(this.#timer);
    this.#o.source.cancel();
    this.#retry(messageOf(error));
  }

  #next(): void {
    const map = this.#map!;
    if (this.#stopped) return;
    if (map.complete) {
      this.#verify();
      return;
    }
    const first = map.nextMissing(this.#first);
    this.#first = first;
    this.#count = map.runFrom(first, this.#o.source.window);
    this.#arm();
    this.#o.source.request(first, this.#count, this);
  }

  #arm(): void {
    const o = this.#o;
    o.clock.clearTimeout(this.#timer);
    this.#timer = o.clock.setTimeout(() => {
      if (this.#stopped) return;
      o.source.cancel();
      this.#retry("no block arrived within " + o.timeoutMs + " ms (asked for block " + this.#first + ")");
    }, o.timeoutMs);
  }

  #retry(reason: string): void {
    const o = this.#o;
    if (++this.#failures > o.retries) {
      this.#finish(false, reason + "; gave up after " + this.#failures + " attempts (progress kept for a resume)");
      return;
    }
    o.log(`ota: ${reason}; asking again (attempt ${this.#failures + 1} of ${o.retries + 1})`);
    // A short pause, longer with each failure: a publisher or a connection that just dropped gets time to come back.
    this.#timer = o.clock.setTimeout(() => this.#next(), Math.min(o.timeoutMs, 250 * this.#failures));
  }

  #progress(): void {
    const percent = this.#map!.percent;
    if (percent === this.#percent) return;
    this.#percent = percent;
    this.#o.onState({ state: "downloading", target: this.#manifest.version, percent, transport: this.#o.source.name });
  }

  #save(): void {
    try {
      saveProgress(this.#o.store, this.#manifest, this.#map!);
    } catch (e) {
      if (this.#storeProblem) return;
      this.#storeProblem = true;
      this.#o.log("ota: the store does not keep the progress (" + messageOf(e) + "); a reboot starts over");
    }
  }

  /** Reads the image back from the slot a few blocks per timer turn, hashing it; then completes it or discards it. */
  #verify(): void {
    const o = this.#o,
      m = this.#manifest,
      map = this.#map!;
    o.onState({ state: "verifying", target: m.version });
    const hash = o.sha256();
    let index = 0;
    const step = (): void => {
      if (this.#stopped) return;
      try {
        for (let n = 0; n < HASH_BLOCKS && index < map.count; n++, index++)
          hash.update(this.#writer!.read(index * m.blockSize, map.lengthOf(index)));
      } catch (e) {
        this.#discard("reading the image back from the slot failed: " + messageOf(e));
        return;
      }
      if (index < map.count) {
        this.#timer = o.clock.setTimeout(step, 0);
        return;
      }
      const digest = hex(hash.digest());
      if (digest !== m.sha256) {
        this.#discard("the image's SHA-256 is " + digest + ", the manifest signs " + m.sha256 + "; image discarded");
        return;
      }
      try {
        this.#writer!.complete(m.version);
      } catch (e) {
        this.#discard("the bootloader refused the image: " + messageOf(e));
        return;
      }
      clearProgress(o.store);
      o.log(`ota: version ${m.version} verified (SHA-256 ${digest.slice(0, 16)}…) and set to boot next`);
      this.#finish(true);
    };
    step();
  }

  #discard(reason: string): void {
    clearProgress(this.#o.store);
    this.#finish(false, reason);
  }

  #close(): void {
    const writer = this.#writer;
    this.#writer = undefined;
    try {
      writer?.close();
    } catch {
      /* closing twice or after a failure: nothing left to keep */
    }
  }

  #finish(ok: boolean, reason?: string): void {
    this.#stopped = true;
    this.#o.clock.clearTimeout(this.#timer);
    this.#o.source.cancel();
    this.#close();
    if (!ok) {
      this.#o.log("ota: version " + this.#manifest.version + " failed: " + reason);
      this.#o.onState({ state: "failed", target: this.#manifest.version, reason });
    }
    this.#o.onDone(ok, reason);
  }
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += (bytes[i]! < 16 ? "0" : "") + bytes[i]!.toString(16);
  return out;
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(Download.prototype);
