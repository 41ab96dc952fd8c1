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
