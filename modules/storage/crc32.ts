// CRC-32 (IEEE 802.3, the zlib/PNG/Ethernet CRC): reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF.

// Four bits at a time: a 16-entry table (64 bytes, frozen so it stays in flash) instead of a 1 KB one in RAM,
// because outbox records are short and written at most a few times a second.
const TABLE: readonly number[] = Object.freeze([
  0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4, 0x4DB26158, 0x5005713C,
  0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C, 0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C,
]);

/** Feeds bytes[start, end) into a running CRC; start from `CRC32_INIT`, finish with `crc32Final`. */
export function crc32Update(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  for (let i = start; i < end; i++) {
    crc ^= bytes[i];
    crc = (crc >>> 4) ^ TABLE[crc & 15];
    crc = (crc >>> 4) ^ TABLE[crc & 15];
  }
  return crc;
}

export const CRC32_INIT = 0xFFFFFFFF;

/** The finished CRC as an unsigned 32-bit number. */
export function crc32Final(crc: number): number {
  return (crc ^ 0xFFFFFFFF) >>> 0;
}

/** CRC-32 of bytes[start, end). crc32("123456789") is 0xCBF43926 (the catalogue check value). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return crc32Final(crc32Update(CRC32_INIT, bytes, start, end));
}
