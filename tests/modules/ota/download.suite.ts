// The download into the other slot: blocks written and marked, timeouts and retries, the read-back SHA-256, and resumes.
import { suite, test, equal, ok, deepEqual } from "../../harness.js";
import { Download, type BlockSink, type BlockSource, type OtaState } from "telltale/ota/download";
import { PROGRESS_KEY } from "telltale/ota/progress";
import { ManualClock } from "../../support/manual-clock.js";
import { mapStore } from "../../support/test-host.js";
import { MemorySlots } from "../../support/memory-slots.js";
import { otaCrypto } from "../../support/ota-crypto.js";
import { fieldsOf, image, servedImage, type ManifestName } from "../../support/ota-vectors.js";

/** A publisher in memory: answers each request 10 ms later with the blocks of `bytes`, unless told to stay silent. */
class ImageSource implements BlockSource {
  readonly name = "test";
  readonly window = 2;
  readonly requests: number[] = [];
  silent = 0;
  constructor(
    readonly clock: ManualClock,
    public bytes: Uint8Array,
    readonly blockSize: number,
  ) {}
  request(first: number, count: number, sink: BlockSink): void {
    this.requests.push(first);
    if (this.silent > 0) {
      this.silent--;
      return;
    }
    this.clock.setTimeout(() => {
      for (let i = first; i < first + count; i++)
        sink.block(i, this.bytes.slice(i * this.blockSize, (i + 1) * this.blockSize));
    }, 10);
  }
  cancel(): void {}
}

interface Rig {
  clock: ManualClock;
  slots: MemorySlots;
  store: Map<string, string>;
  log: string[];
  states: OtaState[];
  done: (boolean | string)[];
  source: ImageSource;
  start(): Download;
}

function rig(name: ManifestName = "good", slots = new MemorySlots(8192, 1), store = new Map<string, string>()): Rig {
  const clock = new ManualClock();
  const manifest = fieldsOf(name);
  const r: Rig = {
    clock,
    slots,
    store,
    log: [],
    states: [],
    done: [],
    source: new ImageSource(clock, servedImage(name), manifest.blockSize),
    start() {
      const d = new Download({
        manifest,
        updates: slots.boot(),
        store: mapStore(store),
        clock,
        sha256: () => otaCrypto().sha256(),
        source: r.source,
        log: (l) => r.log.push(l),
        timeoutMs: 500,
        retries: 2,
        onState: (s) => r.states.push(s),
        onDone: (okay, reason) => r.done.push(okay ? true : reason!),
      });
      d.start();
      return d;
    },
  };
  return r;
}

suite("ota download", () => {
  test("all-blocks-written-hashed-back-and-completed", () => {
    const r = rig();
    r.start();
    r.clock.advance(1000);
    deepEqual(r.done, [true]);
    equal(r.slots.next, 1);
    deepEqual(r.slots.image(1), image("v2"));
    equal(r.slots.slots[1].version, 2);
    deepEqual(r.source.requests, [0, 2, 4], "5 blocks in windows of 2");
    deepEqual(
      r.states.map((s) => s.state + (s.percent === undefined ? "" : " " + s.percent)),
      [
        "downloading 0",
        "downloading 20",
        "downloading 40",
        "downloading 61",
        "downloading 81",
        "downloading 100",
        "verifying",
      ],
    );
    equal(r.store.get(PROGRESS_KEY), undefined, "the progress is forgotten once complete");
  });

  test("an-image-whose-hash-differs-is-discarded-with-the-reason", () => {
    const r = rig("corrupt");
    r.start();
    r.clock.advance(1000);
    equal(r.done.length, 1);
    ok(
      /^the image's SHA-256 is [0-9a-f]{64}, the manifest signs [0-9a-f]{64}; image discarded$/.test(String(r.done[0])),
      String(r.done[0]),
    );
    equal(r.slots.next, -1, "nothing set to boot");
    equal(r.store.get(PROGRESS_KEY), undefined, "a bad image is not resumed");
    equal(r.states[r.states.length - 1]!.state, "failed");
    ok(r.log.some((l) => /^ota: version 2 failed: the image's SHA-256 is/.test(l)));
  });

  test("unanswered-requests-are-asked-again-then-given-up-with-progress-kept", () => {
    const r = rig();
    r.source.silent = 100;
    r.start();
    r.clock.advance(10_000);
    deepEqual(r.done, [
      "no block arrived within 500 ms (asked for block 0); gave up after 3 attempts (progress kept for a resume)",
    ]);
    deepEqual(r.source.requests, [0, 0, 0]);
    ok(r.store.get(PROGRESS_KEY) !== undefined);
  });

  test("one-lost-answer-costs-one-request", () => {
    const r = rig();
    r.source.silent = 1;
    r.start();
    r.clock.advance(5000);
    deepEqual(r.done, [true]);
    deepEqual(r.source.requests, [0, 0, 2, 4]);
    ok(
      r.log.some((l) =>
        /no block arrived within 500 ms \(asked for block 0\); asking again \(attempt 2 of 3\)/.test(l),
      ),
    );
  });

  test("a-block-of-the-wrong-length-is-asked-again", () => {
    const r = rig();
    const good = r.source.bytes;
    r.source.bytes = good.subarray(0, 3000); // block 2 comes short, blocks 3 and 4 empty
    r.start();
    r.clock.advance(20);
    r.source.bytes = good;
    r.clock.advance(5000);
    deepEqual(r.done, [true]);
    ok(
      r.log.some((l) => /block 2 is 952 bytes, expected 1024; asking again/.test(l)),
      r.log.join("\n"),
    );
  });

  test("a-stopped-download-resumes-from-the-store-and-the-slot", () => {
    const slots = new MemorySlots(8192, 1),
      store = new Map<string, string>();
    const first = rig("good", slots, store);
    const d = first.start();
    first.clock.advance(15); // the first window: blocks 0 and 1
    d.stop();
    const again = rig("good", slots, store);
    again.start();
    again.clock.advance(1000);
    deepEqual(again.done, [true]);
    deepEqual(again.source.requests, [2, 4], "only the missing blocks");
    deepEqual(
      slots.opens.map((o) => o.resume),
      [false, true],
    );
    ok(again.log.includes("ota: resuming version 2: 2 of 5 blocks are in the slot"));
    deepEqual(slots.image(1), image("v2"));
  });

  test("a-power-cut-in-a-write-refetches-that-block-after-the-reboot", () => {
    const slots = new MemorySlots(8192, 1),
      store = new Map<string, string>();
    slots.failWritesAfter = 2500; // block 2 is cut after 452 of its bytes
    const first = rig("good", slots, store);
    first.start();
    first.clock.advance(1000);
    deepEqual(first.done, ["writing block 2 to the slot failed: power cut during the write"]);
    slots.failWritesAfter = -1;
    const again = rig("good", slots, store);
    again.start();
    again.clock.advance(1000);
    deepEqual(again.done, [true]);
    equal(again.source.requests[0], 2, "the cut block was never marked");
    deepEqual(slots.image(1), image("v2"));
  });
});
