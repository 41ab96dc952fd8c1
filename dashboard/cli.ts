// The command line of the two Node programs, `npm run dashboard` and `npm start` (src/main-node.ts, which may import
// the dashboard): string options parsed by node:util's parseArgs, --help, the files options name, and a mistake
// printed with the usage (exit code 2).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

// Not telltale/errors/message's: the dashboard imports nothing of the firmware (tests/node/layering.test.ts).
function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class CommandLine {
  /** `program` starts every message ("telltale", "telltale dashboard"); `usage` follows a mistake and answers --help. */
  constructor(
    readonly program: string,
    readonly usage: string,
  ) {}

  /** Prints the mistake and the usage, and ends the process with exit code 2. */
  fail(message: string): never {
    console.error(this.program + ": " + message + "\n" + this.usage);
    process.exit(2);
  }

  /**
   * The values of the string options `names` in `args` (unknown options, a missing value and positionals are
   * mistakes); with --help or -h, prints the usage and returns undefined.
   */
  parse<Name extends string>(
    names: readonly Name[],
    args: string[] = process.argv.slice(2),
  ): Partial<Record<Name, string>> | undefined {
    const options: Record<string, { type: "string" } | { type: "boolean"; short: string }> = {};
    for (const name of names) options[name] = { type: "string" };
    options.help = { type: "boolean", short: "h" };
    let values: Record<string, string | boolean | undefined>;
    try {
      values = parseArgs({ args, options }).values;
    } catch (e) {
      this.fail(messageOf(e));
    }
    if (values.help) {
      console.log(this.usage);
      return undefined;
    }
    delete values.help;
    return values as Partial<Record<Name, string>>;
  }

  /** The text of the file at `path`, which `option` names, or a mistake that says why it cannot be read. */
  readFile(option: string, path: string): string;
  /** The same text given to `parse` (e.g. JSON.parse), whose error is the mistake too. */
  readFile<T>(option: string, path: string, parse: (text: string) => T): T;
  readFile(option: string, path: string, parse?: (text: string) => unknown): unknown {
    try {
      const text = readFileSync(path, "utf8");
      return parse ? parse(text) : text;
    } catch (e) {
      this.fail(`cannot read ${option} ${path}: ${messageOf(e)}`);
    }
  }
}
