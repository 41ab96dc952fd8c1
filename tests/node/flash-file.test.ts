// The Node host's outbox file when it was emptied, truncated, grown or is unusable: logged, kept where it can be, no crash.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileFlash } from "../../hosts/node/flash.js";
import { createNodeHost } from "../../hosts/node/host.js";
import { Outbox, TELEMETRY, ALARM } from "../../modules/storage/outbox.js";
import { MAX_MESSAGE_BYTES } from "../../src/delivery.js";

const SIZE = 65536;
const TOPIC = new TextEncoder().encode("t/telemetry");

function dir(): string {
  return mkdtempSync(join(tmpdir(), "telltale-flash-"));
}

/** The outbox as Delivery opens it: 8 KiB segments of two 4 KiB blocks. */
function open(flash: FileFlash): Outbox {
  return new Outbox({ flash, maxRecordBytes: MAX_MESSAGE_BYTES });
}

/** Fills the file's outbox with `n` records of about 1 KB, alarms every fourth; returns their payloads. */
function fill(path: string, n: number): string[] {
  const flash = new FileFlash({ path });
  const o = open(flash);
  const payloads: string[] = [];
  for (let i = 1; i <= n; i++) {
    const payload = `{"seq":${i},"pad":"${"x".repeat(1000)}"}`;
    o.append(i % 4 === 0 ? ALARM : TELEMETRY, 1, false, TOPIC, new TextEncoder().encode(payload));
    payloads.push(payload);
  }
  flash.close();
  return payloads;
}

function pendingSeqs(o: Outbox): number[] {
  const seqs: number[] = [];
  for (const kind of [TELEMETRY, ALARM]) for (let s; (s = o.next(kind)) >= 0;) seqs.push(s);
  return seqs.sort((a, b) => a - b);
}

test("a-file-emptied-to-zero-bytes-is-erased-again-and-the-log-says-so", () => {
  const path = join(dir(), "outbox.flash");
  fill(path, 5);
  truncateSync(path, 0);
  const lines: string[] = [];
  const flash = new FileFlash({ path, log: (l) => lines.push(l) });
  assert.deepEqual(lines, [
    `flash: at start, outbox file ${path} was empty (0 bytes, expected ${SIZE}): the outbox starts empty`,
  ]);
  assert.equal(statSync(path).size, SIZE);
  const o = open(flash);
  assert.equal(o.pending, 0);
  assert.ok(o.append(TELEMETRY, 1, false, TOPIC, new Uint8Array(10)) > 0, "and it works");
});

test("a-new-file-is-made-without-a-warning", () => {
  const lines: string[] = [];
  const path = join(dir(), "sub", "outbox.flash");
  new FileFlash({ path, log: (l) => lines.push(l) }).close();
  assert.deepEqual(lines, []);
  assert.equal(statSync(path).size, SIZE);
});

test("a-file-truncated-mid-segment-keeps-every-record-before-the-cut", () => {
  const path = join(dir(), "outbox.flash");
  const payloads = fill(path, 12); // 12 records of 1.04 KB: 7 in segment 0 (0-8191), 5 in segment 1
  const cut = 8192 + 2500; // inside segment 1's third record
  truncateSync(path, cut);
  const lines: string[] = [];
  const o = open(new FileFlash({ path, log: (l) => lines.push(l) }));
  assert.deepEqual(lines, [
    `flash: at start, outbox file ${path} holds ${cut} bytes, expected ${SIZE}: kept the first ${cut} and erased ` +
      "the rest (records cut off there are lost)",
  ]);
  const kept = pendingSeqs(o);
  assert.deepEqual(kept, [1, 2, 3, 4, 5, 6, 7, 8, 9], "the whole records before the cut");
  assert.equal(new TextDecoder().decode(o.read(9)!.payload), payloads[8]);
  assert.equal(o.recovery.torn, 1, "the record cut in two reads as a torn write");
});

test("a-grown-file-keeps-its-first-bytes-and-every-record", () => {
  const path = join(dir(), "outbox.flash");
  fill(path, 6);
  appendFileSync(path, Buffer.alloc(10_000, 0x5a));
  const lines: string[] = [];
  const o = open(new FileFlash({ path, log: (l) => lines.push(l) }));
  assert.deepEqual(lines, [
    `flash: at start, outbox file ${path} holds ${SIZE + 10_000} bytes, expected ${SIZE}: kept the first ${SIZE} ` +
      "and dropped the 10000 beyond",
  ]);
  assert.equal(statSync(path).size, SIZE);
  assert.deepEqual(pendingSeqs(o), [1, 2, 3, 4, 5, 6]);
});

test("a-file-cut-while-in-use-gets-its-size-back-and-the-outbox-goes-on", () => {
  const path = join(dir(), "outbox.flash");
  const lines: string[] = [];
  const flash = new FileFlash({ path, log: (l) => lines.push(l) });
  const o = open(flash);
  o.append(ALARM, 1, false, TOPIC, new Uint8Array(100));
  truncateSync(path, 4096);
  for (let i = 0; i < 20; i++) assert.ok(o.append(TELEMETRY, 1, false, TOPIC, new Uint8Array(1000)) > 0);
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0]!, /^flash: while in use, outbox file .* holds 4096 bytes, expected 65536: kept the first 4096/);
  assert.equal(statSync(path).size, SIZE);
  flash.close();
  assert.equal(open(new FileFlash({ path })).pending, 21, "nothing was lost: the cut came after every record");
});

test("the-node-host-never-crashes-on-its-outbox-file", () => {
  // A wrong size is repaired and logged through the host's log.
  const folder = dir();
  writeFileSync(join(folder, "outbox.flash"), Buffer.alloc(1000, 0xff));
  const lines: string[] = [];
  const host = createNodeHost({ storePath: join(folder, "store.json"), sensors: [], log: (l) => lines.push(l) });
  assert.ok(host.flash, "durable");
  assert.equal(host.flashProblem, undefined);
  assert.match(lines.join("\n"), /outbox file .*outbox\.flash holds 1000 bytes, expected 65536/);
  // A file that cannot be opened at all leaves the outbox in RAM, and says why.
  const broken = dir();
  mkdirSync(join(broken, "outbox.flash"));
  const logged: string[] = [];
  const ram = createNodeHost({ storePath: join(broken, "store.json"), sensors: [], log: (l) => logged.push(l) });
  assert.equal(ram.flash, undefined);
  assert.match(
    ram.flashProblem ?? "",
    /^no outbox file .*outbox\.flash \(.*EISDIR.*\); messages are kept in RAM only$/,
  );
  assert.deepEqual(logged, ["flash: " + ram.flashProblem]);
  assert.equal(readFileSync(join(folder, "outbox.flash")).length, SIZE);
});
