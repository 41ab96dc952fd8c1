// The board's default I2C bus as an ECMA-419 I2C class: Moddable's embedded:io/i2c with the target's pins.
import device from "embedded:provider/builtin";
import config from "mc/config";
import type { I2C, I2CConstructor, I2COptions } from "telltale/io/io";

type IOOptions = ConstructorParameters<typeof device.io.I2C>[0];
/**
 * @moddable/typings 5.6 declares no close() on embedded:io/i2c; ECMA-419 requires it and Moddable's
 * io/i2c implements it, so instances are typed with it added.
 */
type IOInstance = InstanceType<typeof device.io.I2C> & { close(): void };

interface Bus {
  data: number;
  clock: number;
  port?: number;
  hz: number;
}

const DEFAULT_HZ = 100_000;

function pin(value: unknown): number | undefined {
  return typeof value === "number" && value === Math.floor(value) && value >= 0 ? value : undefined;
}

/**
 * Pins of the default bus: the build target's `device.I2C.default` (board targets such as esp32/m5stack
 * define it; the generic esp32 provider does not), else the manifest's `config.i2c` {data, clock, port?, hz?}.
 */
function defaultBus(): Bus | undefined {
  // The typings declare I2C.default always present; at run time the generic esp32 provider has none.
  const target: Record<string, unknown> | undefined = device.I2C?.default;
  const fallback: unknown = config.i2c;
  for (const source of [target, fallback]) {
    if (typeof source !== "object" || source === null || !("data" in source) || !("clock" in source)) continue;
    const data = pin(source.data),
      clock = pin(source.clock);
    if (data === undefined || clock === undefined) continue;
    const hz = "hz" in source && typeof source.hz === "number" && source.hz > 0 ? source.hz : DEFAULT_HZ;
    const bus: Bus = { data, clock, hz };
    const port = "port" in source ? pin(source.port) : undefined;
    if (port !== undefined) bus.port = port;
    return bus;
  }
  return undefined;
}

function view(buffer: ArrayBuffer | ArrayBufferView): ArrayBuffer | Uint8Array | DataView {
  if (buffer instanceof ArrayBuffer || buffer instanceof Uint8Array || buffer instanceof DataView) return buffer;
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** An I2C class bound to the default bus; options may still override `data`, `clock`, `port` and `hz`. */
export function boardI2C(): I2CConstructor {
  const bus = defaultBus();
  return class BoardI2C implements I2C {
    #io: IOInstance | undefined;

    constructor(options: I2COptions) {
      if (bus === undefined)
        throw new RangeError(
          'I2C: this target defines no default bus; set "i2c": {"data": <pin>, "clock": <pin>} in the manifest config',
        );
      const address = options?.address;
      if (typeof address !== "number" || address !== Math.floor(address) || address < 0 || address > 0x7f)
        throw new RangeError('I2C: option "address" must be a 7-bit address, got ' + String(address));
      const hz = options.hz ?? bus.hz;
      if (typeof hz !== "number" || !(hz > 0)) throw new RangeError('I2C: option "hz" must be a positive number');
      const params: IOOptions = { data: options.data ?? bus.data, clock: options.clock ?? bus.clock, hz, address };
      const port = options.port ?? bus.port;
      if (port !== undefined) params.port = port;
      // Widened, not converted: see IOInstance.
      this.#io = new device.io.I2C(params) as IOInstance;
    }

    read(count: number, stop?: boolean): ArrayBuffer;
    read(buffer: Uint8Array, stop?: boolean): void;
    read(what: number | Uint8Array, stop?: boolean): ArrayBuffer | void {
      // Moddable's I2C fills a given buffer in place (ECMA-419 read(buffer)), allocating nothing.
      if (typeof what === "number") return this.#open().read(what, stop);
      this.#open().read(what, stop);
    }

    write(buffer: ArrayBuffer | ArrayBufferView, stop?: boolean): void {
      this.#open().write(view(buffer), stop);
    }

    close(): void {
      const io = this.#io;
      this.#io = undefined;
      io?.close();
    }

    #open(): IOInstance {
      const io = this.#io;
      if (io === undefined) throw new Error("I2C: closed");
      return io;
    }
  };
}
