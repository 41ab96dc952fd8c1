// The durable outbox on simulated NOR flash: power cuts at every byte, the full-outbox policy, order, ack and reclaim.
import { suite, test, equal, deepEqual, ok, throws } from "../../harness.js";
import { Outbox, TELEMETRY, ALARM } from "telltale/storage/outbox";
import { SimFlash, PowerCut } from "telltale/sim/flash";

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function text(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

const TOPIC = ascii("t/x");

/** Four 256-byte segments; a record with a 3-byte topic and a 9-byte payload takes 28 bytes, 9 per segment. */
function flash(blocks = 4): SimFlash {
  return new SimFlash({ byteLength: blocks * 256, blockSize: 256 });
}

/** The test records are small, so the index gets room for more of them than the default (byteLength / 128). */
function open(options: { flash: SimFlash; maxRecords?: number; maxRecordBytes?: number }): Outbox {
  return new Outbox({ maxRecords: 64, ...options });
}

function put(o: Outbox, kind: number, payload: string): number {
  return o.append(kind, 1, false, TOPIC, ascii(payload));
}

/** Every pending payload in sequence order (both kinds merged), read back from flash. */
function contents(o: Outbox): string[] {
  o.rewind();
  const seqs: number[] = [];
  for (let s; (s = o.next(TELEMETRY)) >= 0;) seqs.push(s);
  for (let s; (s = o.next(ALARM)) >= 0;) seqs.push(s);
  seqs.sort((a, b) => a - b);
  o.rewind();
  return seqs.map((s) => text(o.read(s)!.payload));
}

function name(kind: number, i: number): string {
  return (kind === ALARM ? "alarm-" : "telem-") + String(1000 + i).slice(1);
}

suite("storage/outbox", () => {
  test("append-then-read-back-after-reboot", () => {
    const f = flash();
    const o = open({ flash: f });
    const a = o.append(TELEMETRY, 1, false, ascii("dev/telemetry"), ascii('{"seq":1}'));
    const b = o.append(ALARM, 1, true, ascii("dev/alarm"), ascii("raised"));
    equal(o.pending, 2);
    const again = open({ flash: f });
    equal(again.pending, 2);
    const rb = again.read(b)!;
    equal(text(rb.topic), "dev/alarm");
    equal(text(rb.payload), "raised");
    equal(rb.kind, ALARM);
    equal(rb.retain, true);
    equal(text(again.read(a)!.payload), '{"seq":1}');
    ok(again.nextSeq > b, "sequence numbers continue after a reboot");
  });

  test("power-cut-at-every-byte-of-a-write-keeps-completed-records-and-skips-the-torn-one", () => {
    const size = 16 + TOPIC.length + 9; // the record being cut
    for (const partial of [0, 0xa5]) {
      for (let n = 0; n <= size; n++) {
        const f = flash();
        let o = open({ flash: f });
        for (let i = 1; i <= 3; i++) put(o, TELEMETRY, name(TELEMETRY, i));
        f.cutPowerAfter(n, partial);
        let completed = true;
        try {
          put(o, ALARM, name(ALARM, 4));
        } catch (e) {
          ok(e instanceof PowerCut, String(e));
          completed = false;
        }
        f.powerOn();
        o = open({ flash: f });
        const expected = ["telem-001", "telem-002", "telem-003"];
        if (completed) expected.push("alarm-004");
        deepEqual(contents(o), expected, "cut at byte " + n + " partial " + partial);
        equal(completed, n === size, "only a whole write completes");
        // A cut inside the last byte leaves every byte programmed: it reads as a whole record that rotted, and is
        // counted as damaged (a loss over-counted, never one missed). Any earlier cut is a torn write, not damage.
        if (n > 0 && !completed)
          if (n === size - 1 && partial !== 0)
            equal(o.recovery.torn + o.recovery.damaged, 1, "the torn record is detected at byte " + n);
          else deepEqual([o.recovery.torn, o.recovery.damaged], [1, 0], "the torn record is detected at byte " + n);
        // The log goes on after the torn record, and survives the next reboot too.
        put(o, TELEMETRY, "telem-005");
        o = open({ flash: f });
        expected.push("telem-005");
        deepEqual(contents(o), expected, "after the next reboot, cut at byte " + n);
      }
    }
  });

  test("power-cut-at-every-byte-of-an-ack-never-loses-a-pending-record", () => {
    for (const partial of [0, 0x01, 0xfe]) {
      const f = flash();
      let o = open({ flash: f });
      const seqs = [put(o, TELEMETRY, "telem-001"), put(o, ALARM, "alarm-002")];
      f.cutPowerAfter(0, partial);
      try {
        o.ack(seqs[0]!);
      } catch (e) {
        ok(e instanceof PowerCut);
      }
      f.powerOn();
      o = open({ flash: f });
      const left = contents(o);
      ok(left.indexOf("alarm-002") >= 0, "the other record is untouched");
      // 0x01 clears one bit of the mark: read as still pending (as a flipped bit would be), so it is sent again.
      equal(left.length, partial === 0xfe ? 1 : 2, "a mark with two or more bits cleared counts as acknowledged");
    }
  });

  test("power-cut-at-every-byte-of-an-eviction-keeps-every-alarm", () => {
    // Find the append that first evicts, then replay up to it and cut power at every byte it writes.
    const plan = (i: number) => (i % 3 === 0 ? ALARM : TELEMETRY);
    const dry = open({ flash: flash(3) });
    let trigger = 0;
    for (let i = 1; trigger === 0; i++) {
      put(dry, plan(i), name(plan(i), i));
      if (dry.dropped > 0) trigger = i;
    }
    const probe = flash(3);
    const before = open({ flash: probe });
    for (let i = 1; i < trigger; i++) put(before, plan(i), name(plan(i), i));
    const written = probe.bytesWritten;
    put(before, plan(trigger), name(plan(trigger), trigger));
    const total = probe.bytesWritten - written;
    ok(total > 28, "the eviction copies alarms: " + total + " bytes");
    const cuts: (number | "erase")[] = ["erase"];
    for (let n = 0; n <= total; n++) cuts.push(n);
    for (const cut of cuts) {
      const f = flash(3);
      let o = open({ flash: f });
      for (let i = 1; i < trigger; i++) put(o, plan(i), name(plan(i), i));
      if (cut === "erase") f.cutPowerInNextErase();
      else f.cutPowerAfter(cut);
      let completed = true;
      try {
        put(o, plan(trigger), name(plan(trigger), trigger));
      } catch (e) {
        ok(e instanceof PowerCut, String(e));
        completed = false;
      }
      f.powerOn();
      o = open({ flash: f });
      const left = contents(o);
      for (let i = 1; i <= trigger; i++) {
        if (plan(i) !== ALARM || (i === trigger && !completed)) continue;
        equal(
          left.filter((p) => p === name(ALARM, i)).length,
          1,
          "alarm " + i + " exactly once after a cut at " + cut + ": " + left.join(","),
        );
      }
      const sorted = left.slice().sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
      deepEqual(left, sorted, "still in order after a cut at " + cut);
      // And the outbox keeps working: fill it twice over, no alarm is ever lost.
      for (let i = trigger + 1; i < trigger + 40; i++) put(o, TELEMETRY, name(TELEMETRY, i));
      o = open({ flash: f });
      const after = contents(o);
      for (let i = 1; i < trigger; i++)
        if (plan(i) === ALARM)
          ok(after.indexOf(name(ALARM, i)) >= 0, "alarm " + i + " survives later evictions (cut at " + cut + ")");
    }
  });

  test("random-appends-acks-and-power-cuts-never-lose-an-alarm-or-reorder", () => {
    // A reference model beside the real outbox; power is cut at a random byte every few operations.
    let seed = 0x2545f491;
    const random = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const f = flash(5);
    let o = open({ flash: f });
    const live = new Map<string, number>(); // payload -> seq, for records appended and not acknowledged
    const alarms = new Set<string>();
    let cuts = 0;
    for (let step = 0; step < 1500; step++) {
      if (random(8) === 0) f.cutPowerAfter(random(40), random(256));
      let acking = "";
      try {
        if (random(3) === 0 && live.size > 0) {
          const keys = Array.from(live.keys());
          const key = keys[random(Math.min(keys.length, 4))]!;
          acking = key;
          o.ack(live.get(key)!);
          live.delete(key);
          alarms.delete(key);
        } else {
          const kind = random(5) === 0 ? ALARM : TELEMETRY;
          const payload = (kind === ALARM ? "alarm-" : "telem-") + String(100000 + step).slice(1);
          const seq = put(o, kind, payload);
          if (seq > 0) {
            live.set(payload, seq);
            if (kind === ALARM) alarms.add(payload);
          }
        }
      } catch (e) {
        ok(e instanceof PowerCut, String(e));
        cuts++;
        f.powerOn();
        o = open({ flash: f });
        const present = contents(o);
        const sorted = present.slice().sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
        deepEqual(present, sorted, "in order after cut " + cuts);
        equal(new Set(present).size, present.length, "no record twice after cut " + cuts);
        // (The record whose ack was cut may go either way.)
        for (const a of alarms) if (a !== acking) ok(present.indexOf(a) >= 0, a + " survives cut " + cuts);
        // Resynchronise the model with what survived (telemetry may have been dropped, a cut ack may have landed).
        live.clear();
        o.rewind();
        for (const kind of [TELEMETRY, ALARM])
          for (let s; (s = o.next(kind)) >= 0;) live.set(text(o.read(s)!.payload), s);
        for (const a of Array.from(alarms)) if (!live.has(a)) alarms.delete(a);
      }
    }
    ok(cuts > 100, "power was cut " + cuts + " times");
  });

  test("full-outbox-drops-oldest-telemetry-first-never-alarms", () => {
    const o = open({ flash: flash(4) });
    const appended: string[] = [];
    for (let i = 1; i <= 60; i++) {
      const kind = i % 6 === 0 ? ALARM : TELEMETRY;
      const seq = put(o, kind, name(kind, i));
      ok(seq > 0, "record " + i + " is accepted");
      appended.push(name(kind, i));
    }
    const left = contents(o);
    deepEqual(
      left.filter((p) => p.startsWith("alarm")),
      appended.filter((p) => p.startsWith("alarm")),
      "every alarm is kept, in order",
    );
    const telemetry = appended.filter((p) => p.startsWith("telem"));
    const kept = left.filter((p) => p.startsWith("telem"));
    deepEqual(kept, telemetry.slice(telemetry.length - kept.length), "the telemetry kept is the newest");
    equal(o.dropped, telemetry.length - kept.length, "every dropped record is counted");
    equal(o.droppedAlarms, 0);
    equal(o.pending, left.length);
    ok(o.pending >= 20, "the outbox stays nearly full: " + o.pending);
  });

  test("outbox-full-of-alarms-refuses-new-records-and-counts-them", () => {
    const o = open({ flash: flash(3) });
    let i = 0;
    while (put(o, ALARM, name(ALARM, ++i)) >= 0) ok(i < 100, "alarms eventually fill it");
    equal(o.droppedAlarms, 1);
    const stored = o.pending;
    equal(put(o, TELEMETRY, "telem-999"), -1, "telemetry is refused too");
    equal(o.dropped, 2);
    equal(o.pending, stored, "no stored alarm was given up");
  });

  test("next-walks-each-kind-in-order-and-rewind-starts-over", () => {
    const o = open({ flash: flash() });
    const t1 = put(o, TELEMETRY, "telem-001"),
      a2 = put(o, ALARM, "alarm-002"),
      t3 = put(o, TELEMETRY, "telem-003");
    equal(o.peek(TELEMETRY), t1);
    equal(o.next(TELEMETRY), t1);
    equal(o.next(TELEMETRY), t3);
    equal(o.next(TELEMETRY), -1);
    equal(o.next(ALARM), a2);
    o.unsend(t1);
    equal(o.next(TELEMETRY), t1, "an unsent record is due again");
    const t4 = put(o, TELEMETRY, "telem-004");
    equal(o.next(TELEMETRY), t4, "a new record follows");
    o.ack(t3);
    o.rewind();
    deepEqual([o.next(TELEMETRY), o.next(TELEMETRY), o.next(TELEMETRY)], [t1, t4, -1], "acknowledged records are gone");
  });

  test("ack-reclaims-segments-and-acked-records-stay-gone-after-reboot", () => {
    const f = flash(4);
    let o = open({ flash: f });
    const seqs: number[] = [];
    for (let i = 1; i <= 27; i++) seqs.push(put(o, TELEMETRY, name(TELEMETRY, i)));
    equal(o.freeSegments, 1, "three segments full, one free");
    for (let i = 0; i < 18; i++) ok(o.ack(seqs[i]!));
    equal(o.ack(seqs[0]!), false, "a second ack is refused");
    equal(o.freeSegments, 3, "the two segments whose records are all acknowledged are reclaimed");
    equal(o.pending, 9);
    o = open({ flash: f });
    equal(o.pending, 9);
    equal(contents(o)[0], "telem-019");
    // Reclaimed segments are reused: 18 more records fit without dropping anything.
    for (let i = 28; i <= 45; i++) put(o, TELEMETRY, name(TELEMETRY, i));
    equal(o.dropped, 0);
    ok(f.erases.reduce((a, b) => a + b, 0) >= 1, "reuse erased a reclaimed segment");
  });

  test("torn-erase-is-found-and-the-segment-erased-before-reuse", () => {
    const f = flash(3);
    let o = open({ flash: f });
    const seqs: number[] = [];
    for (let i = 1; i <= 18; i++) seqs.push(put(o, TELEMETRY, name(TELEMETRY, i)));
    for (const seq of seqs) o.ack(seq);
    // The reclaimed segment is erased when it is next needed: cut power in that erase.
    f.cutPowerInNextErase();
    let i = 19;
    for (; f.powered; i++) {
      ok(i < 40, "an erase happens");
      try {
        put(o, TELEMETRY, name(TELEMETRY, i));
      } catch (e) {
        ok(e instanceof PowerCut, String(e));
      }
    }
    f.powerOn();
    o = open({ flash: f });
    const expected: string[] = [];
    for (let k = 19; k < i - 1; k++) expected.push(name(TELEMETRY, k));
    deepEqual(contents(o), expected, "everything before the cut is kept");
    ok(o.recovery.torn >= 1, "the half-erased segment is noticed");
    for (let k = 40; k < 50; k++) ok(put(o, TELEMETRY, name(TELEMETRY, k)) > 0);
    o = open({ flash: f });
    equal(contents(o).pop(), "telem-049");
    equal(o.dropped, 0);
  });

  test("index-capacity-drops-oldest-telemetry", () => {
    const o = open({ flash: flash(8), maxRecords: 4 });
    put(o, ALARM, "alarm-001");
    for (let i = 2; i <= 6; i++) put(o, TELEMETRY, name(TELEMETRY, i));
    deepEqual(contents(o), ["alarm-001", "telem-004", "telem-005", "telem-006"]);
    equal(o.dropped, 2);
  });

  test("record-over-the-limit-is-refused-with-its-size", () => {
    const o = open({ flash: flash() });
    equal(o.maxRecordBytes, 256 - 36, "by default, what fits in one block after a boot stamp");
    throws(() => o.append(TELEMETRY, 1, false, TOPIC, new Uint8Array(300)), /record of 303 bytes is over the 220-byte/);
    throws(() => o.append(7, 1, false, TOPIC, new Uint8Array(1)), /kind must be/);
  });

  test("corrupted-record-is-reported-on-read", () => {
    const f = flash();
    const o = open({ flash: f });
    const seq = put(o, TELEMETRY, "telem-001");
    const alarm = put(o, ALARM, "alarm-002");
    f.bytes[20]! &= 0xfe; // a bit flips in the payload
    throws(() => o.read(seq), /record 1 \(telemetry\) at flash offset 0 no longer matches its CRC; dropped/);
    deepEqual([o.pending, o.damaged, o.dropped, o.read(seq)], [1, 1, 1, undefined], "dropped and counted");
    f.bytes[28 + 20]! ^= 0x01;
    throws(() => o.read(alarm), /record 2 \(alarm\) .* dropped/);
    equal(o.droppedAlarms, 1, "a damaged alarm is counted as an alarm lost");
  });

  test("records-larger-than-a-block-live-in-segments-of-several-blocks", () => {
    // 600-byte records on 256-byte blocks: segments of 3 blocks (a boot stamp and one such record need 636 bytes).
    const f = new SimFlash({ byteLength: 12 * 256, blockSize: 256 });
    let o = open({ flash: f, maxRecordBytes: 600 });
    deepEqual([o.segments, o.segmentSize], [4, 768]);
    const big = (kind: number, i: number) => {
      const bytes = new Uint8Array(600 - TOPIC.length).fill(0x61);
      bytes.set(ascii(name(kind, i)), 0);
      return bytes;
    };
    const seqs: number[] = [];
    for (let i = 1; i <= 3; i++)
      seqs.push(o.append(i === 2 ? ALARM : TELEMETRY, 1, false, TOPIC, big(i === 2 ? ALARM : TELEMETRY, i)));
    ok(
      seqs.every((s) => s > 0),
      "every record is stored",
    );
    o = open({ flash: f, maxRecordBytes: 600 });
    deepEqual(
      contents(o).map((p) => p.slice(0, 9) + ":" + p.length),
      ["telem-001:597", "alarm-002:597", "telem-003:597"],
      "read back whole after a reboot",
    );
    // Filling it evicts old telemetry a segment at a time, erasing every block of the segment; the alarm stays.
    for (let i = 4; i <= 12; i++) ok(o.append(TELEMETRY, 1, false, TOPIC, big(TELEMETRY, i)) > 0);
    ok(o.evicted > 0, "old telemetry was evicted: " + o.evicted);
    ok(
      contents(o).some((p) => p.startsWith("alarm-002")),
      "the alarm survives the evictions",
    );
    const erases = Array.from(f.erases);
    for (let s = 0; s < 4; s++)
      equal(
        new Set(erases.slice(3 * s, 3 * s + 3)).size,
        1,
        "segment " + s + " erased as a whole: " + erases.join(","),
      );
  });

  test("a-flipped-bit-anywhere-in-a-record-loses-that-record-only", () => {
    // Five records in one segment, the middle one an alarm; every single bit of the alarm is flipped in turn.
    const record = 16 + TOPIC.length + 9;
    for (let bit = 0; bit < record * 8; bit++) {
      const f = flash();
      let o = open({ flash: f });
      for (let i = 1; i <= 5; i++) put(o, i === 3 ? ALARM : TELEMETRY, name(i === 3 ? ALARM : TELEMETRY, i));
      const at = 2 * record + (bit >> 3);
      f.bytes[at]! ^= 1 << (bit & 7);
      o = open({ flash: f });
      const left = contents(o);
      const where = "bit " + (bit & 7) + " of byte " + (bit >> 3);
      if (bit >> 3 === 3) {
        // The mark: one cleared bit reads as pending, so nothing is lost.
        deepEqual(left.length, 5, where);
        continue;
      }
      deepEqual(left, ["telem-001", "telem-002", "telem-004", "telem-005"], where);
      deepEqual([o.recovery.damaged, o.recovery.torn], [1, 0], "damage, not a torn write: " + where);
      equal(o.recovery.problems.length, 1, where);
      const problem = o.recovery.problems[0]!;
      // Where the header still reads, the report names the record and its kind (read from the flags byte, which may be
      // the one damaged); otherwise the bytes that were skipped.
      ok(
        /^record \d+ \((alarm|telemetry|kind 3)\) at offset 56$|^unreadable bytes at offsets 56-/.test(problem),
        where + ": " + problem,
      );
      if (bit >> 3 !== 2) ok(!problem.includes("telemetry"), where + ": " + problem);
      equal(o.droppedAlarms, problem.includes("alarm") ? 1 : 0, where);
      // Reported once: the next start finds the tombstone and counts nothing new; appends go on elsewhere.
      put(o, TELEMETRY, "telem-006");
      o = open({ flash: f });
      deepEqual([o.recovery.damaged, o.recovery.torn], [0, 0], "not counted twice: " + where);
      deepEqual(contents(o), ["telem-001", "telem-002", "telem-004", "telem-005", "telem-006"], where);
    }
  });

  test("damage-names-the-record-and-its-kind-and-a-torn-tail-is-not-damage", () => {
    const f = flash();
    let o = open({ flash: f });
    for (let i = 1; i <= 6; i++) put(o, i % 2 === 0 ? ALARM : TELEMETRY, name(i % 2 === 0 ? ALARM : TELEMETRY, i));
    f.bytes[28 + 20]! ^= 0x10; // the payload of alarm 2
    f.bytes[5 * 28 + 25]! ^= 0x01; // the last record (alarm 6), written whole: damage at the tail
    o = open({ flash: f });
    deepEqual(o.recovery.problems, ["record 2 (alarm) at offset 28", "record 6 (alarm) at offset 140"]);
    deepEqual([o.recovery.damaged, o.recovery.damagedAlarms, o.recovery.torn], [2, 2, 0]);
    deepEqual(contents(o), ["telem-001", "telem-003", "alarm-004", "telem-005"]);
    // A power cut in the next write leaves a prefix: torn, and no message lost is counted.
    f.cutPowerAfter(20);
    throws(() => put(o, ALARM, "alarm-007"), /power cut/);
    f.powerOn();
    o = open({ flash: f });
    deepEqual([o.recovery.damaged, o.recovery.torn], [0, 1]);
  });

  test("losses-are-counted-by-reason", () => {
    const f = flash(3);
    const o = open({ flash: f, maxRecords: 10 });
    for (let i = 1; i <= 12; i++) put(o, TELEMETRY, name(TELEMETRY, i));
    equal(o.evicted, 2, "the index holds 10: the two oldest telemetry records made room");
    let i = 100;
    while (put(o, ALARM, name(ALARM, ++i)) >= 0) ok(i < 200);
    put(o, TELEMETRY, "telem-999");
    deepEqual([o.full, o.droppedAlarms], [2, 1], "an alarm and a telemetry record refused by a full outbox");
    ok(o.evicted >= 10, "every telemetry record gave way to alarms: " + o.evicted);
    equal(o.dropped, o.evicted + o.full + o.damaged);
  });

  test("boot-stamp-survives-reclaims-and-reboots", () => {
    const f = flash(3);
    let o = open({ flash: f });
    equal(o.boot, 0, "a blank flash has no boot");
    o.stampBoot(41);
    o.stampBoot(42);
    o = open({ flash: f });
    deepEqual([o.boot, o.recovery.boot], [42, 42]);
    // Every segment is filled, acknowledged, reclaimed and erased several times over: the newest stamp stays.
    for (let i = 1; i <= 100; i++) o.ack(put(o, TELEMETRY, name(TELEMETRY, i)));
    ok(
      f.erases.every((n) => n >= 3),
      "every segment was erased: " + Array.from(f.erases).join(","),
    );
    o = open({ flash: f });
    equal(o.boot, 42);
    equal(o.pending, 0, "a stamp is not a message");
    throws(() => o.stampBoot(0), /boot must be an integer/);
  });

  test("options-are-checked", () => {
    throws(() => new Outbox({ flash: undefined as never }), /option "flash"/);
    throws(() => open({ flash: new SimFlash({ byteLength: 256, blockSize: 256 }) }), /at least 2 segments of 256/);
    throws(
      () => open({ flash: new SimFlash({ byteLength: 1024, blockSize: 256 }), maxRecordBytes: 600 }),
      /at least 2 segments of 768 bytes \(3 block\(s\) of 256, for records of up to 600 bytes\), got 1024/,
    );
    throws(
      () => open({ flash: flash(), maxRecordBytes: 70000 }),
      /"maxRecordBytes" must be an integer from 1 to 65535/,
    );
  });
});
