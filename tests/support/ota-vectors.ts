// Every image and manifest the portable OTA suites use: in Node they are hashed and signed by node:crypto as the suites
// run; scripts/xs-stage.mjs hashes, signs and verifies the same list with node:crypto for the XS runs (which have none).
import { canonicalManifest, manifestFields, type UpdateManifest } from "telltale/ota/manifest";
import { encodeBase64 } from "telltale/storage/base64";
import { fromHex, toHex } from "./hmac.js";
import { otaCrypto } from "./ota-crypto.js";

/** Test keys (P-256, made once with node:crypto): the private scalar d and the public point x, y, hex. */
export const TEST_KEYS = Object.freeze({
  k1: {
    d: "5f250d121bf9d4b7f8aef2fb9b044f9b769ca8cb1fdc904ed3293dd78237fcf5",
    x: "fee9b29f96652bb4b9f51b5a360638538056bb7cb486d29516ca0cd7a45b362b",
    y: "9d71f1bbd1beb1939f3fb111f74b976f5ffaf1b44f4223d888955a3c9d4c8cc7",
  },
  k2: {
    d: "631a3023618d68c79081ce9b7108d8d5418874866e92c48e59b07a8a40d21b84",
    x: "8c632a93e6b0a1f381f104017ed176b01a2d1f895f82372e1b79980770d8e7ff",
    y: "3715a525743d636fb3d21f720d6127903ef8fd0f382b8661af3c52b4cd2855b7",
  },
  rogue: {
    d: "9d6d8a9b44e3052d5870ab74e81fff78ed8fa8c9abb491359dc5a69c98bb3281",
    x: "cdf534077cd0896843258810a147571f5085ce700f052d7dca853083d65c1fd1",
    y: "96b5d8ac2c907ea97346ad8c9f59271216beff0c0bd94ecd9a5ac023ba496270",
  },
});
export type KeyName = keyof typeof TEST_KEYS;

/** The uncompressed point 04‖x‖y of a test key. */
export function publicKey(name: KeyName): Uint8Array {
  return fromHex("04" + TEST_KEYS[name].x + TEST_KEYS[name].y);
}

/** A device's trusted keys as config.ota.keys has them: k1 and k2 (rotation); "rogue" is trusted by no device. */
export function trustedKeys(): { id: string; key: Uint8Array }[] {
  return [
    { id: "k1", key: publicKey("k1") },
    { id: "k2", key: publicKey("k2") },
  ];
}

/** The images, by name: deterministic bytes (a 32-bit LCG from a seed), and one corrupted copy. */
export const IMAGES = Object.freeze({
  v2: { size: 5000, seed: 2 },
  v3: { size: 2600, seed: 3 },
  "v2-corrupt": { size: 5000, seed: 2, flip: 1234 },
});
export type ImageName = keyof typeof IMAGES;

export function image(name: ImageName): Uint8Array {
  const spec: { size: number; seed: number; flip?: number } = IMAGES[name];
  const out = new Uint8Array(spec.size);
  let x = spec.seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  if (spec.flip !== undefined) out[spec.flip]! ^= 1;
  return out;
}

/** A manifest vector: its fields (size and sha256 come from `image`), who signs it, and a change made after signing. */
export interface ManifestVector {
  readonly image: ImageName;
  readonly signer: KeyName;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly tamper?: Readonly<Record<string, unknown>>;
}

const base = { version: 2, blockSize: 1024, mqtt: true, devices: ["dev-1"], key: "k1" };
function v(
  fields: Record<string, unknown>,
  signer: KeyName = "k1",
  image: ImageName = "v2",
  tamper?: Record<string, unknown>,
): ManifestVector {
  return Object.freeze({ image, signer, fields: Object.freeze({ ...base, ...fields }), tamper });
}

export const MANIFESTS = Object.freeze({
  good: v({}),
  byK2: v({ key: "k2" }, "k2"),
  https: v({ url: "https://127.0.0.1:8443/v2.bin", mqtt: undefined }),
  fleet: v({ devices: undefined, fleet: "pumps" }),
  rollout50: v({ devices: undefined, fleet: "pumps", share: 50 }),
  older: v({ version: 1 }),
  downgrade: v({ version: 0, downgrade: true }),
  minimum: v({ version: 3, minVersion: 2 }),
  otherDevice: v({ devices: ["dev-9"] }),
  rogue: v({}, "rogue"),
  unknownKey: v({ key: "k7" }, "k1"),
  tampered: v({}, "k1", "v2", { share: 100 }),
  corrupt: v({}, "k1", "v2-corrupt"),
  v3: v({ version: 3 }, "k1", "v3"),
});
export type ManifestName = keyof typeof MANIFESTS;

/** The fields of a vector with its image's size and SHA-256 (from the installed cryptography). */
export function fieldsOf(name: ManifestName, tampered = false): UpdateManifest {
  const vector: ManifestVector = MANIFESTS[name];
  // The corrupt vector signs the good image's hash: its publisher then serves the corrupted bytes.
  const signedImage = name === "corrupt" ? image("v2") : image(vector.image);
  const hash = otaCrypto().sha256();
  hash.update(signedImage);
  const raw: Record<string, unknown> = { ...vector.fields, size: signedImage.length, sha256: toHex(hash.digest()) };
  for (const k of Object.keys(raw)) if (raw[k] === undefined) delete raw[k];
  if (tampered) Object.assign(raw, vector.tamper);
  return manifestFields(raw);
}

/** The manifest message of a vector: signed by its signer over the untampered fields, then tampered if it says so. */
export function manifestText(name: ManifestName): string {
  const vector: ManifestVector = MANIFESTS[name];
  const signature = otaCrypto().sign(vector.signer, canonicalManifest(fieldsOf(name)));
  return JSON.stringify({ ...fieldsOf(name, vector.tamper !== undefined), signature: encodeBase64(signature) });
}

/** The bytes a vector's publisher serves. */
export function servedImage(name: ManifestName): Uint8Array {
  return image(MANIFESTS[name].image);
}
