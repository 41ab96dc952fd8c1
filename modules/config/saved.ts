// The last good configuration in the store: its JSON split over keys no longer than the store allows, written beside
// the copy in use and then named by a header, so a power cut during a save leaves the previous copy whole.
import type { Store } from "telltale/io/io";
import { crc32 } from "telltale/storage/crc32";
import { messageOf } from "telltale/errors/message";

/** The header key: "<slot> <parts> <bytes> <crc32 hex>", naming the slot ("a" or "b") whose keys hold the text. */
const HEADER = "config";

/**
 * The most keys one copy may span. A save keeps the old copy until the new one is whole, so two copies must fit at
 * once: on ESP32 that is 4 × 3999 bytes, about four of the five NVS pages the 24 KB partition (hosts/esp32/partitions.csv)
 * leaves for data, where a 4000-byte string takes a whole 4 KB page.
 */
export const SAVED_CONFIG_PARTS = 2;

/** The longest configuration text `store` can keep, in bytes; undefined when the store sets no limit. */
export function savedConfigLimit(store: Store): number | undefined {
  const max = store.maxValueBytes;
  return max === undefined ? undefined : max * SAVED_CONFIG_PARTS;
}

/**
 * The text kept for a configuration: JSON with every character outside ASCII written as a \u escape, so that its
 * length is its size in bytes and it can be cut anywhere without splitting a character.
 */
export function configText(plain: unknown): string {
  return JSON.stringify(plain).replace(
    /[\u007f-\uffff]/g,
    (c) => "\\u" + ("000" + c.charCodeAt(0).toString(16)).slice(-4),
  );
}

function chunkKey(slot: string, index: number): string {
  return "cfg" + slot + index;
}

function checksum(text: string): string {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return ("0000000" + crc32(bytes).toString(16)).slice(-8);
}

/** The saved text, or why there is none that can be used (`problem`); neither when nothing was ever saved. */
export function loadConfigText(store: Store): { text?: string; problem?: string; slot?: string } {
  let header: string | undefined;
  try {
    header = store.get(HEADER);
    if (header === undefined) return {};
    // Before the text was split, the header key held the JSON itself.
    if (header.startsWith("{")) return { text: header };
    const m = /^([ab]) ([1-9]\d*) (\d+) ([0-9a-f]{8})$/.exec(header);
    if (!m) return { problem: "its header " + JSON.stringify(header.slice(0, 40)) + " is not one this firmware wrote" };
    const slot = m[1]!,
      parts = Number(m[2]),
      bytes = Number(m[3]);
    let text = "";
    for (let i = 0; i < parts; i++) {
      const part = store.get(chunkKey(slot, i));
      if (part === undefined) return { problem: "part " + (i + 1) + " of " + parts + " is missing" };
      text += part;
    }
    if (text.length !== bytes) return { problem: "it is " + text.length + " bytes, its header says " + bytes };
    if (checksum(text) !== m[4]) return { problem: "its CRC-32 does not match (the store is damaged)" };
    return { text, slot };
  } catch (e) {
    return { problem: "the store cannot be read (" + messageOf(e) + ")" };
  }
}

function remove(store: Store, key: string): void {
  if (store.get(key) !== undefined) store.delete(key);
}

/**
 * Keeps `text` (from configText) as the last good configuration. The parts go to the slot not in use, then the header
 * names them, then the other slot is cleared. An unchanged text writes nothing (flash wears with each erase). Throws
 * what the store throws, or a RangeError when the text needs more than SAVED_CONFIG_PARTS keys; the copy the header
 * names is then still the saved one. Returns why the previous copy could not be cleared, if it could not.
 */
export function saveConfigText(store: Store, text: string): string | undefined {
  const current = loadConfigText(store);
  if (current.text === text) return undefined;
  const max = store.maxValueBytes ?? Math.max(1, text.length);
  const parts = Math.max(1, Math.ceil(text.length / max));
  if (parts > SAVED_CONFIG_PARTS)
    throw new RangeError("Store: a configuration of " + text.length + " bytes needs " + parts + " keys of " + max);
  const slot = current.slot === "a" ? "b" : "a",
    other = slot === "a" ? "b" : "a";
  for (let i = 0; i < parts; i++) store.set(chunkKey(slot, i), text.slice(i * max, (i + 1) * max));
  store.set(HEADER, slot + " " + parts + " " + text.length + " " + checksum(text));
  try {
    // The previous copy, and parts left in this slot by a larger configuration or an interrupted save.
    for (let i = 0; i < SAVED_CONFIG_PARTS; i++) {
      remove(store, chunkKey(other, i));
      if (i >= parts) remove(store, chunkKey(slot, i));
    }
    return undefined;
  } catch (e) {
    return "the previous copy was not cleared (" + messageOf(e) + ")";
  }
}
