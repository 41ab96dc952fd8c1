// ESP32 system facts for health: the reset reason (esp_reset_reason) and free heap, from the native functions of system.c.

/**
 * xsc turns `native("name")` with a string literal into the host function `name` (here from system.c); a function
 * whose whole body is `return native("name").call(this)` becomes that host function itself.
 */
declare function native(name: string): (this: unknown) => number;

function esp32ResetReason(this: unknown): number {
  return native("xs_telltale_reset_reason").call(this);
}

/** esp_reset_reason_t (ESP-IDF esp_system.h), by value, as health reports it. */
const REASONS = Object.freeze([
  "unknown", // ESP_RST_UNKNOWN
  "power-on", // ESP_RST_POWERON
  "external", // ESP_RST_EXT: the reset pin
  "restart", // ESP_RST_SW: esp_restart(), what host.restart does
  "panic", // ESP_RST_PANIC: an exception or abort
  "watchdog", // ESP_RST_INT_WDT: the interrupt watchdog
  "watchdog", // ESP_RST_TASK_WDT: the task watchdog (hosts/esp32/sdkconfig)
  "watchdog", // ESP_RST_WDT: another watchdog
  "deep-sleep", // ESP_RST_DEEPSLEEP
  "brownout", // ESP_RST_BROWNOUT
  "sdio", // ESP_RST_SDIO
]);

/** Why the chip started: "power-on", "watchdog", "panic", "brownout", "restart"…; "unknown" for a value not listed. */
export function resetReason(): string {
  const code = esp32ResetReason();
  return REASONS[code] ?? "unknown";
}

/** Bytes of heap free now (esp_get_free_heap_size). */
export function freeHeap(this: unknown): number {
  return native("xs_telltale_free_heap").call(this);
}
