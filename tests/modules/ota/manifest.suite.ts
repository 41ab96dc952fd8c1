// The update manifest: its canonical bytes, real P-256 signatures (node:crypto; staged for XS), and every refusal.
import { suite, test, equal, ok, deepEqual, throws } from "../../harness.js";
import {
  CANONICAL_TAG,
  canonicalManifest,
  checkManifest,
  manifestFields,
  parseManifest,
  publicKeyBytes,
  rolloutBucket,
  UpdateRefused,
  type UpdateContext,
} from "telltale/ota/manifest";
import { utf8Decode } from "telltale/text/utf8";
import { encodeBase64 } from "telltale/storage/base64";
import { otaCrypto } from "../../support/ota-crypto.js";
import { fieldsOf, manifestText, publicKey, trustedKeys, type ManifestName } from "../../support/ota-vectors.js";

function context(over: Partial<UpdateContext> = {}): UpdateContext {
  return {
    deviceId: "dev-1",
    running: 1,
    slotBytes: 8192,
    keys: trustedKeys(),
    verifyP256: (k, d, s) => otaCrypto().verifyP256(k, d, s),
    ...over,
  };
}

/** The refusal of checking vector `name` (parse and check), or undefined when it is accepted. */
function refusal(name: ManifestName, over: Partial<UpdateContext> = {}): UpdateRefused | undefined {
  try {
    checkManifest(parseManifest(manifestText(name)), context(over));
    return undefined;
  } catch (e) {
    ok(e instanceof UpdateRefused, "an UpdateRefused, got " + String(e));
    return e;
  }
}

function refusedAs(name: ManifestName, code: string, message: RegExp, over: Partial<UpdateContext> = {}): void {
  const r = refusal(name, over);
  ok(r, name + " must be refused");
  equal(r.code, code, r.message);
  ok(message.test(r.message), "message: " + r.message);
}

function parseRefused(text: string, code: string, message: RegExp): void {
  const e = throws(() => parseManifest(text), message);
  ok(e instanceof UpdateRefused);
  equal(e.code, code);
}

suite("ota manifest", () => {
  test("canonical-form-is-the-tag-and-a-json-array-in-field-order", () => {
    const m = manifestFields({
      version: 7,
      size: 10,
      sha256: "ab".repeat(32),
      blockSize: 512,
      mqtt: true,
      fleet: "pumps",
      share: 25,
      key: "k1",
    });
    equal(
      utf8Decode(canonicalManifest(m)),
      CANONICAL_TAG + '[7,10,"' + "ab".repeat(32) + '",512,null,true,null,null,"pumps",25,null,"k1"]',
    );
  });

  test("a-manifest-signed-by-a-trusted-key-is-accepted", () => {
    equal(refusal("good"), undefined);
    const signed = parseManifest(manifestText("good"));
    equal(signed.manifest.version, 2);
    equal(signed.manifest.size, 5000);
    equal(signed.signature.length, 64);
  });

  test("the-second-key-of-a-rotation-is-accepted-too", () => {
    equal(refusal("byK2"), undefined);
    refusedAs("byK2", "unknown-key", /key "k2", which this device does not trust \(config\.ota\.keys: k1\)/, {
      keys: trustedKeys().slice(0, 1),
    });
  });

  test("a-wrong-signature-is-refused", () => {
    refusedAs("rogue", "bad-signature", /^the signature does not match key "k1"$/);
  });

  test("a-field-changed-after-signing-is-refused", () => {
    refusedAs("tampered", "bad-signature", /does not match key "k1"/);
    equal(parseManifest(manifestText("tampered")).manifest.share, 100, "the tampered field is what was received");
  });

  test("an-unknown-key-is-refused", () => {
    refusedAs(
      "unknownKey",
      "unknown-key",
      /signed with key "k7", which this device does not trust \(config\.ota\.keys: k1, k2\)/,
    );
  });

  test("a-host-without-verification-refuses-everything", () => {
    refusedAs("good", "no-crypto", /cannot verify/, { verifyP256: undefined });
  });

  test("an-unsigned-manifest-is-refused", () => {
    const fields = fieldsOf("good") as unknown as Record<string, unknown>;
    parseRefused(JSON.stringify(fields), "unsigned", /^manifest is unsigned \(no signature\)$/);
    const { key: _key, ...noKey } = fields;
    parseRefused(JSON.stringify(noKey), "unsigned", /^manifest is unsigned/);
  });

  test("a-manifest-for-another-device-or-fleet-is-refused", () => {
    refusedAs("otherDevice", "wrong-target", /^for devices dev-9, not dev-1 \(no fleet\)$/);
    refusedAs("fleet", "wrong-target", /^for fleet pumps, not dev-1 \(fleet fans\)$/, { fleet: "fans" });
    equal(refusal("fleet", { fleet: "pumps" }), undefined);
  });

  test("the-rollout-share-takes-the-same-devices-every-time", () => {
    // FNV-1a 32 of the id's bytes mod 100 (reference values from Math.imul FNV-1a in Node).
    deepEqual(["a", "dev-1", "dev-2", "pump-2"].map(rolloutBucket), [20, 62, 43, 8]);
    equal(refusal("rollout50", { deviceId: "dev-2", fleet: "pumps" }), undefined, "bucket 43 < 50");
    refusedAs("rollout50", "not-in-rollout", /^not in the 50% rollout \(this device's bucket is 62\)$/, {
      fleet: "pumps",
    });
    equal(refusal("rollout50", { deviceId: "dev-2", fleet: "pumps" }), undefined, "and again");
  });

  test("an-older-or-equal-version-is-refused-unless-a-signed-downgrade", () => {
    refusedAs("older", "not-newer", /^version 1 is not above the running 1 \(and not a signed downgrade\)$/);
    refusedAs("good", "not-newer", /^version 2 is not above the running 2/, { running: 2 });
    equal(refusal("downgrade"), undefined, "version 0 as a signed downgrade over 1");
    refusedAs("downgrade", "not-newer", /^version 0 is already running$/, { running: 0 });
  });

  test("a-device-below-the-minimum-version-is-refused", () => {
    refusedAs("minimum", "below-minimum", /^applies to version 2 and later; this device runs 1$/);
    equal(refusal("minimum", { running: 2 }), undefined);
  });

  test("an-image-too-large-for-the-slot-is-refused", () => {
    refusedAs("good", "too-large", /^the image is 5000 bytes; the update slot holds 4999$/, { slotBytes: 4999 });
  });

  test("malformed-fields-are-refused-by-name", () => {
    const good = JSON.parse(manifestText("good")) as Record<string, unknown>;
    const bad = (change: Record<string, unknown>, message: RegExp) =>
      parseRefused(JSON.stringify({ ...good, ...change }), "malformed", message);
    parseRefused("{not json", "malformed", /^manifest: not JSON/);
    parseRefused("[1]", "malformed", /^manifest: expected a JSON object, got an array$/);
    bad({ version: "2" }, /^manifest\.version: expected an integer from 0 to 2147483647, got "2"$/);
    bad({ version: 2.5 }, /^manifest\.version: /);
    bad({ size: 0 }, /^manifest\.size: /);
    bad({ sha256: "AB".repeat(32) }, /^manifest\.sha256: expected 64 lower-case hex digits/);
    bad({ blockSize: 100 }, /^manifest\.blockSize: expected an integer from 256 to 16384, got 100$/);
    bad({ versoin: 3 }, /^manifest\.versoin: unknown field \(known: version, /);
    bad({ url: "http://example.com/a.bin" }, /^manifest\.url: expected an https:\/\/ URL/);
    bad({ mqtt: false }, /^manifest\.mqtt: expected true/);
    bad({ mqtt: undefined }, /^manifest\.url: a manifest needs a source/);
    bad({ devices: undefined }, /^manifest\.devices: a manifest needs a target/);
    bad({ devices: ["ok", "not ok"] }, /^manifest\.devices: expected 1–256 device ids/);
    bad({ share: 101 }, /^manifest\.share: expected an integer from 0 to 100, got 101$/);
    bad({ downgrade: false }, /^manifest\.downgrade: expected true/);
    bad({ signature: 42 }, /^manifest\.signature: expected base64 text, got 42$/);
    bad(
      { signature: encodeBase64(new Uint8Array(63)) },
      /^manifest\.signature: expected 64 bytes \(ECDSA P-256 r‖s\), got 63$/,
    );
  });

  test("config-keys-are-uncompressed-points-in-hex-or-base64", () => {
    const point = publicKey("k1");
    deepEqual(publicKeyBytes(encodeBase64(point)), point);
    let hex = "";
    for (const b of point) hex += (b < 16 ? "0" : "") + b.toString(16);
    deepEqual(publicKeyBytes(hex), point);
    throws(
      () => publicKeyBytes(encodeBase64(point.subarray(1))),
      /expected an uncompressed P-256 public key \(65 bytes starting 04\), got 64 bytes/,
    );
  });
});
