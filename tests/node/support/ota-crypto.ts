// node:crypto behind the OTA suites' cryptography (tests/support/ota-crypto.ts): for the Node run, and for the staging
// of the XS tables (scripts/xs-stage.mjs).
import { createPrivateKey, sign } from "node:crypto";
import { nodeSha256, nodeVerifyP256 } from "../../../hosts/node/host.js";
import type { OtaCrypto } from "../../support/ota-crypto.js";
import { TEST_KEYS, type KeyName } from "../../support/ota-vectors.js";

const b64url = (hex: string) => Buffer.from(hex, "hex").toString("base64url");

export const nodeOtaCrypto: OtaCrypto = {
  sha256: nodeSha256,
  verifyP256: nodeVerifyP256,
  sign(key, data) {
    const k = TEST_KEYS[key as KeyName];
    if (!k) throw new Error("tests: no test key " + key);
    const privateKey = createPrivateKey({
      key: { kty: "EC", crv: "P-256", d: b64url(k.d), x: b64url(k.x), y: b64url(k.y) },
      format: "jwk",
    });
    return new Uint8Array(sign("sha256", data, { key: privateKey, dsaEncoding: "ieee-p1363" }));
  },
};
