// Types of ota-native.js: ESP-IDF's OTA calls (ota-native.c), the SDK's embedded:update and embedded:storage/flash.

/** An open image write (update-esp32.c): esp_ota_begin at open, esp_ota_write_with_offset, esp_ota_end at complete. */
export interface UpdateInstance {
  /** `offset` only in mode "w". */
  write(buffer: ArrayBufferLike | ArrayBufferView, offset?: number): void;
  /** esp_ota_end (which checks the ESP image), then esp_ota_set_boot_partition. */
  complete(): void;
  close(): void;
}
export const Update: {
  /** esp_ota_begin erases `byteLength` bytes of the partition (mode "w": writes at any offset). */
  open(options: { partition: FlashPartition; mode?: "w" | "a"; byteLength?: number }): UpdateInstance;
};
/** A partition from embedded:storage/flash (flash-esp32.c). */
export interface FlashPartition {
  read(byteLength: number, byteOffset: number): ArrayBuffer;
  status(): { size: number; blockLength: number; blocks: number };
  close(): void;
}
export const flash: {
  /** "nextota" is esp_ota_get_next_update_partition(NULL), "running" the running one; else a data partition label. */
  open(options: { path: string; mode?: "r" | "r+" }): FlashPartition;
};
export function running(): string;
export function next(): string;
export function state(): "new" | "pending" | "valid" | "invalid" | "aborted" | "undefined" | "none";
export function confirm(): void;
/** Resets into the previous image; throws only when there is none. */
export function reject(): never;
export function bootRunning(): void;
export function restart(): never;
