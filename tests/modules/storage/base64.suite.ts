// Base64 for binary state in a string store: round trips of every length class, the RFC 4648 vectors, bad text refused.
import { suite, test, equal, deepEqual, throws } from "../../harness.js";
import { decodeBase64, encodeBase64 } from "telltale/storage/base64";

const bytesOf = (s: string): Uint8Array => Uint8Array.from(s.split(""), (c) => c.charCodeAt(0));

suite("storage/base64", () => {
  test("rfc4648-test-vectors", () => {
    const vectors: [string, string][] = [
      ["", ""],
      ["f", "Zg=="],
      ["fo", "Zm8="],
      ["foo", "Zm9v"],
      ["foob", "Zm9vYg=="],
      ["fooba", "Zm9vYmE="],
      ["foobar", "Zm9vYmFy"],
    ];
    for (const [plain, coded] of vectors) {
      equal(encodeBase64(bytesOf(plain)), coded);
      deepEqual(Array.from(decodeBase64(coded)), Array.from(bytesOf(plain)));
    }
  });
  test("every-byte-value-and-length-round-trips", () => {
    for (let n = 0; n < 260; n += 37) {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = (i * 151 + n) & 255;
      deepEqual(Array.from(decodeBase64(encodeBase64(b))), Array.from(b));
    }
  });
  test("bad-text-is-refused-naming-the-problem", () => {
    throws(() => decodeBase64("Zm9"), /length must be a multiple of 4/);
    throws(() => decodeBase64("Zm9v!A=="), /unexpected "!" at 4/);
    throws(() => decodeBase64("Z=9v"), /unexpected "=" at 1/);
  });
});
