// The Node bootloader's state: which slot is committed, which is pending with how many boot tries, and why it rolled back.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic, type Disk } from "./disk.js";

export type SlotName = "a" | "b";

export interface SlotImage {
  readonly slot: SlotName;
  readonly version: number;
  /** SHA-256 of the slot's image file, hex: the unpacked tree's stamp must name the same. */
  readonly sha256: string;
}

export interface PendingImage extends SlotImage {
  /** Boots left before it is rolled back; each boot takes one before the image runs (the boot-loop counter). */
  readonly triesLeft: number;
  /** How its last boot ended ("exit code 1", "signal SIGKILL"), for the rollback reason. */
  readonly lastExit?: string;
}

/**
 * Kept in `<flash>/slots/boot.json`, always replaced whole (temporary file, fsync, rename, fsync of the folder), so a
 * power cut leaves the old state or the new one, never a mix.
 */
export interface BootState {
  readonly format: 1;
  readonly committed: SlotImage;
  readonly pending?: PendingImage;
  /** Why the last pending image was given up; shown to the next boot once (`updates.rolledBack`), then cleared. */
  readonly rolledBack?: string;
  /** SHA-256 of the image of the build installed beside the supervisor, when it was last put in slot a. */
  readonly installed?: string;
}

export interface SlotPaths {
  readonly dir: string;
  readonly state: string;
  /** The slot's image file, as downloaded. */
  image(slot: SlotName): string;
  /** The slot's unpacked tree, which the supervisor runs. */
  tree(slot: SlotName): string;
}

export function slotPaths(flashDir: string): SlotPaths {
  const dir = join(flashDir, "slots");
  return {
    dir,
    state: join(dir, "boot.json"),
    image: (slot) => join(dir, slot + ".image"),
    tree: (slot) => join(dir, slot),
  };
}

export const otherSlot = (slot: SlotName): SlotName => (slot === "a" ? "b" : "a");

function isSlotImage(v: unknown): v is SlotImage {
  const o = v as Partial<SlotImage> | null;
  return (
    typeof o === "object" &&
    o !== null &&
    (o.slot === "a" || o.slot === "b") &&
    Number.isInteger(o.version) &&
    typeof o.sha256 === "string"
  );
}

/** The state, or undefined when there is none yet; a state that is not one throws, naming what is wrong. */
export function readBootState(path: string): BootState | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  const o = JSON.parse(text) as Partial<BootState> | null;
  if (typeof o !== "object" || o === null || o.format !== 1 || !isSlotImage(o.committed))
    throw new Error(`boot state ${path} has no format 1 committed slot`);
  const p = o.pending;
  if (p !== undefined && (!isSlotImage(p) || !Number.isInteger(p.triesLeft) || p.slot === o.committed.slot))
    throw new Error(`boot state ${path} has a malformed pending image`);
  return o as BootState;
}

export function writeBootState(disk: Disk, path: string, state: BootState): void {
  writeFileAtomic(disk, path, new TextEncoder().encode(JSON.stringify(state, null, 1) + "\n"));
}
