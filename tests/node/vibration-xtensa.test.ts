// The vibration front end's C (modules/detector/vibration-native.c) on a 32-bit Xtensa core: compiled by Debian's
// gcc-xtensa-lx106 at the device's -Os, run bare metal on QEMU's lx106 "sim" machine (tests/xtensa/), and compared
// with the TypeScript front end in Node over random shapes, signals and FIFO block sizes. The ESP32's LX6 is another
// Xtensa core with another compiler build; what this checks is the C's integer arithmetic (int16 loads, arithmetic
// shifts of negatives, the int64 Goertzel product, uint32 wrapping) on a 32-bit little-endian ISA rather than x86-64.
// Needs gcc-xtensa-lx106, binutils-xtensa-lx106 and qemu-system-misc (Debian; .ci/run installs them).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VibrationFrontEnd, coefficientQ14 } from "telltale/detector/vibration";
import { xorshift32 } from "../support/xorshift.js";

const root = new URL("../../../", import.meta.url).pathname;
const sources = join(root, "tests/xtensa");
const CASES = 48;

interface Case {
  axes: number;
  bands: number[];
  rate: number;
  windowShift: number;
  dcShift: number;
  frames: Int16Array;
  blocks: number[];
}

/** Random shapes and signals: quiet noise, a tone with an offset and impulses, full-scale square, raw int16 noise. */
function makeCase(r: () => number): Case {
  const axes = 1 + (r() % 3),
    rate = [800, 1600, 3200][r() % 3]!,
    windowShift = 6 + (r() % 5),
    dcShift = 1 + (r() % 14),
    kind = r() % 4,
    windows = 2 + (r() % 3);
  const bands: number[] = [];
  for (let k = r() % 9; k > 0; k--) bands.push(1 + (r() % (rate / 2 - 1)));
  const count = windows << windowShift,
    frames = new Int16Array(count * axes);
  for (let i = 0; i < count; i++)
    for (let a = 0; a < axes; a++) {
      const x = r();
      const tone = Math.round(6000 * Math.sin((2 * Math.PI * 37 * (a + 1) * i) / rate));
      frames[i * axes + a] =
        kind === 0
          ? (x % 201) - 100
          : kind === 1
            ? Math.max(-32768, Math.min(32767, tone + 3000 * a + ((x % 4001) - 2000) + (i % 97 === 0 ? 20000 : 0)))
            : kind === 2
              ? (i >> 4) % 2 === 0
                ? 32767
                : -32768
              : (x & 0xffff) - 32768;
    }
  const blocks: number[] = [];
  for (let left = count; left > 0;) {
    const n = Math.min(left, 1 + (r() % 64));
    blocks.push(n);
    left -= n;
  }
  return { axes, bands, rate, windowShift, dcShift, frames, blocks };
}

/**
 * A full-scale tone at a band's own frequency (25 Hz at 1600, a period of 64 frames) over windows of 4096: the
 * Goertzel state grows by about 2^15 / (2 sin(2π/64)) per frame and reaches its ±(2^27 − 1) saturation within each window.
 */
function resonant(): Case {
  const rate = 1600,
    windowShift = 12,
    count = 2 << windowShift,
    frames = new Int16Array(count);
  for (let i = 0; i < count; i++) frames[i] = Math.max(-32768, Math.round(32767 * Math.cos((2 * Math.PI * i) / 64)));
  const blocks: number[] = [];
  for (let left = count; left > 0; left -= 64) blocks.push(Math.min(64, left));
  return { axes: 1, bands: [rate / 64, 400], rate, windowShift, dcShift: 7, frames, blocks };
}

/** FNV-1a over every write()'s return (+ 0x10000 at a window's end) and the features at each window's end. */
function typescriptHash(c: Case): string {
  const fe = new VibrationFrontEnd({
    axes: c.axes,
    bands: c.bands,
    sampleRate: c.rate,
    windowShift: c.windowShift,
    dcShift: c.dcShift,
  });
  let h = 0x811c9dc5,
    start = 0;
  const mix = (v: number): void => {
    h = Math.imul(h ^ v, 0x01000193) >>> 0;
  };
  for (const n of c.blocks) {
    for (let off = 0; off < n;) {
      const used = fe.write(c.frames, start + off, n - off);
      mix(used | (fe.ready ? 0x10000 : 0));
      if (fe.ready) for (let k = 0; k < fe.features.length; k++) mix(fe.features[k]!);
      assert.ok(used > 0, "write() consumed nothing");
      off += used;
    }
    start += n;
  }
  return h.toString(16).padStart(8, "0");
}

function header(cases: Case[]): string {
  const shapes = cases.map(
    (c) => `{${c.axes}, ${c.bands.length}, ${c.windowShift}, ${c.dcShift}, ${c.frames.length / c.axes}}`,
  );
  const coefs = cases.map((c) => `{${[...c.bands.map((f) => coefficientQ14(f, c.rate)), 0].join(", ")}}`);
  const frames = cases.flatMap((c) => [...c.frames]);
  const blocks = cases.flatMap((c) => c.blocks);
  return [
    `#define CASE_COUNT ${cases.length}`,
    `static const int32_t shapes[${cases.length}][5] = {${shapes.join(", ")}};`,
    `static const int32_t coefs[${cases.length}][9] = {${coefs.join(", ")}};`,
    `static const int16_t frames[${frames.length}] = {${frames.join(",")}};`,
    `static const uint8_t blocks[${blocks.length}] = {${blocks.join(",")}};`,
    "",
  ].join("\n");
}

test("vibration-native-c-on-an-xtensa-core-matches-the-typescript", () => {
  const next = xorshift32(0x5eed1234),
    r = () => next() >>> 0;
  const cases = [...Array.from({ length: CASES - 1 }, () => makeCase(r)), resonant()];
  const dir = mkdtempSync(join(tmpdir(), "telltale-xtensa-"));
  try {
    writeFileSync(join(dir, "cases.h"), header(cases));
    const elf = join(dir, "harness.elf");
    const cc = spawnSync(
      "xtensa-lx106-elf-gcc",
      [
        "-Os",
        "-Wall",
        "-Werror",
        "-mlongcalls",
        "-mtext-section-literals",
        "-ffreestanding",
        "-nostdlib",
        "-I",
        dir,
        "-T",
        join(sources, "link.ld"),
        "-o",
        elf,
        join(sources, "start.S"),
        join(sources, "harness.c"),
        join(sources, "runtime.c"),
        "-lgcc",
      ],
      { encoding: "utf8" },
    );
    assert.equal(cc.error, undefined, "xtensa-lx106-elf-gcc is missing: apt-get install -y gcc-xtensa-lx106");
    assert.equal(cc.status, 0, "xtensa-lx106-elf-gcc failed:\n" + cc.stderr);
    const run = spawnSync(
      "qemu-system-xtensa",
      ["-M", "sim", "-cpu", "lx106", "-semihosting", "-nographic", "-monitor", "none", "-kernel", elf],
      { encoding: "utf8", timeout: 120_000 },
    );
    assert.equal(run.error, undefined, "qemu-system-xtensa is missing: apt-get install -y qemu-system-misc");
    assert.equal(run.status, 0, "the harness exited " + String(run.status) + ":\n" + run.stdout + run.stderr);
    const lines = run.stdout.trim().split("\n");
    assert.equal(lines.length, CASES, "one line per case:\n" + run.stdout);
    for (let i = 0; i < CASES; i++) {
      const c = cases[i]!;
      assert.equal(
        lines[i],
        `case ${i} ${typescriptHash(c)}`,
        `case ${i}: ${c.axes} axes, bands [${c.bands.join(", ")}] at ${c.rate} Hz, windowShift ${c.windowShift}, dcShift ${c.dcShift}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
