// Updates as a service of the real App: config.ota validated by name, and the new image's self-test on a pending boot.
import { suite, test, equal, deepEqual, ok, throws } from "../harness.js";
import { App } from "../../src/app.js";
import { parseConfig } from "telltale/config/config";
import { encodeBase64 } from "telltale/storage/base64";
import { appRig, offlineConfig, ticks } from "../support/app-rig.js";
import { MemorySlots } from "../support/memory-slots.js";
import { publicKey } from "../support/ota-vectors.js";

function rig(slots: MemorySlots, ota: Record<string, unknown> = {}) {
  // No broker: the self-test cannot pass.
  const r = appRig({ host: { updates: slots.boot(), restart: (reason) => slots.restarts.push(reason) } });
  const app = new App(r.host, offlineConfig({ ota: { selfTestMs: 5000, ...ota } }));
  return { clock: r.clock, log: r.log, app };
}

suite("ota service", () => {
  test("a-pending-image-that-cannot-reach-the-broker-is-rejected-and-rolled-back", async () => {
    const slots = new MemorySlots(8192, 1);
    slots.slots[1].version = 2;
    slots.next = 1; // what complete(2) leaves for the next boot
    const r = rig(slots);
    deepEqual(r.app.host.updates!.running, { version: 2, slot: "slot1", pending: true });
    await r.app.start();
    ok(r.log.includes("ota: version 2 is pending verification: self-test for up to 5000 ms"), r.log.join("\n"));
    await ticks(r.clock, 4);
    deepEqual(slots.restarts, [], "still within the self-test");
    await ticks(r.clock, 2);
    equal(slots.rejected, "self-test did not pass within 5000 ms (the broker is not connected)");
    deepEqual(slots.restarts, [
      "ota: version 2 rejected: self-test did not pass within 5000 ms (the broker is not connected)",
    ]);
    ok(!r.app.running, "the app is stopped before the restart");
    // The bootloader goes back to version 1, and the app says why once.
    const back = rig(slots);
    deepEqual(back.app.host.updates!.running, { version: 1, slot: "slot0", pending: false });
    await back.app.start();
    ok(
      back.log.includes(
        "ota: the bootloader rolled back to version 1: self-test did not pass within 5000 ms (the broker is not connected)",
      ),
      back.log.join("\n"),
    );
    back.app.stop();
    const later = rig(slots);
    await later.app.start();
    ok(!later.log.some((l) => /rolled back/.test(l)), "reported on the first boot after the rollback only");
    later.app.stop();
  });

  test("a-committed-image-runs-no-self-test", async () => {
    const slots = new MemorySlots(8192, 3);
    const r = rig(slots);
    await r.app.start();
    await ticks(r.clock, 10);
    ok(!r.log.some((l) => /self-test|rejecting/.test(l)));
    deepEqual(slots.restarts, []);
    r.app.stop();
  });

  test("ota-off-leaves-a-pending-image-to-the-bootloader", async () => {
    const slots = new MemorySlots(8192, 1);
    slots.next = 1;
    const r = rig(slots, { enabled: false });
    await r.app.start();
    await ticks(r.clock, 8);
    equal(slots.rejected, undefined);
    ok(slots.pending, "neither confirmed nor rejected: the next boot rolls back");
    r.app.stop();
  });

  test("config-ota-is-validated-by-name", () => {
    const key = encodeBase64(publicKey("k1"));
    const ota = parseConfig({ ota: { keys: [{ id: "k1", key }], fleet: "pumps" } }).ota;
    deepEqual(
      ota.keys.map((k) => k.id),
      ["k1"],
    );
    deepEqual(ota.keys[0]!.key, publicKey("k1"));
    deepEqual([ota.enabled, ota.selfTestMs, ota.fleet], [true, 60000, "pumps"]);
    throws(
      () => parseConfig({ ota: { selftestMs: 1000 } }),
      /^config\.ota\.selftestMs: unknown setting; did you mean selfTestMs\?$/,
    );
    throws(
      () => parseConfig({ ota: { keys: [{ id: "k1", key: "AAAA/w==" }] } }),
      /^config\.ota\.keys\[0\]\.key: expected an uncompressed P-256 public key \(65 bytes starting 04\), got 4 bytes \(npm run ota -- keygen prints it\)$/,
    );
    throws(() => parseConfig({ ota: { keys: [{ key }] } }), /^config\.ota\.keys\[0\]\.id: a key needs an id/);
    throws(
      () =>
        parseConfig({
          ota: {
            keys: [
              { id: "a", key },
              { id: "a", key },
            ],
          },
        }),
      /^config\.ota\.keys\[1\]\.id: "a" is used twice$/,
    );
    throws(
      () => parseConfig({ ota: { selfTestMs: 10 } }),
      /^config\.ota\.selfTestMs: expected an integer from 1000 to 3600000, got 10$/,
    );
    throws(() => parseConfig({ ota: { enabled: "yes" } }), /^config\.ota\.enabled: expected true or false, got "yes"$/);
    throws(() => parseConfig({ ota: { fleet: "a b" } }), /^config\.ota\.fleet: expected 1–64 letters/);
  });
});
