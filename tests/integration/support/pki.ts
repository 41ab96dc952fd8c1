// Test-time certificates made with the real openssl: a CA, a broker certificate it signs, and a rogue pair.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Pki {
  dir: string;
  caCert: string; caPem: string;
  serverCert: string; serverKey: string;
  /** A certificate for the same host, signed by a CA the firmware does not trust. */
  rogueCert: string; rogueKey: string;
  /** A certificate signed by the trusted CA but for another host name. */
  wrongHostCert: string; wrongHostKey: string;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function issue(dir: string, name: string, ca: string, cn: string, san: string): void {
  writeFileSync(join(dir, name + ".ext"), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", name + ".key",
    "-subj", "/CN=" + cn, "-out", name + ".csr");
  openssl(dir, "x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key", "-CAcreateserial",
    "-days", "2", "-sha256", "-extfile", name + ".ext", "-out", name + ".crt");
}

function authority(dir: string, name: string, cn: string): void {
  openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", name + ".key",
    "-subj", "/CN=" + cn, "-days", "2", "-sha256", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    "-out", name + ".crt");
}

/** Generates everything in a fresh temporary folder. */
export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), "telltale-pki-"));
  authority(dir, "ca", "Telltale Test CA");
  authority(dir, "rogue-ca", "Untrusted Test CA");
  issue(dir, "server", "ca", "localhost", "DNS:localhost,IP:127.0.0.1");
  issue(dir, "rogue", "rogue-ca", "localhost", "DNS:localhost,IP:127.0.0.1");
  issue(dir, "wronghost", "ca", "broker.invalid", "DNS:broker.invalid");
  // Mosquitto started as root drops to its own user, which must be able to read these test files.
  chmodSync(dir, 0o755);
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
  const p = (n: string) => join(dir, n);
  return {
    dir, caCert: p("ca.crt"), caPem: readFileSync(p("ca.crt"), "utf8"),
    serverCert: p("server.crt"), serverKey: p("server.key"),
    rogueCert: p("rogue.crt"), rogueKey: p("rogue.key"),
    wrongHostCert: p("wronghost.crt"), wrongHostKey: p("wronghost.key"),
  };
}
