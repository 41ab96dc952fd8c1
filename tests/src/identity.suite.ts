// The boot counter against a real outbox on simulated flash: lost, garbage and unwritable stores, and neither durable.
import { suite, test, equal, deepEqual, ok } from "../harness.js";
import { countBoot, RANDOM_BOOTS, type BootCount } from "../../src/identity.js";
import { Delivery } from "../../src/delivery.js";
import { SimFlash } from "telltale/sim/flash";
import type { Flash, Store } from "telltale/io/io";
import { ManualClock } from "../support/manual-clock.js";
import { mapStore } from "../support/test-host.js";

/** A store that keeps nothing: every write throws, as a full or read-only NVS does. */
function readOnly(map: Map<string, string>): Store {
  return {
    get: (k) => map.get(k),
    set: () => {
      throw new Error("NVS: read-only");
    },
    delete: () => {},
  };
}

/** One start: the outbox opened on `flash` (RAM when undefined), then the boot counted. */
function start(store: Store, flash: Flash | undefined, random?: () => number): { count: BootCount; log: string[] } {
  const log: string[] = [];
  const delivery = new Delivery({
    flash,
    clock: new ManualClock(),
    log: (line) => log.push(line),
    topics: { telemetry: "t/telemetry", alarm: "t/alarm" },
    telemetryQos: 1,
    drainPerSecond: 5,
    counters: { published: 0, dropped: 0 },
  });
  return { count: countBoot({ store, log: (line) => log.push(line), random }, delivery), log };
}

function flash(): SimFlash {
  return new SimFlash({ byteLength: 8 * 4096, blockSize: 4096 });
}

suite("identity/boot", () => {
  test("boots-count-up-in-the-store-and-the-flash", () => {
    const map = new Map<string, string>(),
      f = flash();
    const boots = [1, 2, 3].map(() => start(mapStore(map), f).count);
    deepEqual(
      boots.map((b) => b.boot),
      [1, 2, 3],
    );
    deepEqual(boots[2]!.identity, { durable: true });
    equal(map.get("boot"), "3");
  });

  test("an-unwritable-store-does-not-give-two-boots-the-same-number", () => {
    const f = flash(),
      map = new Map<string, string>();
    const first = start(readOnly(map), f),
      second = start(readOnly(map), f);
    deepEqual([first.count.boot, second.count.boot], [1, 2]);
    deepEqual(second.count.identity, { durable: true });
    ok(
      second.log.includes("identity: store: NVS: read-only; the boot counter is kept in the outbox's flash"),
      second.log.join("\n"),
    );
  });

  test("a-garbage-or-lost-store-continues-from-the-flash-and-says-so", () => {
    const f = flash(),
      map = new Map<string, string>();
    for (let i = 0; i < 4; i++) start(mapStore(map), f);
    equal(map.get("boot"), "4");
    map.set("boot", "\u0000garbage");
    const garbage = start(mapStore(map), f);
    equal(garbage.count.boot, 5, "not 1");
    deepEqual(garbage.log, [
      "identity: the store's boot counter holds \"\\u0000garbage\", not a count; counting on from the outbox's flash (boot 4)",
    ]);
    map.clear();
    const lost = start(mapStore(map), f);
    equal(lost.count.boot, 6);
    deepEqual(lost.log, [
      "identity: the store's boot counter is missing; counting on from the outbox's flash (boot 5)",
    ]);
  });

  test("the-higher-of-store-and-flash-wins", () => {
    const f = flash(),
      map = new Map<string, string>([["boot", "41"]]);
    equal(start(mapStore(map), f).count.boot, 42, "a store ahead of a fresh flash");
    map.set("boot", "7");
    equal(start(mapStore(map), f).count.boot, 43, "a store behind the flash (restored from a backup)");
  });

  test("a-garbage-store-without-flash-restarts-at-one-but-says-so", () => {
    const map = new Map<string, string>([["boot", "-3"]]);
    const r = start(mapStore(map), undefined);
    equal(r.count.boot, 1);
    deepEqual(r.log, ["identity: the store's boot counter holds \"-3\", not a count; the outbox's flash holds none"]);
    deepEqual(r.count.identity, { durable: true }, "the store keeps it from now on");
  });

  test("with-neither-durable-the-boot-is-random-and-reported", () => {
    const map = new Map<string, string>([["boot", "5"]]);
    const draws = [0.25, 0.75];
    const boots = draws.map((d) => start(readOnly(map), undefined, () => d));
    deepEqual(
      boots.map((b) => b.count.boot),
      [6 + RANDOM_BOOTS / 4, 6 + (3 * RANDOM_BOOTS) / 4],
      "above the last boot known, drawn from the host's random source",
    );
    const error =
      "boot counter not kept (store: NVS: read-only; no durable outbox flash): boot " +
      (6 + RANDOM_BOOTS / 4) +
      " is random";
    deepEqual(boots[0]!.count.identity, { durable: false, error });
    ok(
      boots[0]!.log.includes("identity: " + error + ", so a later boot repeats it only by chance"),
      boots[0]!.log.join("\n"),
    );
  });

  test("a-flash-that-fails-the-stamp-falls-back-to-the-store", () => {
    const f = flash(),
      map = new Map<string, string>();
    start(mapStore(map), f);
    const failing: Flash = {
      byteLength: f.byteLength,
      blockSize: f.blockSize,
      read: (offset, length) => f.read(offset, length),
      write: () => {
        throw new Error("flash: write failed");
      },
      erase: (sector) => f.erase(sector),
    };
    const r = start(mapStore(map), failing);
    deepEqual([r.count.boot, r.count.identity], [2, { durable: true }]);
    ok(
      r.log.includes("identity: outbox flash: flash: write failed; the boot counter is kept in the store only"),
      r.log.join("\n"),
    );
  });
});
