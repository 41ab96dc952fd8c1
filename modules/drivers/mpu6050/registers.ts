// MPU-6050 register map, bit fields and scale factors (InvenSense RM-MPU-6000A-00 rev 4.2 "Register Map and Descriptions",
// and PS-MPU-6000A-00 "Product Specification"); shared by driver and model.

/** Register addresses (register map §3; decimal numbers in brackets are the datasheet's "Register N"). */
export const Register = Object.freeze({
  smplrtDiv: 0x19, // [25] §4.2
  config: 0x1a, // [26] §4.3
  gyroConfig: 0x1b, // [27] §4.4
  accelConfig: 0x1c, // [28] §4.5
  fifoEn: 0x23, // [35] §4.6
  intPinCfg: 0x37, // [55]
  intEnable: 0x38, // [56]
  intStatus: 0x3a, // [58]
  accelXoutH: 0x3b, // [59]–[64]: ACCEL_XOUT_H … ACCEL_ZOUT_L, big-endian two's complement
  tempOutH: 0x41, // [65]–[66]
  gyroXoutH: 0x43, // [67]–[72]
  signalPathReset: 0x68, // [104]
  userCtrl: 0x6a, // [106]
  pwrMgmt1: 0x6b, // [107]
  pwrMgmt2: 0x6c, // [108]
  fifoCountH: 0x72, // [114] §4.30
  fifoCountL: 0x73, // [115] §4.30
  fifoRW: 0x74, // [116] §4.31
  whoAmI: 0x75, // [117]
});

/** WHO_AM_I reads 0x68 (bits 6:1 = 0b110100) whatever the AD0 pin (register map §3). */
export const DEVICE_ID = 0x68;
/** I2C addresses: AD0 low → 0x68, high → 0x69. */
export const ADDRESSES: readonly number[] = Object.freeze([0x68, 0x69]);
/** Every register resets to 0x00 except PWR_MGMT_1 (0x40: asleep) and WHO_AM_I (0x68) (register map §3). */
export const ResetValue = Object.freeze({ pwrMgmt1: 0x40 });

/** CONFIG: DLPF_CFG in bits 2:0 (§4.3). 0 and 7 bypass the filter and run the gyroscope output at 8 kHz. */
export const DLPF_MASK = 0x07;
/** Accelerometer bandwidth, Hz, per DLPF_CFG 0–6 (§4.3 table). */
export const DLPF_BANDWIDTH: readonly number[] = Object.freeze([260, 184, 94, 44, 21, 10, 5]);

/** ACCEL_CONFIG: AFS_SEL in bits 4:3 (§4.5): ±2, ±4, ±8, ±16 g. */
export const AFS_SHIFT = 3;

/** FIFO_EN bits (§4.6): data written to the FIFO at the sample rate, in register order. */
export const FifoEn = Object.freeze({ temp: 1 << 7, xg: 1 << 6, yg: 1 << 5, zg: 1 << 4, accel: 1 << 3 });

/** INT_PIN_CFG bits (Register 55): INT_LEVEL 1 = active low; LATCH_INT_EN holds INT until cleared; INT_RD_CLEAR clears on any read. */
export const IntPinCfg = Object.freeze({ activeLow: 1 << 7, openDrain: 1 << 6, latch: 1 << 5, readClear: 1 << 4 });

/** INT_ENABLE (Register 56) and INT_STATUS (Register 58) bits; INT_STATUS clears when read. */
export const Int = Object.freeze({ fifoOverflow: 1 << 4, i2cMaster: 1 << 3, dataReady: 1 << 0 });

/** USER_CTRL bits (Register 106): FIFO_RESET works while FIFO_EN is 0 and clears itself. */
export const UserCtrl = Object.freeze({
  fifoEnable: 1 << 6,
  i2cMasterEnable: 1 << 5,
  fifoReset: 1 << 2,
  i2cMasterReset: 1 << 1,
  signalReset: 1 << 0,
});

/** PWR_MGMT_1 bits (Register 107); CLKSEL 1 = PLL on the X gyroscope, InvenSense's recommended clock. */
export const PwrMgmt1 = Object.freeze({
  deviceReset: 1 << 7,
  sleep: 1 << 6,
  cycle: 1 << 5,
  tempDisable: 1 << 3,
  clockPllX: 1,
});

/** FIFO size, bytes (product specification §7.17). */
export const FIFO_BYTES = 1024;

export type Range = 2 | 4 | 8 | 16;
export const RANGES: readonly Range[] = Object.freeze([2, 4, 8, 16]);

/** Counts per g by AFS_SEL (register map, Registers 59–64 table; product specification §6.2): 16384, 8192, 4096, 2048. */
export function countsPerG(range: Range): number {
  return 32768 / range;
}

/** Gyroscope output rate, Hz: 8 kHz with the DLPF bypassed (DLPF_CFG 0 or 7), else 1 kHz (§4.2). */
export function gyroOutputRate(dlpf: number): number {
  return dlpf === 0 || dlpf === 7 ? 8000 : 1000;
}

/** Sample rate = gyroscope output rate / (1 + SMPLRT_DIV) (§4.2). */
export function sampleRate(dlpf: number, divider: number): number {
  return gyroOutputRate(dlpf) / (1 + divider);
}

/** The SMPLRT_DIV giving `rate` exactly, or −1 when no divider 0–255 does. */
export function dividerFor(rate: number, dlpf: number): number {
  const d = gyroOutputRate(dlpf) / rate - 1;
  return d === Math.floor(d) && d >= 0 && d <= 255 ? d : -1;
}

/**
 * The accelerometer itself updates at 1 kHz (§4.2 note): above 1 kHz the FIFO repeats accelerometer samples, so
 * at 1600 Hz 600 of every 1600 entries duplicate their predecessor and the usable bandwidth stays 260 Hz (DLPF_CFG 0).
 */
export const ACCEL_OUTPUT_RATE = 1000;
