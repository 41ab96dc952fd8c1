// The Node host's Updates: the firmware's side of the supervisor's two slots (hosts/node/supervisor.ts plays the bootloader).
import { existsSync, fstatSync, readSync } from "node:fs";
import type { UpdateWriter, Updates } from "telltale/io/host";
import { realDisk, type Disk } from "./disk.js";
import { otherSlot, readBootState, slotPaths, writeBootState, type BootState, type SlotName } from "./boot-state.js";
import { MIN_IMAGE_BYTES, parseImage } from "./image.js";

/** The exit code by which the firmware asks the supervisor to boot again (Host.restart): EX_TEMPFAIL. */
export const RESTART_EXIT = 75;

/** The environment variable in which the supervisor tells the firmware what it booted (JSON of BootInfo). */
export const BOOT_ENV = "TELLTALE_BOOT";

export interface BootInfo {
  readonly flashDir: string;
  readonly slot: SlotName;
  readonly version: number;
  readonly pending: boolean;
  readonly rolledBack?: string;
  /** Boot tries a new image gets (complete() writes them into the boot state). */
  readonly bootTries: number;
  readonly slotBytes: number;
}

/** What the supervisor booted, from the environment; undefined when the firmware runs without one. */
export function bootFromEnv(env: Readonly<Record<string, string | undefined>>): BootInfo | undefined {
  const text = env[BOOT_ENV];
  if (!text) return undefined;
  const o = JSON.parse(text) as Partial<BootInfo>;
  if (
    typeof o.flashDir !== "string" ||
    (o.slot !== "a" && o.slot !== "b") ||
    !Number.isInteger(o.version) ||
    typeof o.pending !== "boolean" ||
    !Number.isInteger(o.bootTries) ||
    !Number.isInteger(o.slotBytes)
  )
    throw new Error(`${BOOT_ENV} is not what the supervisor writes: ${text.slice(0, 200)}`);
  return o as BootInfo;
}

function without(state: BootState, keys: readonly ("pending" | "rolledBack")[]): BootState {
  const copy: Record<string, unknown> = { ...state };
  for (const key of keys) delete copy[key];
  return copy as unknown as BootState;
}

/**
 * Writes go to `<flash>/slots/<other>.image`; complete() checks the whole image (its frame and SHA-256 trailer, and
 * that it is `version`) and makes it the boot state's pending image. The supervisor unpacks and boots it on restart.
 * While the running image is itself pending, open() refuses: the other slot holds the image to fall back to.
 */
export class NodeUpdates implements Updates {
  readonly rolledBack?: string;
  readonly slotBytes: number;
  readonly #boot: BootInfo;
  readonly #disk: Disk;
  #pending: boolean;

  constructor(boot: BootInfo, disk: Disk = realDisk) {
    this.#boot = boot;
    this.#disk = disk;
    this.#pending = boot.pending;
    this.slotBytes = boot.slotBytes;
    if (boot.rolledBack !== undefined) this.rolledBack = boot.rolledBack;
  }

  get running(): { version: number; slot: string; pending: boolean } {
    return { version: this.#boot.version, slot: this.#boot.slot, pending: this.#pending };
  }

  open(byteLength: number, resume: boolean): UpdateWriter {
    const { version, slot, flashDir, bootTries } = this.#boot;
    if (this.#pending)
      throw new Error(`updates: the running image (version ${version}) is pending; it must confirm before another`);
    if (!Number.isInteger(byteLength) || byteLength < MIN_IMAGE_BYTES || byteLength > this.slotBytes)
      throw new RangeError(
        `updates: an image of ${byteLength} bytes does not fit slot ${otherSlot(slot)} (${MIN_IMAGE_BYTES}-${this.slotBytes})`,
      );
    const paths = slotPaths(flashDir);
    const state = this.#state();
    if (state.committed.slot !== slot)
      throw new Error(`updates: the boot state commits slot ${state.committed.slot}, not the running slot ${slot}`);
    const target = otherSlot(slot);
    // The image about to be overwritten must not stay the next boot's.
    if (state.pending) writeBootState(this.#disk, paths.state, without(state, ["pending"]));
    const disk = this.#disk;
    disk.mkdir(paths.dir);
    const path = paths.image(target);
    const fd = disk.open(path, existsSync(path) ? "r+" : "w+");
    if (!resume) disk.truncate(fd, 0);
    disk.truncate(fd, byteLength);
    let open = true;
    const check = (offset: number, length: number) => {
      if (!open) throw new Error("updates: the slot writer is closed");
      if (!Number.isInteger(offset) || offset < 0 || offset + length > byteLength)
        throw new RangeError(`updates: ${length} bytes at ${offset} are outside the image's ${byteLength}`);
    };
    const close = () => {
      if (!open) return;
      open = false;
      disk.close(fd);
    };
    return {
      write(offset: number, bytes: Uint8Array) {
        check(offset, bytes.length);
        disk.write(fd, bytes, offset);
      },
      read(offset: number, length: number) {
        check(offset, length);
        const out = new Uint8Array(length);
        for (let done = 0; done < length;) {
          const n = readSync(fd, out, done, length - done, offset + done);
          if (n === 0) break;
          done += n;
        }
        return out;
      },
      complete: (imageVersion: number) => {
        check(0, 0);
        disk.fsync(fd);
        const bytes = new Uint8Array(fstatSync(fd).size);
        readSync(fd, bytes, 0, bytes.length, 0);
        const image = parseImage(bytes);
        if (image.version !== imageVersion)
          throw new Error(`updates: the image in slot ${target} is version ${image.version}, not ${imageVersion}`);
        close();
        const now = this.#state();
        writeBootState(disk, paths.state, {
          ...without(now, ["pending"]),
          pending: { slot: target, version: imageVersion, sha256: image.sha256, triesLeft: bootTries },
        });
      },
      close,
    };
  }

  confirm(): void {
    if (!this.#pending) return;
    const state = this.#ownPending("confirm");
    const p = state.pending!;
    writeBootState(this.#disk, slotPaths(this.#boot.flashDir).state, {
      ...without(state, ["pending", "rolledBack"]),
      committed: { slot: p.slot, version: p.version, sha256: p.sha256 },
    });
    this.#pending = false;
  }

  reject(reason: string): void {
    if (!this.#pending) throw new Error("updates: reject: the running image is committed, not pending");
    const state = this.#ownPending("reject");
    writeBootState(this.#disk, slotPaths(this.#boot.flashDir).state, {
      ...without(state, ["pending"]),
      rolledBack: `version ${this.#boot.version} rejected itself: ${reason}`,
    });
    this.#pending = false;
  }

  #state(): BootState {
    const state = readBootState(slotPaths(this.#boot.flashDir).state);
    if (!state) throw new Error("updates: no boot state: the firmware was not started by the supervisor");
    return state;
  }

  #ownPending(what: string): BootState {
    const state = this.#state();
    const p = state.pending;
    if (!p || p.slot !== this.#boot.slot || p.version !== this.#boot.version)
      throw new Error(
        `updates: ${what}: version ${this.#boot.version} is no longer pending (the supervisor gave it up)`,
      );
    return state;
  }
}
