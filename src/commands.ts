// Commands: a registry of named commands the broker may send; one that cannot be understood is answered with the reason, never obeyed.
import { messageOf } from "telltale/errors/message";

/** Longest command message read; a longer one is refused unless its first bytes already name a command. */
export const MAX_COMMAND_BYTES = 256;

/** Fields a command adds to its answer after `command` and `ok` (e.g. `uptimeMs`). */
export type CommandResult = Record<string, unknown>;

/**
 * Runs one command. `request` is the message's object ({"command": name, …}), or {} for a plain-text command.
 * To refuse it (a missing or bad field), throw an Error whose message says what is wrong: it becomes the answer.
 */
export type CommandHandler = (request: Readonly<Record<string, unknown>>) => CommandResult | void;

export interface CommandsOptions {
  log: (line: string) => void;
}

/**
 * A message is a command name as plain text ("ping") or an object naming it ({"command": "ping", …}). The answer is
 * {"command": name, "ok": true, …its result} or, for a message not understood, {"ok": false, "error": reason}.
 */
export class Commands {
  readonly #handlers = new Map<string, CommandHandler>();
  readonly #log: (line: string) => void;

  constructor(options: CommandsOptions) {
    this.#log = options.log;
  }

  /** Names of the registered commands, in registration order. */
  get names(): string[] {
    return [...this.#handlers.keys()];
  }

  /** Adds a command; a name registered twice is a programming error and throws. */
  register(name: string, handler: CommandHandler): void {
    if (name === "" || name.trim() !== name || name.startsWith("{"))
      throw new Error("Commands: bad command name " + JSON.stringify(name));
    if (this.#handlers.has(name)) throw new Error("Commands: command " + JSON.stringify(name) + " registered twice");
    this.#handlers.set(name, handler);
  }

  /**
   * Runs the command in `payload` and returns its answer (JSON). A retained message is refused: the broker would
   * replay it on every connection and every reboot, long after whoever sent it meant it.
   */
  handle(payload: Uint8Array, info: { readonly retain?: boolean } = {}): string {
    if (info.retain)
      return this.#reject("retained commands are ignored (clear the retained message on the command topic)");
    let text = "";
    for (let i = 0; i < payload.length && i < MAX_COMMAND_BYTES; i++) text += String.fromCharCode(payload[i]!);
    let name: unknown = text.trim(),
      request: Readonly<Record<string, unknown>> = {};
    if (text.trim().startsWith("{")) {
      try {
        request = JSON.parse(text) as Record<string, unknown>;
        name = request.command;
      } catch {
        name = undefined;
      }
    }
    const handler = typeof name === "string" ? this.#handlers.get(name) : undefined;
    if (handler) {
      let result: CommandResult | void;
      try {
        result = handler(request);
      } catch (e) {
        return this.#reject(messageOf(e), name as string);
      }
      return JSON.stringify({ command: name, ok: true, ...result });
    }
    const names = this.names;
    return this.#reject(
      payload.length > MAX_COMMAND_BYTES
        ? "command longer than " + MAX_COMMAND_BYTES + " bytes"
        : typeof name === "string" && name !== ""
          ? "unknown command " + JSON.stringify(name.slice(0, 40)) + " (known: " + names.join(", ") + ")"
          : "expected " + names.map((n) => JSON.stringify(n)).join(", ") + ' or {"command": …}',
    );
  }

  #reject(error: string, command?: string): string {
    this.#log("command rejected: " + error);
    return JSON.stringify(command === undefined ? { ok: false, error } : { command, ok: false, error });
  }
}
