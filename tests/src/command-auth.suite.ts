// Signed commands: the documented canonical text and tag, the counter that refuses replays (also after a reboot),
// refusals that say what to do, and config.commandKey.
import { suite, test, equal, deepEqual, ok, throws } from "../harness.js";
import { Commands } from "../../src/commands.js";
import { COUNTER_KEY, CommandAuth, commandMessage, signCommand } from "../../src/command-auth.js";
import { parseConfig } from "telltale/config/config";
import { utf8Decode, utf8Encode } from "telltale/text/utf8";
import type { Store } from "telltale/io/io";
import { ManualClock } from "../support/manual-clock.js";
import { mapStore } from "../support/test-host.js";
import { parseAnswer, type CommandAnswer } from "../support/wire.js";
import { hmacSha256, fromHex } from "../support/hmac.js";
import { KEY_HEX, VECTORS, keyOf, signed } from "../support/command-vectors.js";

function rig(options: { key?: Uint8Array | null; store?: Map<string, string>; storeRefuses?: string } = {}) {
  const map = options.store ?? new Map<string, string>(),
    log: string[] = [],
    runs: string[] = [];
  const why = options.storeRefuses;
  const store: Store = why
    ? {
        ...mapStore(map),
        set: () => {
          throw new Error(why);
        },
      }
    : mapStore(map);
  const auth = new CommandAuth({
    key: options.key === null ? undefined : (options.key ?? fromHex(KEY_HEX)),
    deviceId: "t1",
    hmac: hmacSha256,
    store,
    log: (line) => log.push(line),
  });
  const commands = new Commands({ log: (line) => log.push(line), clock: new ManualClock(), auth });
  commands.register("recalibrate", () => void runs.push("recalibrate"), { signed: true });
  commands.register("ping", () => ({ uptimeMs: 1 }));
  const send = (text: string): CommandAnswer => parseAnswer(commands.handle(utf8Encode(text))!);
  return { commands, auth, map, log, runs, send };
}

suite("signed commands", () => {
  test("the-signed-text-is-the-documented-canonical-form", () => {
    const text = utf8Decode(
      commandMessage("pump-3", { force: true, mac: "ignored", counter: 1733000000000, command: "recalibrate" }),
    );
    equal(text, 'telltale-command-v1\npump-3\n{"command":"recalibrate","counter":1733000000000,"force":true}');
    equal(
      utf8Decode(commandMessage("d", { command: "x", counter: 1, b: { z: [1, "é"], a: null }, skip: undefined })),
      'telltale-command-v1\nd\n{"b":{"a":null,"z":[1,"é"]},"command":"x","counter":1}',
      "nested keys sorted, undefined left out, UTF-8",
    );
  });

  test("the-tag-is-the-one-openssl-computes", () => {
    // printf 'telltale-command-v1\npump-3\n{"command":"recalibrate","counter":1733000000000,"force":true}' |
    //   openssl dgst -sha256 -mac HMAC -macopt hexkey:000102…1f
    const vector = VECTORS.example;
    const request = signCommand(
      { command: "recalibrate", force: true },
      { key: keyOf(vector), deviceId: "pump-3", counter: 1733000000000, hmac: hmacSha256 },
    );
    deepEqual(request, {
      command: "recalibrate",
      force: true,
      counter: 1733000000000,
      mac: "55963e1d3f306af21d670f1c53d36b233b62d43ce49e1a8d053e90a1843e5ae4",
    });
  });

  test("a-signed-command-runs-and-its-counter-is-kept", () => {
    const r = rig();
    deepEqual(r.send(signed(VECTORS.recalibrate1)), { command: "recalibrate", ok: true });
    deepEqual(r.runs, ["recalibrate"]);
    equal(r.map.get(COUNTER_KEY), "1");
    equal(r.auth.counter, 1);
  });

  test("a-replay-is-refused-also-after-a-reboot", () => {
    const r = rig();
    const message = signed(VECTORS.recalibrate1);
    equal(r.send(message).ok, true);
    deepEqual(r.send(message), {
      command: "recalibrate",
      ok: false,
      error: "counter 1 is not above 1, the highest used: a replay, or sign anew",
    });
    const rebooted = rig({ store: r.map });
    equal(rebooted.send(message).error, "counter 1 is not above 1, the highest used: a replay, or sign anew");
    deepEqual([r.runs.length, rebooted.runs.length], [1, 0], "run once");
  });

  test("a-field-changed-after-signing-breaks-the-mac", () => {
    const r = rig();
    deepEqual(r.send(signed(VECTORS.recalibrate2, { force: true })), {
      command: "recalibrate",
      ok: false,
      error: "mac does not match (another key or device id, or a field changed after signing)",
    });
    equal(r.send(signed(VECTORS.recalibrate2, { counter: 3 })).ok, false, "nor can the counter be raised");
    deepEqual(r.runs, []);
    equal(r.map.get(COUNTER_KEY), undefined, "a refused tag does not move the counter");
  });

  test("a-tag-for-another-device-or-under-another-key-is-refused", () => {
    const r = rig();
    equal(r.send(signed(VECTORS.recalibrate3OtherDevice)).error, r.send(signed(VECTORS.recalibrate3OtherKey)).error);
    ok(/^mac does not match/.test(r.send(signed(VECTORS.recalibrate3OtherKey)).error ?? ""));
    equal(r.send(signed(VECTORS.recalibrate3)).ok, true, "the genuine one still runs: failures spent nothing");
  });

  test("unsigned-or-malformed-is-refused-saying-how-to-sign", () => {
    const r = rig();
    const how =
      '{"command": "recalibrate", …, "counter": n, "mac": hex} (npm run command -- --key … --device t1 recalibrate)';
    deepEqual(r.send("recalibrate"), {
      command: "recalibrate",
      ok: false,
      error: '"recalibrate" must be signed: send ' + how,
    });
    equal(r.send('{"command": "recalibrate", "force": true}').error, '"recalibrate" must be signed: send ' + how);
    equal(
      r.send('{"command": "recalibrate", "counter": 4, "mac": "zz"}').error,
      "mac: expected 64 hex digits (HMAC-SHA256)",
    );
    const mac = "0".repeat(64);
    for (const counter of ["0", '"5"', "1.5", "-2", "9007199254740992"])
      equal(
        r.send(`{"command": "recalibrate", "counter": ${counter}, "mac": "${mac}"}`).error,
        "counter: expected an integer from 1 to 9007199254740991, got " + JSON.stringify(JSON.parse(counter)),
      );
    equal(r.send(`{"command": "recalibrate", "mac": "${mac}"}`).error?.startsWith("counter: expected"), true);
    deepEqual(r.runs, []);
    equal(r.log.filter((l) => l.startsWith("command rejected: ")).length, 9, r.log.join("\n"));
  });

  test("without-a-key-changing-commands-are-refused-naming-the-setting", () => {
    const r = rig({ key: null });
    const error = r.send(signed(VECTORS.recalibrate1)).error ?? "";
    ok(
      error.startsWith(
        '"recalibrate" must be signed and this device has no key: set config.commandKey (hex or base64, 16–64 bytes), then send',
      ),
      error,
    );
    equal(r.send("recalibrate").error, error, "the same for an unsigned one");
    deepEqual(r.send("ping"), { command: "ping", ok: true, uptimeMs: 1 }, "read-only commands stay open");
    deepEqual(
      r.log.filter((l) => l.startsWith("commands: ")),
      [],
      "no counter warning without a key",
    );
    const none = new Commands({ log: () => {}, clock: new ManualClock() });
    none.register("recalibrate", () => {}, { signed: true });
    equal(
      parseAnswer(none.handle(utf8Encode("recalibrate"))!).error,
      '"recalibrate" must be signed and this device cannot check signatures',
    );
  });

  test("read-only-commands-stay-open-and-a-signed-one-raises-the-counter", () => {
    const r = rig();
    equal(r.send("ping").ok, true);
    equal(r.send(signed(VECTORS.ping7)).ok, true);
    equal(r.map.get(COUNTER_KEY), "7");
    equal(r.send(signed(VECTORS.ping7)).ok, false, "a signed read-only command is checked too");
    equal(
      r.send(signed(VECTORS.recalibrate5)).error,
      "counter 5 is not above 7, the highest used: a replay, or sign anew",
      "a signed command recorded before is refused",
    );
  });

  test("a-counter-that-cannot-be-saved-refuses-the-command", () => {
    const r = rig({ storeRefuses: "NVS full" });
    equal(r.send(signed(VECTORS.recalibrate1)).error, "the counter could not be saved (NVS full); not run");
    deepEqual(r.runs, []);
    equal(r.auth.counter, 0);
  });

  test("a-lost-or-unreadable-counter-is-logged", () => {
    const lost = rig();
    deepEqual(lost.log, [
      "commands: no command counter in the store; any counter is accepted until the next signed command (send a signed ping to close this)",
    ]);
    const garbage = rig({ store: new Map([[COUNTER_KEY, "lots"]]) });
    ok(/^commands: the stored command counter is unreadable; any counter/.test(garbage.log[0] ?? ""), garbage.log[0]);
    equal(garbage.send(signed(VECTORS.recalibrate1)).ok, true, "and the next signed command closes it");
  });

  test("config-command-key-is-hex-or-base64-of-16-to-64-bytes", () => {
    deepEqual(parseConfig({ commandKey: KEY_HEX }).commandKey, fromHex(KEY_HEX));
    deepEqual(
      parseConfig({ commandKey: "AAECAwQFBgcICQoLDA0ODw==" }).commandKey,
      fromHex("000102030405060708090a0b0c0d0e0f"),
    );
    equal(parseConfig({}).commandKey, undefined);
    const problem =
      "config.commandKey: expected 16–64 random bytes as hex or base64 (e.g. from `openssl rand -hex 32`), got ";
    throws(() => parseConfig({ commandKey: "00ff" }), new RegExp("^" + escape(problem) + "2 bytes$"));
    throws(() => parseConfig({ commandKey: "ab".repeat(65) }), /got 65 bytes$/);
    throws(() => parseConfig({ commandKey: 1234 }), /^config\.commandKey: .*got 1234$/);
    throws(
      () => parseConfig({ commandKey: "not a key!" }),
      /^config\.commandKey: .*got text that is neither \(10 characters\)$/,
      "the key itself is never echoed",
    );
    throws(
      () => parseConfig({ commandkey: KEY_HEX }),
      /^config\.commandkey: unknown setting; did you mean commandKey\?$/,
    );
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
