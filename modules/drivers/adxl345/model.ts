// Register-level model of an ADXL345 on a simulated I2C bus: registers, output data rate, 32-entry FIFO, interrupts, faults.
import { I2CNack, type I2CDeviceModel } from "telltale/sim/i2c-bus";
import type { Clock } from "telltale/io/io";
import {
  Register,
  DEVICE_ID,
  ResetValue,
  PowerCtl,
  Int,
  DataFormat,
  FifoCtl,
  FIFO_DEPTH,
  codeRate,
  countsPerG,
  outputBits,
  RANGES,
} from "telltale/drivers/adxl345/registers";

/** The motion the chip feels. */
export interface Motion {
  /** Acceleration on `axis` (0 x, 1 y, 2 z) at time `now` (ms), m/s². */
  vibration(now: number, axis: number): number;
}

/** Faults a test or the simulator can inject. */
export interface ADXL345Faults {
  /** NACK every transfer (a loose wire, a dead part). */
  nack: boolean;
  /** The sampling engine stops: no new samples reach the FIFO (a hung part). */
  stuck: boolean;
  /** Every new sample repeats the last one (a frozen output). */
  frozen: boolean;
  /** Every new sample sits at the positive end of the range (a railed or damaged sensing element). */
  outOfRange: boolean;
}

export interface ADXL345ModelOptions {
  motion: Motion;
  /** With a clock the model wakes itself when an interrupt condition comes due, so its INT pins move on time. */
  clock?: Clock;
}

const STANDARD_GRAVITY = 9.80665;

/**
 * Samples are produced lazily: on every access, and at the time an enabled interrupt comes due, the model catches up to
 * `now` at the configured rate (sample k of a run is taken at start + k / rate). In FIFO modes the data registers show
 * the oldest FIFO entry, and a read that touches them pops it ("FIFO"; "Register 0x38—FIFO_CTL").
 */
export class ADXL345Model implements I2CDeviceModel {
  readonly faults: ADXL345Faults = { nack: false, stuck: false, frozen: false, outOfRange: false };
  /** Raw register file (DATAx and FIFO_STATUS are computed on read). */
  readonly registers = new Uint8Array(64);
  /** Called with the INT1 pin's new level (true = high) whenever it changes. */
  onInterrupt: ((level: boolean) => void) | undefined;
  /** Counts, for tests. */
  samplesProduced = 0;
  pops = 0;

  readonly #motion: Motion;
  readonly #clock: Clock | undefined;
  /** Entries, each x, y, z counts, oldest at #fifoHead. */
  readonly #fifo = new Int16Array(FIFO_DEPTH * 3);
  #fifoHead = 0;
  #entries = 0;
  #overrun = false;
  /** The data registers' content (last entry placed there). */
  readonly #output = new Int16Array(3);
  #pointer = 0;
  #runStart = 0;
  #runSamples = 0;
  #running = false;
  #timer: unknown;
  #int1 = false;
  #int2 = false;
  /** Bypass mode: the data registers hold a sample not read yet. */
  #bypassFresh = false;
  readonly #scratch = new Int16Array(3);

  constructor(options: ADXL345ModelOptions) {
    this.#motion = options.motion;
    this.#clock = options.clock;
    this.#powerOnReset();
  }

  /** Electrical level of INT1 / INT2 (INT_INVERT makes them active low). */
  get interrupt(): boolean {
    return this.#int1;
  }
  get interrupt2(): boolean {
    return this.#int2;
  }
  /** FIFO entries (for tests). */
  get entries(): number {
    return this.#entries;
  }
  /** The output data rate now configured, Hz. */
  get rate(): number {
    return codeRate(this.registers[Register.bwRate]!);
  }

  write(bytes: Uint8Array, now: number): void {
    if (this.faults.nack) throw new I2CNack("ADXL345 model: NACK (injected)");
    this.#advance(now);
    if (bytes.length === 0) return;
    let address = bytes[0]! & 0x3f;
    this.#pointer = address;
    for (let i = 1; i < bytes.length; i++, address = (address + 1) & 0x3f) this.#store(address, bytes[i]!, now);
    this.#update(now);
  }

  read(count: number, now: number): Uint8Array {
    if (this.faults.nack) throw new I2CNack("ADXL345 model: NACK (injected)");
    this.#advance(now);
    const out = new Uint8Array(count);
    let address = this.#pointer,
      touchedData = false;
    for (let i = 0; i < count; i++, address = (address + 1) & 0x3f) {
      if (address >= Register.dataX0 && address < Register.dataX0 + 6) touchedData = true;
      out[i] = this.#load(address);
    }
    // Multiple-byte reads auto-increment the address; the next transaction starts where the controller sets it.
    if (touchedData) this.#pop();
    this.#update(now);
    return out;
  }

  #powerOnReset(): void {
    this.registers.fill(0);
    this.registers[Register.devid] = DEVICE_ID;
    this.registers[Register.bwRate] = ResetValue.bwRate;
    this.#entries = 0;
    this.#fifoHead = 0;
    this.#overrun = false;
    this.#output.fill(0);
    this.#running = false;
  }

  #store(address: number, value: number, now: number): void {
    switch (address) {
      case Register.devid:
      case Register.actTapStatus:
      case Register.intSource:
      case Register.fifoStatus:
        return; // read-only
    }
    if (address >= Register.dataX0 && address < Register.dataX0 + 6) return; // read-only
    const before = this.registers[address]!;
    this.registers[address] = value;
    if (address === Register.bwRate && ((before ^ value) & 0x0f) !== 0) this.#restart(now);
    if (address === Register.powerCtl && ((before ^ value) & PowerCtl.measure) !== 0) this.#restart(now);
    if (address === Register.fifoCtl && ((before ^ value) & FifoCtl.modeMask) !== 0) {
      // Changing the FIFO mode clears the FIFO (bypass mode "clears FIFO", "Register 0x38—FIFO_CTL").
      this.#entries = 0;
      this.#fifoHead = 0;
      this.#overrun = false;
    }
  }

  #load(address: number): number {
    const r = this.registers;
    if (address >= Register.dataX0 && address < Register.dataX0 + 6) {
      const v =
        this.#entries > 0 && this.#fifoMode() !== FifoCtl.bypass
          ? this.#fifo[this.#fifoHead * 3 + ((address - Register.dataX0) >> 1)]!
          : this.#output[(address - Register.dataX0) >> 1]!;
      return (address & 1) === 0 ? v & 0xff : (v >> 8) & 0xff;
    }
    if (address === Register.intSource) return this.#intSource();
    if (address === Register.fifoStatus) return this.#entries & 0x3f;
    return r[address]!;
  }

  #fifoMode(): number {
    return this.registers[Register.fifoCtl]! & FifoCtl.modeMask;
  }

  /** Reading the data registers pops the oldest entry into them; the overrun bit clears when the FIFO is read. */
  #pop(): void {
    if (this.#fifoMode() === FifoCtl.bypass) {
      this.#overrun = false;
      this.#bypassFresh = false;
      return;
    }
    if (this.#entries === 0) return;
    const h = this.#fifoHead * 3;
    this.#output[0] = this.#fifo[h]!;
    this.#output[1] = this.#fifo[h + 1]!;
    this.#output[2] = this.#fifo[h + 2]!;
    this.#fifoHead = (this.#fifoHead + 1) % FIFO_DEPTH;
    this.#entries--;
    this.#overrun = false;
    this.pops++;
  }

  /** INT_SOURCE, computed: DATA_READY (new data), watermark (entries ≥ samples), overrun ("Register 0x30—INT_SOURCE"). */
  #intSource(): number {
    let v = 0;
    const mode = this.#fifoMode(),
      samples = this.registers[Register.fifoCtl]! & FifoCtl.samplesMask;
    if (mode === FifoCtl.bypass ? this.#bypassFresh : this.#entries > 0) v |= Int.dataReady;
    // "A value of 0 in the samples bits immediately sets the watermark status bit, regardless of which FIFO mode is
    // selected" (hence the INT_SOURCE reset value 0x02).
    if (this.#entries >= samples) v |= Int.watermark;
    if (this.#overrun) v |= Int.overrun;
    return v;
  }

  #restart(now: number): void {
    this.#running = (this.registers[Register.powerCtl]! & PowerCtl.measure) !== 0;
    this.#runStart = now;
    this.#runSamples = 0;
  }

  /** Produces every sample due by `now`; with more due than the FIFO holds, only the newest ones need computing. */
  #advance(now: number): void {
    if (!this.#running) return;
    const rate = this.rate;
    if (this.faults.stuck) {
      // The part makes no samples while stuck; when it recovers, its next sample is one period after that.
      this.#runStart = now;
      this.#runSamples = 0;
      return;
    }
    const due = Math.floor(((now - this.#runStart) * rate) / 1000 + 1e-9);
    let k = this.#runSamples + 1;
    if (due - k + 1 > FIFO_DEPTH + 1) {
      // Older samples would be overwritten anyway (stream mode) or discarded (FIFO mode keeps the first 32).
      if (this.#fifoMode() === FifoCtl.stream || this.#fifoMode() === FifoCtl.bypass) {
        this.#overrun = true;
        k = due - FIFO_DEPTH;
      }
    }
    for (; k <= due; k++) {
      if (this.#fifoMode() === FifoCtl.fifo && this.#entries === FIFO_DEPTH) {
        this.#overrun = true;
        break;
      } // FIFO mode stops when full
      this.#produce(this.#runStart + (k * 1000) / rate);
    }
    this.#runSamples = due;
  }

  #produce(at: number): void {
    this.samplesProduced++;
    const format = this.registers[Register.dataFormat]!;
    const range = RANGES[format & DataFormat.rangeMask]!;
    const full = (format & DataFormat.fullResolution) !== 0;
    const bits = outputBits(range, full);
    const high = (1 << (bits - 1)) - 1,
      low = -(1 << (bits - 1));
    const perG = countsPerG(range, full);
    // At 3200 and 1600 Hz the LSB is always 0 in full resolution and in ±2 g 10-bit mode ("Data Formatting of Upper Data Rates").
    const rate = this.rate;
    const dropLsb = rate >= 1600 && (full || range === 2);
    const justify = (format & DataFormat.justify) !== 0;
    const sample = this.#scratch;
    // A frozen output repeats the newest sample (in the FIFO, else in the data registers).
    const last = this.#entries > 0 ? this.#fifo : this.#output;
    const lastAt = this.#entries > 0 ? ((this.#fifoHead + this.#entries - 1) % FIFO_DEPTH) * 3 : 0;
    for (let axis = 0; axis < 3; axis++) {
      let counts: number;
      if (this.faults.frozen && this.samplesProduced > 1) counts = last[lastAt + axis]!;
      else {
        if (this.faults.outOfRange) counts = high;
        else {
          const g = this.#motion.vibration(at, axis) / STANDARD_GRAVITY;
          counts = Math.round(g * perG);
          if (counts > high) counts = high;
          else if (counts < low) counts = low;
          if (dropLsb) counts &= ~1;
        }
        // Left-justified output puts the MSB at bit 15 (DATA_FORMAT Justify bit).
        if (justify) counts = ((counts << (16 - bits)) << 16) >> 16;
      }
      sample[axis] = counts;
    }
    if (this.#fifoMode() === FifoCtl.bypass) {
      if (this.#bypassFresh) this.#overrun = true; // new data replaced unread data in DATAX/Y/Z
      this.#output.set(sample);
      this.#bypassFresh = true;
      return;
    }
    if (this.#entries === FIFO_DEPTH) {
      // Stream (and trigger) mode: the oldest entry is overwritten; overrun is set.
      this.#fifoHead = (this.#fifoHead + 1) % FIFO_DEPTH;
      this.#entries--;
      this.#overrun = true;
    }
    const tail = ((this.#fifoHead + this.#entries) % FIFO_DEPTH) * 3;
    this.#fifo[tail] = sample[0]!;
    this.#fifo[tail + 1] = sample[1]!;
    this.#fifo[tail + 2] = sample[2]!;
    this.#entries++;
  }

  /** Recomputes INT1/INT2 and, with a clock, wakes up when the next enabled interrupt condition comes due. */
  #update(now: number): void {
    const r = this.registers;
    const active = this.#intSource() & r[Register.intEnable]!;
    const invert = (r[Register.dataFormat]! & DataFormat.intInvert) !== 0;
    const int1 = ((active & ~r[Register.intMap]!) !== 0) !== invert;
    this.#int2 = ((active & r[Register.intMap]!) !== 0) !== invert;
    if (int1 !== this.#int1) {
      this.#int1 = int1;
      this.onInterrupt?.(int1);
    }
    this.#arm(now);
  }

  #arm(now: number): void {
    const clock = this.#clock;
    if (!clock) return;
    if (this.#timer !== undefined) {
      clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (!this.#running || this.faults.stuck || this.#fifoMode() === FifoCtl.bypass) return;
    const enabled = this.registers[Register.intEnable]! & ~this.#intSource();
    let needed = 0;
    if (enabled & Int.dataReady) needed = 1;
    else if (enabled & Int.watermark)
      needed = (this.registers[Register.fifoCtl]! & FifoCtl.samplesMask) - this.#entries;
    else if (enabled & Int.overrun) needed = FIFO_DEPTH - this.#entries + 1;
    if (needed <= 0) return;
    const at = this.#runStart + ((this.#runSamples + needed) * 1000) / this.rate;
    this.#timer = clock.setTimeout(
      () => {
        this.#timer = undefined;
        const t = clock.now();
        this.#advance(t);
        this.#update(t);
      },
      Math.max(0, at - now),
    );
  }
}

Object.freeze(ADXL345Model.prototype);
