// The Node host: real sockets, real timers, a file-backed store and a simulated I2C bus with device models.
import { createHash, createHmac, createPublicKey, verify } from "node:crypto";
import { performance } from "node:perf_hooks";
import { hostname } from "node:os";
import { getHeapStatistics } from "node:v8";
import { randomInt } from "node:crypto";
import { dirname, join } from "node:path";
import type { Host, Sha256, Updates } from "telltale/io/host";
import type { Clock, Flash, I2CConstructor, Store } from "../../modules/io/io.js";
import type { MachineOptions } from "../../modules/sim/machine.js";
import type { SensorDeclaration } from "../../modules/drivers/part.js";
import { createSimWorld, type SimWorld } from "../../modules/sim/world.js";
import { NodeTCPSocket } from "./tcp.js";
import { FileStore } from "./store.js";
import { FileFlash } from "./flash.js";
import { messageOf } from "../../modules/errors/message.js";

export const nodeClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** HMAC-SHA256 from node:crypto (OpenSSL). */
export function nodeHmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", key).update(data).digest());
}

/** SHA-256 from node:crypto, incrementally. */
export function nodeSha256(): Sha256 {
  const hash = createHash("sha256");
  return {
    update: (bytes) => void hash.update(bytes),
    digest: () => new Uint8Array(hash.digest()),
  };
}

/**
 * ECDSA P-256 / SHA-256 from node:crypto: `publicKey` the uncompressed point (65 bytes), `signature` r‖s (64 bytes,
 * "ieee-p1363"). A key that is not a point on the curve verifies nothing.
 */
export function nodeVerifyP256(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 65 || publicKey[0] !== 4 || signature.length !== 64) return false;
  const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
  try {
    const key = createPublicKey({
      key: { kty: "EC", crv: "P-256", x: b64url(publicKey.subarray(1, 33)), y: b64url(publicKey.subarray(33)) },
      format: "jwk",
    });
    return verify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, signature);
  } catch {
    return false;
  }
}

export interface NodeHostOptions {
  /** Where the store's file lives. */
  storePath: string;
  /** The store, when the caller opened it already (to choose the configuration first); default a FileStore at storePath. */
  store?: Store;
  deviceId?: string;
  log?: (line: string) => void;
  /** The simulated machine the chip models measure. */
  machine?: MachineOptions;
  /** The declared sensors: a chip model is attached for each. */
  sensors: readonly SensorDeclaration[];
  clock?: Clock;
  /**
   * Why this start happened (health): default the TELLTALE_RESET_REASON environment variable a supervisor sets
   * ("watchdog" after an exit with WATCHDOG_EXIT_CODE, "restart" after a restart the firmware asked for), else "power-on".
   */
  resetReason?: string;
  /** The outbox's flash: default a 64 KiB file "outbox.flash" beside the store; false for none (RAM only). */
  flash?: Flash | false;
  /** The bootloader side of updates (the supervisor's slots, or a test's), and how to restart into it. */
  updates?: Updates;
  restart?: (reason: string) => void;
}

/**
 * The default outbox file, brought back to its size when it was truncated or grew (the log says so). A file that cannot
 * be opened at all leaves the outbox in RAM, with the reason in `flashProblem` (health telemetry): never a crash.
 */
function openOutboxFile(path: string, log: (line: string) => void): { flash?: Flash; flashProblem?: string } {
  try {
    return { flash: new FileFlash({ path, log }) };
  } catch (e) {
    const flashProblem = `no outbox file ${path} (${messageOf(e)}); messages are kept in RAM only`;
    log("flash: " + flashProblem);
    return { flashProblem };
  }
}

export interface NodeHost extends Host {
  readonly world: SimWorld;
}

export function createNodeHost(options: NodeHostOptions): NodeHost {
  const clock = options.clock ?? nodeClock;
  const world = createSimWorld(clock, options.sensors, options.machine);
  const log = options.log ?? ((line: string) => console.log(line));
  const store: Store = options.store ?? new FileStore(options.storePath, log);
  const i2c: I2CConstructor = world.bus.ioClass();
  const { flash, flashProblem } =
    options.flash === false
      ? {}
      : options.flash
        ? { flash: options.flash }
        : openOutboxFile(join(dirname(options.storePath), "outbox.flash"), log);
  return {
    name: "node",
    clock,
    i2c,
    store,
    world,
    flash,
    flashProblem,
    tcp: NodeTCPSocket,
    digital: world.gpio.ioDigital(),
    pulseCount: world.gpio.ioPulseCount(),
    deviceId:
      options.deviceId ??
      hostname()
        .replace(/[^A-Za-z0-9_-]/g, "-")
        .slice(0, 32),
    log,
    hmacSha256: nodeHmacSha256,
    resetReason: options.resetReason ?? (process.env.TELLTALE_RESET_REASON || "power-on"),
    // What V8 can still allocate before its heap limit: the nearest thing to a device's free heap.
    freeMemory: () => getHeapStatistics().total_available_size,
    sha256: nodeSha256,
    verifyP256: nodeVerifyP256,
    updates: options.updates,
    restart: options.restart,
    random: () => randomInt(0x40000000) / 0x40000000,
    connectNetwork: async () => {},
  };
}
