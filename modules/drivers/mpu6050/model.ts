// Register-level model of an MPU-6050 on a simulated I2C bus: registers, sample rate, 1024-byte FIFO, INT pin, faults.
import { I2CNack, type I2CDeviceModel } from "telltale/sim/i2c-bus";
import type { Clock } from "telltale/io/io";
import {
  Register,
  DEVICE_ID,
  ResetValue,
  DLPF_MASK,
  AFS_SHIFT,
  FifoEn,
  IntPinCfg,
  Int,
  UserCtrl,
  PwrMgmt1,
  FIFO_BYTES,
  RANGES,
  countsPerG,
  sampleRate,
  ACCEL_OUTPUT_RATE,
} from "telltale/drivers/mpu6050/registers";

/** The motion the chip feels. */
export interface Motion {
  /** Acceleration on `axis` (0 x, 1 y, 2 z) at time `now` (ms), m/s². */
  vibration(now: number, axis: number): number;
}

export interface MPU6050Faults {
  /** NACK every transfer. */
  nack: boolean;
  /** Sampling stops: nothing new reaches the data registers or the FIFO. */
  stuck: boolean;
  /** Every new accelerometer sample repeats the last one. */
  frozen: boolean;
  /** Every new accelerometer sample reads full scale (+32767). */
  outOfRange: boolean;
}

export interface MPU6050ModelOptions {
  motion: Motion;
  /** With a clock the model wakes itself when an enabled interrupt comes due, so INT moves on time. */
  clock?: Clock;
  /** Die temperature reported in TEMP_OUT, °C (default 25). */
  temperature?: number;
}

const STANDARD_GRAVITY = 9.80665;

/**
 * Samples are produced lazily at the sample rate (sample k of a run at start + k / rate) whenever the controller
 * touches the chip, and when an enabled interrupt comes due. Each sample writes the enabled sensor registers to the
 * FIFO in register order (§4.31); a full FIFO loses its oldest bytes, byte by byte, and sets FIFO_OFLOW_INT — so after
 * an overflow the FIFO no longer starts on a frame boundary (1024 is not a multiple of 6).
 */
export class MPU6050Model implements I2CDeviceModel {
  readonly faults: MPU6050Faults = { nack: false, stuck: false, frozen: false, outOfRange: false };
  readonly registers = new Uint8Array(128);
  /** Called with the INT pin's new electrical level (true = high) whenever it changes. */
  onInterrupt: ((level: boolean) => void) | undefined;
  samplesProduced = 0;

  readonly #motion: Motion;
  readonly #clock: Clock | undefined;
  readonly #temperature: number;
  readonly #fifo = new Uint8Array(FIFO_BYTES);
  #head = 0;
  #count = 0;
  /** FIFO_COUNT as last latched by a read of FIFO_COUNTH (§4.30). */
  #countShadow = 0;
  #lastFifoByte = 0;
  #status = 0;
  #pointer = 0;
  #running = false;
  #runStart = 0;
  #runSamples = 0;
  #timer: unknown;
  #level = false;
  /** Non-latched mode: the pulse for the current event was sent. */
  #pulsed = false;
  readonly #frame = new Uint8Array(14);
  readonly #accel = new Int16Array(3);

  constructor(options: MPU6050ModelOptions) {
    this.#motion = options.motion;
    this.#clock = options.clock;
    this.#temperature = options.temperature ?? 25;
    this.#reset();
  }

  /** Electrical level of the INT pin. */
  get interrupt(): boolean {
    return this.#level;
  }
  /** Bytes in the FIFO (for tests). */
  get fifoCount(): number {
    return this.#count;
  }
  /** The sample rate now configured, Hz. */
  get rate(): number {
    return sampleRate(this.registers[Register.config]! & DLPF_MASK, this.registers[Register.smplrtDiv]!);
  }

  write(bytes: Uint8Array, now: number): void {
    if (this.faults.nack) throw new I2CNack("MPU-6050 model: NACK (injected)");
    this.#advance(now);
    if (bytes.length === 0) return;
    this.#pointer = bytes[0]! & 0x7f;
    for (let i = 1; i < bytes.length; i++) {
      this.#store(this.#pointer, bytes[i]!, now);
      if (this.#pointer !== Register.fifoRW) this.#pointer = (this.#pointer + 1) & 0x7f;
    }
    this.#update(now);
  }

  read(count: number, now: number): Uint8Array {
    if (this.faults.nack) throw new I2CNack("MPU-6050 model: NACK (injected)");
    this.#advance(now);
    const out = new Uint8Array(count);
    let clear = (this.registers[Register.intPinCfg]! & IntPinCfg.readClear) !== 0;
    for (let i = 0; i < count; i++) {
      const address = this.#pointer;
      if (address === Register.intStatus) clear = true;
      out[i] = this.#load(address);
      // FIFO_R_W does not auto-increment: a burst read keeps popping the FIFO (§4.31).
      if (address !== Register.fifoRW) this.#pointer = (address + 1) & 0x7f;
    }
    if (clear) this.#status = 0;
    this.#update(now);
    return out;
  }

  #reset(): void {
    this.registers.fill(0);
    this.registers[Register.pwrMgmt1] = ResetValue.pwrMgmt1;
    this.registers[Register.whoAmI] = DEVICE_ID;
    this.#head = this.#count = this.#countShadow = 0;
    this.#status = 0;
    this.#running = false;
  }

  #store(address: number, value: number, now: number): void {
    switch (address) {
      case Register.whoAmI:
      case Register.intStatus:
      case Register.fifoCountH:
      case Register.fifoCountL:
        return;
      case Register.fifoRW:
        this.#push1(value);
        return;
      case Register.pwrMgmt1:
        if (value & PwrMgmt1.deviceReset) {
          this.#reset();
          return;
        }
        this.registers[address] = value;
        this.#restart(now);
        return;
      case Register.userCtrl:
        // FIFO_RESET acts while FIFO_EN is 0; the reset bits clear themselves (Register 106).
        if (value & UserCtrl.fifoReset && !(value & UserCtrl.fifoEnable)) this.#head = this.#count = 0;
        if (value & UserCtrl.signalReset) this.registers.fill(0, Register.accelXoutH, Register.gyroXoutH + 6);
        this.registers[address] = value & ~(UserCtrl.fifoReset | UserCtrl.i2cMasterReset | UserCtrl.signalReset);
        return;
      case Register.smplrtDiv:
      case Register.config:
        this.registers[address] = value;
        this.#restart(now);
        return;
    }
    if (address >= Register.accelXoutH && address < Register.gyroXoutH + 6) return; // read-only measurements
    this.registers[address] = value;
  }

  #load(address: number): number {
    switch (address) {
      case Register.intStatus:
        return this.#status;
      case Register.fifoCountH:
        this.#countShadow = this.#count;
        return this.#countShadow >> 8;
      case Register.fifoCountL:
        return this.#countShadow & 0xff;
      case Register.fifoRW:
        // An empty FIFO returns the last byte read again (§4.31).
        if (this.#count === 0) return this.#lastFifoByte;
        this.#lastFifoByte = this.#fifo[this.#head]!;
        this.#head = (this.#head + 1) % FIFO_BYTES;
        this.#count--;
        return this.#lastFifoByte;
    }
    return this.registers[address]!;
  }

  #restart(now: number): void {
    this.#running = (this.registers[Register.pwrMgmt1]! & PwrMgmt1.sleep) === 0;
    this.#runStart = now;
    this.#runSamples = 0;
  }

  #frameBytes(): number {
    const en = this.registers[Register.fifoEn]!;
    return (
      (en & FifoEn.accel ? 6 : 0) +
      (en & FifoEn.temp ? 2 : 0) +
      (en & FifoEn.xg ? 2 : 0) +
      (en & FifoEn.yg ? 2 : 0) +
      (en & FifoEn.zg ? 2 : 0)
    );
  }

  #advance(now: number): void {
    if (!this.#running) return;
    if (this.faults.stuck) {
      this.#runStart = now;
      this.#runSamples = 0;
      return;
    }
    const rate = this.rate;
    const due = Math.floor(((now - this.#runStart) * rate) / 1000 + 1e-9);
    let k = this.#runSamples + 1;
    const bytes = this.#frameBytes();
    // With more due than the FIFO holds, only the newest `keep` samples can remain: producing just those leaves the
    // same bytes, with the same frame alignment, as producing all of them (their pushes overflow on their own).
    const keep = bytes > 0 ? Math.ceil(FIFO_BYTES / bytes) + 1 : 1;
    if (due - k + 1 > keep) k = due - keep + 1;
    for (; k <= due; k++) this.#produce(this.#runStart + (k * 1000) / rate, bytes);
    this.#runSamples = due;
  }

  #produce(at: number, bytes: number): void {
    this.samplesProduced++;
    const r = this.registers,
      accel = this.#accel;
    const perG = countsPerG(RANGES[(r[Register.accelConfig]! >> AFS_SHIFT) & 3]!);
    if (!(this.faults.frozen && this.samplesProduced > 1)) {
      // The accelerometer updates at 1 kHz whatever the sample rate (§4.2 note): use the latest 1 ms tick.
      const tick = Math.floor((at * ACCEL_OUTPUT_RATE) / 1000 + 1e-9) * (1000 / ACCEL_OUTPUT_RATE);
      for (let axis = 0; axis < 3; axis++) {
        let c = this.faults.outOfRange
          ? 32767
          : Math.round((this.#motion.vibration(tick, axis) / STANDARD_GRAVITY) * perG);
        if (c > 32767) c = 32767;
        else if (c < -32768) c = -32768;
        accel[axis] = c;
      }
    }
    const f = this.#frame;
    for (let axis = 0; axis < 3; axis++) {
      f[axis * 2] = (accel[axis]! >> 8) & 0xff;
      f[axis * 2 + 1] = accel[axis]! & 0xff;
    }
    const temp = Math.round((this.#temperature - 36.53) * 340); // TEMP_OUT: °C = raw / 340 + 36.53 (Registers 65–66)
    f[6] = (temp >> 8) & 0xff;
    f[7] = temp & 0xff;
    f.fill(0, 8, 14); // the shaft is not turning the sensor: zero rate
    r.set(f, Register.accelXoutH);
    this.#status |= Int.dataReady;
    if (bytes === 0 || !(r[Register.userCtrl]! & UserCtrl.fifoEnable)) return;
    const en = r[Register.fifoEn]!;
    if (en & FifoEn.accel) for (let i = 0; i < 6; i++) this.#push1(f[i]!);
    if (en & FifoEn.temp) {
      this.#push1(f[6]);
      this.#push1(f[7]);
    }
    if (en & FifoEn.xg) {
      this.#push1(f[8]!);
      this.#push1(f[9]!);
    }
    if (en & FifoEn.yg) {
      this.#push1(f[10]!);
      this.#push1(f[11]!);
    }
    if (en & FifoEn.zg) {
      this.#push1(f[12]!);
      this.#push1(f[13]!);
    }
  }

  /** One byte into the FIFO; when full, the oldest byte is lost and FIFO_OFLOW_INT is set (§4.31). */
  #push1(value: number): void {
    if (this.#count === FIFO_BYTES) {
      this.#head = (this.#head + 1) % FIFO_BYTES;
      this.#count--;
      this.#status |= Int.fifoOverflow;
    }
    this.#fifo[(this.#head + this.#count) % FIFO_BYTES] = value;
    this.#count++;
  }

  /** INT follows INT_STATUS & INT_ENABLE when latched; otherwise a 50 µs pulse per event, seen here as an edge. */
  #update(now: number): void {
    const r = this.registers;
    const active = (this.#status & r[Register.intEnable]!) !== 0;
    const lowActive = (r[Register.intPinCfg]! & IntPinCfg.activeLow) !== 0;
    if (r[Register.intPinCfg]! & IntPinCfg.latch) this.#setLevel(active !== lowActive);
    else if (active && !this.#pulsed) {
      this.#pulsed = true;
      this.#setLevel(!lowActive);
      this.#setLevel(lowActive);
    }
    if (!active) this.#pulsed = false;
    this.#arm(now);
  }

  #setLevel(level: boolean): void {
    if (level === this.#level) return;
    this.#level = level;
    this.onInterrupt?.(level);
  }

  #arm(now: number): void {
    const clock = this.#clock;
    if (!clock) return;
    if (this.#timer !== undefined) {
      clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (!this.#running || this.faults.stuck) return;
    const enabled = this.registers[Register.intEnable]! & ~this.#status;
    let needed = 0;
    if (enabled & Int.dataReady) needed = 1;
    else if (enabled & Int.fifoOverflow && this.registers[Register.userCtrl]! & UserCtrl.fifoEnable) {
      const bytes = this.#frameBytes();
      if (bytes > 0) needed = Math.floor((FIFO_BYTES - this.#count) / bytes) + 1;
    }
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

Object.freeze(MPU6050Model.prototype);
