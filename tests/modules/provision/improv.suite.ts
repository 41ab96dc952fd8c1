// Improv Wi-Fi serial frames: golden frames built by hand from the spec, and every malformed frame refused by reason.
import { suite, test, equal, deepEqual, ok, throws } from "../../harness.js";
import {
  encodeFrame,
  encodeRpcResult,
  IMPROV_ERROR,
  IMPROV_STATE,
  ImprovDecoder,
  parseRpc,
  parseWifiSettings,
} from "telltale/provision/improv";
import { ImprovService } from "telltale/provision/improv-service";
import { loadProvisioned, saveProvisioned } from "telltale/provision/credentials";
import { mapStore } from "../../support/test-host.js";

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
const sum8 = (bytes: number[]): number => bytes.reduce((a, b) => a + b, 0) & 0xff;
/** A frame written out by hand: "IMPROV", version 1, type, length, data, then the low byte of the sum of them all. */
function handFrame(type: number, data: number[]): Uint8Array {
  const head = [...ascii("IMPROV"), 1, type, data.length, ...data];
  return Uint8Array.from([...head, sum8(head)]);
}
/** The spec's example RPC: SSID "MyWirelessAP", password "mysecurepassword" → 01 1E 0C {ssid} 10 {password}. */
const SPEC_RPC = [0x01, 0x1e, 0x0c, ...ascii("MyWirelessAP"), 0x10, ...ascii("mysecurepassword")];

interface Seen {
  frames: [number, number[]][];
  rejects: string[];
}
function decoder(pauseMs?: number): { d: ImprovDecoder; seen: Seen } {
  const seen: Seen = { frames: [], rejects: [] };
  const d = new ImprovDecoder({
    onFrame: (type, data) => seen.frames.push([type, Array.from(data)]),
    onReject: (reason) => seen.rejects.push(reason),
    pauseMs,
  });
  return { d, seen };
}

/** Splits a device's output into frames (dropping the newline after each). */
function framesOf(bytes: number[]): [number, number[]][] {
  const { d, seen } = decoder();
  d.push(Uint8Array.from(bytes), 0);
  deepEqual(seen.rejects, [], "the device's own frames decode");
  return seen.frames;
}

function service(options: { join?: (s: string, p: string) => Promise<string | undefined>; online?: boolean } = {}) {
  const out: number[] = [];
  const saved: string[] = [];
  const log: string[] = [];
  const map = new Map<string, string>();
  const store = mapStore(map);
  let now = 0;
  const s = new ImprovService({
    write: (bytes) => out.push(...bytes),
    store,
    now: () => now,
    deviceInfo: ["Telltale", "0.1.0", "esp32", "pump-3"],
    join: options.join,
    online: options.online,
    url: "http://pump-3.local/",
    onSaved: (p) => saved.push(p.ssid),
    log: (l) => log.push(l),
  });
  return {
    s,
    store,
    map,
    saved,
    log,
    advance: (ms: number) => (now += ms),
    /** Frames the device wrote since the last call. */
    take: () => framesOf(out.splice(0)),
  };
}

suite("provision/improv", () => {
  test("encode-matches-a-hand-built-current-state-frame", () => {
    // 49 4D 50 52 4F 56 01 01 01 02: 73+77+80+82+79+86+1+1+1+2 = 482 = 0x1E2 → checksum E2.
    deepEqual(
      Array.from(encodeFrame(0x01, Uint8Array.of(0x02))),
      [0x49, 0x4d, 0x50, 0x52, 0x4f, 0x56, 0x01, 0x01, 0x01, 0x02, 0xe2],
    );
  });

  test("encode-rpc-result-lays-out-each-string-with-its-length", () => {
    const frame = encodeRpcResult(0x01, ["http://a/", ""]);
    deepEqual(Array.from(frame), Array.from(handFrame(0x04, [0x01, 11, 9, ...ascii("http://a/"), 0])));
    throws(() => encodeRpcResult(0x03, ["x".repeat(256)]), /at most 255/);
  });

  test("decode-reads-the-spec-example-wifi-settings", () => {
    const { d, seen } = decoder();
    d.push(handFrame(0x03, SPEC_RPC), 0);
    deepEqual(seen.rejects, []);
    equal(seen.frames.length, 1);
    const rpc = parseRpc(Uint8Array.from(seen.frames[0]![1]));
    equal(rpc.command, 0x01);
    deepEqual(parseWifiSettings(rpc.payload), { ssid: "MyWirelessAP", password: "mysecurepassword" });
  });

  test("bad-checksum-is-refused-and-the-next-frame-decodes", () => {
    const { d, seen } = decoder();
    const bad = handFrame(0x03, [0x02, 0x00]);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0xff;
    d.push(bad, 0);
    d.push(handFrame(0x03, [0x02, 0x00]), 1);
    equal(seen.rejects.length, 1);
    ok(/^bad checksum/.test(seen.rejects[0]!), seen.rejects[0]);
    deepEqual(seen.frames, [[0x03, [0x02, 0x00]]]);
  });

  test("junk-between-frames-is-skipped-and-counted", () => {
    const { d, seen } = decoder();
    const junk = ascii("telltale: boot 3\nIMPR\n\x00\xffII");
    d.push(
      Uint8Array.from([...junk, ...handFrame(0x03, [0x03, 0x00]), ...ascii("log\n"), ...handFrame(0x03, [0x02, 0x00])]),
      0,
    );
    deepEqual(seen.rejects, []);
    deepEqual(seen.frames, [
      [0x03, [0x03, 0x00]],
      [0x03, [0x02, 0x00]],
    ]);
    equal(d.junk, junk.length + 4);
  });

  test("frame-split-over-many-reads-decodes", () => {
    const { d, seen } = decoder();
    const frame = handFrame(0x03, SPEC_RPC);
    for (let i = 0; i < frame.length; i++) d.push(frame.subarray(i, i + 1), i);
    equal(seen.frames.length, 1);
  });

  test("truncated-frame-is-dropped-after-a-pause", () => {
    const { d, seen } = decoder(500);
    d.push(handFrame(0x03, SPEC_RPC).subarray(0, 20), 0);
    d.push(handFrame(0x03, [0x02, 0x00]), 2000);
    equal(seen.rejects.length, 1);
    ok(/^truncated frame: 20 bytes, then nothing for 2000 ms/.test(seen.rejects[0]!), seen.rejects[0]);
    deepEqual(seen.frames, [[0x03, [0x02, 0x00]]]);
  });

  test("wrong-version-is-refused", () => {
    const { d, seen } = decoder();
    const frame = handFrame(0x03, [0x02, 0x00]);
    frame[6] = 2;
    d.push(frame, 0);
    deepEqual(seen.frames, []);
    ok(/^version 2/.test(seen.rejects[0]!), seen.rejects[0]);
  });

  test("rpc-with-a-wrong-length-is-refused", () => {
    throws(() => parseRpc(Uint8Array.of(0x01, 0x05, 0x00)), /says 5 bytes of data, the frame carries 1/);
    throws(() => parseRpc(Uint8Array.of(0x01)), /needs a command and a length/);
  });

  test("wifi-settings-with-bad-field-lengths-are-refused", () => {
    throws(() => parseWifiSettings(Uint8Array.of(5, ...ascii("ab"))), /ssid length says 5 bytes, 2 follow/);
    throws(() => parseWifiSettings(Uint8Array.of(2, ...ascii("ab"))), /end before the password length/);
    throws(() => parseWifiSettings(Uint8Array.of(1, 0x61, 0, 0x7a)), /1 bytes after the password/);
    throws(() => parseWifiSettings(Uint8Array.of(33, ...ascii("x".repeat(33)), 0)), /ssid is 33 bytes; at most 32/);
    throws(
      () => parseWifiSettings(Uint8Array.of(1, 0x61, 64, ...ascii("p".repeat(64)))),
      /password is 64 bytes; at most 63/,
    );
    throws(() => parseWifiSettings(Uint8Array.of(2, 0xc3, 0x28, 0)), /ssid is not valid UTF-8/);
  });

  test("service-stores-spec-example-and-answers-provisioned-with-url", () => {
    const t = service();
    t.s.feed(handFrame(0x03, SPEC_RPC));
    deepEqual(t.take(), [
      [0x02, [IMPROV_ERROR.none]],
      [0x01, [IMPROV_STATE.provisioning]],
      [0x01, [IMPROV_STATE.provisioned]],
      [0x04, [0x01, 21, 20, ...ascii("http://pump-3.local/")]],
    ]);
    deepEqual(loadProvisioned(t.store).provisioned, { ssid: "MyWirelessAP", password: "mysecurepassword" });
    deepEqual(t.saved, ["MyWirelessAP"]);
  });

  test("service-keeps-a-portal-broker-when-improv-sets-wifi", () => {
    const t = service();
    saveProvisioned(t.store, { ssid: "old", password: "", broker: "mqtts://b.example:8883", deviceId: "pump-3" });
    t.s.feed(handFrame(0x03, SPEC_RPC));
    deepEqual(loadProvisioned(t.store).provisioned, {
      ssid: "MyWirelessAP",
      password: "mysecurepassword",
      broker: "mqtts://b.example:8883",
      deviceId: "pump-3",
    });
  });

  test("service-refuses-short-password-stores-nothing-and-keeps-running", () => {
    const t = service();
    t.s.feed(handFrame(0x03, [0x01, 7, 2, ...ascii("ab"), 3, ...ascii("abc")]));
    deepEqual(t.take(), [
      [0x02, [IMPROV_ERROR.none]],
      [0x02, [IMPROV_ERROR.invalidRpc]],
    ]);
    equal(t.map.size, 0, "nothing stored");
    ok(
      t.log.some((l) => /password: must be 8–63 characters/.test(l)),
      t.log.join("\n"),
    );
    t.s.feed(handFrame(0x03, [0x02, 0x00]));
    deepEqual(
      t.take(),
      [
        [0x02, [IMPROV_ERROR.none]],
        [0x01, [IMPROV_STATE.ready]],
      ],
      "still answering",
    );
  });

  test("service-answers-bad-frames-with-invalid-rpc-and-unknown-commands-with-unknown", () => {
    const t = service();
    const bad = handFrame(0x03, [0x02, 0x00]);
    bad[bad.length - 1] = (bad[bad.length - 1]! + 1) & 0xff;
    t.s.feed(bad);
    t.s.feed(handFrame(0x03, [0x09, 0x00]));
    t.s.feed(handFrame(0x01, [0x02]));
    deepEqual(t.take(), [
      [0x02, [IMPROV_ERROR.invalidRpc]],
      [0x02, [IMPROV_ERROR.none]],
      [0x02, [IMPROV_ERROR.unknownRpc]],
      [0x02, [IMPROV_ERROR.invalidRpc]],
    ]);
    equal(t.s.counts.rejected, 1);
    equal(t.map.size, 0);
  });

  test("service-answers-device-info-and-current-state", () => {
    const t = service({ online: true });
    t.s.feed(handFrame(0x03, [0x03, 0x00]));
    t.s.feed(handFrame(0x03, [0x02, 0x00]));
    const info = ["Telltale", "0.1.0", "esp32", "pump-3"];
    const data = info.flatMap((s) => [s.length, ...ascii(s)]);
    deepEqual(t.take(), [
      [0x02, [IMPROV_ERROR.none]],
      [0x04, [0x03, data.length, ...data]],
      [0x02, [IMPROV_ERROR.none]],
      [0x01, [IMPROV_STATE.provisioned]],
      [0x04, [0x01, 21, 20, ...ascii("http://pump-3.local/")]],
    ]);
  });

  test("service-becomes-provisioned-when-the-device-joins-by-itself", () => {
    const t = service();
    equal(t.s.state, IMPROV_STATE.ready);
    t.s.online();
    deepEqual(t.take(), [[0x01, [IMPROV_STATE.provisioned]]]);
    t.s.online();
    deepEqual(t.take(), [], "announced once");
  });

  test("service-answers-scan-with-one-result-per-network-then-an-empty-one", async () => {
    const out: number[] = [];
    const s = new ImprovService({
      write: (bytes) => out.push(...bytes),
      store: mapStore(new Map()),
      now: () => 0,
      deviceInfo: ["Telltale", "0.1.0", "esp32", "pump-3"],
      scan: () => Promise.resolve([{ ssid: "Halle", rssi: -61, secure: true }]),
    });
    s.feed(handFrame(0x03, [0x04, 0x00]));
    await Promise.resolve();
    await Promise.resolve();
    const strings = ["Halle", "-61", "YES"].flatMap((x) => [x.length, ...ascii(x)]);
    deepEqual(framesOf(out), [
      [0x02, [IMPROV_ERROR.none]],
      [0x04, [0x04, strings.length, ...strings]],
      [0x04, [0x04, 0]],
    ]);
  });

  test("service-reports-unable-to-connect-when-join-fails-and-stores-nothing", async () => {
    const t = service({ join: () => Promise.reject(new Error("no access point answered")) });
    t.s.feed(handFrame(0x03, SPEC_RPC));
    await Promise.resolve();
    await Promise.resolve();
    deepEqual(t.take(), [
      [0x02, [IMPROV_ERROR.none]],
      [0x01, [IMPROV_STATE.provisioning]],
      [0x02, [IMPROV_ERROR.unableToConnect]],
      [0x01, [IMPROV_STATE.ready]],
    ]);
    equal(t.map.size, 0);
    equal(t.s.state, IMPROV_STATE.ready);
  });
});
