// A key/value store kept in one JSON file: the Node stand-in for the device's flash preferences.
import { readFileSync, writeFileSync, renameSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Store } from "../../modules/io/io.js";

export class FileStore implements Store {
  readonly #path: string;
  #data: Record<string, string> = {};

  constructor(path: string) {
    this.#path = path;
    try {
      const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
      if (parsed && typeof parsed === "object") this.#data = parsed as Record<string, string>;
    } catch {
      // A missing or unreadable file starts empty, like erased flash.
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
    delete this.#data[key];
    this.#flush();
  }

  #flush(): void {
    // Write then rename, so a crash mid-write leaves the previous file intact.
    mkdirSync(dirname(this.#path), { recursive: true });
    const tmp = this.#path + ".tmp";
    writeFileSync(tmp, JSON.stringify(this.#data));
    renameSync(tmp, this.#path);
  }
}
