// InvenSense MPU-6050 accelerometer driver (ECMA-419 sensor class pattern): accelerometer frames through the FIFO, burst-read.
import type { AccelWindow } from "telltale/drivers/accelerometer/window";
import { checkAddress } from "telltale/drivers/part";
import {
  FifoAccelerometer,
  integerOption,
  choiceOption,
  views,
  type FifoAccelerometerOptions,
} from "telltale/drivers/accelerometer/fifo-accelerometer";
import {
  Register,
  DEVICE_ID,
  ADDRESSES,
  AFS_SHIFT,
  FifoEn,
  IntPinCfg,
  Int,
  UserCtrl,
  PwrMgmt1,
  FIFO_BYTES,
  RANGES,
  countsPerG,
  dividerFor,
  type Range,
} from "telltale/drivers/mpu6050/registers";

export interface MPU6050Settings {
  /** ±g full scale (default 4: 8192 LSB/g, room for 1 g of gravity plus 3 g of vibration). */
  range?: Range;
  /**
   * FIFO sample rate, Hz (default 1600): the gyroscope output rate (8 kHz with dlpf 0, else 1 kHz) divided by an integer
   * 1–256 (SMPLRT_DIV, §4.2). The accelerometer itself updates at 1 kHz, so above 1000 Hz entries repeat.
   */
  rate?: number;
  /** DLPF_CFG 0–6 (§4.3): accelerometer bandwidth 260 (default), 184, 94, 44, 21, 10, 5 Hz. */
  dlpf?: number;
}

export interface MPU6050Options extends FifoAccelerometerOptions, MPU6050Settings {}

const NAME = "MPU-6050";
/** Bytes per FIFO frame: ACCEL_XOUT_H … ACCEL_ZOUT_L only (FIFO_EN = ACCEL_FIFO_EN). */
const FRAME = 6;
/** Frames per I2C burst: 192 bytes, a size every ESP32 I2C driver handles in one transaction. */
const BURST_FRAMES = 32;

/**
 * The MPU-6050 has no FIFO watermark interrupt (INT_ENABLE offers FIFO overflow, I2C master and data ready only), so the
 * host clock polls every half-FIFO fill time (85 frames: 53 ms at 1600 Hz). A wired INT pin carries the FIFO-overflow
 * interrupt (latched, active high), so an overflow is drained and counted at once rather than at the next poll.
 * After an overflow the FIFO has lost bytes, not frames (1024 is not a multiple of 6): the driver counts it and resets
 * the FIFO, because no later byte can be trusted to start a frame.
 */
export default class MPU6050 extends FifoAccelerometer {
  #range: Range;
  #rateHz: number;
  #dlpf: number;
  readonly #burst = new Uint8Array(BURST_FRAMES * FRAME);
  /** The burst's first n frames as a view, for n = 1 … 32 (index n − 1): a burst of any length is read in place. */
  readonly #bursts = views(
    this.#burst,
    BURST_FRAMES,
    () => 0,
    (i) => (i + 1) * FRAME,
  );

  constructor(options: MPU6050Options) {
    const s = validate(options ?? {}, { range: 4, rate: 1600, dlpf: 0 });
    const address = checkAddress(NAME, options?.sensor?.address, ADDRESSES);
    super(NAME, options);
    this.#range = s.range;
    this.#rateHz = s.rate;
    this.#dlpf = s.dlpf;
    this.#format();
    this.begin(options.sensor, address, 400_000, () => {
      const id = this.readRegister(Register.whoAmI);
      if (id !== DEVICE_ID) throw new Error("WHO_AM_I is 0x" + id.toString(16) + ", not 0x" + DEVICE_ID.toString(16));
      // Wake with the recommended clock, stop the FIFO and interrupts, then program from a known state.
      this.writeRegister(Register.pwrMgmt1, PwrMgmt1.clockPllX);
      this.writeRegister(Register.pwrMgmt2, 0);
      this.writeRegister(Register.intEnable, 0);
      this.writeRegister(Register.gyroConfig, 0);
      // Latched, active-high, push-pull INT, cleared by reading INT_STATUS (Register 55).
      this.writeRegister(Register.intPinCfg, IntPinCfg.latch);
      this.writeRegister(Register.userCtrl, UserCtrl.signalReset); // clears the measurement registers
      this.#program();
    });
  }

  get configuration(): Required<MPU6050Settings> & { interrupt: boolean } {
    return { range: this.#range, rate: this.#rateHz, dlpf: this.#dlpf, interrupt: this.interruptWired };
  }

  /** Changes only the settings given; any change resets the FIFO and restarts the window. */
  configure(options: MPU6050Settings): void {
    this.check();
    const s = validate(options ?? {}, { range: this.#range, rate: this.#rateHz, dlpf: this.#dlpf });
    this.#range = s.range;
    this.#rateHz = s.rate;
    this.#dlpf = s.dlpf;
    this.#format();
    this.#program();
    this.restartWindow();
  }

  protected pollPeriod(): number {
    return this.pollOption ?? Math.max(1, Math.floor((((FIFO_BYTES / FRAME / 2) | 0) * 1000) / this.#rateHz));
  }

  /** INT_STATUS (clears the latched pin), FIFO_COUNT (H then L in one burst, §4.30), then bursts from FIFO_R_W. */
  protected drainFifo(window: AccelWindow): number {
    const status = this.readRegister(Register.intStatus);
    if (status & Int.fifoOverflow) {
      this.overflowed();
      this.#resetFifo();
      return 0;
    }
    let frames = (this.readPair(Register.fifoCountH) / FRAME) | 0;
    const burst = this.#burst;
    let moved = 0;
    while (frames > 0) {
      const n = frames < BURST_FRAMES ? frames : BURST_FRAMES;
      this.readBlock(Register.fifoRW, this.#bursts[n - 1]!);
      window.writeBE(burst, 0, n);
      frames -= n;
      moved += n;
    }
    return moved;
  }

  #format(): void {
    this.setFormat(this.#rateHz, countsPerG(this.#range), -32768, 32767);
  }

  #program(): void {
    this.writeRegister(Register.userCtrl, 0); // FIFO off while the rate and format change
    this.writeRegister(Register.fifoEn, 0);
    this.writeRegister(Register.config, this.#dlpf);
    this.writeRegister(Register.smplrtDiv, dividerFor(this.#rateHz, this.#dlpf));
    this.writeRegister(Register.accelConfig, RANGES.indexOf(this.#range) << AFS_SHIFT);
    this.writeRegister(Register.fifoEn, FifoEn.accel);
    this.#resetFifo();
    this.writeRegister(Register.intEnable, Int.fifoOverflow);
    this.readRegister(Register.intStatus); // clear anything latched before
  }

  /** FIFO_RESET needs FIFO_EN = 0 in the same write (Register 106); then the FIFO runs again. */
  #resetFifo(): void {
    this.writeRegister(Register.userCtrl, UserCtrl.fifoReset);
    this.writeRegister(Register.userCtrl, UserCtrl.fifoEnable);
  }
}

function validate(o: MPU6050Settings, d: Required<MPU6050Settings>): Required<MPU6050Settings> {
  const range = choiceOption(NAME, "range", o.range, d.range, RANGES);
  const dlpf = integerOption(NAME, "dlpf", o.dlpf, d.dlpf, 0, 6);
  const rate = o.rate ?? d.rate;
  if (typeof rate !== "number" || dividerFor(rate, dlpf) < 0)
    throw new RangeError(
      NAME +
        ': option "rate" must divide ' +
        (dlpf === 0 ? 8000 : 1000) +
        " Hz by an integer 1–256 (e.g. " +
        (dlpf === 0 ? "8000, 4000, 2000, 1600, 1000, 800, 500" : "1000, 500, 250, 200, 100") +
        "), got " +
        String(o.rate),
    );
  return { range, rate, dlpf };
}

Object.freeze(MPU6050.prototype);
