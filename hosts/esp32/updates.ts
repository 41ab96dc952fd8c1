// ESP32 Updates: embedded:update writes the other OTA slot, ESP-IDF's bootloader (rollback on) boots it pending.
import Preference from "preference";
import {
  Update as otaUpdate,
  bootRunning as otaBootRunning,
  confirm as otaConfirm,
  flash as otaFlash,
  next as otaNext,
  reject as otaReject,
  restart as otaRestart,
  running as otaRunning,
  state as otaState,
  type FlashPartition,
  type UpdateInstance,
} from "telltale/hosts/esp32/ota-native";
import type { UpdateWriter, Updates } from "telltale/io/host";

/** NVS keys (15 characters at most): the version of the image in each slot, the slot completed last, a reject reason. */
const DOMAIN = "ttota";
const PENDING = "pend";
const WHY = "why";
const versionKey = (label: string) => "v_" + label;

/**
 * The bootloader gives a new image one boot (ESP-IDF: NEW → PENDING_VERIFY; a reset while still pending marks it
 * ABORTED and boots the previous slot), so the boot-loop counter is 1 and a hang ends in the watchdog's reset and a
 * rollback. Versions live in NVS, as otadata has none; the rollback is seen on the next boot as "the slot completed
 * last is not the one running". esp_ota_begin erases what it is given, so `resume` keeps what was written in this boot
 * only: after a reset, the reading back of the slot hashes wrong and the transport starts again.
 */
export class EspUpdates implements Updates {
  readonly rolledBack?: string;
  readonly slotBytes: number;
  readonly #slot: string;
  readonly #version: number;
  #pending: boolean;
  #rejected = false;
  #open?: { writer: UpdateInstance; byteLength: number };
  readonly #next: FlashPartition;

  constructor(firstVersion: number) {
    this.#slot = otaRunning();
    const state = otaState();
    this.#pending = state === "pending";
    const stored = Preference.get(DOMAIN, versionKey(this.#slot));
    this.#version = typeof stored === "number" ? stored : firstVersion;
    const completed = Preference.get(DOMAIN, PENDING);
    if (typeof completed === "string" && completed !== this.#slot) {
      const why = Preference.get(DOMAIN, WHY);
      const version = Preference.get(DOMAIN, versionKey(completed));
      this.rolledBack =
        typeof why === "string"
          ? why
          : `version ${typeof version === "number" ? version : "?"} did not confirm itself: the bootloader booted ${this.#slot} again`;
    }
    if (typeof completed === "string" && (completed !== this.#slot || !this.#pending)) {
      Preference.delete(DOMAIN, PENDING);
      Preference.delete(DOMAIN, WHY);
    }
    this.#next = otaFlash.open({ path: "nextota" });
    this.slotBytes = this.#next.status().size;
  }

  get running(): { version: number; slot: string; pending: boolean } {
    return { version: this.#version, slot: this.#slot, pending: this.#pending };
  }

  open(byteLength: number, resume: boolean): UpdateWriter {
    if (this.#pending)
      throw new Error(`updates: the running image (version ${this.#version}) is pending; it must confirm first`);
    if (!Number.isInteger(byteLength) || byteLength < 1 || byteLength > this.slotBytes)
      throw new RangeError(`updates: an image of ${byteLength} bytes does not fit ${otaNext()} (${this.slotBytes})`);
    // A completed image not yet booted is about to be overwritten: the next boot must stay on this slot.
    if (Preference.get(DOMAIN, PENDING) !== undefined) {
      otaBootRunning();
      Preference.delete(DOMAIN, PENDING);
    }
    let open = this.#open;
    if (!(resume && open && open.byteLength === byteLength)) {
      open?.writer.close();
      open = { writer: otaUpdate.open({ partition: this.#next, mode: "w", byteLength }), byteLength };
      this.#open = open;
    }
    const writer = open.writer;
    const label = otaNext();
    const check = (offset: number, length: number) => {
      if (this.#open !== open) throw new Error("updates: the slot writer is closed");
      if (!Number.isInteger(offset) || offset < 0 || offset + length > byteLength)
        throw new RangeError(`updates: ${length} bytes at ${offset} are outside the image's ${byteLength}`);
    };
    return {
      write: (offset: number, bytes: Uint8Array) => {
        check(offset, bytes.length);
        writer.write(bytes, offset);
      },
      read: (offset: number, length: number) => {
        check(offset, length);
        return new Uint8Array(this.#next.read(length, offset));
      },
      complete: (version: number) => {
        check(0, 0);
        // NVS first: a reset between the switch and these writes would boot an image of unknown version.
        Preference.set(DOMAIN, versionKey(label), version);
        Preference.set(DOMAIN, PENDING, label);
        try {
          writer.complete(); // esp_ota_end checks the ESP image; then esp_ota_set_boot_partition
        } catch (e) {
          Preference.delete(DOMAIN, PENDING);
          throw new Error(`updates: slot ${label} refused the image (${String(e)})`, { cause: e });
        } finally {
          this.#open = undefined;
        }
      },
      close: () => {
        if (this.#open !== open) return;
        writer.close();
        this.#open = undefined;
      },
    };
  }

  confirm(): void {
    if (!this.#pending) return;
    otaConfirm();
    Preference.delete(DOMAIN, PENDING);
    this.#pending = false;
  }

  /** Keeps the reason; the rollback itself is the restart that follows (ESP-IDF resets as it marks the image invalid). */
  reject(reason: string): void {
    if (!this.#pending) throw new Error("updates: reject: the running image is committed, not pending");
    Preference.set(DOMAIN, WHY, `version ${this.#version} rejected itself: ${reason}`.slice(0, 200));
    this.#rejected = true;
    this.#pending = false;
  }

  /** Host.restart: into the previous slot after reject(), else a plain reset. */
  restart(reason: string, log: (line: string) => void): never {
    log("esp32 host: restart: " + reason);
    if (this.#rejected) otaReject();
    return otaRestart();
  }
}
