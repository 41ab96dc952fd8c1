// The durable outbox: messages kept in an append-only log of flash segments until acknowledged, bounded by a drop policy.
import type { Flash } from "telltale/io/io";
import { CRC32_INIT, crc32Final, crc32Update } from "telltale/storage/crc32";
import { messageOf } from "telltale/errors/message";

/** Record kinds. Telemetry may be dropped to make room; an alarm never is. */
export const TELEMETRY = 0;
export const ALARM = 1;
/** A boot stamp: the device's boot counter, kept in flash so message identity outlives a lost store. Not a message. */
const BOOT = 2;

/*
 * A segment is one or more erase blocks: as many as a boot stamp and the largest record need (`maxRecordBytes`), so
 * every record fits in one segment and none spans two (a record never has halves reclaimed apart; the cost is the tail
 * a segment cannot use, up to one largest record). Records are appended one after another, each starting on a 4-byte
 * boundary:
 *   0  magic 0x7E 0xB0
 *   2  flags: bits 0-1 kind, bits 2-3 QoS, bit 4 retain (bits 5-7 zero)
 *   3  mark: 0xFF while pending; programmed to 0x00 once acknowledged or dropped (outside the CRC, so it can be
 *      written later without an erase: NOR flash only clears bits). A mark with at most one bit cleared still reads
 *      as pending (a flipped bit loses nothing; an acknowledgement cut after its first bit is sent again)
 *   4  sequence number, uint32 little-endian
 *   8  body length (topic + payload), uint16 LE
 *  10  topic length, uint16 LE
 *  12  CRC-32 (LE) of bytes 0-2 and 4-11 and the body
 *  16  body: topic (UTF-8) then payload
 * A boot stamp is a record of kind 2, marked done when written, whose 4-byte body is the boot counter (uint32 LE).
 * Once the app has stamped a boot, every segment opened starts with a stamp, so the newest one is always in flash.
 * A record is written with one flash write, so a power cut leaves a prefix of it. Recovery walks each segment from
 * record to record; where a record fails its magic, flags, length or CRC it resynchronises at the next valid record
 * on the 4-byte grid, so damage costs the damaged record only. What lies between is classified: a prefix with only
 * erased bytes after it is a torn write (power cut, at the tail); erased bytes then leftovers are an interrupted
 * erase; anything followed by a valid record, or a complete record failing its CRC, is damage, and every pending
 * record in it is counted lost. Recovery programs the first 4 bytes of what it reported to zero (a tombstone), so the
 * next start does not count it again. Nothing is appended after a gap in the same segment. Every record in a segment
 * is marked done before the segment is erased, so a half-finished erase can never bring a message back.
 */
const HEADER = 16;
const STAMP = HEADER + 4;
const MAGIC0 = 0x7e,
  MAGIC1 = 0xb0;
const PENDING = 0xff;
const DONE = 0x00;
/** Descriptions of damage kept for the start log line. */
const MAX_PROBLEMS = 8;

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

const DONE_MARK = Uint8Array.of(DONE);
const TOMBSTONE = Uint8Array.of(0, 0, 0, 0);

export interface OutboxOptions {
  /** The flash (or partition) the log owns entirely: at least two segments. */
  flash: Flash;
  /** Records the RAM index holds (9 bytes each); default byteLength / 128, between 16 and 4096. */
  maxRecords?: number;
  /**
   * The largest record (topic + payload bytes) to accept; a segment is as many erase blocks as that needs.
   * Default: what fits in one block (blockSize - 36).
   */
  maxRecordBytes?: number;
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
  /** Writes cut short at a segment's tail (power cuts) and interrupted erases: the records before them were kept. */
  torn: number;
  /** Pending records lost to damage (a record failing its CRC where a power cut cannot explain it). */
  damaged: number;
  /** How many of the damaged records were alarms. */
  damagedAlarms: number;
  /** Where the damage was, for the log: "record 12 (alarm) at offset 8200" (at most 8 entries). */
  problems: readonly string[];
  /** The highest boot stamp found: 0 when none. */
  boot: number;
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

// The header of a record could start at `at`: magic, flags and a length that ends before `end`.
function plausible(bytes: Uint8Array, at: number, end: number): boolean {
  if (at + HEADER > end || bytes[at] !== MAGIC0 || bytes[at + 1] !== MAGIC1 || (bytes[at + 2]! & 0xe0) !== 0)
    return false;
  return u16(bytes, at + 10) <= u16(bytes, at + 8) && at + HEADER + u16(bytes, at + 8) <= end;
}

// The aligned size of a valid record at `at` in a segment image, or 0 when none is there (torn, damaged or garbage).
function validRecord(bytes: Uint8Array, at: number, end: number): number {
  if (!plausible(bytes, at, end)) return 0;
  const length = u16(bytes, at + 8);
  if (recordCrc(bytes, at, length) !== u32(bytes, at + 12)) return 0;
  return align4(HEADER + length);
}

// A mark with at most one bit cleared is still pending: one flipped bit must not lose a message, and an acknowledgement
// cut off after its first bit is merely sent again (a duplicate the consumer drops by boot and seq).
function pendingMark(mark: number): boolean {
  const cleared = ~mark & 0xff;
  return (cleared & (cleared - 1)) === 0;
}

function kindName(kind: number): string {
  return kind === ALARM ? "alarm" : kind === TELEMETRY ? "telemetry" : "kind " + kind;
}

function encode(kind: number, flags: number, mark: number, seq: number, topic: Uint8Array, payload: Uint8Array) {
  const bodyLength = topic.length + payload.length;
  const record = new Uint8Array(HEADER + bodyLength);
  record[0] = MAGIC0;
  record[1] = MAGIC1;
  record[2] = kind | flags;
  record[3] = mark;
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
  return record;
}

/**
 * A bounded store-and-forward queue on flash. `append()` makes a record durable before it returns;
 * `ack()` marks it done with a one-byte write; a segment whose records are all done is reclaimed.
 * When a new record does not fit, the segment holding the oldest pending telemetry is evicted: its
 * pending alarms are copied forward (keeping their sequence numbers, so order is unchanged) into
 * the one segment always kept free for this, its telemetry is dropped and counted, and it is erased.
 * The sender walks pending records in sequence order per kind with `next()`; `rewind()` starts over
 * after a reconnect. Sequence numbers are uint32 and assumed never to wrap. Every record lost is counted
 * by reason: `evicted` (old telemetry, for room), `full` (new records refused when only alarms are left),
 * `damaged` (found at start or on read back). RAM: 9 bytes per index entry and 3 per segment.
 */
export class Outbox {
  readonly #flash: Flash;
  readonly #blockSize: number;
  /** Erase blocks per segment, and the segment's size in bytes. */
  readonly #blocks: number;
  readonly #segmentSize: number;
  readonly #segments: number;
  readonly #maxRecordBytes: number;
  readonly #state: Uint8Array;
  readonly #live: Uint16Array;
  #active = -1;
  #writeAt = 0;
  #nextSeq = 1;
  /** The highest boot counter known (found in flash or stamped), and the one the active segment's last stamp holds. */
  #boot = 0;
  #activeStamp = 0;

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
  // Losses since the outbox was opened, by reason.
  #evicted = 0;
  #full = 0;
  #fullAlarms = 0;
  #damaged = 0;
  #damagedAlarms = 0;
  // Recovery's findings, while scanning.
  #torn = 0;
  readonly #problems: string[] = [];
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
    if (!Number.isInteger(blockSize) || blockSize < 64 || blockSize > 65536 || blockSize % 4 !== 0)
      throw new RangeError(
        "Outbox: flash blockSize must be a multiple of 4 from 64 to 65536, got " + String(blockSize),
      );
    const maxRecordBytes = options.maxRecordBytes ?? blockSize - HEADER - STAMP;
    if (!Number.isInteger(maxRecordBytes) || maxRecordBytes < 1 || maxRecordBytes > 0xffff)
      throw new RangeError('Outbox: option "maxRecordBytes" must be an integer from 1 to 65535');
    // Room for a boot stamp and the largest record after it.
    const blocks = Math.ceil((STAMP + align4(HEADER + maxRecordBytes)) / blockSize);
    const segments = Math.floor(byteLength / (blocks * blockSize));
    if (!(segments >= 2))
      throw new RangeError(
        "Outbox: flash must hold at least 2 segments of " +
          blocks * blockSize +
          " bytes (" +
          blocks +
          " block(s) of " +
          blockSize +
          ", for records of up to " +
          maxRecordBytes +
          " bytes), got " +
          String(byteLength),
      );
    const maxRecords = options.maxRecords ?? Math.min(4096, Math.max(16, Math.floor(byteLength / 128)));
    if (!Number.isInteger(maxRecords) || maxRecords < 1)
      throw new RangeError('Outbox: option "maxRecords" must be a positive integer');
    this.#flash = flash;
    this.#blockSize = blockSize;
    this.#blocks = blocks;
    this.#segmentSize = blocks * blockSize;
    this.#segments = segments;
    this.#maxRecordBytes = maxRecordBytes;
    this.#state = new Uint8Array(segments);
    this.#live = new Uint16Array(segments);

    const found = this.#scan();
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
        this.#markDone(found[3 * i + 1]!);
        continue;
      }
      last = seq;
      this.#push(seq, found[3 * i + 1]!, found[3 * i + 2]!);
    }
    for (let s = 0; s < segments; s++)
      if (this.#state[s] === SEALED && this.#live[s] === 0 && s !== this.#active) this.#state[s] = DIRTY;
    this.recovery = Object.freeze({
      pending: this.#pending,
      torn: this.#torn,
      damaged: this.#damaged,
      damagedAlarms: this.#damagedAlarms,
      problems: Object.freeze(this.#problems.slice()),
      boot: this.#boot,
    });
  }

  /** Records appended and not yet acknowledged (or dropped). */
  get pending(): number {
    return this.#pending;
  }
  /** Records lost since the outbox was opened, for every reason: evicted + full + damaged. */
  get dropped(): number {
    return this.#evicted + this.#full + this.#damaged;
  }
  /** Old telemetry dropped to make room for new records (never an alarm). */
  get evicted(): number {
    return this.#evicted;
  }
  /** New records refused because every segment was full of pending alarms. */
  get full(): number {
    return this.#full;
  }
  /** Pending records found damaged in flash, at recovery or when read back. */
  get damaged(): number {
    return this.#damaged;
  }
  /** Alarms lost: new ones refused by a full outbox, and damaged ones (an old alarm is never evicted). */
  get droppedAlarms(): number {
    return this.#fullAlarms + this.#damagedAlarms;
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
  /** Bytes per segment: a whole number of erase blocks. */
  get segmentSize(): number {
    return this.#segmentSize;
  }
  /** The largest record (topic + payload bytes) `append()` takes. */
  get maxRecordBytes(): number {
    return this.#maxRecordBytes;
  }
  /** The sequence number the next record will get. */
  get nextSeq(): number {
    return this.#nextSeq;
  }
  /** The highest boot counter in flash (found at open, or stamped since): 0 when none. */
  get boot(): number {
    return this.#boot;
  }

  /** Pending records of one kind. */
  pendingOf(kind: number): number {
    return this.#pendingOf[kind & KIND_MASK]!;
  }

  /**
   * Appends a record and returns its sequence number once it is in flash, or -1 when the policy refused it
   * (counted in `full`). Throws when the record is over `maxRecordBytes`, or when the flash fails.
   */
  append(kind: number, qos: number, retain: boolean, topic: Uint8Array, payload: Uint8Array): number {
    if (kind !== TELEMETRY && kind !== ALARM)
      throw new RangeError("Outbox: kind must be TELEMETRY or ALARM, got " + String(kind));
    if (qos !== 0 && qos !== 1 && qos !== 2) throw new RangeError("Outbox: qos must be 0, 1 or 2, got " + String(qos));
    const bodyLength = topic.length + payload.length;
    if (bodyLength > this.#maxRecordBytes)
      throw new RangeError(
        "Outbox: a record of " + bodyLength + " bytes is over the " + this.#maxRecordBytes + "-byte limit",
      );
    const size = align4(HEADER + bodyLength);
    if (!this.#makeRoom(size)) {
      this.#full++;
      if (kind === ALARM) this.#fullAlarms++;
      return -1;
    }
    const seq = this.#nextSeq++;
    const flags = kind | (qos << 2) | (retain ? 0x10 : 0);
    const offset = this.#active * this.#segmentSize + this.#writeAt;
    this.#write(offset, encode(kind, flags, PENDING, seq, topic, payload));
    this.#writeAt += size;
    this.#push(seq, offset, flags);
    return seq;
  }

  /**
   * Keeps `boot` in flash (once written it is durable): a stamp now, and one at the start of every segment opened from
   * now on, so the newest stamp survives reclaims. Throws when the flash fails or is full of pending alarms.
   */
  stampBoot(boot: number): void {
    if (!Number.isInteger(boot) || boot < 1 || boot > 0xffffffff)
      throw new RangeError("Outbox: boot must be an integer from 1 to 2^32 - 1, got " + String(boot));
    if (boot > this.#boot) this.#boot = boot;
    if (!this.#makeRoom(STAMP)) throw new Error("Outbox: no room for a boot stamp: every segment holds pending alarms");
    // Opening a segment to make room stamped it already.
    if (this.#activeStamp !== this.#boot) this.#stamp();
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

  /**
   * Reads a pending record back from flash; undefined when it is not pending. A record that no longer reads back
   * whole (its CRC fails, or the flash read fails) is dropped and counted in `damaged`, and the error says so.
   */
  read(seq: number): OutboxRecord | undefined {
    const i = this.#find(seq);
    if (i < 0) return undefined;
    const p = (this.#head + i) % this.#capacity;
    const offset = this.#offsets[p]!;
    let bytes: Uint8Array, problem: string | undefined, cause: unknown;
    try {
      const header = new Uint8Array(this.#flash.read(offset, HEADER));
      const length = u16(header, 8);
      bytes = new Uint8Array(HEADER + length);
      bytes.set(header, 0);
      bytes.set(
        new Uint8Array(this.#flash.read(offset + HEADER, Math.min(length, this.#segmentSize - HEADER))),
        HEADER,
      );
      if (u32(header, 4) !== seq || validRecord(bytes, 0, bytes.length) === 0) problem = "no longer matches its CRC";
    } catch (e) {
      bytes = new Uint8Array(0);
      problem = "could not be read (" + messageOf(e) + ")";
      cause = e;
    }
    if (problem !== undefined) {
      const kind = this.#flags[p]! & KIND_MASK;
      this.#markDone(offset);
      this.#remove(p);
      this.#trim();
      this.#damaged++;
      if (kind === ALARM) this.#damagedAlarms++;
      throw new Error(
        "Outbox: record " + seq + " (" + kindName(kind) + ") at flash offset " + offset + " " + problem + "; dropped",
        { cause },
      );
    }
    const flags = bytes[2]!,
      topicLength = u16(bytes, 10);
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

  // Scans every segment and sets segment states; returns [seq, offset, flags]* of pending records.
  #scan(): number[] {
    const size = this.#segmentSize;
    const found: number[] = [];
    let maxSeq = 0,
      bestSeq = -1,
      newest = -1;
    for (let s = 0; s < this.#segments; s++) {
      const base = s * size;
      const bytes = new Uint8Array(this.#flash.read(base, size));
      let at = 0,
        records = 0,
        highest = 0,
        open = true;
      while (at + HEADER <= size) {
        const length = validRecord(bytes, at, size);
        if (length > 0) {
          const seq = u32(bytes, at + 4),
            flags = bytes[at + 2]!;
          records++;
          if (seq > highest) highest = seq;
          if ((flags & KIND_MASK) === BOOT) {
            if (u16(bytes, at + 8) === 4 && u32(bytes, at + HEADER) > this.#boot) this.#boot = u32(bytes, at + HEADER);
          } else if (pendingMark(bytes[at + 3]!)) found.push(seq, base + at, flags & 0x1f);
          at += length;
          continue;
        }
        // Free space runs erased to the segment's end; anything else is a gap, and records may resume after it.
        if (erased(bytes, at, size)) break;
        open = false;
        let next = at + 4;
        while (next + HEADER <= size && validRecord(bytes, next, size) === 0) next += 4;
        if (next + HEADER > size) next = size;
        this.#gap(bytes, base, at, next);
        at = next;
      }
      if (highest > maxSeq) {
        maxSeq = highest;
        newest = s;
      }
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
    // Wear keeps spreading from where it stopped, not from segment 0 after every start.
    this.#lastOpened = newest;
    return found;
  }

  // Classifies and reports what lies in [from, to) of a segment image: it is not a record, and `to` is the next valid
  // record or the segment's end.
  #gap(bytes: Uint8Array, base: number, from: number, to: number): void {
    // A tombstone: reported by an earlier recovery.
    if (bytes[from] === 0 && bytes[from + 1] === 0 && bytes[from + 2] === 0 && bytes[from + 3] === 0) return;
    const end = this.#segmentSize;
    if (erased(bytes, from, to)) {
      // Erased up to a record that starts a block: the end of a segment of fewer blocks, written by an older layout.
      if (from > 0 && to % this.#blockSize === 0) return;
      this.#torn++; // an erase that stopped between blocks
    } else if (erased(bytes, from, from + HEADER)) {
      this.#torn++; // erased, then what an interrupted erase left
    } else if (to === end && !this.#complete(bytes, from, end)) {
      this.#torn++; // a write cut short: its prefix, then erased flash
    } else this.#damage(bytes, base, from, to);
    this.#markGap(base + from);
  }

  // A whole record was written at `at` (its last body byte is programmed: UTF-8 never holds 0xFF), though it fails its
  // CRC: damage, not a torn write.
  #complete(bytes: Uint8Array, at: number, end: number): boolean {
    if (!plausible(bytes, at, end)) return false;
    const length = u16(bytes, at + 8);
    return length > 0 && bytes[at + HEADER + length - 1] !== 0xff;
  }

  // Counts the pending records lost in a damaged stretch, walking the headers that still read as such.
  #damage(bytes: Uint8Array, base: number, from: number, to: number): void {
    let at = from;
    while (at < to) {
      const size = plausible(bytes, at, to) ? align4(HEADER + u16(bytes, at + 8)) : 0;
      const next = at + size;
      // The record ends where another starts, or where the stretch ends, or erased space follows.
      const whole =
        size > 0 &&
        next <= to &&
        (next === to || (bytes[next] === MAGIC0 && bytes[next + 1] === MAGIC1) || erased(bytes, next, to));
      if (!whole) {
        this.#damaged++;
        this.#problem("unreadable bytes at offsets " + (base + at) + "-" + (base + to - 1));
        return;
      }
      const kind = bytes[at + 2]! & KIND_MASK;
      // A stamp is written done, so whatever reads pending was a message (its kind bits may be damaged too).
      if (pendingMark(bytes[at + 3]!)) {
        this.#damaged++;
        if (kind === ALARM) this.#damagedAlarms++;
        this.#problem("record " + u32(bytes, at + 4) + " (" + kindName(kind) + ") at offset " + (base + at));
      }
      at = next < to && erased(bytes, next, to) ? to : next;
    }
  }

  #problem(text: string): void {
    const problems = this.#problems;
    if (problems.length < MAX_PROBLEMS) problems.push(text);
    else if (problems.length === MAX_PROBLEMS) problems.push("…");
  }

  // Best effort: a flash that fails here shows up on the next append.
  #markGap(offset: number): void {
    try {
      this.#flash.write(offset, TOMBSTONE);
    } catch {
      /* reported again at the next start */
    }
  }

  #markDone(offset: number): void {
    try {
      this.#flash.write(offset + 3, DONE_MARK);
    } catch {
      /* a failing flash shows up on the next append */
    }
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
      this.#evicted++;
      this.#trim();
      this.#compact();
    }
    for (;;) {
      if (this.#active >= 0 && this.#writeAt + size <= this.#segmentSize) return true;
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
    const s = Math.floor(this.#offsets[(this.#head + i) % this.#capacity]! / this.#segmentSize);
    if (this.freeSegments > 0 || !this.#holdsAlarm(s)) return s;
    for (let t = 0; t < this.#segments; t++) if (this.#live[t]! > 0 && !this.#holdsAlarm(t)) return t;
    return -1;
  }

  #holdsAlarm(s: number): boolean {
    for (let i = 0; i < this.#count; i++) {
      const p = (this.#head + i) % this.#capacity;
      const f = this.#flags[p]!;
      if (!(f & REMOVED) && (f & KIND_MASK) !== TELEMETRY && Math.floor(this.#offsets[p]! / this.#segmentSize) === s)
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

  // Erases a segment if it needs it, makes it the active one and stamps it with the boot counter (once there is one).
  #open(s: number): void {
    if (this.#state[s] === DIRTY) for (let b = 0; b < this.#blocks; b++) this.#flash.erase(s * this.#blocks + b);
    this.#state[s] = ACTIVE;
    this.#active = s;
    this.#writeAt = 0;
    this.#activeStamp = 0;
    this.#lastOpened = s;
    if (this.#boot > 0) this.#stamp();
  }

  // A boot stamp in the active segment, which has room for it.
  #stamp(): void {
    const body = Uint8Array.of(
      this.#boot & 0xff,
      (this.#boot >>> 8) & 0xff,
      (this.#boot >>> 16) & 0xff,
      this.#boot >>> 24,
    );
    const record = encode(BOOT, 0, DONE, this.#nextSeq++, new Uint8Array(0), body);
    this.#write(this.#active * this.#segmentSize + this.#writeAt, record);
    this.#writeAt += STAMP;
    this.#activeStamp = this.#boot;
  }

  // Drops the victim segment's pending telemetry and copies its pending alarms into a fresh segment, then erases it.
  #evict(victim: number): void {
    const segmentSize = this.#segmentSize;
    const alarms = this.#holdsAlarm(victim);
    if (alarms) {
      if (this.#active >= 0) this.#seal();
      const target = this.#takeFree();
      if (target < 0) throw new Error("Outbox: no free segment to copy alarms to");
      this.#open(target);
    }
    // Copies first, erase last: a power cut in between leaves both copies, and recovery keeps one. Every record left
    // behind is marked done first, so an erase cut short brings none of them back.
    let kept = false;
    for (let i = 0; i < this.#count; i++) {
      const p = (this.#head + i) % this.#capacity;
      const f = this.#flags[p]!;
      const offset = this.#offsets[p]!;
      if (f & REMOVED || Math.floor(offset / segmentSize) !== victim) continue;
      if ((f & KIND_MASK) === TELEMETRY) {
        this.#flash.write(offset + 3, DONE_MARK);
        this.#remove(p);
        this.#evicted++;
        continue;
      }
      const header = new Uint8Array(this.#flash.read(offset, HEADER));
      const size = align4(HEADER + u16(header, 8));
      if (this.#writeAt + size > segmentSize) {
        // Only when the victim held no stamp and the target has one: this alarm stays, and so does the victim.
        kept = true;
        continue;
      }
      const record = new Uint8Array(this.#flash.read(offset, HEADER + u16(header, 8)));
      const to = this.#active * segmentSize + this.#writeAt;
      this.#write(to, record);
      this.#writeAt += size;
      // The original is marked done at once, so a cut before the erase leaves at most one record twice.
      this.#flash.write(offset + 3, DONE_MARK);
      this.#live[victim]!--;
      this.#live[this.#active]!++;
      this.#offsets[p] = to;
    }
    if (!kept) {
      for (let b = 0; b < this.#blocks; b++) this.#flash.erase(victim * this.#blocks + b);
      this.#state[victim] = FREE;
    } else if (this.#live[victim] === 0) this.#state[victim] = DIRTY;
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
    this.#live[Math.floor(offset / this.#segmentSize)]!++;
  }

  #remove(p: number): void {
    const f = this.#flags[p]!;
    this.#flags[p] = f | REMOVED;
    this.#pending--;
    this.#pendingOf[f & KIND_MASK]!--;
    const s = Math.floor(this.#offsets[p]! / this.#segmentSize);
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
