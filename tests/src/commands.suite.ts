// The command registry: plain-text and JSON commands, answers, refusals with their reason, and validation by the command itself.
import { suite, test, equal, deepEqual, ok, throws } from "../harness.js";
import { Commands } from "../../src/commands.js";
import { parseAnswer } from "../support/wire.js";

const bytes = (text: string) => {
  const b = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) b[i] = text.charCodeAt(i);
  return b;
};

function registry() {
  const log: string[] = [],
    runs: Record<string, unknown>[] = [];
  const commands = new Commands({ log: (line) => log.push(line) });
  commands.register("recalibrate", (request) => {
    runs.push(request);
  });
  commands.register("ping", () => ({ uptimeMs: 1234 }));
  return { commands, log, runs, answer: (text: string) => parseAnswer(commands.handle(bytes(text))) };
}

suite("commands", () => {
  test("plain-text-and-json-commands-run-and-answer-ok", () => {
    const r = registry();
    deepEqual(r.answer("ping"), { command: "ping", ok: true, uptimeMs: 1234 });
    deepEqual(r.answer("  ping\n"), { command: "ping", ok: true, uptimeMs: 1234 }, "surrounding space is ignored");
    equal(r.commands.handle(bytes('{"command": "recalibrate"}')), '{"command":"recalibrate","ok":true}');
    equal(r.runs.length, 1);
    deepEqual(r.log, [], "nothing refused");
  });

  test("json-command-gets-its-request", () => {
    const r = registry();
    r.answer('{"command": "recalibrate", "channels": ["sht3x.temperature"]}');
    deepEqual(r.runs, [{ command: "recalibrate", channels: ["sht3x.temperature"] }]);
    r.answer("recalibrate");
    deepEqual(r.runs[1], {}, "a plain-text command has an empty request");
  });

  test("unknown-command-is-refused-naming-the-known-ones", () => {
    const r = registry();
    deepEqual(r.answer("reboot"), { ok: false, error: 'unknown command "reboot" (known: recalibrate, ping)' });
    deepEqual(r.log, ['command rejected: unknown command "reboot" (known: recalibrate, ping)']);
    equal(
      r.answer("x".repeat(60)).error,
      'unknown command "' + "x".repeat(40) + '" (known: recalibrate, ping)',
      "the name is cut to 40 characters",
    );
  });

  test("malformed-or-empty-message-is-refused-with-the-expected-forms", () => {
    const r = registry();
    const expected = 'expected "recalibrate", "ping" or {"command": …}';
    deepEqual(r.answer("{broken"), { ok: false, error: expected });
    deepEqual(r.answer(""), { ok: false, error: expected });
    deepEqual(r.answer('{"command": 7}'), { ok: false, error: expected });
    deepEqual(r.answer("{}"), { ok: false, error: expected });
  });

  test("message-longer-than-256-bytes-is-refused-unless-it-names-a-command-first", () => {
    const r = registry();
    deepEqual(r.answer("x".repeat(300)), { ok: false, error: "command longer than 256 bytes" });
    deepEqual(
      r.answer("ping" + " ".repeat(300)),
      { command: "ping", ok: true, uptimeMs: 1234 },
      "the first 256 bytes already name it",
    );
  });

  test("a-command-refuses-a-bad-request-by-throwing", () => {
    const r = registry();
    r.commands.register("interval", (request) => {
      const ms = request.ms;
      if (typeof ms !== "number" || !(ms >= 100))
        throw new Error("interval: ms: expected a number of at least 100, got " + JSON.stringify(ms));
      return { ms };
    });
    deepEqual(r.answer('{"command": "interval", "ms": 5}'), {
      command: "interval",
      ok: false,
      error: "interval: ms: expected a number of at least 100, got 5",
    });
    ok(r.log.includes("command rejected: interval: ms: expected a number of at least 100, got 5"), r.log.join("\n"));
    deepEqual(r.answer('{"command": "interval", "ms": 500}'), { command: "interval", ok: true, ms: 500 });
    equal(
      r.answer("reboot").error,
      'unknown command "reboot" (known: recalibrate, ping, interval)',
      "a registered command is known at once",
    );
  });

  test("retained-commands-are-refused-and-logged", () => {
    const r = registry();
    const answer = parseAnswer(r.commands.handle(bytes("recalibrate"), { retain: true }));
    deepEqual(answer, {
      ok: false,
      error: "retained commands are ignored (clear the retained message on the command topic)",
    });
    deepEqual(r.runs, [], "not run");
    ok(
      r.log.some((l) => l.startsWith("command rejected: retained commands are ignored")),
      r.log.join("\n"),
    );
    equal(parseAnswer(r.commands.handle(bytes("ping"), { retain: false })).ok, true, "a live one still runs");
  });

  test("registering-a-name-twice-or-a-bad-name-throws", () => {
    const r = registry();
    throws(() => r.commands.register("ping", () => {}), /command "ping" registered twice/);
    throws(() => r.commands.register("", () => {}), /bad command name ""/);
    throws(() => r.commands.register(" ping", () => {}), /bad command name/);
    deepEqual(r.commands.names, ["recalibrate", "ping"]);
  });
});
