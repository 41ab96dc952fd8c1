// Typing for Moddable's "crypt" ($(MODULES)/crypt/digest/crypt.js), which @moddable/typings 5.6 lacks: the Digest
// class only, per documentation/crypt/crypt.md, section "class Digest (Crypt)", and modCrypt.c.
declare module "crypt" {
  export class Digest {
    /** "MD5", "SHA1", "SHA224", "SHA256", "SHA384" or "SHA512". */
    constructor(type: string);
    /** Adds a message: a String or any buffer (ArrayBuffer, typed array of bytes, host buffer). */
    write(data: string | ArrayBufferLike | ArrayBufferView): void;
    /** The hash; the digest can then only be reset(). */
    close(): ArrayBuffer;
    reset(): void;
    readonly blockSize: number;
    readonly outputSize: number;
    /** reset(), write() of each argument, close(). */
    process(...data: (string | ArrayBufferLike | ArrayBufferView)[]): ArrayBuffer;
  }
}
