// The simulator's Updates: two slot files and a boot-state file under the SDK's file root, with the bootloader's rules.
import { File } from "file";
import { Digest } from "crypt";
import type { UpdateWriter, Updates } from "telltale/io/host";

type SlotName = "a" | "b";
interface SlotImage {
  slot: SlotName;
  version: number;
  sha256: string;
}
interface BootState {
  committed: SlotImage;
  pending?: SlotImage & { triesLeft: number };
  rolledBack?: string;
}

export interface SimUpdatesOptions {
  /** Folder of the files (the SDK's file root, "/" terminated). */
  root: string;
  /** The version of the mc.so when no boot state exists yet. */
  firstVersion: number;
  /** The largest image a slot file takes. */
  slotBytes: number;
  bootTries: number;
  log: (line: string) => void;
}

const CHUNK = 4096;

function hex(buffer: ArrayBuffer): string {
  const bytes = new Uint8Array(buffer);
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += (bytes[i]! < 16 ? "0" : "") + bytes[i]!.toString(16);
  return out;
}

/**
 * What the simulator can and cannot do: it cannot exec another image, so "booting" a slot is the bootloader's
 * bookkeeping only. At host creation (each launch of mcsim is a boot) the pending slot file's SHA-256 is checked
 * against what complete() recorded and a boot try is taken, else it is rolled back; `running` then names that slot and
 * version, but the code that runs is the same mc.so. confirm()/reject() and the boot-loop counter behave as on a board.
 */
export class SimUpdates implements Updates {
  readonly rolledBack?: string;
  readonly slotBytes: number;
  readonly #options: SimUpdatesOptions;
  readonly #running: SlotImage;
  #pending: boolean;

  /** Boots: takes a try of a pending image (after checking its hash) or rolls it back. */
  constructor(options: SimUpdatesOptions) {
    this.#options = options;
    this.slotBytes = options.slotBytes;
    let state = this.#read();
    if (!state) {
      state = { committed: { slot: "a", version: options.firstVersion, sha256: "" } };
      this.#write(state);
    }
    const p = state.pending;
    let reason: string | undefined;
    if (p && p.triesLeft <= 0) reason = `version ${p.version} did not confirm itself in ${options.bootTries} boots`;
    else if (p && this.#hash(p.slot) !== p.sha256)
      reason = `version ${p.version} refused before the switch: slot ${p.slot}'s file does not hash to its SHA-256`;
    if (reason !== undefined) options.log("sim host: updates: rolled back: " + reason);
    // A reason (this boot's, or a reject()'s) is shown to one boot and then cleared from the state.
    const shown = reason ?? state.rolledBack;
    if (shown !== undefined) this.rolledBack = shown;
    state = {
      committed: state.committed,
      ...(p && reason === undefined ? { pending: { ...p, triesLeft: p.triesLeft - 1 } } : {}),
    };
    this.#write(state);
    this.#pending = state.pending !== undefined;
    const r = state.pending ?? state.committed;
    this.#running = { slot: r.slot, version: r.version, sha256: r.sha256 };
  }

  get running(): { version: number; slot: string; pending: boolean } {
    return { version: this.#running.version, slot: this.#running.slot, pending: this.#pending };
  }

  open(byteLength: number, resume: boolean): UpdateWriter {
    if (this.#pending)
      throw new Error(
        `updates: the running image (version ${this.#running.version}) is pending; it must confirm first`,
      );
    if (!Number.isInteger(byteLength) || byteLength < 1 || byteLength > this.slotBytes)
      throw new RangeError(`updates: an image of ${byteLength} bytes does not fit a slot (${this.slotBytes})`);
    const target: SlotName = this.#running.slot === "a" ? "b" : "a";
    const state = this.#read()!;
    if (state.pending) this.#write({ committed: state.committed });
    const path = this.#slotPath(target);
    if (!resume && File.exists(path)) File.delete(path);
    let file: File | undefined = new File(path, true);
    const live = (offset: number, length: number): File => {
      if (!file) throw new Error("updates: the slot writer is closed");
      if (!Number.isInteger(offset) || offset < 0 || offset + length > byteLength)
        throw new RangeError(`updates: ${length} bytes at ${offset} are outside the image's ${byteLength}`);
      return file;
    };
    return {
      write(offset: number, bytes: Uint8Array) {
        const f = live(offset, bytes.length);
        // A gap before `offset` (a resumed or out-of-order download) is filled first: File writes only at or below length.
        if (f.length < offset) {
          f.position = f.length;
          f.write(new ArrayBuffer(offset - f.length));
        }
        f.position = offset;
        f.write(bytes.slice().buffer);
      },
      read(offset: number, length: number) {
        const f = live(offset, length);
        if (offset + length > f.length)
          throw new RangeError(`updates: bytes ${offset}-${offset + length} were never written`);
        f.position = offset;
        return new Uint8Array(f.read(ArrayBuffer, length));
      },
      complete: (version: number) => {
        const f = live(0, 0);
        if (f.length !== byteLength)
          throw new Error(`updates: slot ${target} holds ${f.length} of the image's ${byteLength} bytes`);
        f.close();
        file = undefined;
        const now = this.#read()!;
        this.#write({
          committed: now.committed,
          pending: { slot: target, version, sha256: this.#hash(target), triesLeft: this.#options.bootTries },
        });
      },
      close() {
        file?.close();
        file = undefined;
      },
    };
  }

  confirm(): void {
    if (!this.#pending) return;
    this.#write({ committed: { ...this.#running } });
    this.#pending = false;
  }

  reject(reason: string): void {
    if (!this.#pending) throw new Error("updates: reject: the running image is committed, not pending");
    const state = this.#read()!;
    this.#write({
      committed: state.committed,
      rolledBack: `version ${this.#running.version} rejected itself: ${reason}`,
    });
    this.#pending = false;
  }

  #slotPath(slot: SlotName): string {
    return this.#options.root + "telltale-slot-" + slot + ".image";
  }

  #hash(slot: SlotName): string {
    const path = this.#slotPath(slot);
    if (!File.exists(path)) return "";
    const file = new File(path);
    try {
      const digest = new Digest("SHA256");
      for (let at = 0; at < file.length; at += CHUNK) {
        file.position = at;
        digest.write(file.read(ArrayBuffer, Math.min(CHUNK, file.length - at)));
      }
      return hex(digest.close());
    } finally {
      file.close();
    }
  }

  #read(): BootState | undefined {
    const path = this.#options.root + "telltale-boot.json";
    if (!File.exists(path)) return undefined;
    const file = new File(path);
    try {
      return JSON.parse(file.read(String)) as BootState;
    } catch (e) {
      this.#options.log(`sim host: updates: boot state ${path} unreadable (${String(e)}); starting from slot a`);
      return undefined;
    } finally {
      file.close();
    }
  }

  /** A temporary file, then a rename over the old one: a crash of the simulator leaves one whole state. */
  #write(state: BootState): void {
    const path = this.#options.root + "telltale-boot.json";
    const temporary = path + ".tmp";
    if (File.exists(temporary)) File.delete(temporary);
    const file = new File(temporary, true);
    file.write(JSON.stringify(state));
    file.close();
    if (!File.rename(temporary, "telltale-boot.json")) throw new Error("updates: could not replace " + path);
  }
}
