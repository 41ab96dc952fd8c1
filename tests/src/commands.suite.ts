// The command registry: plain-text and JSON commands, answers, refusals with their reason, validation by the command
// itself, the size limit and the rate limit.
import { suite, test, equal, deepEqual, ok, throws } from "../harness.js";
import { Commands, MAX_COMMAND_BYTES } from "../../src/commands.js";
import { parseAnswer } from "../support/wire.js";
import { ManualClock } from "../support/manual-clock.js";
import { utf8Encode } from "telltale/text/utf8";

const bytes = (text: string) => {
  const b = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) b[i] = text.charCodeAt(i);
  return b;
};

function registry(limits: { perSecond?: number; burst?: number } = {}) {
  const log: string[] = [],
    runs: Record<string, unknown>[] = [],
    clock = new ManualClock();
  const commands = new Commands({ log: (line) => log.push(line), clock, ...limits });
  commands.register("recalibrate", (request) => {
    runs.push(request);
  });
  commands.register("ping", () => ({ uptimeMs: 1234 }));
  const answer = (text: string) => {
    const reply = commands.handle(bytes(text));
    if (reply === undefined) throw new Error("dropped by the rate limit");
    return parseAnswer(reply);
  };
  return { commands, log, runs, clock, answer };
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

  test("message-longer-than-256-bytes-is-refused-whole", () => {
    const r = registry();
    deepEqual(r.answer("x".repeat(300)), { ok: false, error: "command of 300 bytes refused: at most 256" });
    deepEqual(
      r.answer("ping" + " ".repeat(60_000)),
      { ok: false, error: "command of 60004 bytes refused: at most 256" },
      "a valid command padded past the limit is not obeyed",
    );
    equal(r.answer("ping" + " ".repeat(MAX_COMMAND_BYTES - 4)).ok, true, "256 bytes are read");
    equal(r.answer("ping" + " ".repeat(MAX_COMMAND_BYTES - 3)).ok, false, "257 are not");
    equal(r.commands.counters.refused, 3);
  });

  test("message-that-is-not-utf8-is-refused", () => {
    const r = registry();
    deepEqual(parseAnswer(r.commands.handle(Uint8Array.of(0x70, 0x69, 0xff, 0x67))!), {
      ok: false,
      error: "command is not valid UTF-8",
    });
    const text = utf8Encode('{"command": "ping", "note": "café ✓"}');
    equal(parseAnswer(r.commands.handle(text)!).ok, true, "UTF-8 text is read as UTF-8");
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
    const answer = parseAnswer(r.commands.handle(bytes("recalibrate"), { retain: true })!);
    deepEqual(answer, {
      ok: false,
      error: "retained commands are ignored (clear the retained message on the command topic)",
    });
    deepEqual(r.runs, [], "not run");
    ok(
      r.log.some((l) => l.startsWith("command rejected: retained commands are ignored")),
      r.log.join("\n"),
    );
    equal(parseAnswer(r.commands.handle(bytes("ping"), { retain: false })!).ok, true, "a live one still runs");
  });

  test("registering-a-name-twice-or-a-bad-name-throws", () => {
    const r = registry();
    throws(() => r.commands.register("ping", () => {}), /command "ping" registered twice/);
    throws(() => r.commands.register("", () => {}), /bad command name ""/);
    throws(() => r.commands.register(" ping", () => {}), /bad command name/);
    deepEqual(r.commands.names, ["recalibrate", "ping"]);
  });

  test("a-flood-is-cut-to-the-rate-limit-counted-and-logged-once", () => {
    const r = registry();
    let answered = 0;
    // 10 s of a flood: 100 pings every 10 ms (10,000 per second).
    for (let ms = 0; ms < 10_000; ms += 10) {
      for (let i = 0; i < 100; i++) if (r.commands.handle(bytes("ping")) !== undefined) answered++;
      r.clock.advance(10);
    }
    // The burst of 10, then 5 per second.
    ok(answered >= 58 && answered <= 61, "answered " + answered);
    equal(r.commands.counters.run, answered);
    equal(r.commands.counters.dropped, 100_000 - answered, "every dropped message is counted");
    const flood = r.log.filter((l) => l.startsWith("commands: "));
    deepEqual(flood, [
      "commands: more than 5 per second (burst 10); dropping the excess unanswered, counted in health.commands.dropped",
    ]);
    r.clock.advance(2000);
    equal(r.answer("ping").ok, true, "after the flood a command is answered at once");
    equal(r.log.at(-1), `commands: flood over; ${100_000 - answered} dropped unanswered`);
  });

  test("bad-and-retained-messages-spend-the-rate-limit-too", () => {
    const r = registry({ perSecond: 2, burst: 3 });
    const replies = [
      r.commands.handle(bytes("ping"), { retain: true }),
      r.commands.handle(bytes("{broken")),
      r.commands.handle(bytes("x".repeat(1000))),
      r.commands.handle(bytes("ping")),
    ];
    equal(replies.filter((a) => a !== undefined).length, 3, "three answers, the burst");
    equal(replies[3], undefined, "the fourth message is dropped, though valid");
    deepEqual(r.commands.counters, { run: 0, refused: 3, dropped: 1 });
    r.clock.advance(500);
    equal(r.answer("ping").ok, true, "one token back after 500 ms at 2 per second");
  });

  test("rate-limit-options-are-checked", () => {
    const clock = new ManualClock(),
      log = () => {};
    throws(() => new Commands({ log, clock, perSecond: 0 }), /perSecond must be above 0/);
    throws(() => new Commands({ log, clock, burst: 0.5 }), /burst must be an integer from 1 to 1000/);
  });
});
