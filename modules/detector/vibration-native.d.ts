// Typings of vibration-native.js (an XS host function TypeScript cannot see); present only in XS builds.
import type { VibrationNative } from "telltale/detector/vibration";

export const vibrationNative: VibrationNative;
