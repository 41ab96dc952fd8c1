// Bytes ↔ base64 text (RFC 4648, with padding), for binary state kept in a string store (ESP32 NVS strings hold at
// most 4000 bytes: a 2 KB image fits as base64, not as hex). Portable: no atob/btoa/Buffer (XS has none of them).
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export function encodeBase64(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]! + ALPHABET[(v >> 6) & 63]! + ALPHABET[v & 63]!;
  }
  if (i < bytes.length) {
    const two = i + 1 < bytes.length;
    const v = (bytes[i]! << 16) | (two ? bytes[i + 1]! << 8 : 0);
    out += ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]! + (two ? ALPHABET[(v >> 6) & 63]! : "=") + "=";
  }
  return out;
}

/** Decodes base64 text; throws a RangeError naming the problem (length, character, padding). */
export function decodeBase64(text: string): Uint8Array {
  if (typeof text !== "string" || text.length % 4 !== 0) throw new RangeError("base64: length must be a multiple of 4");
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const bytes = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const ch = text[i + k]!;
      let d = ALPHABET.indexOf(ch);
      if (ch === "=" && i + 4 === text.length && k >= 4 - pad) d = 0;
      else if (d < 0) throw new RangeError("base64: unexpected " + JSON.stringify(ch) + " at " + (i + k));
      v = (v << 6) | d;
    }
    bytes[o++] = v >> 16;
    if (o < bytes.length) bytes[o++] = (v >> 8) & 255;
    if (o < bytes.length) bytes[o++] = v & 255;
  }
  return bytes;
}
