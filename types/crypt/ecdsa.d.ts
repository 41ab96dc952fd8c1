// Typings for the Moddable SDK's ECDSA and its curve and point modules ($(MODULES)/crypt/etc/ecdsa.js, curve.js,
// $(MODULES)/crypt/arith/ecp.js), which @moddable/typings 5.6 lacks; read from those sources.
declare module "ecp" {
  export default class ECPoint {
    constructor(x: bigint, y: bigint, identity?: boolean);
    readonly X: bigint;
    readonly Y: bigint;
    /** An uncompressed SEC1 point (04‖x‖y); throws for another format. */
    static fromOctetString(os: Uint8Array): ECPoint;
  }
}

declare module "curve" {
  import type ECPoint from "ecp";
  export default class Curve {
    /** "secp256r1" or "secp384r1". */
    constructor(name: string);
    readonly G: ECPoint;
    /** The order of the base point. */
    readonly n: bigint;
    readonly orderSize: number;
  }
}

declare module "ecdsa" {
  import type ECPoint from "ecp";
  import type Curve from "curve";
  export default class ECDSA {
    /** `key` the public point to verify with (or the private scalar to sign with). */
    constructor(key: ECPoint | bigint, curve: Curve, priv?: boolean);
    /** `hash` the message digest; `sig` r‖s of orderSize bytes each, or DER when `asn1`. */
    verify(hash: ArrayBuffer, sig: ArrayBuffer, asn1?: boolean): boolean;
    sign(hash: ArrayBuffer, asn1?: boolean): ArrayBuffer;
  }
}
