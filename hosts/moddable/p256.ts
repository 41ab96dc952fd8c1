// SHA-256 and ECDSA P-256 verification on the Moddable hosts: the SDK's native Digest ("crypt") and its ecdsa, curve and ecp modules (modules/crypt/etc, modules/crypt/arith).
import { Digest } from "crypt";
import ECDSA from "ecdsa";
import Curve from "curve";
import ECPoint from "ecp";
import type { Sha256 } from "telltale/io/host";

// The native write reads any buffer (modCrypt.c: xsmcGetBufferReadable); the SDK's own typings (crypt.d.ts, which
// mcconfig's tsc reads) name only String and ArrayBuffer, hence the casts.
const readable = (bytes: Uint8Array) => bytes as unknown as ArrayBuffer;

/** An incremental SHA-256 over the SDK's native Digest. */
export function sha256(): Sha256 {
  const digest = new Digest("SHA256");
  return {
    update: (bytes) => digest.write(readable(bytes)),
    digest: () => new Uint8Array(digest.close()),
  };
}

function integer(bytes: Uint8Array, start: number, end: number): bigint {
  let value = 0n;
  for (let i = start; i < end; i++) value = (value << 8n) | BigInt(bytes[i]!);
  return value;
}

/**
 * ECDSA P-256/SHA-256 as the SDK's TLS checks a server's signature (ssl/ssl_handshake.js: `new ECDSA(key.pub,
 * key.curve, false).verify(H, sig)`), with the raw r‖s form (its `asn1` argument false). r and s outside 1 … n − 1
 * are refused here first: the SDK's verify does not check them (s = 0 has no inverse).
 */
export function verifyP256(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 65 || publicKey[0] !== 4 || signature.length !== 64) return false;
  const curve = new Curve("secp256r1");
  const r = integer(signature, 0, 32),
    s = integer(signature, 32, 64);
  if (r === 0n || s === 0n || r >= curve.n || s >= curve.n) return false;
  const digest = new Digest("SHA256");
  digest.write(readable(data));
  const hash = digest.close();
  return new ECDSA(ECPoint.fromOctetString(publicKey), curve, false).verify(hash, signature.slice().buffer);
}
