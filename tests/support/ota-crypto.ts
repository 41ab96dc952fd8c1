// The SHA-256, ECDSA P-256 verification and signing the OTA suites use, handed in by their runner: node:crypto in Node
// (tests/node/support/ota-crypto.ts). XS has no cryptography: its runs get tableCrypto() over what node:crypto computed
// at staging time (scripts/xs-stage.mjs) for every image and manifest listed in tests/support/ota-vectors.ts.
import type { Sha256 } from "telltale/io/host";
import { crc32 } from "telltale/storage/crc32";
import { fromHex, toHex } from "./hmac.js";

export interface OtaCrypto {
  sha256(): Sha256;
  verifyP256(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean;
  /** ECDSA P-256/SHA-256 (r‖s) of `data` by the test key named `key` (tests/support/ota-vectors.ts). */
  sign(key: string, data: Uint8Array): Uint8Array;
}

let installed: OtaCrypto | undefined;

/** Called once by the runner, before the suites run. */
export function useOtaCrypto(crypto: OtaCrypto): void {
  installed = crypto;
}

export function otaCrypto(): OtaCrypto {
  if (!installed) throw new Error("tests: no OTA cryptography installed (the runner hands it in with useOtaCrypto)");
  return installed;
}

/** The table key of a hashed message: its length and CRC-32 (the staged images differ in both or in the CRC). */
export function digestKey(bytes: Uint8Array): string {
  return bytes.length + ":" + crc32(bytes).toString(16);
}

export function verifyKey(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): string {
  return toHex(publicKey) + ":" + toHex(data) + ":" + toHex(signature);
}

export function signKey(key: string, data: Uint8Array): string {
  return key + ":" + toHex(data);
}

export interface OtaTables {
  readonly digests: Readonly<Record<string, string>>;
  readonly verifies: Readonly<Record<string, boolean>>;
  readonly signatures: Readonly<Record<string, string>>;
}

/** Cryptography that answers from precomputed tables; an input not in them throws, naming the vectors file. */
export function tableCrypto(tables: OtaTables): OtaCrypto {
  const missing = (what: string, key: string) =>
    new Error(
      "tests: no " +
        what +
        " precomputed for this input (add it to tests/support/ota-vectors.ts): " +
        key.slice(0, 120),
    );
  return {
    sha256() {
      const parts: Uint8Array[] = [];
      return {
        update: (bytes) => void parts.push(bytes.slice()),
        digest: () => {
          let length = 0;
          for (const p of parts) length += p.length;
          const all = new Uint8Array(length);
          let at = 0;
          for (const p of parts) {
            all.set(p, at);
            at += p.length;
          }
          const hex = tables.digests[digestKey(all)];
          if (hex === undefined) throw missing("SHA-256", digestKey(all));
          return fromHex(hex);
        },
      };
    },
    verifyP256(publicKey, data, signature) {
      const result = tables.verifies[verifyKey(publicKey, data, signature)];
      if (result === undefined) throw missing("verification", verifyKey(publicKey, data, signature));
      return result;
    },
    sign(key, data) {
      const hex = tables.signatures[signKey(key, data)];
      if (hex === undefined) throw missing("signature", signKey(key, data));
      return fromHex(hex);
    },
  };
}
