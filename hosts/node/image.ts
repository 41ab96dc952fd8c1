// The Node host's firmware image: a length-prefixed archive of the build output with a version and a SHA-256 trailer.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * Layout (integers big-endian):
 *   "TTIMG\0\0\x01" (8 bytes) · version u32 · file count u32
 *   per file: path length u16 · path (UTF-8, "/"-separated, relative) · data length u32 · data
 *   SHA-256 of everything before it (32 bytes)
 * The trailer lets the supervisor refuse a truncated or damaged image on its own, before it switches slots, whatever
 * the transport checked; the OTA manifest's SHA-256 covers the same bytes, trailer included.
 */
export const IMAGE_MAGIC = new Uint8Array([0x54, 0x54, 0x49, 0x4d, 0x47, 0, 0, 1]);
const HEADER_BYTES = 16;
const TRAILER_BYTES = 32;
export const MIN_IMAGE_BYTES = HEADER_BYTES + TRAILER_BYTES;

/** What an image of the installed build holds, relative to the install folder (tests and build/tests stay out). */
export const IMAGE_TREES: readonly string[] = [
  "build/src",
  "build/modules",
  "build/hosts",
  "build/dashboard",
  "dashboard/public",
];

export interface ImageFile {
  readonly path: string;
  readonly data: Uint8Array;
}

export interface Image {
  readonly version: number;
  readonly files: readonly ImageFile[];
  /** SHA-256 of the whole image (trailer included), hex. */
  readonly sha256: string;
}

export class ImageError extends Error {
  override name = "ImageError";
}

/**
 * The image's version for a package.json "version": MAJOR·1 000 000 + MINOR·1 000 + PATCH ("0.1.0" → 1000), so the
 * installed build has a monotonic number without a second place to keep one.
 */
export function imageVersionOf(semver: string): number {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(semver);
  if (!m || Number(m[2]) > 999 || Number(m[3]) > 999)
    throw new ImageError(`package.json version "${semver}" is not MAJOR.MINOR.PATCH with MINOR and PATCH below 1000`);
  return Number(m[1]) * 1_000_000 + Number(m[2]) * 1000 + Number(m[3]);
}

function checkPath(path: string): void {
  if (
    path.length === 0 ||
    path.startsWith("/") ||
    path.includes("\\") ||
    path.includes("\0") ||
    path.split("/").some((part) => part === "" || part === "." || part === "..")
  )
    throw new ImageError(`image file path ${JSON.stringify(path)} is not a plain relative path`);
}

export function packImage(version: number, files: readonly ImageFile[]): Uint8Array {
  if (!Number.isInteger(version) || version < 0 || version > 0xffffffff)
    throw new ImageError(`image version must be an integer in 0-4294967295, got ${version}`);
  const encoder = new TextEncoder();
  const paths = files.map((f) => {
    checkPath(f.path);
    const bytes = encoder.encode(f.path);
    if (bytes.length > 0xffff) throw new ImageError(`image file path too long: ${f.path.slice(0, 60)}…`);
    return bytes;
  });
  let total = HEADER_BYTES + TRAILER_BYTES;
  files.forEach((f, i) => (total += 2 + paths[i]!.length + 4 + f.data.length));
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(IMAGE_MAGIC, 0);
  view.setUint32(8, version);
  view.setUint32(12, files.length);
  let at = HEADER_BYTES;
  files.forEach((f, i) => {
    const path = paths[i]!;
    view.setUint16(at, path.length);
    out.set(path, at + 2);
    at += 2 + path.length;
    view.setUint32(at, f.data.length);
    out.set(f.data, at + 4);
    at += 4 + f.data.length;
  });
  out.set(createHash("sha256").update(out.subarray(0, at)).digest(), at);
  return out;
}

/** Reads an image, refusing (ImageError naming the problem) a truncated, damaged or malformed one. */
export function parseImage(bytes: Uint8Array): Image {
  if (bytes.length < MIN_IMAGE_BYTES)
    throw new ImageError(`image truncated: ${bytes.length} bytes, shorter than its ${MIN_IMAGE_BYTES}-byte frame`);
  for (let i = 0; i < IMAGE_MAGIC.length; i++)
    if (bytes[i] !== IMAGE_MAGIC[i]) throw new ImageError("not a Telltale Node image (bad magic)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8);
  const count = view.getUint32(12);
  const end = bytes.length - TRAILER_BYTES;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const files: ImageFile[] = [];
  let at = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (at + 2 > end) throw new ImageError(`image truncated: it ends inside file ${i + 1} of ${count}`);
    const pathLength = view.getUint16(at);
    if (at + 2 + pathLength + 4 > end)
      throw new ImageError(`image truncated: it ends inside file ${i + 1} of ${count}`);
    let path: string;
    try {
      path = decoder.decode(bytes.subarray(at + 2, at + 2 + pathLength));
    } catch {
      throw new ImageError(`image file ${i + 1} has a path that is not UTF-8`);
    }
    checkPath(path);
    at += 2 + pathLength;
    const dataLength = view.getUint32(at);
    if (at + 4 + dataLength > end)
      throw new ImageError(`image truncated: it ends inside ${path} (file ${i + 1} of ${count})`);
    files.push({ path, data: bytes.subarray(at + 4, at + 4 + dataLength) });
    at += 4 + dataLength;
  }
  if (at !== end) throw new ImageError(`image has ${end - at} stray bytes after its ${count} files`);
  const digest = createHash("sha256").update(bytes.subarray(0, end)).digest();
  for (let i = 0; i < TRAILER_BYTES; i++)
    if (digest[i] !== bytes[end + i]) throw new ImageError("image damaged: its SHA-256 trailer does not match");
  return { version, files, sha256: createHash("sha256").update(bytes).digest("hex") };
}

/** The version field of an image's header, without checking the rest. */
export function imageHeaderVersion(bytes: Uint8Array): number | undefined {
  if (bytes.length < HEADER_BYTES) return undefined;
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8);
}

function collect(root: string, relative: string, out: ImageFile[]): void {
  const full = join(root, relative);
  if (!existsSync(full)) return;
  if (statSync(full).isDirectory()) {
    for (const name of readdirSync(full).sort()) collect(root, relative + "/" + name, out);
  } else out.push({ path: relative, data: readFileSync(full) });
}

/**
 * An image of the build installed at `root` (its package.json and IMAGE_TREES), as `version` (default: from
 * package.json). `replace` swaps files' contents by path (tests make a broken build this way).
 */
export function packBuild(root: string, version?: number, replace?: Readonly<Record<string, string>>): Uint8Array {
  const files: ImageFile[] = [];
  collect(root, "package.json", files);
  if (files.length === 0) throw new ImageError(`no package.json in ${root}`);
  for (const tree of IMAGE_TREES) collect(root, tree, files);
  const encoder = new TextEncoder();
  for (const [path, text] of Object.entries(replace ?? {})) {
    const data = encoder.encode(text);
    const i = files.findIndex((f) => f.path === path);
    if (i >= 0) files[i] = { path, data };
    else files.push({ path, data });
  }
  const pkg = JSON.parse(new TextDecoder().decode(files[0]!.data)) as { version?: unknown };
  return packImage(version ?? imageVersionOf(String(pkg.version)), files);
}
