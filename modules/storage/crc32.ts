// CRC-32 (IEEE 802.3, the zlib/PNG/Ethernet CRC): reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF.

// Four bits at a time: a 16-entry table (64 bytes, frozen so it stays in flash) instead of a 1 KB one in RAM,
// because outbox records are short and written at most a few times a second.
const TABLE: readonly number[] = Object.freeze([
  0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c, 0xedb88320,
  0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
]);

/** Feeds bytes[start, end) into a running CRC; start from `CRC32_INIT`, finish with `crc32Final`. */
export function crc32Update(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  for (let i = start; i < end; i++) {
    crc ^= bytes[i]!;
    crc = (crc >>> 4) ^ TABLE[crc & 15]!;
    crc = (crc >>> 4) ^ TABLE[crc & 15]!;
  }
  return crc;
}

export const CRC32_INIT = 0xffffffff;

/** The finished CRC as an unsigned 32-bit number. */
export function crc32Final(crc: number): number {
  return (crc ^ 0xffffffff) >>> 0;
}

/** CRC-32 of bytes[start, end). crc32("123456789") is 0xCBF43926 (the catalogue check value). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return crc32Final(crc32Update(CRC32_INIT, bytes, start, end));
}
