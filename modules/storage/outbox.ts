// The durable outbox: messages kept in an append-only log of flash segments until acknowledged, bounded by a drop policy.
import type { Flash } from "telltale/io/io";
import { CRC32_INIT, crc32Final, crc32Update } from "telltale/storage/crc32";

/** Record kinds. Telemetry may be dropped to make room; an alarm never is. */
export const TELEMETRY = 0;
export const ALARM = 1;

/*
 * A segment is one erase block. Records are appended one after another, each starting on a 4-byte boundary:
 *   0  magic 0x7E 0xB0
 *   2  flags: bits 0-1 kind, bits 2-3 QoS, bit 4 retain (bits 5-7 zero)
 *   3  mark: 0xFF while pending; programmed to 0x00 once acknowledged or dropped (outside the CRC, so it can be
 *      written later without an erase: NOR flash only clears bits)
 *   4  sequence number, uint32 little-endian
 *   8  body length (topic + payload), uint16 LE
 *  10  topic length, uint16 LE
 *  12  CRC-32 (LE) of bytes 0-2 and 4-11 and the body
 *  16  body: topic (UTF-8) then payload
 * A record is written with one flash write, so a power cut leaves a prefix of it. Recovery scans each segment
 * from its start; the first record that fails its magic, flags, length or CRC ends the segment (it is the write
 * that was torn), and nothing more is appended to that segment.
 */
const HEADER = 16;
const MAGIC0 = 0x7e,
  MAGIC1 = 0xb0;
const PENDING = 0xff;

// Segment states. DIRTY segments hold nothing live and are erased when next needed, so an acknowledgement never
// waits for an erase (tens of milliseconds on ESP32).
const FREE = 0,
  DIRTY = 1,
  ACTIVE = 2,
  SEALED = 3;

// Index flags: bits 0-4 are the record's own flags; SENT is RAM-only, for the sender's cursor.
const KIND_MASK = 0x03;
const SENT = 0x40;
const REMOVED = 0x80;

const DONE_MARK = Uint8Array.of(0);

export interface OutboxOptions {
  /** The flash (or partition) the log owns entirely: at least two erase blocks. */
  flash: Flash;
  /** Records the RAM index holds (9 bytes each); default byteLength / 128, between 16 and 4096. */
  maxRecords?: number;
}

export interface OutboxRecord {
  seq: number;
  kind: number;
  qos: number;
  retain: boolean;
  topic: Uint8Array;
  payload: Uint8Array;
}

/** What recovery found in flash when the outbox was opened. */
export interface OutboxRecovery {
  /** Pending records found (acknowledged ones are not counted). */
  pending: number;
  /** Segments whose tail held a torn record or erase: the records before it were kept. */
  torn: number;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function erased(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0xff) return false;
  return true;
}

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

function u16(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8);
}

function recordCrc(bytes: Uint8Array, at: number, bodyLength: number): number {
  let crc = crc32Update(CRC32_INIT, bytes, at, at + 3);
  crc = crc32Update(crc, bytes, at + 4, at + 12);
  return crc32Final(crc32Update(crc, bytes, at + HEADER, at + HEADER + bodyLength));
}

// The aligned size of a valid record at `at` in a segment image, or 0 when none is there (torn or garbage).
function validRecord(bytes: Uint8Array, at: number, end: number): number {
  if (bytes[at] !== MAGIC0 || bytes[at + 1] !== MAGIC1 || (bytes[at + 2]! & 0xe0) !== 0) return 0;
  const length = u16(bytes, at + 8);
  if (u16(bytes, at + 10) > length || at + HEADER + length > end) return 0;
  if (recordCrc(bytes, at, length) !== u32(bytes, at + 12)) return 0;
  return align4(HEADER + length);
}

/**
 * A bounded store-and-forward queue on flash. `append()` makes a record durable before it returns;
 * `ack()` marks it done with a one-byte write; a segment whose records are all done is reclaimed.
 * When a new record does not fit, the segment holding the oldest pending telemetry is evicted: its
 * pending alarms are copied forward (keeping their sequence numbers, so order is unchanged) into
 * the one segment always kept free for this, its telemetry is dropped and counted, and it is erased.
 * The sender walks pending records in sequence order per kind with `next()`; `rewind()` starts over
 * after a reconnect. Sequence numbers are uint32 and assumed never to wrap.
 */
export class Outbox {
  readonly #flash: Flash;
  readonly #blockSize: number;
  readonly #segments: number;
  readonly #state: Uint8Array;
  readonly #live: Uint16Array;
  #active = -1;
  #writeAt = 0;
  #nextSeq = 1;

  // The index: pending records in sequence order, in a ring. Entries are flagged REMOVED when done and
  // leave the ring when they reach its head (or when the ring is compacted).
  readonly #capacity: number;
  readonly #seqs: Uint32Array;
  readonly #offsets: Uint32Array;
  readonly #flags: Uint8Array;
  #head = 0;
  #count = 0;
  // Per kind: logical index before which every entry of that kind is sent or removed.
  readonly #cursor = [0, 0, 0, 0];
  readonly #pendingOf = [0, 0, 0, 0];
  #pending = 0;
  #dropped = 0;
  #droppedAlarms = 0;
  readonly recovery: OutboxRecovery;

  constructor(options: OutboxOptions) {
    const flash = options?.flash;
    if (
      typeof flash !== "object" ||
      flash === null ||
      typeof flash.read !== "function" ||
      typeof flash.write !== "function" ||
      typeof flash.erase !== "function"
    )
      throw new TypeError('Outbox: option "flash" must provide read(), write() and erase()');
    const blockSize = flash.blockSize,
      byteLength = flash.byteLength;
    if (!Number.isInteger(blockSize) || blockSize < 64 || blockSize > 65536)
      throw new RangeError("Outbox: flash blockSize must be 64-65536 bytes, got " + String(blockSize));
    const segments = Math.floor(byteLength / blockSize);
    if (!(segments >= 2))
      throw new RangeError(
        "Outbox: flash must hold at least 2 blocks of " + blockSize + " bytes, got " + String(byteLength),
      );
    const maxRecords = options.maxRecords ?? Math.min(4096, Math.max(16, Math.floor(byteLength / 128)));
    if (!Number.isInteger(maxRecords) || maxRecords < 1)
      throw new RangeError('Outbox: option "maxRecords" must be a positive integer');
    this.#flash = flash;
    this.#blockSize = blockSize;
    this.#segments = segments;
    this.#state = new Uint8Array(segments);
    this.#live = new Uint16Array(segments);

    const found = this.#scan();
    const torn = found.pop()!;
    const entries = found.length / 3;
    this.#capacity = Math.max(maxRecords, entries);
    this.#seqs = new Uint32Array(this.#capacity);
    this.#offsets = new Uint32Array(this.#capacity);
    this.#flags = new Uint8Array(this.#capacity);
    // Entries sorted by sequence; a record copied forward by an interrupted eviction appears twice: keep one.
    const order: number[] = [];
    for (let i = 0; i < entries; i++) order.push(i);
    order.sort((a, b) => found[3 * a]! - found[3 * b]!);
    let last = -1;
    for (const i of order) {
      const seq = found[3 * i]!;
      if (seq === last) {
        // The copy not indexed must not come back after the kept one is acknowledged.
        try {
          flash.write(found[3 * i + 1]! + 3, DONE_MARK);
        } catch {
          /* a failing flash shows up on the next append */
        }
        continue;
      }
      last = seq;
      this.#push(seq, found[3 * i + 1]!, found[3 * i + 2]!);
    }
    for (let s = 0; s < segments; s++)
      if (this.#state[s] === SEALED && this.#live[s] === 0 && s !== this.#active) this.#state[s] = DIRTY;
    this.recovery = Object.freeze({ pending: this.#pending, torn });
  }

  /** Records appended and not yet acknowledged (or dropped). */
  get pending(): number {
    return this.#pending;
  }
  /** Records lost to the capacity policy since the outbox was opened (old telemetry evicted, new records refused). */
  get dropped(): number {
    return this.#dropped;
  }
  /** New alarms refused because every segment was full of pending alarms (never old ones evicted). */
  get droppedAlarms(): number {
    return this.#droppedAlarms;
  }
  /** Segments that are erased or reclaimable. */
  get freeSegments(): number {
    let n = 0;
    for (let s = 0; s < this.#segments; s++) if (this.#state[s]! <= DIRTY) n++;
    return n;
  }
  get segments(): number {
    return this.#segments;
  }
  /** The sequence number the next record will get. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Pending records of one kind. */
  pendingOf(kind: number): number {
    return this.#pendingOf[kind & KIND_MASK]!;
  }

  /**
   * Appends a record and returns its sequence number once it is in flash, or -1 when the policy refused it
   * (counted in `dropped`). Throws when the record cannot fit in a segment, or when the flash fails.
   */
  append(kind: number, qos: number, retain: boolean, topic: Uint8Array, payload: Uint8Array): number {
    if (kind !== TELEMETRY && kind !== ALARM)
      throw new RangeError("Outbox: kind must be TELEMETRY or ALARM, got " + String(kind));
    if (qos !== 0 && qos !== 1 && qos !== 2) throw new RangeError("Outbox: qos must be 0, 1 or 2, got " + String(qos));
    const bodyLength = topic.length + payload.length;
    const size = align4(HEADER + bodyLength);
    if (topic.length > 0xffff || size > this.#blockSize)
      throw new RangeError(
        "Outbox: a record of " +
          (HEADER + bodyLength) +
          " bytes does not fit in a " +
          this.#blockSize +
          "-byte segment",
      );
    if (!this.#makeRoom(size)) {
      this.#dropped++;
      if (kind === ALARM) this.#droppedAlarms++;
      return -1;
    }
    const seq = this.#nextSeq++;
    const flags = kind | (qos << 2) | (retain ? 0x10 : 0);
    const record = new Uint8Array(HEADER + bodyLength);
    record[0] = MAGIC0;
    record[1] = MAGIC1;
    record[2] = flags;
    record[3] = PENDING;
    record[4] = seq & 0xff;
    record[5] = (seq >>> 8) & 0xff;
    record[6] = (seq >>> 16) & 0xff;
    record[7] = seq >>> 24;
    record[8] = bodyLength & 0xff;
    record[9] = bodyLength >> 8;
    record[10] = topic.length & 0xff;
    record[11] = topic.length >> 8;
    record.set(topic, HEADER);
    record.set(payload, HEADER + topic.length);
    const crc = recordCrc(record, 0, bodyLength);
    record[12] = crc & 0xff;
    record[13] = (crc >>> 8) & 0xff;
    record[14] = (crc >>> 16) & 0xff;
    record[15] = crc >>> 24;
    const offset = this.#active * this.#blockSize + this.#writeAt;
    this.#write(offset, record);
    this.#writeAt += size;
    this.#push(seq, offset, flags);
    return seq;
  }

  /** Marks a record done (its PUBACK arrived); false when it is not pending. */
  ack(seq: number): boolean {
    const i = this.#find(seq);
    if (i < 0) return false;
    const p = (this.#head + i) % this.#capacity;
    this.#flash.write(this.#offsets[p]! + 3, DONE_MARK);
    this.#remove(p);
    this.#trim();
    return true;
  }

  /** Reads a pending record back from flash; undefined when it is not pending. */
  read(seq: number): OutboxRecord | undefined {
    const i = this.#find(seq);
    if (i < 0) return undefined;
    const offset = this.#offsets[(this.#head + i) % this.#capacity]!;
    const header = new Uint8Array(this.#flash.read(offset, HEADER));
    const length = u16(header, 8),
      topicLength = u16(header, 10);
    const bytes = new Uint8Array(HEADER + length);
    bytes.set(header, 0);
    bytes.set(new Uint8Array(this.#flash.read(offset + HEADER, length)), HEADER);
    if (u32(header, 4) !== seq || validRecord(bytes, 0, bytes.length) === 0)
      throw new Error("Outbox: record " + seq + " at flash offset " + offset + " no longer matches its CRC");
    const flags = header[2]!;
    return {
      seq,
      kind: flags & KIND_MASK,
      qos: (flags >> 2) & 3,
      retain: (flags & 0x10) !== 0,
      topic: bytes.subarray(HEADER, HEADER + topicLength),
      payload: bytes.subarray(HEADER + topicLength),
    };
  }

  /** The oldest pending record of `kind` not yet handed out since `rewind()`, or -1; it is marked sent. */
  next(kind: number): number {
    const i = this.#unsent(kind & KIND_MASK);
    if (i < 0) return -1;
    const p = (this.#head + i) % this.#capacity;
    this.#flags[p]! |= SENT;
    this.#cursor[kind & KIND_MASK] = i + 1;
    return this.#seqs[p]!;
  }

  /** Like next() without marking: the sequence number next() would return, or -1. */
  peek(kind: number): number {
    const i = this.#unsent(kind & KIND_MASK);
    return i < 0 ? -1 : this.#seqs[(this.#head + i) % this.#capacity]!;
  }

  /** Makes a record handed out by next() due again (its send failed). */
  unsend(seq: number): void {
    const i = this.#find(seq);
    if (i < 0) return;
    const p = (this.#head + i) % this.#capacity;
    this.#flags[p]! &= ~SENT;
    const kind = this.#flags[p]! & KIND_MASK;
    if (i < this.#cursor[kind]!) this.#cursor[kind] = i;
  }

  /** Every pending record becomes due again, oldest first (a new connection). */
  rewind(): void {
    for (let i = 0; i < this.#count; i++) this.#flags[(this.#head + i) % this.#capacity]! &= ~SENT;
    this.#cursor.fill(0);
  }

  // ------------------------------------------------------------ recovery

  // Scans every segment and sets segment states; returns [seq, offset, flags]* of pending records, then the torn count.
  #scan(): number[] {
    const blockSize = this.#blockSize;
    const found: number[] = [];
    let maxSeq = 0,
      bestSeq = -1,
      torn = 0;
    for (let s = 0; s < this.#segments; s++) {
      const bytes = new Uint8Array(this.#flash.read(s * blockSize, blockSize));
      let at = 0,
        records = 0,
        highest = 0,
        open = true;
      while (at + HEADER <= blockSize) {
        if (erased(bytes, at, at + HEADER)) {
          // Free space must be erased to its end; anything else is a torn erase or write.
          if (!erased(bytes, at, blockSize)) {
            open = false;
            torn++;
          }
          break;
        }
        const size = validRecord(bytes, at, blockSize);
        if (size === 0) {
          open = false;
          torn++;
          break;
        }
        const seq = u32(bytes, at + 4);
        records++;
        if (seq > highest) highest = seq;
        if (bytes[at + 3] === PENDING) found.push(seq, s * blockSize + at, bytes[at + 2]! & 0x1f);
        at += size;
      }
      if (highest > maxSeq) maxSeq = highest;
      if (records === 0) this.#state[s] = open && at === 0 ? FREE : DIRTY;
      else {
        this.#state[s] = SEALED;
        // Appends continue in the open segment holding the newest record.
        if (open && highest > bestSeq) {
          bestSeq = highest;
          this.#active = s;
          this.#writeAt = at;
        }
      }
    }
    if (this.#active >= 0) this.#state[this.#active] = ACTIVE;
    this.#nextSeq = maxSeq + 1;
    found.push(torn);
    return found;
  }

  // ------------------------------------------------------------ space

  // Ensures the active segment has `size` bytes free, applying the policy; false when only alarms are left.
  #makeRoom(size: number): boolean {
    if (this.#count === this.#capacity) this.#compact();
    if (this.#count === this.#capacity) {
      const i = this.#oldestTelemetry();
      if (i < 0) return false;
      const p = (this.#head + i) % this.#capacity;
      this.#flash.write(this.#offsets[p]! + 3, DONE_MARK);
      this.#remove(p);
      this.#dropped++;
      this.#trim();
      this.#compact();
    }
    for (;;) {
      if (this.#active >= 0 && this.#writeAt + size <= this.#blockSize) return true;
      if (this.#active >= 0) this.#seal();
      // One free segment is kept back so that an eviction has somewhere to copy alarms to.
      if (this.freeSegments >= 2) {
        this.#open(this.#takeFree());
        continue;
      }
      const victim = this.#victim();
      if (victim < 0) return false;
      this.#evict(victim);
    }
  }

  // The segment holding the oldest pending telemetry; when it also holds alarms and no segment is free to copy
  // them to (only after an eviction was cut short), any segment whose pending records are all telemetry.
  #victim(): number {
    const i = this.#oldestTelemetry();
    if (i < 0) return -1;
    const s = Math.floor(this.#offsets[(this.#head + i) % this.#capacity]! / this.#blockSize);
    if (this.freeSegments > 0 || !this.#holdsAlarm(s)) return s;
    for (let t = 0; t < this.#segments; t++) if (this.#live[t]! > 0 && !this.#holdsAlarm(t)) return t;
    return -1;
  }

  #holdsAlarm(s: number): boolean {
    for (let i = 0; i < this.#count; i++) {
      const p = (this.#head + i) % this.#capacity;
      const f = this.#flags[p]!;
      if (!(f & REMOVED) && (f & KIND_MASK) !== TELEMETRY && Math.floor(this.#offsets[p]! / this.#blockSize) === s)
        return true;
    }
    return false;
  }

  #seal(): void {
    const s = this.#active;
    this.#active = -1;
    this.#state[s] = this.#live[s] === 0 ? DIRTY : SEALED;
  }

  // A free segment, the next after the last one written so that wear spreads over the whole flash.
  #takeFree(): number {
    for (let k = 1; k <= this.#segments; k++) {
      const s = (this.#lastOpened + k) % this.#segments;
      if (this.#state[s]! <= DIRTY) return s;
    }
    return -1;
  }
  #lastOpened = -1;

  #open(s: number): void {
    if (this.#state[s] === DIRTY) this.#flash.erase(s);
    this.#state[s] = ACTIVE;
    this.#active = s;
    this.#writeAt = 0;
    this.#lastOpened = s;
  }

  // Drops the victim segment's pending telemetry and copies its pending alarms into a fresh segment, then erases it.
  #evict(victim: number): void {
    const blockSize = this.#blockSize;
    const alarms = this.#holdsAlarm(victim);
    if (alarms) {
      if (this.#active >= 0) this.#seal();
      const target = this.#takeFree();
      if (target < 0) throw new Error("Outbox: no free segment to copy alarms to");
      this.#open(target);
    }
    // Copies first, erase last: a power cut in between leaves both copies, and recovery keeps one.
    for (let i = 0; i < this.#count; i++) {
      const p = (this.#head + i) % this.#capacity;
      const f = this.#flags[p]!;
      const offset = this.#offsets[p]!;
      if (f & REMOVED || Math.floor(offset / blockSize) !== victim) continue;
      if ((f & KIND_MASK) === TELEMETRY) {
        this.#remove(p);
        this.#dropped++;
        continue;
      }
      const header = new Uint8Array(this.#flash.read(offset, HEADER));
      const record = new Uint8Array(this.#flash.read(offset, HEADER + u16(header, 8)));
      const to = this.#active * blockSize + this.#writeAt;
      this.#write(to, record);
      this.#writeAt += align4(record.length);
      // The original is marked done at once, so a cut before the erase leaves at most one record twice.
      this.#flash.write(offset + 3, DONE_MARK);
      this.#live[victim]!--;
      this.#live[this.#active]!++;
      this.#offsets[p] = to;
    }
    this.#flash.erase(victim);
    this.#state[victim] = FREE;
    this.#trim();
  }

  // One flash write of a whole record; a failure leaves the active segment's tail unknown, so it is sealed.
  #write(offset: number, record: Uint8Array): void {
    try {
      this.#flash.write(offset, record);
    } catch (e) {
      if (this.#active >= 0) this.#seal();
      throw e;
    }
  }

  // ------------------------------------------------------------ index

  #push(seq: number, offset: number, flags: number): void {
    const p = (this.#head + this.#count) % this.#capacity;
    this.#seqs[p] = seq;
    this.#offsets[p] = offset;
    this.#flags[p] = flags & 0x1f;
    this.#count++;
    this.#pending++;
    this.#pendingOf[flags & KIND_MASK]!++;
    this.#live[Math.floor(offset / this.#blockSize)]!++;
  }

  #remove(p: number): void {
    const f = this.#flags[p]!;
    this.#flags[p] = f | REMOVED;
    this.#pending--;
    this.#pendingOf[f & KIND_MASK]!--;
    const s = Math.floor(this.#offsets[p]! / this.#blockSize);
    // Reclaimed: erased lazily, when a segment is next needed.
    if (--this.#live[s]! === 0 && this.#state[s] === SEALED) this.#state[s] = DIRTY;
  }

  // Drops removed entries from the head of the ring.
  #trim(): void {
    let n = 0;
    while (this.#count > 0 && this.#flags[this.#head]! & REMOVED) {
      this.#head = (this.#head + 1) % this.#capacity;
      this.#count--;
      n++;
    }
    if (n > 0) for (let k = 0; k < 4; k++) this.#cursor[k] = this.#cursor[k]! > n ? this.#cursor[k]! - n : 0;
  }

  // Squeezes removed entries out of the whole ring (when it is full of them behind a pending head).
  #compact(): void {
    const c = this.#capacity;
    let kept = 0;
    for (let i = 0; i < this.#count; i++) {
      const from = (this.#head + i) % c;
      if (this.#flags[from]! & REMOVED) continue;
      const to = (this.#head + kept) % c;
      this.#seqs[to] = this.#seqs[from]!;
      this.#offsets[to] = this.#offsets[from]!;
      this.#flags[to] = this.#flags[from]!;
      kept++;
    }
    this.#count = kept;
    this.#cursor.fill(0);
  }

  #oldestTelemetry(): number {
    for (let i = 0; i < this.#count; i++) {
      const f = this.#flags[(this.#head + i) % this.#capacity]!;
      if (!(f & REMOVED) && (f & KIND_MASK) === TELEMETRY) return i;
    }
    return -1;
  }

  #unsent(kind: number): number {
    for (let i = this.#cursor[kind]!; i < this.#count; i++) {
      const f = this.#flags[(this.#head + i) % this.#capacity]!;
      if (!(f & (REMOVED | SENT)) && (f & KIND_MASK) === kind) {
        this.#cursor[kind] = i;
        return i;
      }
    }
    this.#cursor[kind] = this.#count;
    return -1;
  }

  // Logical index of a pending record by sequence number (binary search: the ring is in sequence order), or -1.
  #find(seq: number): number {
    let lo = 0,
      hi = this.#count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const p = (this.#head + mid) % this.#capacity;
      const s = this.#seqs[p]!;
      if (s === seq) return this.#flags[p]! & REMOVED ? -1 : mid;
      if (s < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(Outbox.prototype);
