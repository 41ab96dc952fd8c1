// The last good configuration in the store: its JSON split over keys no longer than the store allows, written beside
// the copy in use and then named by a header, so a power cut during a save leaves the previous copy whole. A remote
// change (modules/config/remote.ts) is first kept as the trial, in the other slot, until it has proved healthy.
import type { Store } from "telltale/io/io";
import { crc32 } from "telltale/storage/crc32";
import { messageOf } from "telltale/errors/message";

/** The header key: "<slot> <parts> <bytes> <crc32 hex>", naming the slot ("a" or "b") whose keys hold the text. */
const HEADER = "config";

/**
 * The trial: a remotely changed configuration that runs until it has proved healthy (modules/config/remote.ts). Its
 * parts go to the slot the last good one does not use, so the two fit in the room two copies always had; its header
 * counts the starts it has had ("<slot> <parts> <bytes> <crc> <version> <base> <boots>").
 */
export const TRIAL_HEADER = "cfgtrial";

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

/** What a header names: the slot of the parts, their count, the text's size and CRC, and a remote copy's version. */
interface Header {
  slot: string;
  parts: number;
  bytes: number;
  crc: string;
  /** The version a remote change gave it (modules/config/remote.ts); 0 for the built-in configuration. */
  version: number;
  /** The CRC of the built-in configuration it was set over ("" for the built-in one itself). */
  base: string;
  /** A trial's starts so far (TRIAL_HEADER only). */
  boots: number;
}

/** Where a saved copy came from: a remote change's version over the built-in configuration whose CRC is `base`. */
export interface SavedMeta {
  readonly version: number;
  readonly base: string;
}

/** A saved copy: its text and meta, or why there is none that can be used (`problem`); neither when none was saved. */
export interface SavedCopy {
  text?: string;
  problem?: string;
  slot?: string;
  parts?: number;
  version?: number;
  base?: string;
  boots?: number;
}

function headerText(h: Header, trial: boolean): string {
  let text = h.slot + " " + h.parts + " " + h.bytes + " " + h.crc;
  if (h.version > 0 || trial) text += " " + h.version + " " + (h.base === "" ? "-" : h.base);
  return trial ? text + " " + h.boots : text;
}

function readCopy(store: Store, key: string): SavedCopy {
  let header: string | undefined;
  try {
    header = store.get(key);
    if (header === undefined) return {};
    // Before the text was split, the header key held the JSON itself.
    if (header.startsWith("{")) return { text: header, version: 0, base: "" };
    const m = /^([ab]) ([1-9]\d*) (\d+) ([0-9a-f]{8})(?: (\d{1,15}) (-|[0-9a-f]{8}))?(?: (\d{1,9}))?$/.exec(header);
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
    const base = m[6] === undefined || m[6] === "-" ? "" : m[6];
    return { text, slot, parts, version: Number(m[5] ?? 0), base, boots: Number(m[7] ?? 0) };
  } catch (e) {
    return { problem: "the store cannot be read (" + messageOf(e) + ")" };
  }
}

/** The saved last good configuration, or why there is none that can be used (`problem`); neither when none was saved. */
export function loadConfigText(store: Store): SavedCopy {
  return readCopy(store, HEADER);
}

/** The CRC-32 (8 hex digits) of a configText(): names the built-in configuration a remote change was made over. */
export function textChecksum(text: string): string {
  return checksum(text);
}

function remove(store: Store, key: string): void {
  if (store.get(key) !== undefined) store.delete(key);
}

/** Writes `text` in parts to the slot that `current` does not use; returns the header naming them. */
function writeParts(store: Store, text: string, inUse: string | undefined, meta: SavedMeta): Header {
  const max = store.maxValueBytes ?? Math.max(1, text.length);
  const parts = Math.max(1, Math.ceil(text.length / max));
  if (parts > SAVED_CONFIG_PARTS)
    throw new RangeError("Store: a configuration of " + text.length + " bytes needs " + parts + " keys of " + max);
  const slot = inUse === "a" ? "b" : "a";
  for (let i = 0; i < parts; i++) store.set(chunkKey(slot, i), text.slice(i * max, (i + 1) * max));
  return { slot, parts, bytes: text.length, crc: checksum(text), version: meta.version, base: meta.base, boots: 0 };
}

/** Clears every part but those `keep` names (the previous copy, leftovers of a larger one or of a cut save). */
function clearOthers(store: Store, keep: Header): string | undefined {
  try {
    for (const slot of ["a", "b"])
      for (let i = slot === keep.slot ? keep.parts : 0; i < SAVED_CONFIG_PARTS; i++) remove(store, chunkKey(slot, i));
    return undefined;
  } catch (e) {
    return "the previous copy was not cleared (" + messageOf(e) + ")";
  }
}

/**
 * Keeps `text` (from configText) as the last good configuration, with `meta` when a remote change set it. The parts
 * go to the slot not in use, then the header names them, then the other slot is cleared; a trial (in that slot) ends.
 * An unchanged text writes nothing (flash wears with each erase). Throws what the store throws, or a RangeError when
 * the text needs more than SAVED_CONFIG_PARTS keys; the copy the header names is then still the saved one. Returns why
 * the previous copy could not be cleared, if it could not.
 */
export function saveConfigText(
  store: Store,
  text: string,
  meta: SavedMeta = { version: 0, base: "" },
): string | undefined {
  const current = loadConfigText(store);
  const trial = store.get(TRIAL_HEADER) !== undefined;
  if (
    current.text === text &&
    current.version === meta.version &&
    (meta.version === 0 || current.base === meta.base) &&
    !trial
  )
    return undefined;
  if (trial) store.delete(TRIAL_HEADER);
  const header = writeParts(store, text, current.slot, meta);
  store.set(HEADER, headerText(header, false));
  return clearOthers(store, header);
}

/** The trial, if one is saved: its text, version, base and starts. */
export function loadTrialText(store: Store): SavedCopy {
  return readCopy(store, TRIAL_HEADER);
}

/** Saves `text` as the trial (replacing any), with `boots` starts counted; throws what the store throws. */
export function saveTrialText(store: Store, text: string, meta: SavedMeta, boots: number): void {
  if (store.get(TRIAL_HEADER) !== undefined) store.delete(TRIAL_HEADER);
  const header = writeParts(store, text, loadConfigText(store).slot, meta);
  header.boots = boots;
  store.set(TRIAL_HEADER, headerText(header, true));
}

/** Counts a start of the trial (its header rewritten in place). */
export function countTrialBoot(store: Store, trial: SavedCopy): void {
  const text = store.get(TRIAL_HEADER);
  if (text === undefined || trial.text === undefined) return;
  store.set(TRIAL_HEADER, text.replace(/ \d+$/, " " + ((trial.boots ?? 0) + 1)));
}

/** The trial proved healthy: its header becomes the last good one's (no part is rewritten); the old copy is cleared. */
export function promoteTrial(store: Store): string | undefined {
  const text = store.get(TRIAL_HEADER);
  if (text === undefined) return "there is no trial to keep";
  const m = /^([ab]) (\d+) (\d+) ([0-9a-f]{8}) (\d+) (-|[0-9a-f]{8}) \d+$/.exec(text);
  if (!m) return "the trial's header is not one this firmware wrote";
  store.set(HEADER, text.replace(/ \d+$/, "").replace(/ 0 -$/, ""));
  store.delete(TRIAL_HEADER);
  const keep = { slot: m[1]!, parts: Number(m[2]) } as Header;
  return clearOthers(store, keep);
}

/** Forgets the trial: its header, then its parts (never those of the last good copy). */
export function dropTrial(store: Store): void {
  if (store.get(TRIAL_HEADER) === undefined) return;
  store.delete(TRIAL_HEADER);
  const good = loadConfigText(store);
  if (good.text !== undefined) clearOthers(store, { slot: good.slot ?? "", parts: good.parts ?? 0 } as Header);
}
