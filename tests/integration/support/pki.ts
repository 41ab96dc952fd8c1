// Test-time certificates made with the real openssl: a CA, a broker certificate it signs, and a rogue pair.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Pki {
  dir: string;
  caCert: string;
  caPem: string;
  serverCert: string;
  serverKey: string;
  /** A certificate for the same host, signed by a CA the firmware does not trust. */
  rogueCert: string;
  rogueKey: string;
  /** A certificate signed by the trusted CA but for another host name. */
  wrongHostCert: string;
  wrongHostKey: string;
  /** The broker's name and trusted CA, but valid only on 1-2 January 2020. */
  expiredCert: string;
  expiredKey: string;
  /** Client certificates (extendedKeyUsage clientAuth) for mutual TLS: one from the trusted CA, one from the rogue CA. */
  clientCertPem: string;
  clientKeyPem: string;
  rogueClientCertPem: string;
  rogueClientKeyPem: string;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** openssl's -newkey arguments: P-256 by default; RSA-2048 for the sizes an RSA deployment stores. */
const EC = Object.freeze(["ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]);
const RSA = Object.freeze(["rsa:2048"]);

function issue(
  dir: string,
  name: string,
  ca: string,
  cn: string,
  san: string,
  usage = "serverAuth",
  key: readonly string[] = EC,
): void {
  writeFileSync(
    join(dir, name + ".ext"),
    `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=${usage}\n`,
  );
  openssl(
    dir,
    "req",
    "-newkey",
    ...key,
    "-nodes",
    "-keyout",
    name + ".key",
    "-subj",
    "/CN=" + cn,
    "-out",
    name + ".csr",
  );
  openssl(
    dir,
    "x509",
    "-req",
    "-in",
    name + ".csr",
    "-CA",
    ca + ".crt",
    "-CAkey",
    ca + ".key",
    "-CAcreateserial",
    "-days",
    "2",
    "-sha256",
    "-extfile",
    name + ".ext",
    "-out",
    name + ".crt",
  );
}

function authority(dir: string, name: string, cn: string, key: readonly string[] = EC): void {
  openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    ...key,
    "-nodes",
    "-keyout",
    name + ".key",
    "-subj",
    "/CN=" + cn,
    "-days",
    "2",
    "-sha256",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
    "-out",
    name + ".crt",
  );
}

// `openssl x509 -req` (OpenSSL 3.0) cannot backdate a certificate; `openssl ca` takes explicit dates.
function issueExpired(dir: string, name: string, ca: string): void {
  openssl(
    dir,
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    name + ".key",
    "-subj",
    "/CN=localhost",
    "-out",
    name + ".csr",
  );
  writeFileSync(
    join(dir, name + ".cnf"),
    [
      "[ca]",
      "default_ca = expired",
      "[expired]",
      `database = ${name}.index`,
      "new_certs_dir = .",
      `serial = ${name}.serial`,
      "default_md = sha256",
      "policy = any",
      "x509_extensions = ext",
      "[any]",
      "commonName = supplied",
      "[ext]",
      "subjectAltName = DNS:localhost,IP:127.0.0.1",
      "basicConstraints = CA:FALSE",
      "extendedKeyUsage = serverAuth",
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, name + ".index"), "");
  writeFileSync(join(dir, name + ".serial"), "1000\n");
  openssl(
    dir,
    "ca",
    "-batch",
    "-config",
    name + ".cnf",
    "-cert",
    ca + ".crt",
    "-keyfile",
    ca + ".key",
    "-in",
    name + ".csr",
    "-startdate",
    "20200101000000Z",
    "-enddate",
    "20200102000000Z",
    "-out",
    name + ".crt",
  );
}

/** Generates everything in a fresh temporary folder. */
export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), "telltale-pki-"));
  authority(dir, "ca", "Telltale Test CA");
  authority(dir, "rogue-ca", "Untrusted Test CA");
  issue(dir, "server", "ca", "localhost", "DNS:localhost,IP:127.0.0.1");
  issue(dir, "rogue", "rogue-ca", "localhost", "DNS:localhost,IP:127.0.0.1");
  issue(dir, "wronghost", "ca", "broker.invalid", "DNS:broker.invalid");
  issueExpired(dir, "expired", "ca");
  issue(dir, "client", "ca", "telltale-device", "DNS:telltale-device", "clientAuth");
  issue(dir, "rogue-client", "rogue-ca", "telltale-device", "DNS:telltale-device", "clientAuth");
  // Mosquitto started as root drops to its own user, which must be able to read these test files.
  chmodSync(dir, 0o755);
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
  const p = (n: string) => join(dir, n);
  return {
    dir,
    caCert: p("ca.crt"),
    caPem: readFileSync(p("ca.crt"), "utf8"),
    serverCert: p("server.crt"),
    serverKey: p("server.key"),
    rogueCert: p("rogue.crt"),
    rogueKey: p("rogue.key"),
    wrongHostCert: p("wronghost.crt"),
    wrongHostKey: p("wronghost.key"),
    expiredCert: p("expired.crt"),
    expiredKey: p("expired.key"),
    clientCertPem: readFileSync(p("client.crt"), "utf8"),
    clientKeyPem: readFileSync(p("client.key"), "utf8"),
    rogueClientCertPem: readFileSync(p("rogue-client.crt"), "utf8"),
    rogueClientKeyPem: readFileSync(p("rogue-client.key"), "utf8"),
  };
}

export interface RsaPki {
  dir: string;
  caCert: string;
  caPem: string;
  serverCert: string;
  serverKey: string;
  clientCertPem: string;
  clientKeyPem: string;
}

/** An all-RSA-2048 mutual-TLS set (CA, broker, client): the CA, client certificate and key are about 4.2 KB. */
export function makeRsaPki(): RsaPki {
  const dir = mkdtempSync(join(tmpdir(), "telltale-rsa-pki-"));
  authority(dir, "ca", "Telltale Test RSA CA", RSA);
  issue(dir, "server", "ca", "localhost", "DNS:localhost,IP:127.0.0.1", "serverAuth", RSA);
  issue(dir, "client", "ca", "telltale-device", "DNS:telltale-device", "clientAuth", RSA);
  chmodSync(dir, 0o755);
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
  const p = (n: string) => join(dir, n);
  return {
    dir,
    caCert: p("ca.crt"),
    caPem: readFileSync(p("ca.crt"), "utf8"),
    serverCert: p("server.crt"),
    serverKey: p("server.key"),
    clientCertPem: readFileSync(p("client.crt"), "utf8"),
    clientKeyPem: readFileSync(p("client.key"), "utf8"),
  };
}
