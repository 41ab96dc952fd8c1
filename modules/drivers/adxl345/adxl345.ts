// Analog Devices ADXL345 accelerometer driver (ECMA-419 sensor class pattern): FIFO in stream mode, drained without loss.
import type { AccelWindow } from "telltale/drivers/accelerometer/window";
import { checkAddress } from "telltale/drivers/part";
import {
  FifoAccelerometer,
  integerOption,
  choiceOption,
  booleanOption,
  views,
  type FifoAccelerometerOptions,
} from "telltale/drivers/accelerometer/fifo-accelerometer";
import {
  Register,
  DEVICE_ID,
  ADDRESSES,
  DataFormat,
  FifoCtl,
  Int,
  PowerCtl,
  FIFO_DEPTH,
  RANGES,
  RATES,
  rateCode,
  rangeCode,
  countsPerG,
  outputBits,
  type Range,
} from "telltale/drivers/adxl345/registers";

export interface ADXL345Settings {
  /** ±g full scale (default 16: in full resolution every range keeps 3.9 mg/LSB, so the widest costs nothing). */
  range?: Range;
  /** Output data rate, Hz: 3200, 1600 (default), 800 … 6.25 (BW_RATE, Table 7). */
  rate?: number;
  /** Full resolution, 256 LSB/g on every range (default true); false: fixed 10-bit. */
  fullResolution?: boolean;
  /** FIFO entries that raise the watermark interrupt, 1–31 (default 16: half the FIFO, leaving 16 periods to drain). */
  watermark?: number;
}

export interface ADXL345Options extends FifoAccelerometerOptions, ADXL345Settings {}

const NAME = "ADXL345";

/**
 * The FIFO runs in stream mode (FIFO_CTL 0b10): it always holds the newest 32 samples and sets the overrun bit in
 * INT_SOURCE when a sample was overwritten before it was read. With `interrupt`, the watermark is routed to INT1
 * (active high) and each rising edge drains; without, the host clock polls every watermark/rate seconds.
 * Each FIFO entry is popped by one 6-byte read of DATAX0…DATAZ1 (multi-byte reads do not cross into the next entry).
 */
export default class ADXL345 extends FifoAccelerometer {
  #range: Range;
  #rateHz: number;
  #full: boolean;
  #watermark: number;
  /** One drain's worth of entries, 6 bytes each (the FIFO holds 32; FIFO_STATUS can report one more in the output stage). */
  readonly #burst = new Uint8Array((FIFO_DEPTH + 1) * 6);
  /** Entry i of the burst as its own 6-byte view, so each entry is read in place. */
  readonly #entries = views(
    this.#burst,
    FIFO_DEPTH + 1,
    (i) => i * 6,
    () => 6,
  );

  constructor(options: ADXL345Options) {
    const s = validate(options ?? {}, {
      range: 16,
      rate: 1600,
      fullResolution: true,
      watermark: 16,
    });
    const address = checkAddress(NAME, options?.sensor?.address, ADDRESSES);
    super(NAME, options);
    this.#range = s.range;
    this.#rateHz = s.rate;
    this.#full = s.fullResolution;
    this.#watermark = s.watermark;
    this.#format();
    this.begin(options.sensor, address, 400_000, () => {
      const id = this.readRegister(Register.devid);
      if (id !== DEVICE_ID) throw new Error("DEVID is 0x" + id.toString(16) + ", not 0x" + DEVICE_ID.toString(16));
      // There is no reset command: every register the driver relies on is written, starting from standby.
      this.writeRegister(Register.powerCtl, 0);
      this.writeRegister(Register.intEnable, 0);
      this.writeRegister(Register.intMap, 0);
      this.writeRegister(Register.ofsx, 0);
      this.writeRegister(Register.ofsy, 0);
      this.writeRegister(Register.ofsz, 0);
      this.#program();
    });
  }

  get configuration(): Required<ADXL345Settings> & { interrupt: boolean } {
    return {
      range: this.#range,
      rate: this.#rateHz,
      fullResolution: this.#full,
      watermark: this.#watermark,
      interrupt: this.interruptWired,
    };
  }

  /** Changes only the settings given; a change of rate or format restarts the FIFO and the window. */
  configure(options: ADXL345Settings): void {
    this.check();
    const s = validate(options ?? {}, {
      range: this.#range,
      rate: this.#rateHz,
      fullResolution: this.#full,
      watermark: this.#watermark,
    });
    this.#range = s.range;
    this.#rateHz = s.rate;
    this.#full = s.fullResolution;
    this.#watermark = s.watermark;
    this.#format();
    this.writeRegister(Register.powerCtl, 0);
    this.#program();
    this.restartWindow();
  }

  protected pollPeriod(): number {
    if (this.interruptWired) return 0;
    return this.pollOption ?? Math.max(1, Math.floor((this.#watermark * 1000) / this.#rateHz));
  }

  /** Two status reads, then one 6-byte read per entry; decoding happens once for the whole burst. */
  protected drainFifo(window: AccelWindow): number {
    // Overrun is cleared by reading the FIFO, so it is read first ("Register 0x30—INT_SOURCE").
    if (this.readRegister(Register.intSource) & Int.overrun) this.overflowed();
    let n = this.readRegister(Register.fifoStatus) & 0x3f;
    if (n > FIFO_DEPTH + 1) n = FIFO_DEPTH + 1;
    const burst = this.#burst;
    const entries = this.#entries;
    for (let i = 0; i < n; i++) this.readBlock(Register.dataX0, entries[i]!);
    if (n > 0) window.writeLE(burst, 0, n);
    return n;
  }

  #format(): void {
    const bits = outputBits(this.#range, this.#full);
    this.setFormat(this.#rateHz, countsPerG(this.#range, this.#full), -(1 << (bits - 1)), (1 << (bits - 1)) - 1);
  }

  /** From standby: data format, rate, FIFO (bypass clears it, then stream), interrupt routing, then measure. */
  #program(): void {
    this.writeRegister(Register.dataFormat, (this.#full ? DataFormat.fullResolution : 0) | rangeCode(this.#range));
    this.writeRegister(Register.bwRate, rateCode(this.#rateHz));
    this.writeRegister(Register.fifoCtl, FifoCtl.bypass);
    this.writeRegister(Register.fifoCtl, FifoCtl.stream | this.#watermark);
    this.writeRegister(Register.intMap, 0); // every source on INT1
    this.writeRegister(Register.intEnable, this.interruptWired ? Int.watermark : 0);
    this.writeRegister(Register.powerCtl, PowerCtl.measure);
  }
}

function validate(o: ADXL345Settings, d: Required<ADXL345Settings>): Required<ADXL345Settings> {
  return {
    range: choiceOption(NAME, "range", o.range, d.range, RANGES),
    rate: choiceOption(NAME, "rate", o.rate, d.rate, RATES),
    fullResolution: booleanOption(NAME, "fullResolution", o.fullResolution, d.fullResolution),
    // 0 would set the watermark bit at once; 32 would only trigger with a full FIFO, one sample from overrun.
    watermark: integerOption(NAME, "watermark", o.watermark, d.watermark, 1, 31),
  };
}

Object.freeze(ADXL345.prototype);
