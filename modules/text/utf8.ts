// UTF-8 (RFC 3629) by hand, because TextEncoder and TextDecoder do not exist on Moddable devices.

/** utf8Size() of a string with an unpaired surrogate, which has no UTF-8 form. */
export const LONE_SURROGATE = -1;
/** utf8Size() of a string with U+0000 when asked to refuse it (MQTT strings may not hold it, MQTT 5.0 §1.5.4). */
export const NULL_CHARACTER = -2;

/**
 * Bytes `text` takes as UTF-8, or LONE_SURROGATE; with `refuseNull`, NULL_CHARACTER when it contains U+0000.
 * Encoders call it once to size their output, then utf8Write() without checks.
 */
export function utf8Size(text: string, refuseNull = false): number {
  let size = 0;
  for (let i = 0, length = text.length; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0 && refuseNull) return NULL_CHARACTER;
      size += 1;
    } else if (c < 0x800) size += 2;
    else if (c >= 0xd800 && c <= 0xdfff) {
      const d = c <= 0xdbff && i + 1 < length ? text.charCodeAt(i + 1) : 0;
      if (d < 0xdc00 || d > 0xdfff) return LONE_SURROGATE;
      i++;
      size += 4;
    } else size += 3;
  }
  return size;
}

/** Writes `text` (already sized by utf8Size(), so free of lone surrogates) into `out` at `at`; returns the offset after it. */
export function utf8Write(text: string, out: Uint8Array, at: number): number {
  for (let i = 0, length = text.length; i < length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) out[at++] = c;
    else if (c < 0x800) {
      out[at++] = 0xc0 | (c >> 6);
      out[at++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff) {
      c = 0x10000 + ((c - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
      out[at++] = 0xf0 | (c >> 18);
      out[at++] = 0x80 | ((c >> 12) & 0x3f);
      out[at++] = 0x80 | ((c >> 6) & 0x3f);
      out[at++] = 0x80 | (c & 0x3f);
    } else {
      out[at++] = 0xe0 | (c >> 12);
      out[at++] = 0x80 | ((c >> 6) & 0x3f);
      out[at++] = 0x80 | (c & 0x3f);
    }
  }
  return at;
}

/**
 * Decodes bytes[start, end) as well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF), or
 * returns undefined so that the caller can name what was malformed.
 */
export function utf8Read(bytes: Uint8Array, start: number, end: number): string | undefined {
  let text = "";
  let at = start;
  while (at < end) {
    const a = bytes[at++]!;
    if (a < 0x80) {
      text += String.fromCharCode(a);
      continue;
    }
    let code: number, more: number, min: number;
    if (a >= 0xc2 && a <= 0xdf) {
      code = a & 0x1f;
      more = 1;
      min = 0x80;
    } else if (a >= 0xe0 && a <= 0xef) {
      code = a & 0x0f;
      more = 2;
      min = 0x800;
    } else if (a >= 0xf0 && a <= 0xf4) {
      code = a & 0x07;
      more = 3;
      min = 0x10000;
    } else return undefined;
    if (at + more > end) return undefined;
    for (let i = 0; i < more; i++) {
      const b = bytes[at++]!;
      if ((b & 0xc0) !== 0x80) return undefined;
      code = (code << 6) | (b & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined;
    if (code < 0x10000) text += String.fromCharCode(code);
    else text += String.fromCharCode(0xd800 + ((code - 0x10000) >> 10), 0xdc00 + ((code - 0x10000) & 0x3ff));
  }
  return text;
}

// The messages keep their "MQTT:" prefix: the MQTT stack was their first user, and callers match on them.

/** `text` as UTF-8 bytes; throws on a lone surrogate, which has no UTF-8 form. */
export function utf8Encode(text: string): Uint8Array {
  const size = utf8Size(text);
  if (size < 0) throw new Error("MQTT: string has a lone surrogate, which UTF-8 cannot encode");
  const out = new Uint8Array(size);
  utf8Write(text, out, 0);
  return out;
}

/** Decodes well-formed UTF-8 (a message payload, say); throws when the bytes are not UTF-8. */
export function utf8Decode(bytes: Uint8Array): string {
  const text = utf8Read(bytes, 0, bytes.length);
  if (text === undefined) throw new Error("MQTT: bytes are not valid UTF-8");
  return text;
}
