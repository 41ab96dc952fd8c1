// Every HMAC input the portable suites make: what they sign, and what the device hashes when it checks a changed or
// misdirected command. In Node the tags come from node:crypto as the suites run; the XS runs get them from a table
// that scripts/xs-stage.mjs computes with node:crypto from this list (xsnap has no cryptography).
import { signCommand } from "../../src/command-auth.js";
import { fromHex, hmacSha256 } from "./hmac.js";

/** The device key of the suites (config.commandKey), and another device's. */
export const KEY_HEX = "4b1d0c6e9a2f7e3358a0b6c1d2e3f40516273849aabbccddeeff001122334455";
export const OTHER_KEY_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
/** RFC-style example of the README: its tag was computed with `openssl dgst -sha256 -mac HMAC`. */
export const EXAMPLE_KEY_HEX = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

export interface Vector {
  readonly key: string;
  readonly deviceId: string;
  /** The request without its mac (the counter included). */
  readonly request: Readonly<Record<string, unknown>>;
}

function v(key: string, deviceId: string, request: Record<string, unknown>): Vector {
  return Object.freeze({ key, deviceId, request: Object.freeze(request) });
}

export const VECTORS = Object.freeze({
  example: v(EXAMPLE_KEY_HEX, "pump-3", { command: "recalibrate", counter: 1733000000000, force: true }),
  // tests/src/command-auth.suite.ts, device "t1"
  recalibrate1: v(KEY_HEX, "t1", { command: "recalibrate", counter: 1 }),
  recalibrate2: v(KEY_HEX, "t1", { command: "recalibrate", counter: 2 }),
  recalibrate2Forced: v(KEY_HEX, "t1", { command: "recalibrate", counter: 2, force: true }),
  recalibrate3: v(KEY_HEX, "t1", { command: "recalibrate", counter: 3 }),
  recalibrate3OtherDevice: v(KEY_HEX, "t9", { command: "recalibrate", counter: 3 }),
  recalibrate3OtherKey: v(OTHER_KEY_HEX, "t1", { command: "recalibrate", counter: 3 }),
  recalibrate5: v(KEY_HEX, "t1", { command: "recalibrate", counter: 5 }),
  ping7: v(KEY_HEX, "t1", { command: "ping", counter: 7 }),
  // tests/src/app-detector.suite.ts, device "t2"
  appRecalibrate1: v(KEY_HEX, "t2", { command: "recalibrate", counter: 1 }),
  appRecalibrate2Forced: v(KEY_HEX, "t2", { command: "recalibrate", counter: 2, force: true }),
  // tests/src/remote-config.suite.ts, device "t3"
  configInterval: v(KEY_HEX, "t3", { command: "config", counter: 1, version: 2, patch: { intervalMs: 2000 } }),
  configIntervalAgain: v(KEY_HEX, "t3", { command: "config", counter: 2, version: 2, patch: { intervalMs: 2000 } }),
  configStale: v(KEY_HEX, "t3", { command: "config", counter: 3, version: 1, patch: { intervalMs: 3000 } }),
  configInvalid: v(KEY_HEX, "t3", { command: "config", counter: 4, version: 3, patch: { intervalMs: 5 } }),
  configThreshold: v(KEY_HEX, "t3", { command: "config", counter: 5, version: 3, patch: { detector: { on: 7 } } }),
  // What the device hashes when it checks configThresholdOtherKey under its own key.
  configOtherKeyChecked: v(KEY_HEX, "t3", { command: "config", counter: 6, version: 4, patch: { intervalMs: 1000 } }),
  configThresholdOtherKey: v(OTHER_KEY_HEX, "t3", {
    command: "config",
    counter: 6,
    version: 4,
    patch: { intervalMs: 1000 },
  }),
  configSensors: v(KEY_HEX, "t3", {
    command: "config",
    counter: 7,
    version: 4,
    patch: { sensors: [{ part: "sht3x", address: 0x44, name: "cabinet" }] },
  }),
});

export function keyOf(vector: Vector): Uint8Array {
  return fromHex(vector.key);
}

/** The vector as the JSON text an operator sends: its request with the counter and the mac. */
export function signed(vector: Vector, extra: Readonly<Record<string, unknown>> = {}): string {
  const request = signCommand(vector.request, {
    key: keyOf(vector),
    deviceId: vector.deviceId,
    counter: vector.request.counter as number,
    hmac: hmacSha256,
  });
  return JSON.stringify({ ...request, ...extra });
}
