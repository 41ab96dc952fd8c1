// CRC-8 against the datasheet example.
import { suite, test, equal } from "../../harness.js";
import { crc8, crc8Word } from "telltale/crc/crc8";

suite("crc/crc8", () => {
  // SHT3x-DIS datasheet §4.12, Table 19: CRC of 0xBEEF is 0x92.
  test("datasheet-example-0xbeef", () => {
    equal(crc8(Uint8Array.of(0xbe, 0xef)), 0x92);
    equal(crc8Word(0xbeef), 0x92);
  });
  test("word-and-bytes-agree", () => {
    for (let w = 0; w < 65536; w += 257) equal(crc8Word(w), crc8(Uint8Array.of(w >> 8, w & 0xff)), "word " + w);
  });
  test("offset-and-length", () => equal(crc8(Uint8Array.of(0, 0xbe, 0xef, 0), 1, 2), 0x92));
});
