// The host contract: what a host (esp32, desktop simulator, Node) hands the application: IO classes, time, storage, logging.
import type {
  Clock,
  DigitalConstructor,
  Flash,
  I2CConstructor,
  PulseCountConstructor,
  Store,
  TCPSocketConstructor,
} from "telltale/io/io";
import type { VibrationNative } from "telltale/detector/vibration";

export interface Host {
  /** "esp32", "sim" or "node": shown in health telemetry. */
  readonly name: string;
  readonly clock: Clock;
  /** I2C class bound to the board's default bus (pins come from the host). */
  readonly i2c: I2CConstructor;
  /** ECMA-419 digital pins and pulse counters, where the host has them. */
  readonly digital?: DigitalConstructor;
  readonly pulseCount?: PulseCountConstructor;
  /** Plain TCP socket class; TLS is the same class given a `secure` option. */
  readonly tcp: TCPSocketConstructor;
  readonly store: Store;
  /** A flash partition for the durable outbox; without one, unacknowledged messages live in RAM only. */
  readonly flash?: Flash;
  /**
   * Why a host that should have flash has none (e.g. the partition table lacks "storage"). The app then keeps the
   * outbox in RAM and reports this in health telemetry (`health.outbox.error`), never silently.
   */
  readonly flashProblem?: string;
  /**
   * HMAC-SHA256 of `data` under `key` (RFC 2104 over FIPS 180-4), from the platform's own cryptography: signed commands
   * are checked with it. A host without it refuses every command that must be signed.
   */
  readonly hmacSha256?: (key: Uint8Array, data: Uint8Array) => Uint8Array;
  /**
   * SHA-256 (FIPS 180-4), incrementally, from the platform's cryptography: OTA checks a whole image with it.
   */
  readonly sha256?: () => Sha256;
  /**
   * ECDSA P-256 with SHA-256 (FIPS 186-4): true when `signature` (64 bytes, r‖s big-endian) signs `data` under
   * `publicKey` (65 bytes, uncompressed SEC1 point 04‖x‖y). OTA manifests are checked with it.
   */
  readonly verifyP256?: (publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array) => boolean;
  /** The bootloader side of over-the-air updates, where the host has two image slots. */
  readonly updates?: Updates;
  /**
   * A clean restart (the app is stopped first by its caller): the device resets, the Node host exits to its
   * supervisor, which starts the firmware again. `reason` is logged and kept for the next boot's health.
   */
  readonly restart?: (reason: string) => void;
  /**
   * Why this start happened, as health reports it: "power-on", "watchdog", "panic", "brownout", "restart" (one the
   * firmware asked for), "external", "deep-sleep" or "unknown".
   */
  readonly resetReason?: string;
  /** Free heap in bytes, now (health). */
  readonly freeMemory?: () => number;
  /** Signal strength of the joined Wi-Fi network in dBm, undefined while not joined (health). */
  readonly rssi?: () => number | undefined;
  /**
   * The vibration front end's loop in C (telltale/detector/vibration-native), where the build links it (the Moddable
   * device and simulator): bit-identical with the TypeScript loop, which runs without it.
   */
  readonly vibrationNative?: VibrationNative;
  /** One line of human-readable log output. */
  log(line: string): void;
  /**
   * Uniform in [0, 1), and different from one start to the next (the hardware RNG on ESP32): used for a random boot
   * counter when neither the store nor the outbox's flash can keep one. Default Math.random.
   */
  readonly random?: () => number;
  /** A stable identifier for this board (MAC-derived on a device). */
  readonly deviceId: string;
  /** Brings the network up (Wi-Fi on a device); resolves when the firmware may open sockets. */
  connectNetwork(): Promise<void>;
}

/** An incremental SHA-256. */
export interface Sha256 {
  update(bytes: Uint8Array): void;
  /** The 32-byte digest; the object is not used again. */
  digest(): Uint8Array;
}

/**
 * Two image slots and a bootloader (ESP-IDF's with rollback on the ESP32, file slots in the simulator, the Node
 * supervisor): the running image, the other slot to write, and the boot states pending → committed or rolled back.
 */
export interface Updates {
  /** The running image: its version (monotonic), its slot's name, and whether it still has to confirm itself. */
  readonly running: { readonly version: number; readonly slot: string; readonly pending: boolean };
  /** Why the bootloader rolled back from a new image, on the first boot after it did (else undefined). */
  readonly rolledBack?: string;
  /** The largest image the other slot holds, in bytes. */
  readonly slotBytes: number;
  /** Opens the other slot for an image of `byteLength` bytes; `resume` keeps what an earlier open wrote. */
  open(byteLength: number, resume: boolean): UpdateWriter;
  /** Marks the running pending image good: the bootloader keeps it from now on. */
  confirm(): void;
  /** Gives up the running pending image: the next boot is the previous one, and `reason` is kept for it. */
  reject(reason: string): void;
}

export interface UpdateWriter {
  write(offset: number, bytes: Uint8Array): void;
  /** Reads back what was written (a resumed download hashes the whole image from the slot). */
  read(offset: number, byteLength: number): Uint8Array;
  /** Makes the written image the next boot's, pending verification, as `version`; the caller then restarts. */
  complete(version: number): void;
  close(): void;
}
