// Signed commands: the text an operator's HMAC-SHA256 covers, and the device's check of it against a counter that only rises.
import type { Store } from "telltale/io/io";
import { utf8Encode } from "telltale/text/utf8";
import { messageOf } from "telltale/errors/message";

/** HMAC-SHA256 of `data` under `key` (the host's: node:crypto, or the Moddable SDK's crypt modules). */
export type HmacSha256 = (key: Uint8Array, data: Uint8Array) => Uint8Array;

/** Store key of the highest counter a signed command has carried (NVS keys are at most 15 characters). */
export const COUNTER_KEY = "cmdCounter";
/** What the signed text starts with: a tag for this format, so a tag made for something else never verifies here. */
export const SIGNATURE_FORMAT = "telltale-command-v1";
const TAG_BYTES = 32;

/**
 * JSON with every object's keys sorted (by UTF-16 code unit, as Array.prototype.sort compares) and no spaces: the same
 * text for the same request, whoever wrote it and in whatever order. Strings and numbers are as JSON.stringify writes
 * them (ECMA-262 §25.5.2), which Node and XS share.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return "[" + value.map((v) => canonicalJson(v ?? null)).join(",") + "]";
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort();
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonicalJson(record[k])).join(",") + "}";
}

/**
 * The bytes a command's `mac` covers: UTF-8 of `telltale-command-v1 \n <deviceId> \n <canonical JSON of the request
 * without its mac>` (no spaces around the line breaks). The request holds the command's name, its `counter` and every
 * other field, so none of them can be changed or replayed to another device without the key.
 */
export function commandMessage(deviceId: string, request: Readonly<Record<string, unknown>>): Uint8Array {
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(request)) if (key !== "mac") fields[key] = request[key];
  return utf8Encode(SIGNATURE_FORMAT + "\n" + deviceId + "\n" + canonicalJson(fields));
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += (bytes[i]! < 16 ? "0" : "") + bytes[i]!.toString(16);
  return out;
}

/** An operator's side: `request` with its `counter` and the `mac` (64 hex digits) that makes it a signed command. */
export function signCommand(
  request: Readonly<Record<string, unknown>>,
  signer: { readonly key: Uint8Array; readonly deviceId: string; readonly counter: number; readonly hmac: HmacSha256 },
): Record<string, unknown> {
  const signed: Record<string, unknown> = { ...request, counter: signer.counter };
  delete signed.mac;
  signed.mac = hex(signer.hmac(signer.key, commandMessage(signer.deviceId, signed)));
  return signed;
}

/** A `mac` field as its 32 bytes, or undefined when it is not 64 hex digits. */
function parseTag(value: unknown): Uint8Array | undefined {
  if (typeof value !== "string" || !/^[0-9a-fA-F]{64}$/.test(value)) return undefined;
  const bytes = new Uint8Array(TAG_BYTES);
  for (let i = 0; i < TAG_BYTES; i++) bytes[i] = parseInt(value.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** Equal tags, in time that does not depend on where they differ (a timing leak would let a forger find a tag byte by byte). */
function sameTag(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < TAG_BYTES; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

export interface CommandAuthOptions {
  /** config.commandKey; without one, every command that must be signed is refused, saying how to configure it. */
  readonly key: Uint8Array | undefined;
  /** The device id the operator signs for (the one in the topics). */
  readonly deviceId: string;
  readonly hmac: HmacSha256 | undefined;
  /** Keeps the highest counter seen, so a command recorded before a reboot is still refused after it. */
  readonly store: Store;
  log: (line: string) => void;
}

/**
 * Checks signed commands: the `mac` must be the HMAC-SHA256 of commandMessage() under the device's key, and the
 * `counter` must exceed every counter seen before (kept in the store under COUNTER_KEY, saved before the command runs).
 */
export class CommandAuth {
  readonly #key: Uint8Array | undefined;
  readonly #deviceId: string;
  readonly #hmac: HmacSha256 | undefined;
  readonly #store: Store;
  #highest = 0;

  constructor(options: CommandAuthOptions) {
    this.#key = options.key;
    this.#deviceId = options.deviceId;
    this.#hmac = options.hmac;
    this.#store = options.store;
    const saved = options.store.get(COUNTER_KEY);
    const n = Number(saved);
    if (saved !== undefined && Number.isSafeInteger(n) && n >= 0) this.#highest = n;
    else if (options.key)
      options.log(
        "commands: " +
          (saved === undefined ? "no command counter in the store" : "the stored command counter is unreadable") +
          "; any counter is accepted until the next signed command (send a signed ping to close this)",
      );
  }

  /** The highest counter a signed command carried so far (0: none). */
  get counter(): number {
    return this.#highest;
  }

  /**
   * Accepts `request` or throws an Error saying why not. A request carrying a `mac` is always checked; one without
   * passes only when `required` is false. `command` names the command in the refusals.
   */
  check(command: string, request: Readonly<Record<string, unknown>>, required: boolean): void {
    if (request.mac === undefined && !required) return;
    const key = this.#key,
      hmac = this.#hmac;
    const how = `{"command": "${command}", …, "counter": n, "mac": hex} (npm run command -- --key … --device ${this.#deviceId} ${command})`;
    if (!key)
      throw new Error(
        `"${command}" must be signed and this device has no key: set config.commandKey (hex or base64, 16–64 bytes), then send ${how}`,
      );
    if (request.mac === undefined) throw new Error(`"${command}" must be signed: send ${how}`);
    if (!hmac) throw new Error("this host has no HMAC-SHA256 (Host.hmacSha256): signed commands cannot be checked");
    const tag = parseTag(request.mac);
    if (!tag) throw new Error("mac: expected 64 hex digits (HMAC-SHA256)");
    const counter = request.counter;
    if (typeof counter !== "number" || !Number.isSafeInteger(counter) || counter < 1)
      throw new Error("counter: expected an integer from 1 to 9007199254740991, got " + JSON.stringify(counter));
    if (!sameTag(hmac(key, commandMessage(this.#deviceId, request)), tag))
      throw new Error("mac does not match (another key or device id, or a field changed after signing)");
    // Only a request with a valid tag learns the counter: others cannot probe it.
    if (counter <= this.#highest)
      throw new Error(`counter ${counter} is not above ${this.#highest}, the highest used: a replay, or sign anew`);
    try {
      this.#store.set(COUNTER_KEY, String(counter));
    } catch (e) {
      // Run unsaved, it could be replayed after a reboot.
      throw new Error("the counter could not be saved (" + messageOf(e) + "); not run", { cause: e });
    }
    this.#highest = counter;
  }
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(CommandAuth.prototype);
