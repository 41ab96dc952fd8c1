// Persistent key/value store for Moddable hosts on the Preference module (NVS flash on ESP32).
import Preference from "preference";
import type { Store } from "telltale/io/io";

export interface PreferenceStoreOptions {
  /** Preference domain (an NVS namespace on ESP32): 1–15 characters, default "telltale". */
  domain?: string;
  /** Largest value accepted, in UTF-8 bytes. */
  maxValueBytes: number;
}

/**
 * Keys are limited to 15 characters because ESP32 preferences are NVS entries, whose key and namespace
 * names hold at most 15 characters; Moddable's esp32 modPreference.c passes them straight to nvs_*.
 */
const MAX_NAME = 15;

function checkName(name: unknown, what: string): string {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_NAME)
    throw new RangeError(
      "Store: " + what + " must be a string of 1-" + MAX_NAME + " characters, got " + JSON.stringify(name),
    );
  return name;
}

export class PreferenceStore implements Store {
  readonly #domain: string;
  readonly #maxValueBytes: number;

  constructor(options: PreferenceStoreOptions) {
    const domain = checkName(options?.domain ?? "telltale", 'option "domain"');
    const max = options.maxValueBytes;
    if (typeof max !== "number" || max !== Math.floor(max) || max < 1)
      throw new RangeError('Store: option "maxValueBytes" must be a positive integer');
    this.#domain = domain;
    this.#maxValueBytes = max;
  }

  /** Values longer than this many UTF-8 bytes are refused; the saved configuration is split to fit (modules/config/saved.ts). */
  get maxValueBytes(): number {
    return this.#maxValueBytes;
  }

  get(key: string): string | undefined {
    const value = Preference.get(this.#domain, checkName(key, "key"));
    return typeof value === "string" ? value : undefined;
  }

  set(key: string, value: string): void {
    checkName(key, "key");
    if (typeof value !== "string") throw new TypeError("Store: value of " + JSON.stringify(key) + " must be a string");
    const bytes = ArrayBuffer.fromString(value).byteLength;
    if (bytes > this.#maxValueBytes)
      throw new RangeError(
        "Store: value of " +
          JSON.stringify(key) +
          " is " +
          bytes +
          " bytes; this host keeps at most " +
          this.#maxValueBytes,
      );
    // Flash has a limited number of erase cycles: an unchanged value is not written again.
    if (Preference.get(this.#domain, key) === value) return;
    Preference.set(this.#domain, key, value);
  }

  delete(key: string): void {
    Preference.delete(this.#domain, checkName(key, "key"));
  }
}
