// UTF-8 by hand: byte-exact forms, the malformed input the decoder refuses, and what the encoder cannot encode.
import { suite, test, equal, deepEqual, throws } from "../../harness.js";
import { utf8Decode, utf8Encode, utf8Size, LONE_SURROGATE, NULL_CHARACTER } from "telltale/text/utf8";

suite("text/utf8", () => {
  test("utf8-round-trip-is-byte-exact", () => {
    // 2-, 3- and 4-byte forms (RFC 3629, §1.5.3): é U+00E9, € U+20AC, 😀 U+1F600.
    const encoded = utf8Encode("é€😀");
    deepEqual(encoded, Uint8Array.of(0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80));
    equal(utf8Decode(encoded), "é€😀");
  });

  test("utf8-decode-rejects-overlong-and-surrogates", () => {
    throws(() => utf8Decode(Uint8Array.of(0xc0, 0xaf)), /not valid UTF-8/);
    throws(() => utf8Decode(Uint8Array.of(0xed, 0xa0, 0x80)), /not valid UTF-8/);
    throws(() => utf8Decode(Uint8Array.of(0xe2, 0x82)), /not valid UTF-8/);
  });

  test("utf8-encode-rejects-lone-surrogate", () => {
    throws(() => utf8Encode("a\uDC00"), /^MQTT: string has a lone surrogate, which UTF-8 cannot encode$/);
    equal(utf8Size("\uD800b"), LONE_SURROGATE);
  });

  test("utf8-size-refuses-null-only-when-asked", () => {
    equal(utf8Size("a\u0000é"), 4);
    equal(utf8Size("a\u0000é", true), NULL_CHARACTER);
  });
});
