// Two image slots in RAM and a bootloader over them, for tests: real bytes written and read back, boot states kept across app restarts.
import type { UpdateWriter, Updates } from "telltale/io/host";

/** What one slot holds. */
export interface Slot {
  readonly bytes: Uint8Array;
  version: number;
  /** Bytes of the image in it (0: empty). */
  length: number;
}

/**
 * The flash of a two-slot device and its bootloader, kept by the test across "reboots": boot() is what runs at each
 * start and returns the Updates the app sees for that boot. A completed image boots once pending; a boot that finds
 * its predecessor still pending (never confirmed) or rejected goes back to the other slot and says why.
 */
export class MemorySlots {
  readonly slotBytes: number;
  readonly slots: [Slot, Slot];
  active = 0;
  pending = false;
  /** The slot complete() chose for the next boot, or -1. */
  next = -1;
  /** Why the next boot is a rollback (reject's reason), if it is one. */
  rejected: string | undefined;
  /** Every open() of the other slot: its length and whether it resumed. */
  readonly opens: { byteLength: number; resume: boolean }[] = [];
  /** Bytes written through writers, over every boot. */
  written = 0;
  /** Restart reasons, in order (host.restart). */
  readonly restarts: string[] = [];
  /** Writes that throw from this count on (a cut in the middle of a write): -1 never. */
  failWritesAfter = -1;

  constructor(slotBytes: number, runningVersion: number, runningImage: Uint8Array = new Uint8Array(16)) {
    this.slotBytes = slotBytes;
    const slot = (): Slot => ({ bytes: new Uint8Array(slotBytes).fill(0xff), version: 0, length: 0 });
    this.slots = [slot(), slot()];
    this.slots[0].bytes.set(runningImage);
    this.slots[0].length = runningImage.length;
    this.slots[0].version = runningVersion;
  }

  /** The running slot's image. */
  image(slot = this.active): Uint8Array {
    const s = this.slots[slot]!;
    return s.bytes.slice(0, s.length);
  }

  /** The bootloader: chooses what boots now, and returns the host's Updates for this boot. */
  boot(): Updates {
    let rolledBack: string | undefined;
    if (this.next >= 0) {
      this.active = this.next;
      this.next = -1;
      this.pending = true;
    } else if (this.rejected !== undefined || this.pending) {
      rolledBack = this.rejected ?? "version " + this.slots[this.active]!.version + " was never confirmed";
      this.active = 1 - this.active;
      this.pending = false;
      this.rejected = undefined;
    }
    return new SlotUpdates(this, rolledBack);
  }
}

class SlotUpdates implements Updates {
  readonly #slots: MemorySlots;
  readonly running: { readonly version: number; readonly slot: string; readonly pending: boolean };
  readonly rolledBack: string | undefined;
  readonly slotBytes: number;

  constructor(slots: MemorySlots, rolledBack: string | undefined) {
    this.#slots = slots;
    this.rolledBack = rolledBack;
    this.slotBytes = slots.slotBytes;
    const active = slots.active;
    this.running = { version: slots.slots[active]!.version, slot: "slot" + active, pending: slots.pending };
  }

  open(byteLength: number, resume: boolean): UpdateWriter {
    const slots = this.#slots,
      index = 1 - slots.active,
      slot = slots.slots[index]!;
    if (byteLength > slots.slotBytes)
      throw new RangeError("image of " + byteLength + " bytes is larger than the slot (" + slots.slotBytes + ")");
    slots.opens.push({ byteLength, resume });
    if (!resume) {
      slot.bytes.fill(0xff);
      slot.length = 0;
      slot.version = 0;
    }
    // A slot being written is no longer bootable, and no longer chosen for the next boot.
    if (slots.next === index) slots.next = -1;
    let open = true;
    const check = (offset: number, length: number) => {
      if (!open) throw new Error("writer is closed");
      if (offset < 0 || offset + length > byteLength)
        throw new RangeError(
          "bytes " + offset + "–" + (offset + length) + " are outside the image (" + byteLength + ")",
        );
    };
    return {
      write(offset: number, bytes: Uint8Array): void {
        check(offset, bytes.length);
        if (slots.failWritesAfter >= 0 && slots.written + bytes.length > slots.failWritesAfter) {
          const part = Math.max(0, slots.failWritesAfter - slots.written);
          slot.bytes.set(bytes.subarray(0, part), offset);
          slots.written += part;
          throw new Error("power cut during the write");
        }
        slot.bytes.set(bytes, offset);
        slots.written += bytes.length;
      },
      read(offset: number, length: number): Uint8Array {
        check(offset, length);
        return slot.bytes.slice(offset, offset + length);
      },
      complete(version: number): void {
        if (!open) throw new Error("writer is closed");
        slot.version = version;
        slot.length = byteLength;
        slots.next = index;
      },
      close(): void {
        open = false;
      },
    };
  }

  confirm(): void {
    this.#slots.pending = false;
  }

  reject(reason: string): void {
    this.#slots.rejected = reason;
  }
}
