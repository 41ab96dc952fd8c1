// The accelerometer FIFO drain allocates nothing per sample: a million frames drained trigger no young-generation GC.
import { test } from "node:test";
import assert from "node:assert/strict";
import { minorCollectionsDuring as minorCollections } from "./support/gc.js";
import ADXL345 from "telltale/drivers/adxl345/adxl345";
import MPU6050 from "telltale/drivers/mpu6050/mpu6050";
import type { I2COptions } from "telltale/io/io";

const FRAMES = 32;

/** Register-addressed stub answering from preallocated bytes: the driver's own allocations are all that is left. */
function stubBus(answers: Record<number, Uint8Array>) {
  return class StubI2C {
    #register = 0;
    constructor(_options: I2COptions) {}
    write(buffer: ArrayBuffer | ArrayBufferView): void {
      // The drivers pass a Uint8Array; indexing it allocates nothing (a new view here would be the stub's own garbage).
      this.#register = (buffer as Uint8Array)[0];
    }
    read(what: number | Uint8Array): ArrayBuffer | undefined {
      const bytes = answers[this.#register] ?? answers[-1];
      if (typeof what === "number") return bytes.slice(0, what).buffer;
      for (let i = 0; i < what.length; i++) what[i] = bytes[i % bytes.length];
      return undefined;
    }
    close(): void {}
  } as never;
}

const clock = { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} };

test("adxl345-drain-allocates-nothing", async () => {
  const entry = Uint8Array.of(10, 0, 20, 0, 0, 1);
  const io = stubBus({ 0x00: Uint8Array.of(0xE5), 0x30: Uint8Array.of(0x02), 0x39: Uint8Array.of(FRAMES), 0x32: entry, [-1]: Uint8Array.of(0) });
  const s = new ADXL345({ sensor: { io, address: 0x53 }, clock, rate: 1600 } as never);
  for (let i = 0; i < 2000; i++) s.drain();
  const minor = await minorCollections(() => { for (let i = 0; i < 40_000; i++) s.drain(); });
  assert.equal(s.errors, 0);
  assert.equal(minor, 0, `${minor} minor collections while draining ${40_000 * FRAMES} frames`);
  s.close();
});

test("mpu6050-drain-allocates-nothing", async () => {
  const burst = new Uint8Array(FRAMES * 6).fill(1);
  const count = Uint8Array.of((FRAMES * 6) >> 8, (FRAMES * 6) & 0xFF);
  const io = stubBus({ 0x75: Uint8Array.of(0x68), 0x72: count, 0x74: burst, [-1]: Uint8Array.of(0, 0) });
  const s = new MPU6050({ sensor: { io, address: 0x68 }, clock, rate: 1600 } as never);
  for (let i = 0; i < 2000; i++) s.drain();
  const minor = await minorCollections(() => { for (let i = 0; i < 40_000; i++) s.drain(); });
  assert.equal(s.errors, 0);
  assert.equal(minor, 0, `${minor} minor collections while draining ${40_000 * FRAMES} frames`);
  s.close();
});
