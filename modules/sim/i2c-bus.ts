// A simulated I2C bus: device models attached at addresses, reached through an ECMA-419-shaped I2C class.
import type { Clock, I2C, I2CConstructor, I2COptions } from "telltale/io/io";

/** A register-level chip model on a simulated bus. Throw `I2CNack` to NACK a transfer. */
export interface I2CDeviceModel {
  /** The controller wrote `bytes` (address already matched). */
  write(bytes: Uint8Array, now: number): void;
  /** The controller reads `count` bytes. */
  read(count: number, now: number): Uint8Array;
}

export class I2CNack extends Error {
  override name = "I2CNack";
  constructor(message: string) {
    super(message);
  }
}

export class SimI2CBus {
  readonly #devices = new Map<number, I2CDeviceModel>();
  readonly #clock: Clock;
  /** A stuck bus (SDA held low) fails every transfer with a bus error. */
  stuck = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  attach(address: number, model: I2CDeviceModel): void {
    if (this.#devices.has(address))
      throw new Error("SimI2CBus: address 0x" + address.toString(16) + " is already taken");
    this.#devices.set(address, model);
  }

  detach(address: number): void {
    this.#devices.delete(address);
  }

  /** An I2C class (the shape of `embedded:io/i2c`) whose instances talk to this bus. */
  ioClass(): I2CConstructor {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the class below has its own `this`; its methods reach the bus through this
    const bus = this;
    return class SimI2C implements I2C {
      #address: number;
      #open = true;
      constructor(options: I2COptions) {
        const address = options?.address;
        if (typeof address !== "number" || address !== (address | 0) || address < 0 || address > 0x7f)
          throw new RangeError("I2C: invalid address " + String(address));
        this.#address = address;
      }
      read(count: number, stop?: boolean): ArrayBuffer;
      read(buffer: Uint8Array, stop?: boolean): void;
      read(what: number | Uint8Array): ArrayBuffer | void {
        this.#check();
        const count = typeof what === "number" ? what : what.length;
        const bytes = bus.#device(this.#address).read(count, bus.#clock.now());
        const out = typeof what === "number" ? new Uint8Array(count) : what;
        out.set(bytes.subarray(0, count));
        // A model that answers short leaves zeros, whichever form the driver reads with (not the previous read's bytes).
        if (bytes.length < count && typeof what !== "number") out.fill(0, bytes.length);
        if (typeof what === "number") return out.buffer as ArrayBuffer;
      }
      write(buffer: ArrayBuffer | ArrayBufferView): void {
        this.#check();
        const bytes = ArrayBuffer.isView(buffer)
          ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
          : new Uint8Array(buffer);
        bus.#device(this.#address).write(bytes.slice(), bus.#clock.now());
      }
      close(): void {
        this.#open = false;
      }
      #check(): void {
        if (!this.#open) throw new Error("I2C: closed");
      }
    };
  }

  #device(address: number): I2CDeviceModel {
    if (this.stuck) throw new Error("I2C: bus error (SDA held low)");
    const device = this.#devices.get(address);
    if (!device) throw new I2CNack("I2C: no acknowledge from address 0x" + address.toString(16));
    return device;
  }
}

Object.freeze(I2CNack.prototype);
Object.freeze(SimI2CBus.prototype);
