// VibrationFrontEnd.write() as an XS host function (vibration-native.c); exists only in XS builds.
// Hand-written JavaScript, not TypeScript: `@ "xs_…"` binds a function to C, which TypeScript cannot express. The app
// hands it to VibrationFrontEnd through options (hosts/esp32 and hosts/sim set Host.vibrationNative); Node has no such
// module and runs the TypeScript loops, which are the reference the C reproduces bit for bit.
function write(samples, byteOffset, frames, state, shape) @ "xs_vibration_write";

export const vibrationNative = Object.freeze({ write });
