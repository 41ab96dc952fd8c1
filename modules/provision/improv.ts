// Improv Wi-Fi over serial, the codec: frames "IMPROV" 1 type length data sum8, RPC commands and results, no IO.
// Spec: https://www.improv-wifi.com/serial/ (packet format, packet types, RPC commands, RPC result).
import { utf8Read, utf8Size, utf8Write } from "telltale/text/utf8";

/** Packet types (byte 8). */
export const IMPROV_TYPE = Object.freeze({ currentState: 0x01, errorState: 0x02, rpc: 0x03, rpcResult: 0x04 });
/** Current-state values. */
export const IMPROV_STATE = Object.freeze({ ready: 0x02, provisioning: 0x03, provisioned: 0x04 });
/** Error-state values. */
export const IMPROV_ERROR = Object.freeze({
  none: 0x00,
  invalidRpc: 0x01,
  unknownRpc: 0x02,
  unableToConnect: 0x03,
  unknown: 0xff,
});
/** RPC command ids. */
export const IMPROV_COMMAND = Object.freeze({ wifiSettings: 0x01, currentState: 0x02, deviceInfo: 0x03, scan: 0x04 });

/** The protocol version this codec speaks (byte 7). */
export const IMPROV_VERSION = 1;
/** "IMPROV", the 6 header bytes. */
const HEADER = Object.freeze([0x49, 0x4d, 0x50, 0x52, 0x4f, 0x56]);
/** Header, version, type and length: the data starts at byte 9 (0-based). */
const DATA_AT = 9;
/** The longest frame: 9 bytes before the data, 255 of data, the checksum. */
export const IMPROV_MAX_FRAME = DATA_AT + 255 + 1;
/** A frame whose bytes stop for longer than this is dropped as truncated (ms). */
export const IMPROV_PAUSE_MS = 1000;

/** A frame or RPC that cannot be used; `code` is the error state to report (IMPROV_ERROR). */
export class ImprovError extends Error {
  override name = "ImprovError";
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

function hex(n: number): string {
  return "0x" + (n < 16 ? "0" : "") + n.toString(16);
}

/** One frame: header, version 1, `type`, the length of `data`, `data`, and the low byte of the sum of all before it. */
export function encodeFrame(type: number, data: Uint8Array): Uint8Array {
  if (data.length > 255) throw new RangeError("Improv: a frame carries at most 255 bytes of data, got " + data.length);
  const out = new Uint8Array(DATA_AT + data.length + 1);
  for (let i = 0; i < HEADER.length; i++) out[i] = HEADER[i]!;
  out[6] = IMPROV_VERSION;
  out[7] = type;
  out[8] = data.length;
  out.set(data, DATA_AT);
  let sum = 0;
  for (let i = 0; i < out.length - 1; i++) sum += out[i]!;
  out[out.length - 1] = sum & 0xff;
  return out;
}

/** A current-state or error-state frame: one byte of data. */
export function encodeByteFrame(type: number, value: number): Uint8Array {
  return encodeFrame(type, Uint8Array.of(value));
}

/** An RPC result frame for `command`: the strings, each as its UTF-8 length and bytes. */
export function encodeRpcResult(command: number, strings: readonly string[]): Uint8Array {
  let size = 0;
  for (let i = 0; i < strings.length; i++) {
    const n = utf8Size(strings[i]!);
    if (n < 0) throw new RangeError("Improv: result string " + (i + 1) + " is not valid text");
    if (n > 255) throw new RangeError("Improv: result string " + (i + 1) + " is " + n + " bytes; at most 255");
    size += 1 + n;
  }
  if (size > 253) throw new RangeError("Improv: the result strings take " + size + " bytes; at most 253");
  const data = new Uint8Array(2 + size);
  data[0] = command;
  data[1] = size;
  let at = 2;
  for (const s of strings) {
    const end = utf8Write(s, data, at + 1);
    data[at] = end - at - 1;
    at = end;
  }
  return encodeFrame(IMPROV_TYPE.rpcResult, data);
}

/** An RPC command from a frame's data: [command][length][payload]; the length must cover exactly the rest. */
export function parseRpc(data: Uint8Array): { command: number; payload: Uint8Array } {
  if (data.length < 2)
    throw new ImprovError(IMPROV_ERROR.invalidRpc, "RPC of " + data.length + " bytes; it needs a command and a length");
  const length = data[1]!;
  if (length !== data.length - 2)
    throw new ImprovError(
      IMPROV_ERROR.invalidRpc,
      "RPC " + hex(data[0]!) + " says " + length + " bytes of data, the frame carries " + (data.length - 2),
    );
  return { command: data[0]!, payload: data.subarray(2) };
}

function field(payload: Uint8Array, at: number, name: string, max: number): { text: string; end: number } {
  if (at >= payload.length)
    throw new ImprovError(IMPROV_ERROR.invalidRpc, "Wi-Fi settings end before the " + name + " length");
  const n = payload[at]!;
  const end = at + 1 + n;
  if (end > payload.length)
    throw new ImprovError(
      IMPROV_ERROR.invalidRpc,
      "the " + name + " length says " + n + " bytes, " + (payload.length - at - 1) + " follow",
    );
  if (n > max) throw new ImprovError(IMPROV_ERROR.invalidRpc, "the " + name + " is " + n + " bytes; at most " + max);
  const text = utf8Read(payload, at + 1, end);
  if (text === undefined) throw new ImprovError(IMPROV_ERROR.invalidRpc, "the " + name + " is not valid UTF-8");
  return { text, end };
}

/** The payload of "send Wi-Fi settings": [ssid length][ssid][password length][password], nothing after. */
export function parseWifiSettings(payload: Uint8Array): { ssid: string; password: string } {
  const ssid = field(payload, 0, "ssid", 32);
  const password = field(payload, ssid.end, "password", 63);
  if (password.end !== payload.length)
    throw new ImprovError(
      IMPROV_ERROR.invalidRpc,
      "Wi-Fi settings carry " + (payload.length - password.end) + " bytes after the password",
    );
  return { ssid: ssid.text, password: password.text };
}

export interface ImprovDecoderOptions {
  /** A whole frame with a good checksum; `data` is a view valid during the call only. */
  onFrame: (type: number, data: Uint8Array) => void;
  /** A frame dropped, and why; decoding goes on with the next byte. */
  onReject: (reason: string) => void;
  /** See IMPROV_PAUSE_MS. */
  pauseMs?: number;
}

/**
 * Finds frames in a byte stream shared with log lines: bytes outside a frame are skipped (and counted), a frame with
 * a wrong version or checksum or one cut short by a pause is reported and dropped, and decoding resumes at the next
 * header. One buffer of IMPROV_MAX_FRAME bytes for the decoder's life.
 */
export class ImprovDecoder {
  readonly #buffer = new Uint8Array(IMPROV_MAX_FRAME);
  readonly #onFrame: (type: number, data: Uint8Array) => void;
  readonly #onReject: (reason: string) => void;
  readonly #pauseMs: number;
  #at = 0;
  #lastByteAt = 0;
  /** Bytes skipped outside frames (log output, line noise). */
  junk = 0;
  /** Frames delivered and dropped. */
  frames = 0;
  rejected = 0;

  constructor(options: ImprovDecoderOptions) {
    this.#onFrame = options.onFrame;
    this.#onReject = options.onReject;
    this.#pauseMs = options.pauseMs ?? IMPROV_PAUSE_MS;
  }

  /** Decodes `bytes`, received at `nowMs`. Never throws for bad input; a callback's exception is the caller's. */
  push(bytes: Uint8Array, nowMs: number): void {
    if (this.#at > 0 && nowMs - this.#lastByteAt > this.#pauseMs)
      this.#reject("truncated frame: " + this.#at + " bytes, then nothing for " + (nowMs - this.#lastByteAt) + " ms");
    this.#lastByteAt = nowMs;
    for (let i = 0; i < bytes.length; i++) this.#byte(bytes[i]!);
  }

  #reject(reason: string): void {
    this.#at = 0;
    this.rejected++;
    this.#onReject(reason);
  }

  #byte(b: number): void {
    const buffer = this.#buffer;
    const at = this.#at;
    if (at < HEADER.length) {
      if (b === HEADER[at]) {
        buffer[this.#at++] = b;
        return;
      }
      // No proper prefix of "IMPROV" is also a suffix of it: on a mismatch only an "I" can start a header.
      this.junk += at;
      this.#at = 0;
      if (b === HEADER[0]) buffer[this.#at++] = b;
      else this.junk++;
      return;
    }
    buffer[this.#at++] = b;
    if (at === 6 && b !== IMPROV_VERSION) {
      this.#reject("version " + b + "; this device speaks Improv serial version " + IMPROV_VERSION);
      return;
    }
    if (at < DATA_AT) return;
    const length = buffer[8]!;
    if (at < DATA_AT + length) return;
    let sum = 0;
    for (let i = 0; i < at; i++) sum += buffer[i]!;
    sum &= 0xff;
    if (sum !== b) {
      this.#reject(
        "bad checksum: frame of type " + hex(buffer[7]!) + " ends with " + hex(b) + ", its bytes sum to " + hex(sum),
      );
      return;
    }
    this.#at = 0;
    this.frames++;
    this.#onFrame(buffer[7]!, buffer.subarray(DATA_AT, DATA_AT + length));
  }
}

// Frozen so that, preloaded, the prototypes stay in flash.
Object.freeze(ImprovError.prototype);
Object.freeze(ImprovDecoder.prototype);
