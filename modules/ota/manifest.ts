// The signed update manifest: its fields, the canonical bytes that are signed, and every check a device makes before it downloads.
import { utf8Encode } from "telltale/text/utf8";
import { decodeBase64 } from "telltale/storage/base64";

/** What a manifest says about one image. Optional fields are absent, never undefined-valued. */
export interface UpdateManifest {
  /** The image's version: a monotonic integer (the device refuses one not above its own unless `downgrade`). */
  readonly version: number;
  /** The image's size in bytes and its SHA-256 (64 lower-case hex digits). */
  readonly size: number;
  readonly sha256: string;
  /** Bytes per block (both transports move the image in blocks of this size; the last may be shorter). */
  readonly blockSize: number;
  /** An HTTPS URL the image can be fetched from with Range requests. */
  readonly url?: string;
  /** True when the publisher answers block requests over MQTT (`<prefix>/<id>/ota/get` → `…/ota/block`). */
  readonly mqtt?: boolean;
  /** The lowest running version this image may replace. */
  readonly minVersion?: number;
  /** The devices it is for, and/or the fleet (config.ota.fleet); at least one of the two. */
  readonly devices?: readonly string[];
  readonly fleet?: string;
  /** Percent of the targeted devices that take it (stable per device: see rolloutBucket). */
  readonly share?: number;
  /** A signed permission to install a version at or below the running one. */
  readonly downgrade?: boolean;
  /** The id of the key that signed it (config.ota.keys[].id). */
  readonly key: string;
}

/** A manifest as received: its fields, the bytes its signature covers, and the signature (64 bytes, r‖s). */
export interface SignedManifest {
  readonly manifest: UpdateManifest;
  readonly canonical: Uint8Array;
  readonly signature: Uint8Array;
}

/** A public key the device trusts: its id and the uncompressed P-256 point (65 bytes, 04‖x‖y). */
export interface TrustedKey {
  readonly id: string;
  readonly key: Uint8Array;
}

/** Why a manifest was refused: `code` is stable (tests and the status topic), the message says it for a person. */
export type RefusalCode =
  | "malformed"
  | "unsigned"
  | "unknown-key"
  | "bad-signature"
  | "no-crypto"
  | "unavailable"
  | "busy"
  | "wrong-target"
  | "not-in-rollout"
  | "not-newer"
  | "below-minimum"
  | "too-large";

export class UpdateRefused extends Error {
  // A field, not an assignment: on a preloaded host Error.prototype is frozen and `this.name = …` throws.
  override name = "UpdateRefused";
  readonly code: RefusalCode;
  constructor(code: RefusalCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** The smallest and largest block size a manifest may name (a block is one MQTT message; 64 KiB is the client's packet limit). */
export const MIN_BLOCK = 256;
export const MAX_BLOCK = 16384;
/** The fields a manifest may have: any other is refused by name (a typo must not be signed and then ignored). */
export const MANIFEST_KEYS: readonly string[] = Object.freeze([
  "version",
  "size",
  "sha256",
  "blockSize",
  "url",
  "mqtt",
  "minVersion",
  "devices",
  "fleet",
  "share",
  "downgrade",
  "key",
  "signature",
]);
/** What the canonical form starts with: a signature over it cannot be replayed as anything else signed by the key. */
export const CANONICAL_TAG = "telltale-ota-manifest/1\n";

type Raw = Record<string, unknown>;

function malformed(field: string, problem: string): UpdateRefused {
  return new UpdateRefused("malformed", "manifest." + field + ": " + problem);
}

function integer(raw: Raw, field: string, min: number, max: number, required: boolean): number | undefined {
  const value = raw[field];
  if (value === undefined && !required) return undefined;
  if (typeof value !== "number" || value !== Math.floor(value) || value < min || value > max)
    throw malformed(field, "expected an integer from " + min + " to " + max + ", got " + show(value));
  return value;
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}

/** A device id or fleet name as the config allows them: 1–64 letters, digits, _ or -. */
function isName(value: unknown): value is string {
  return typeof value === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(value);
}

/**
 * The bytes the signature covers: CANONICAL_TAG, then a JSON array of every field in MANIFEST_KEYS' order but the
 * signature, absent ones as null. JSON of integers, booleans, ASCII strings and arrays of them is the same text in
 * every engine, and a fixed order needs no key sorting: the publisher signs exactly what the device rebuilds.
 */
export function canonicalManifest(m: UpdateManifest): Uint8Array {
  const fields = [
    m.version,
    m.size,
    m.sha256,
    m.blockSize,
    m.url ?? null,
    m.mqtt ?? null,
    m.minVersion ?? null,
    m.devices ?? null,
    m.fleet ?? null,
    m.share ?? null,
    m.downgrade ?? null,
    m.key,
  ];
  return utf8Encode(CANONICAL_TAG + JSON.stringify(fields));
}

/** Checks every field of a parsed manifest (refusing unknown ones) and returns its typed copy. */
export function manifestFields(value: unknown): UpdateManifest {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new UpdateRefused("malformed", "manifest: expected a JSON object, got " + show(value));
  const raw = value as Raw;
  for (const key of Object.keys(raw))
    if (!MANIFEST_KEYS.includes(key)) throw malformed(key, "unknown field (known: " + MANIFEST_KEYS.join(", ") + ")");
  const version = integer(raw, "version", 0, 0x7fffffff, true)!;
  const size = integer(raw, "size", 1, 0x7fffffff, true)!;
  const sha256 = raw.sha256;
  if (typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256))
    throw malformed("sha256", "expected 64 lower-case hex digits, got " + show(sha256));
  const blockSize = integer(raw, "blockSize", MIN_BLOCK, MAX_BLOCK, true)!;
  const m: Record<string, unknown> = { version, size, sha256, blockSize };
  if (raw.url !== undefined) {
    const url = raw.url;
    if (typeof url !== "string" || !/^https:\/\/[\x21-\x7e]{1,500}$/.test(url))
      throw malformed("url", "expected an https:// URL of printable ASCII, got " + show(url));
    m.url = url;
  }
  if (raw.mqtt !== undefined) {
    if (raw.mqtt !== true) throw malformed("mqtt", "expected true (or no field), got " + show(raw.mqtt));
    m.mqtt = true;
  }
  if (m.url === undefined && m.mqtt === undefined)
    throw malformed("url", "a manifest needs a source: an https:// url, or mqtt: true");
  const minVersion = integer(raw, "minVersion", 0, 0x7fffffff, false);
  if (minVersion !== undefined) m.minVersion = minVersion;
  if (raw.devices !== undefined) {
    const devices = raw.devices;
    if (!Array.isArray(devices) || devices.length === 0 || devices.length > 256 || !devices.every(isName))
      throw malformed("devices", "expected 1–256 device ids (letters, digits, _ or -), got " + show(devices));
    m.devices = devices.slice();
  }
  if (raw.fleet !== undefined) {
    if (!isName(raw.fleet)) throw malformed("fleet", "expected 1–64 letters, digits, _ or -, got " + show(raw.fleet));
    m.fleet = raw.fleet;
  }
  if (m.devices === undefined && m.fleet === undefined)
    throw malformed("devices", "a manifest needs a target: devices, fleet or both");
  const share = integer(raw, "share", 0, 100, false);
  if (share !== undefined) m.share = share;
  if (raw.downgrade !== undefined) {
    if (raw.downgrade !== true) throw malformed("downgrade", "expected true (or no field), got " + show(raw.downgrade));
    m.downgrade = true;
  }
  if (raw.key === undefined) throw new UpdateRefused("unsigned", "manifest is unsigned (no key and signature)");
  if (!isName(raw.key))
    throw malformed("key", "expected a key id of 1–64 letters, digits, _ or -, got " + show(raw.key));
  m.key = raw.key;
  return m as unknown as UpdateManifest;
}

/** Parses a manifest message (UTF-8 JSON): its fields, canonical bytes and signature, or UpdateRefused. */
export function parseManifest(text: string): SignedManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UpdateRefused("malformed", "manifest: not JSON (" + text.length + " characters)");
  }
  const manifest = manifestFields(value);
  const encoded = (value as Raw).signature;
  if (encoded === undefined) throw new UpdateRefused("unsigned", "manifest is unsigned (no signature)");
  let signature: Uint8Array;
  try {
    if (typeof encoded !== "string") throw new Error();
    signature = decodeBase64(encoded);
  } catch {
    throw malformed("signature", "expected base64 text, got " + show(encoded));
  }
  if (signature.length !== 64)
    throw malformed("signature", "expected 64 bytes (ECDSA P-256 r‖s), got " + signature.length);
  return { manifest, canonical: canonicalManifest(manifest), signature };
}

/**
 * The device's rollout bucket, 0–99: FNV-1a (32-bit) of its id's UTF-8 bytes, modulo 100. It depends on the id
 * alone, so the same device is always in or out of a given share, and a larger share keeps every device a smaller one
 * had. A device is in a rollout of `share` percent when its bucket is below `share`.
 */
export function rolloutBucket(deviceId: string): number {
  const bytes = utf8Encode(deviceId);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    // h * 16777619 (the FNV prime) mod 2^32 without leaving exact doubles: split the prime as 2^24 + 403.
    h = ((h << 24) + h * 403) >>> 0;
  }
  return h % 100;
}

/** What a device checks a manifest against. */
export interface UpdateContext {
  readonly deviceId: string;
  readonly fleet?: string;
  readonly running: number;
  readonly slotBytes: number;
  readonly keys: readonly TrustedKey[];
  readonly verifyP256?: (publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array) => boolean;
}

/**
 * Checks a parsed manifest for this device, in this order: the signature (so nothing unauthenticated is acted on, or
 * answered with targeting details), the target, the rollout share, the version, the minimum version, the size.
 * Returns nothing when the update applies; throws UpdateRefused with the reason otherwise.
 */
export function checkManifest(signed: SignedManifest, context: UpdateContext): void {
  const m = signed.manifest;
  const verify = context.verifyP256;
  if (!verify) throw new UpdateRefused("no-crypto", "this host cannot verify ECDSA P-256 signatures");
  const trusted = context.keys.find((k) => k.id === m.key);
  if (!trusted)
    throw new UpdateRefused(
      "unknown-key",
      "signed with key " +
        JSON.stringify(m.key) +
        ", which this device does not trust (config.ota.keys: " +
        (context.keys.length === 0 ? "none" : context.keys.map((k) => k.id).join(", ")) +
        ")",
    );
  let good: boolean;
  try {
    good = verify(trusted.key, signed.canonical, signed.signature);
  } catch {
    good = false; // a key the platform cannot load verifies nothing
  }
  if (!good) throw new UpdateRefused("bad-signature", "the signature does not match key " + JSON.stringify(m.key));
  const forDevice = m.devices?.includes(context.deviceId) ?? false;
  const forFleet = m.fleet !== undefined && m.fleet === context.fleet;
  if (!forDevice && !forFleet)
    throw new UpdateRefused(
      "wrong-target",
      "for " +
        [m.devices ? "devices " + m.devices.join(", ") : "", m.fleet ? "fleet " + m.fleet : ""]
          .filter((s) => s)
          .join(" and ") +
        ", not " +
        context.deviceId +
        (context.fleet ? " (fleet " + context.fleet + ")" : " (no fleet)"),
    );
  if (m.share !== undefined) {
    const bucket = rolloutBucket(context.deviceId);
    if (bucket >= m.share)
      throw new UpdateRefused(
        "not-in-rollout",
        "not in the " + m.share + "% rollout (this device's bucket is " + bucket + ")",
      );
  }
  if (m.version <= context.running && !m.downgrade)
    throw new UpdateRefused(
      "not-newer",
      "version " + m.version + " is not above the running " + context.running + " (and not a signed downgrade)",
    );
  if (m.version === context.running)
    throw new UpdateRefused("not-newer", "version " + m.version + " is already running");
  if (m.minVersion !== undefined && context.running < m.minVersion)
    throw new UpdateRefused(
      "below-minimum",
      "applies to version " + m.minVersion + " and later; this device runs " + context.running,
    );
  if (m.size > context.slotBytes)
    throw new UpdateRefused(
      "too-large",
      "the image is " + m.size + " bytes; the update slot holds " + context.slotBytes,
    );
}

/** A key of config.ota.keys as bytes: base64 or hex of the 65-byte uncompressed point; throws naming the problem. */
export function publicKeyBytes(text: string): Uint8Array {
  let bytes: Uint8Array;
  if (/^(?:[0-9a-fA-F]{2})+$/.test(text)) {
    bytes = new Uint8Array(text.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  } else bytes = decodeBase64(text);
  if (bytes.length !== 65 || bytes[0] !== 4)
    throw new Error("expected an uncompressed P-256 public key (65 bytes starting 04), got " + bytes.length + " bytes");
  return bytes;
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(UpdateRefused.prototype);
