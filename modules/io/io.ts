// The ECMA-419 shapes that portable modules rely on; hosts provide classes of these shapes.

/** Options accepted by an ECMA-419 I2C constructor (`embedded:io/i2c`). */
export interface I2COptions {
  /** 7-bit device address. */
  address: number;
  /** Bus clock in hertz. */
  hz?: number;
  /** Pin numbers (device hosts only). */
  data?: number;
  clock?: number;
  port?: number;
  [extra: string]: unknown;
}

/** An open I2C connection to one device address. Methods throw on NACK or bus error. */
export interface I2C {
  /** Reads `count` bytes into a new buffer. */
  read(count: number, stop?: boolean): ArrayBuffer;
  /** Fills `buffer` (its whole length): the ECMA-419 form that allocates nothing, for hot paths. */
  read(buffer: Uint8Array, stop?: boolean): void;
  write(buffer: ArrayBuffer | ArrayBufferView, stop?: boolean): void;
  close(): void;
}

export type I2CConstructor = new (options: I2COptions) => I2C;

/** The `sensor` option of the ECMA-419 sensor class pattern: the IO class plus its options. */
export interface SensorIOOptions extends Partial<I2COptions> {
  io: I2CConstructor;
}

/** Options for an ECMA-419 TCP socket (`embedded:io/socket/tcp`), plus TLS (`secure`). */
export interface TCPSocketOptions {
  /** IP address or host name; hosts that cannot resolve names document it. */
  address: string;
  port: number;
  /** Present for a TLS socket: verification is on unless `verify` is explicitly false. */
  secure?: TLSOptions;
  onReadable?: (this: TCPSocket, count: number) => void;
  onWritable?: (this: TCPSocket, count: number) => void;
  onError?: (this: TCPSocket, error?: Error) => void;
}

export interface TLSOptions {
  /** PEM text of the certificate authorities to trust (undefined: the host's default store). */
  ca?: string;
  /** Host name to check the server certificate against (defaults to `address`). */
  serverName?: string;
  /** Client certificate and key (PEM) for mutual TLS. */
  certificate?: string;
  key?: string;
  /** Turn verification off: only for test rigs; never the default. */
  verify?: boolean;
}

/** An open TCP (or TLS) socket: non-blocking, callbacks report readable and writable bytes. */
export interface TCPSocket {
  /** Reads up to `count` bytes (all available when omitted); undefined when nothing is available. */
  read(count?: number): ArrayBuffer | undefined;
  /** Writes the whole buffer; callers keep under the count last reported by onWritable. */
  write(buffer: ArrayBuffer | ArrayBufferView): void;
  close(): void;
}

export type TCPSocketConstructor = new (options: TCPSocketOptions) => TCPSocket;

/** Time and timers, from the host (Moddable `Timer`, Node timers, or a manual clock in tests). */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** A small persistent key/value store (Moddable `preference`/flash; a file on Node). */
export interface Store {
  get(key: string): string | undefined;
  /** Throws when the store cannot keep the value (too long, full, unwritable); the previous value then stays. */
  set(key: string, value: string): void;
  delete(key: string): void;
  /**
   * The longest value one key holds, in UTF-8 bytes (3999 for ESP32 NVS strings); undefined when the store has no
   * limit of its own. Larger items are split over several keys by their owner (modules/config/saved.ts).
   */
  readonly maxValueBytes?: number;
}

/** An ECMA-419 digital pin (`embedded:io/digital`). */
export interface Digital {
  read(): number;
  write(value: number): void;
  close(): void;
}

export interface DigitalOptions {
  pin: number;
  /** One of the class's mode constants (Input, InputPullUp, InputPullDown, Output, OutputOpenDrain). */
  mode: unknown;
  /** Rising, Falling or both (bitwise or): with onReadable, report edges. */
  edge?: number;
  onReadable?: (this: Digital) => void;
  onError?: (this: Digital) => void;
}

export interface DigitalConstructor {
  new (options: DigitalOptions): Digital;
  readonly Input: unknown;
  readonly InputPullUp: unknown;
  readonly InputPullDown: unknown;
  readonly Output: unknown;
  readonly OutputOpenDrain: unknown;
  readonly Rising: number;
  readonly Falling: number;
}

/** An ECMA-419 pulse counter (`embedded:io/pulsecount`): read() is the count since the last write(). */
export interface PulseCount {
  read(): number;
  write(count: number): void;
  close(): void;
}

export interface PulseCountOptions {
  signal: number;
  control?: number;
  onReadable?: (this: PulseCount) => void;
  onError?: (this: PulseCount) => void;
}

export type PulseCountConstructor = new (options: PulseCountOptions) => PulseCount;

/**
 * NOR flash, or a partition of it (ECMA-419 has no flash class; this is the shape of Moddable's `flash`
 * module with `write` taking the bytes alone). Erased bytes read 0xFF; a write can only clear bits, so
 * rewriting a byte stores the AND of old and new; only `erase` sets bits again, a block at a time.
 */
export interface Flash {
  /** Copies `length` bytes starting at `offset`. */
  read(offset: number, length: number): ArrayBuffer;
  /** Programs `bytes` at `offset`; a power cut may leave any prefix of them written. */
  write(offset: number, bytes: ArrayBuffer | ArrayBufferView): void;
  /** Sets every byte of block `sector` (offsets sector × blockSize onwards) to 0xFF. */
  erase(sector: number): void;
  readonly byteLength: number;
  /** Erase block size in bytes (4096 on ESP32). */
  readonly blockSize: number;
}
