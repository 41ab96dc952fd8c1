// Commands: a registry of named commands the broker may send; one that cannot be understood is answered with the reason, never obeyed.
import type { Clock } from "telltale/io/io";
import { messageOf } from "telltale/errors/message";
import { utf8Read } from "telltale/text/utf8";
import type { CommandAuth } from "./command-auth.js";

/** Longest command message: a longer one is refused whole, never cut to fit. */
export const MAX_COMMAND_BYTES = 256;
/** Default rate limit: commands per second, and how many may come at once after a quiet spell. */
export const COMMANDS_PER_SECOND = 5;
export const COMMAND_BURST = 10;
/** A flood is over once this long has passed without a dropped command. */
const FLOOD_QUIET_MS = 1000;

/** Fields a command adds to its answer after `command` and `ok` (e.g. `uptimeMs`). */
export type CommandResult = Record<string, unknown>;

/**
 * Runs one command. `request` is the message's object ({"command": name, …}), or {} for a plain-text command.
 * To refuse it (a missing or bad field), throw an Error whose message says what is wrong: it becomes the answer.
 */
export type CommandHandler = (request: Readonly<Record<string, unknown>>) => CommandResult | void;

export interface CommandOptions {
  /** The command changes detection or the device (recalibrate, OTA, configuration): it runs only when signed. */
  readonly signed?: boolean;
}

/** What health telemetry reports of the commands: run, refused (with an answer saying why) and dropped unanswered. */
export interface CommandCounters {
  run: number;
  refused: number;
  dropped: number;
}

export interface CommandsOptions {
  log: (line: string) => void;
  /** Times the rate limit. */
  readonly clock: Clock;
  /** Checks signed commands; without it, a command registered `signed` is always refused. */
  readonly auth?: CommandAuth;
  /** Token bucket: messages accepted per second on average, and at most `burst` at once (defaults 5 and 10). */
  readonly perSecond?: number;
  readonly burst?: number;
}

interface Entry {
  readonly handler: CommandHandler;
  readonly signed: boolean;
}

/**
 * A message is a command name as plain text ("ping") or an object naming it ({"command": "ping", …}). The answer is
 * {"command": name, "ok": true, …its result} or, for a message not understood, {"ok": false, "error": reason}.
 * Every message, good or bad, spends a token of the rate limit first; one that finds none is dropped unanswered.
 */
export class Commands {
  readonly counters: CommandCounters = { run: 0, refused: 0, dropped: 0 };
  readonly #entries = new Map<string, Entry>();
  readonly #log: (line: string) => void;
  readonly #clock: Clock;
  readonly #auth: CommandAuth | undefined;
  readonly #perSecond: number;
  readonly #burst: number;
  /** Tokens left, scaled by 1000 (a message costs 1000); refilled by `perSecond` per ms since `#filledAt`. */
  #tokens: number;
  #filledAt: number;
  /** Dropped since the flood began, and when the last was dropped; -1: no flood. */
  #floodDropped = -1;
  #lastDropAt = 0;

  constructor(options: CommandsOptions) {
    const perSecond = options.perSecond ?? COMMANDS_PER_SECOND,
      burst = options.burst ?? COMMAND_BURST;
    if (!(perSecond > 0 && perSecond <= 1000)) throw new RangeError("Commands: perSecond must be above 0 and ≤ 1000");
    if (!(burst >= 1 && burst <= 1000 && burst === Math.floor(burst)))
      throw new RangeError("Commands: burst must be an integer from 1 to 1000");
    this.#log = options.log;
    this.#clock = options.clock;
    this.#auth = options.auth;
    this.#perSecond = perSecond;
    this.#burst = burst;
    this.#tokens = burst * 1000;
    this.#filledAt = options.clock.now();
  }

  /** Names of the registered commands, in registration order. */
  get names(): string[] {
    return [...this.#entries.keys()];
  }

  /** Adds a command; a name registered twice is a programming error and throws. */
  register(name: string, handler: CommandHandler, options: CommandOptions = {}): void {
    if (name === "" || name.trim() !== name || name.startsWith("{"))
      throw new Error("Commands: bad command name " + JSON.stringify(name));
    if (this.#entries.has(name)) throw new Error("Commands: command " + JSON.stringify(name) + " registered twice");
    this.#entries.set(name, { handler, signed: options.signed === true });
  }

  /**
   * Runs the command in `payload` and returns its answer (JSON), or undefined when the rate limit drops it. A retained
   * message is refused: the broker would replay it on every connection and every reboot, long after whoever sent it
   * meant it.
   */
  handle(payload: Uint8Array, info: { readonly retain?: boolean } = {}): string | undefined {
    if (!this.#take()) return undefined;
    if (info.retain)
      return this.#reject("retained commands are ignored (clear the retained message on the command topic)");
    if (payload.length > MAX_COMMAND_BYTES)
      return this.#reject("command of " + payload.length + " bytes refused: at most " + MAX_COMMAND_BYTES);
    const text = utf8Read(payload, 0, payload.length);
    if (text === undefined) return this.#reject("command is not valid UTF-8");
    const trimmed = text.trim();
    let name: unknown = trimmed,
      request: Readonly<Record<string, unknown>> = {};
    if (trimmed.startsWith("{")) {
      try {
        const parsed: unknown = JSON.parse(trimmed);
        if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
          request = parsed as Record<string, unknown>;
          name = request.command;
        } else name = undefined;
      } catch {
        name = undefined;
      }
    }
    const entry = typeof name === "string" ? this.#entries.get(name) : undefined;
    if (entry) {
      const command = name as string;
      let result: CommandResult | void;
      try {
        if (this.#auth) this.#auth.check(command, request, entry.signed);
        else if (entry.signed || request.mac !== undefined)
          throw new Error(`"${command}" must be signed and this device cannot check signatures`);
        result = entry.handler(request);
      } catch (e) {
        return this.#reject(messageOf(e), command);
      }
      this.counters.run++;
      return JSON.stringify({ command, ok: true, ...result });
    }
    const names = this.names;
    return this.#reject(
      typeof name === "string" && name !== ""
        ? "unknown command " + JSON.stringify(name.slice(0, 40)) + " (known: " + names.join(", ") + ")"
        : "expected " + names.map((n) => JSON.stringify(n)).join(", ") + ' or {"command": …}',
    );
  }

  /** Spends a token if there is one; a message without one is dropped and counted, with one log line per flood. */
  #take(): boolean {
    const now = this.#clock.now();
    const cap = this.#burst * 1000;
    this.#tokens = Math.min(cap, this.#tokens + (now - this.#filledAt) * this.#perSecond);
    this.#filledAt = now;
    if (this.#tokens >= 1000) {
      this.#tokens -= 1000;
      if (this.#floodDropped >= 0 && now - this.#lastDropAt >= FLOOD_QUIET_MS) {
        this.#log(`commands: flood over; ${this.#floodDropped} dropped unanswered`);
        this.#floodDropped = -1;
      }
      return true;
    }
    this.counters.dropped++;
    this.#lastDropAt = now;
    if (this.#floodDropped < 0) {
      this.#floodDropped = 0;
      this.#log(
        `commands: more than ${this.#perSecond} per second (burst ${this.#burst}); dropping the excess unanswered, counted in health.commands.dropped`,
      );
    }
    this.#floodDropped++;
    return false;
  }

  #reject(error: string, command?: string): string {
    this.counters.refused++;
    this.#log("command rejected: " + error);
    return JSON.stringify(command === undefined ? { ok: false, error } : { command, ok: false, error });
  }
}
