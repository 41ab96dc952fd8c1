// Drivers allocate nothing per read: the FIFO drain triggers no young-generation GC, and no I2C driver's sample()
// makes a buffer (ArrayBuffer, typed array, DataView) or uses the allocating read(count) once it is running.
//
// How "beyond the result" is counted: ECMA-419 has sample() return a new plain object each call, so plain objects are
// allowed and binary buffers are counted exactly (support/buffers.ts swaps the global constructors for counting
// proxies). The buses below answer from preallocated bytes, so the count is the driver's alone. A driver that goes back
// to `new Uint8Array(io.read(n))` fails twice: one allocating read and two buffers (the ArrayBuffer and its view).
import { test } from "node:test";
import assert from "node:assert/strict";
import { minorCollectionsDuring as minorCollections } from "./support/gc.js";
import { buffersAllocatedDuring } from "./support/buffers.js";
import { crc8Word } from "telltale/crc/crc8";
import ADXL345 from "telltale/drivers/adxl345/adxl345";
import MPU6050 from "telltale/drivers/mpu6050/mpu6050";
import SHT3x from "telltale/drivers/sht3x/sht3x";
import SHT4x from "telltale/drivers/sht4x/sht4x";
import BME280 from "telltale/drivers/bme280/bme280";
import INA219 from "telltale/drivers/ina219/ina219";
import INA226 from "telltale/drivers/ina226/ina226";
import ADS1115 from "telltale/drivers/ads1115/ads1115";
import type { I2COptions } from "telltale/io/io";

const FRAMES = 32;
const SAMPLES = 2000;

/** Calls of the allocating form read(count) since the bus was made (each allocates an ArrayBuffer). */
interface Counted {
  allocatingReads: number;
}

/** Register-addressed stub answering from preallocated bytes, rotated by one byte per read so no output looks frozen. */
function stubBus(answers: Record<number, Uint8Array>, counted: Counted = { allocatingReads: 0 }) {
  return class StubI2C {
    #register = 0;
    #turn = 0;
    constructor(_options: I2COptions) {}
    write(buffer: ArrayBuffer | ArrayBufferView): void {
      // The drivers pass a Uint8Array; indexing it allocates nothing (a new view here would be the stub's own garbage).
      this.#register = (buffer as Uint8Array)[0]!;
    }
    read(what: number | Uint8Array): ArrayBuffer | undefined {
      const bytes = answers[this.#register] ?? answers[-1];
      if (!bytes) throw new Error("stub: no answer for register " + this.#register);
      if (typeof what === "number") {
        counted.allocatingReads++;
        return bytes.slice(0, what).buffer;
      }
      const turn = bytes.length >= 6 ? this.#turn++ % 7 : 0;
      for (let i = 0; i < what.length; i++) what[i] = bytes[(i + turn) % bytes.length]!;
      return undefined;
    }
    close(): void {}
  } as never;
}

/** Sensirion-style: the first byte of the last command selects what a read returns; the answer is read unrotated. */
function commandBus(answers: Record<number, Uint8Array>, counted: Counted) {
  return class CommandI2C {
    #command = 0;
    constructor(_options: I2COptions) {}
    write(buffer: ArrayBuffer | ArrayBufferView): void {
      this.#command = (buffer as Uint8Array)[0]!;
    }
    read(what: number | Uint8Array): ArrayBuffer | undefined {
      const bytes = answers[this.#command];
      if (!bytes) throw new Error("stub: no answer for command " + this.#command);
      if (typeof what === "number") {
        counted.allocatingReads++;
        return bytes.slice(0, what).buffer;
      }
      what.set(bytes.length === what.length ? bytes : bytes.subarray(0, what.length));
      return undefined;
    }
    close(): void {}
  } as never;
}

/**
 * Registers behind a pointer: `width` 2 for 16-bit big-endian registers (INA2xx, ADS1115; a 3-byte write stores one),
 * 1 for byte registers with auto-increment written as register/value pairs (BME280). `fixed` registers read a constant.
 */
function registerBus(
  width: 1 | 2,
  init: Record<number, number>,
  counted: Counted,
  fixed: Record<number, number> = {},
  onWrite?: (registers: Uint16Array, register: number) => void,
) {
  const registers = new Uint16Array(256);
  for (const key of Object.keys(init)) registers[Number(key)] = init[Number(key)]!;
  return class RegisterI2C {
    #pointer = 0;
    constructor(_options: I2COptions) {}
    write(buffer: ArrayBuffer | ArrayBufferView): void {
      const b = buffer as Uint8Array;
      this.#pointer = b[0]!;
      if (width === 2 && b.length >= 3) {
        registers[b[0]!] = (b[1]! << 8) | b[2]!;
        onWrite?.(registers, b[0]!);
      }
      if (width === 1)
        for (let i = 0; i + 1 < b.length; i += 2) {
          registers[b[i]!] = b[i + 1]!;
          onWrite?.(registers, b[i]!);
        }
    }
    #value(register: number): number {
      return fixed[register] ?? registers[register]!;
    }
    read(what: number | Uint8Array): ArrayBuffer | undefined {
      if (typeof what === "number") {
        counted.allocatingReads++;
        const out = new Uint8Array(what);
        this.#fill(out);
        return out.buffer;
      }
      this.#fill(what);
      return undefined;
    }
    #fill(out: Uint8Array): void {
      if (width === 2) {
        const v = this.#value(this.#pointer);
        out[0] = v >> 8;
        out[1] = v & 0xff;
        return;
      }
      for (let i = 0; i < out.length; i++) out[i] = this.#value((this.#pointer + i) & 0xff);
    }
    close(): void {}
  } as never;
}

/** Two words of a Sensirion answer, each followed by its CRC. */
function words(a: number, b: number): Uint8Array {
  return Uint8Array.of(a >> 8, a & 0xff, crc8Word(a), b >> 8, b & 0xff, crc8Word(b));
}

const clock = { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} };

/** Samples `SAMPLES` times after a warm-up; asserts results came, no fault, no buffer and no allocating read. */
function assertSamplesAllocateNoBuffers(
  name: string,
  sensor: { sample(): unknown; errors: number; close(): void },
  counted: Counted,
  step: () => void = () => {},
): void {
  let results = 0;
  const round = () => {
    if (sensor.sample() !== undefined) results++;
    step();
  };
  for (let i = 0; i < 200; i++) round();
  const readsBefore = counted.allocatingReads;
  results = 0;
  const buffers = buffersAllocatedDuring(() => {
    for (let i = 0; i < SAMPLES; i++) round();
  });
  assert.equal(sensor.errors, 0, name + ": no fault while sampling");
  assert.ok(results >= SAMPLES / 2, name + ": sample() returned results (" + results + ")");
  assert.equal(counted.allocatingReads - readsBefore, 0, name + ": read(count) calls during " + SAMPLES + " samples");
  assert.equal(buffers, 0, name + ": buffers allocated during " + SAMPLES + " samples");
  sensor.close();
}

test("adxl345-drain-allocates-nothing", async () => {
  const entry = Uint8Array.of(10, 0, 20, 0, 0, 1);
  const io = stubBus({
    0x00: Uint8Array.of(0xe5),
    0x30: Uint8Array.of(0x02),
    0x39: Uint8Array.of(FRAMES),
    0x32: entry,
    [-1]: Uint8Array.of(0),
  });
  const s = new ADXL345({ sensor: { io, address: 0x53 }, clock, rate: 1600 });
  for (let i = 0; i < 2000; i++) s.drain();
  const minor = await minorCollections(() => {
    for (let i = 0; i < 40_000; i++) s.drain();
  });
  assert.equal(s.errors, 0);
  assert.equal(minor, 0, `${minor} minor collections while draining ${40_000 * FRAMES} frames`);
  s.close();
});

test("mpu6050-drain-allocates-nothing", async () => {
  const burst = new Uint8Array(FRAMES * 6).fill(1);
  const count = Uint8Array.of((FRAMES * 6) >> 8, (FRAMES * 6) & 0xff);
  const io = stubBus({ 0x75: Uint8Array.of(0x68), 0x72: count, 0x74: burst, [-1]: Uint8Array.of(0, 0) });
  const s = new MPU6050({ sensor: { io, address: 0x68 }, clock, rate: 1600 });
  for (let i = 0; i < 2000; i++) s.drain();
  const minor = await minorCollections(() => {
    for (let i = 0; i < 40_000; i++) s.drain();
  });
  assert.equal(s.errors, 0);
  assert.equal(minor, 0, `${minor} minor collections while draining ${40_000 * FRAMES} frames`);
  s.close();
});

test("sht3x-sample-allocates-no-buffer", () => {
  const counted = { allocatingReads: 0 };
  const io = commandBus({ 0xf3: words(0x8010, 0).subarray(0, 3), 0x24: words(0x6666, 0x8000) }, counted);
  assertSamplesAllocateNoBuffers("SHT3x", new SHT3x({ sensor: { io, address: 0x44 } }), counted);
});

test("sht4x-sample-allocates-no-buffer", () => {
  const counted = { allocatingReads: 0 };
  const io = commandBus({ 0x89: words(0x1234, 0x5678), 0xfd: words(0x6666, 0x8000) }, counted);
  assertSamplesAllocateNoBuffers("SHT4x", new SHT4x({ sensor: { io, address: 0x44 } }), counted);
});

test("bme280-sample-allocates-no-buffer", () => {
  const counted = { allocatingReads: 0 };
  // Trimming from the datasheet's example (dig_T1 27504, dig_P1 36477); a forced conversion ends at once (mode → sleep).
  const init: Record<number, number> = {
    0xd0: 0x60,
    0x88: 0x70,
    0x89: 0x6b,
    0x8e: 0x7d,
    0x8f: 0x8e,
    0xf7: 0x65,
    0xf8: 0x5a,
    0xf9: 0xc0,
    0xfa: 0x7e,
    0xfb: 0xed,
    0xfd: 0x6a,
  };
  const io = registerBus(1, init, counted, {}, (r, register) => {
    if (register === 0xf4) r[0xf4]! &= 0xfc;
  });
  assertSamplesAllocateNoBuffers("BME280", new BME280({ sensor: { io, address: 0x76 } }), counted);
});

test("ina226-sample-allocates-no-buffer", () => {
  const counted = { allocatingReads: 0 };
  const io = registerBus(2, { 0x01: 0x0100, 0x02: 0x2000, 0x03: 0x0100, 0x04: 0x0100 }, counted, {
    0x06: 0x0008,
    0xfe: 0x5449,
    0xff: 0x2260,
  });
  assertSamplesAllocateNoBuffers("INA226", new INA226({ sensor: { io, address: 0x40 } }), counted);
});

test("ina219-sample-allocates-no-buffer", () => {
  const counted = { allocatingReads: 0 };
  const io = registerBus(2, { 0x01: 0x0100, 0x03: 0x0100, 0x04: 0x0100 }, counted, {
    0x00: 0x399f,
    0x02: (1500 << 3) | 0x2,
  });
  assertSamplesAllocateNoBuffers("INA219", new INA219({ sensor: { io, address: 0x40 } }), counted);
});

test("ads1115-sample-allocates-no-buffer", () => {
  // Single-shot rounds of two inputs on the clock's timers (run between samples), then continuous mode.
  const counted = { allocatingReads: 0 };
  let pending: (() => void) | undefined;
  const timers = {
    now: () => 0,
    setTimeout: (f: () => void) => {
      pending = f;
      return 1;
    },
    clearTimeout: () => {
      pending = undefined;
    },
  };
  const runTimers = () => {
    while (pending) {
      const f = pending;
      pending = undefined;
      f();
    }
  };
  const io = registerBus(2, { 0x00: 0x1234 }, counted);
  const inputs = [
    { name: "a", channel: 0 },
    { name: "b", channel: 1 },
  ];
  assertSamplesAllocateNoBuffers(
    "ADS1115 single",
    new ADS1115({ sensor: { io, address: 0x48 }, inputs, clock: timers }),
    counted,
    runTimers,
  );
  const continuous = new ADS1115({ sensor: { io, address: 0x48 }, inputs: [inputs[0]!], mode: "continuous" });
  assertSamplesAllocateNoBuffers("ADS1115 continuous", continuous, counted);
});

test("fifo-accelerometers-sample-allocate-no-buffer", () => {
  const counted = { allocatingReads: 0 };
  const entry = Uint8Array.of(10, 0, 20, 0, 0, 1);
  const adxl = stubBus(
    {
      0x00: Uint8Array.of(0xe5),
      0x30: Uint8Array.of(0x02),
      0x39: Uint8Array.of(FRAMES),
      0x32: entry,
      [-1]: Uint8Array.of(0),
    },
    counted,
  );
  assertSamplesAllocateNoBuffers(
    "ADXL345",
    new ADXL345({ sensor: { io: adxl, address: 0x53 }, clock, rate: 1600 }),
    counted,
  );
  const burst = new Uint8Array(FRAMES * 6).map((_, i) => (i * 37) & 0xff);
  const count = Uint8Array.of((FRAMES * 6) >> 8, (FRAMES * 6) & 0xff);
  const mpu = stubBus({ 0x75: Uint8Array.of(0x68), 0x72: count, 0x74: burst, [-1]: Uint8Array.of(0, 0) }, counted);
  assertSamplesAllocateNoBuffers(
    "MPU-6050",
    new MPU6050({ sensor: { io: mpu, address: 0x68 }, clock, rate: 1600 }),
    counted,
  );
});
