// Typing for Moddable's "hmac" ($(MODULES)/crypt/etc/hmac.js, RFC 2104 over a "crypt" Digest), which
// @moddable/typings 5.6 lacks. Read from the module's source: the constructor takes the hash and the key.
declare module "hmac" {
  import type { Digest } from "crypt";
  export default class HMAC {
    /** `bitlen` truncates sign()'s output (0: the whole tag). */
    constructor(hash: Digest, key: ArrayBufferLike | ArrayBufferView, bitlen?: number);
    update(...data: (string | ArrayBufferLike | ArrayBufferView)[]): void;
    close(): ArrayBuffer;
    reset(): void;
    /** reset(), then the tag of the arguments written in order. */
    process(...data: (string | ArrayBufferLike | ArrayBufferView)[]): ArrayBuffer;
  }
}
