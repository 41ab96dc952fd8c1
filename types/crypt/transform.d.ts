// Typing for Moddable's "crypt/transform" ($(MODULES)/crypt/etc/transform), which @moddable/typings 5.6 lacks.
// Behaviour per documentation/crypt/crypt.md, section "class Transform".
declare module "crypt/transform" {
  export default class Transform {
    /** PEM text (or its bytes) to DER; only the first block of a multi-certificate PEM is converted. */
    static pemToDER(data: string | ArrayBuffer | HostBuffer): ArrayBuffer;
    /** Wraps a PKCS#1 private key (DER) in a PKCS#8 PrivateKeyInfo; `oid` defaults to rsaEncryption. */
    static privateKeyToPrivateKeyInfo(data: ArrayBuffer | HostBuffer, oid?: number[]): ArrayBuffer;
  }
}
