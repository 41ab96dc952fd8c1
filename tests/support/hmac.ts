// The HMAC-SHA256 the portable suites sign and check commands with, handed in by their runner: node:crypto in Node
// (tests/node/portable.test.ts). XS has no cryptography: its runs get tagTable() over the tags node:crypto made at
// staging time (scripts/xs-stage.mjs) for every input listed in tests/support/command-vectors.ts.
import type { HmacSha256 } from "../../src/command-auth.js";

let installed: HmacSha256 | undefined;

/** Called once by the runner, before the suites run. */
export function useHmac(hmac: HmacSha256): void {
  installed = hmac;
}

/** The runner's HMAC-SHA256: what the test hosts hand the app, and what the suites sign with. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (!installed) throw new Error("tests: no HMAC-SHA256 installed (the runner hands one in with useHmac)");
  return installed(key, data);
}

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += (bytes[i]! < 16 ? "0" : "") + bytes[i]!.toString(16);
  return out;
}

export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The key under which a table keeps the tag of `data` under `key`. */
export function tagKey(key: Uint8Array, data: Uint8Array): string {
  return toHex(key) + ":" + toHex(data);
}

/**
 * An HMAC-SHA256 that answers from precomputed tags (hex, by tagKey()). An input not in the table throws, naming
 * the vectors file: a suite that signs something new lists it there, and the XS run fails until it does.
 */
export function tagTable(tags: Readonly<Record<string, string>>): HmacSha256 {
  return (key, data) => {
    const tag = tags[tagKey(key, data)];
    if (tag === undefined)
      throw new Error(
        "tests: no tag precomputed for this HMAC input (add it to tests/support/command-vectors.ts): " +
          tagKey(key, data).slice(0, 120),
      );
    return fromHex(tag);
  };
}
