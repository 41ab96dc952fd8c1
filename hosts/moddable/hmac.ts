// HMAC-SHA256 on the Moddable hosts: the SDK's HMAC (modules/crypt/etc/hmac.js) over its native SHA-256 Digest ("crypt").
import { Digest } from "crypt";
import HMAC from "hmac";

/**
 * The tag of `data` under `key`. A Digest and HMAC are made per call: a command is checked a few times a second at
 * most (the rate limit), and an instance kept between calls would hold the key's pads in RAM for the device's life.
 */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(new HMAC(new Digest("SHA256"), key).process(data));
}
