// CRC-32 against the catalogue check value and known vectors.
import { suite, test, equal } from "../../harness.js";
import { crc32, crc32Final, crc32Update, CRC32_INIT } from "telltale/storage/crc32";

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

suite("storage/crc32", () => {
  test("check-value-of-123456789", () => {
    // The CRC catalogue's check value for CRC-32/ISO-HDLC (the zlib CRC).
    equal(crc32(ascii("123456789")), 0xcbf43926);
  });

  test("empty-input-is-zero", () => {
    equal(crc32(new Uint8Array(0)), 0);
  });

  test("known-vector-quick-brown-fox", () => {
    equal(crc32(ascii("The quick brown fox jumps over the lazy dog")), 0x414fa339);
  });

  test("incremental-equals-whole", () => {
    const bytes = ascii("telltale outbox record");
    const running = crc32Update(crc32Update(CRC32_INIT, bytes, 0, 7), bytes, 7);
    equal(crc32Final(running), crc32(bytes));
  });

  test("range-covers-only-the-slice", () => {
    const bytes = ascii("xx123456789yy");
    equal(crc32(bytes, 2, 11), 0xcbf43926);
  });
});
