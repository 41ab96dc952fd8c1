// Telltale's ESP-IDF OTA bindings (ota-native.c), and the SDK's embedded:update and flash passed through: one import site.
/* global native */
export { default as Update } from "embedded:update";
export { default as flash } from "embedded:storage/flash";

export function running() {
  return native("xs_telltale_ota_running").call(this);
}
export function next() {
  return native("xs_telltale_ota_next").call(this);
}
export function state() {
  return native("xs_telltale_ota_state").call(this);
}
export function confirm() {
  return native("xs_telltale_ota_confirm").call(this);
}
export function reject() {
  return native("xs_telltale_ota_reject").call(this);
}
export function bootRunning() {
  return native("xs_telltale_ota_bootRunning").call(this);
}
export function restart() {
  return native("xs_telltale_ota_restart").call(this);
}
