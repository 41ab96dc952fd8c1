// Starts a real Mosquitto on a free loopback port (TLS or plain) and stops it; restartable on the same port.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, writeFileSync, mkdtempSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { messageOf } from "telltale/errors/message";

export function mosquittoPath(): string {
  for (const p of ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"])
    if (existsSync(p)) return p;
  try {
    return execFileSync("sh", ["-c", "command -v mosquitto"], { encoding: "utf8" }).trim();
  } catch {
    /* not found */
  }
  throw new Error("mosquitto is not installed (apt-get install -y mosquitto); .ci/run installs it");
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, "127.0.0.1");
      c.once("connect", () => {
        c.destroy();
        resolve(true);
      });
      c.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`mosquitto did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface MosquittoOptions {
  tls?: { cert: string; key: string; ca: string; requireCertificate?: boolean; version?: "tlsv1.2" | "tlsv1.3" };
  port?: number;
  /** Keep sessions and queued messages across a graceful stop()/resume() (saved on SIGTERM). */
  persistence?: boolean;
  /** More mosquitto.conf lines. */
  extra?: string[];
}

export class Mosquitto {
  readonly port: number;
  readonly #conf: string;
  #child: ChildProcess | undefined;
  log = "";

  private constructor(port: number, conf: string) {
    this.port = port;
    this.#conf = conf;
  }

  static async start(options: MosquittoOptions = {}): Promise<Mosquitto> {
    const port = options.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), "telltale-mosquitto-"));
    chmodSync(dir, 0o755);
    const lines = [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      "log_dest stderr",
      "log_type error",
      "log_type warning",
    ];
    if (options.persistence) {
      // Mosquitto started as root drops to its own user, which must be able to write the database.
      const data = mkdtempSync(join(tmpdir(), "telltale-mosquitto-db-"));
      chmodSync(data, 0o777);
      lines.push("persistence true", `persistence_location ${data}/`, "autosave_interval 0");
    } else lines.push("persistence false");
    if (options.tls)
      lines.push(
        `cafile ${options.tls.ca}`,
        `certfile ${options.tls.cert}`,
        `keyfile ${options.tls.key}`,
        `tls_version ${options.tls.version ?? "tlsv1.2"}`,
      );
    if (options.tls?.requireCertificate) lines.push("require_certificate true");
    lines.push(...(options.extra ?? []));
    const conf = join(dir, "mosquitto.conf");
    writeFileSync(conf, lines.join("\n") + "\n");
    const m = new Mosquitto(port, conf);
    await m.resume();
    return m;
  }

  /** Starts (again) on the same port. */
  async resume(): Promise<void> {
    const child = spawn(mosquittoPath(), ["-c", this.#conf], { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr.on("data", (d: Buffer) => {
      this.log += d.toString();
    });
    this.#child = child;
    try {
      await waitForPort(this.port, 5000);
    } catch (e) {
      throw new Error(messageOf(e) + "\n" + this.log, { cause: e });
    }
  }

  /** Kills the broker (SIGKILL), or with `graceful` lets it save its database and close connections (SIGTERM). */
  async stop(graceful = false): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill(graceful ? "SIGTERM" : "SIGKILL");
    });
  }
}
