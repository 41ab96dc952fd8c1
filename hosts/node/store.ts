// A key/value store kept in one JSON file, readable by its owner only: the Node stand-in for the device's flash preferences.
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Store } from "../../modules/io/io.js";

/** The file holds the configuration, broker password and private key included: owner read/write only. */
const FILE_MODE = 0o600;

function describe(value: unknown): string {
  if (Array.isArray(value)) return "a JSON array";
  return value === null ? "null" : "a JSON " + typeof value;
}

export class FileStore implements Store {
  readonly #path: string;
  readonly #log: (line: string) => void;
  #data: Record<string, string> = {};

  /** Opens the store at `path`; what is wrong with an existing file (damage, loose permissions) goes to `log`. */
  constructor(path: string, log: (line: string) => void = (line) => console.log(line)) {
    this.#path = path;
    this.#log = log;
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      // A missing file starts empty, like erased flash; any other failure is said.
      if ((e as NodeJS.ErrnoException).code !== "ENOENT")
        log(`store: cannot read ${path} (${(e as Error).message}); starting empty`);
      return;
    }
    this.#tighten();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      this.#replace(`is not JSON (${(e as Error).message})`);
      return;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      this.#replace(`holds ${describe(parsed)}, not an object of strings`);
      return;
    }
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof value === "string") this.#data[key] = value;
      else log(`store: ${path}: key ${JSON.stringify(key)} holds ${describe(value)}, not a string; dropped`);
    }
  }

  get(key: string): string | undefined {
    return Object.hasOwn(this.#data, key) ? this.#data[key] : undefined;
  }
  set(key: string, value: string): void {
    this.#data[key] = value;
    this.#flush();
  }
  delete(key: string): void {
    if (!Object.hasOwn(this.#data, key)) return;
    delete this.#data[key];
    this.#flush();
  }

  /** A file another user can read is made the owner's only, and the log says so. */
  #tighten(): void {
    try {
      const mode = statSync(this.#path).mode & 0o777;
      if ((mode & 0o077) === 0) return;
      chmodSync(this.#path, FILE_MODE);
      this.#log(
        `store: ${this.#path} was readable by others (mode ${mode.toString(8)}); now ${FILE_MODE.toString(8)}, owner only: it holds the broker's credentials`,
      );
    } catch (e) {
      this.#log(`store: cannot restrict ${this.#path} to its owner (${(e as Error).message})`);
    }
  }

  /** Moves a damaged file aside (for whoever investigates) and starts a new one, saying both. */
  #replace(problem: string): void {
    const aside = this.#path + ".damaged";
    try {
      renameSync(this.#path, aside);
      this.#flush();
      this.#log(`store: ${this.#path} ${problem}; kept as ${aside} and replaced by an empty store`);
    } catch (e) {
      this.#log(`store: ${this.#path} ${problem}; starting empty, and it cannot be replaced (${(e as Error).message})`);
    }
  }

  #flush(): void {
    // Write then rename, so a crash mid-write leaves the previous file intact. The temporary file is made anew so
    // that it is created with the owner-only mode (a mode given to writeFileSync applies to new files only).
    mkdirSync(dirname(this.#path), { recursive: true, mode: 0o700 });
    const tmp = this.#path + ".tmp";
    rmSync(tmp, { force: true });
    writeFileSync(tmp, JSON.stringify(this.#data), { mode: FILE_MODE });
    renameSync(tmp, this.#path);
  }
}
