// CRC-8 as Sensirion parts use it (polynomial 0x31, initial value 0xFF, no reflection, no final XOR).

/** Table for polynomial 0x31, built once and frozen. */
const TABLE: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let b = 0; b < 8; b++) c = c & 0x80 ? ((c << 1) ^ 0x31) & 0xff : (c << 1) & 0xff;
    t[i] = c;
  }
  return t;
})();

/** CRC-8/NRSC-5 (Sensirion): over `length` bytes of `bytes` starting at `offset`. */
export function crc8(bytes: Uint8Array, offset = 0, length = bytes.length - offset): number {
  let crc = 0xff;
  for (let i = offset, end = offset + length; i < end; i++) crc = TABLE[crc ^ bytes[i]!]!;
  return crc;
}

/** CRC of one 16-bit big-endian word, without allocating. */
export function crc8Word(word: number): number {
  return TABLE[TABLE[0xff ^ ((word >> 8) & 0xff)]! ^ (word & 0xff)]!;
}
