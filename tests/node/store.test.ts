// The Node host's file store: damage is reported and replaced, never silently reset; the file is its owner's only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStore } from "../../hosts/node/store.js";

function place(): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), "telltale-store-"));
  return { dir, path: join(dir, "store.json") };
}

const mode = (path: string) => statSync(path).mode & 0o777;

test("store-holding-a-json-array-is-reported-replaced-and-saves-again", () => {
  const { path } = place();
  writeFileSync(path, '["boot", "7"]', { mode: 0o600 });
  const log: string[] = [];
  const store = new FileStore(path, (l) => log.push(l));
  assert.deepEqual(log, [
    `store: ${path} holds a JSON array, not an object of strings; kept as ${path}.damaged and replaced by an empty store`,
  ]);
  assert.equal(readFileSync(path + ".damaged", "utf8"), '["boot", "7"]', "the damaged file is kept for inspection");
  store.set("boot", "1");
  assert.equal(new FileStore(path, (l) => log.push(l)).get("boot"), "1", "what is set is there after a restart");
  assert.equal(log.length, 1, "the new file opens without complaint");
});

test("garbage-store-is-reported-naming-the-file-and-the-problem", () => {
  const { path } = place();
  writeFileSync(path, "\u0000\u00ff{not json", { mode: 0o600 });
  const log: string[] = [];
  const store = new FileStore(path, (l) => log.push(l));
  assert.equal(log.length, 1);
  assert.match(log[0]!, new RegExp(`^store: ${path} is not JSON \\(.+\\); kept as ${path}\\.damaged and replaced`));
  assert.equal(store.get("boot"), undefined);
  assert.deepEqual(JSON.parse(readFileSync(path, "utf8")), {}, "replaced at once, so the next start is clean");
});

test("values-that-are-not-strings-are-dropped-by-name-the-rest-kept", () => {
  const { path } = place();
  writeFileSync(path, JSON.stringify({ boot: 4, simId: "sim-1" }), { mode: 0o600 });
  const log: string[] = [];
  const store = new FileStore(path, (l) => log.push(l));
  assert.equal(store.get("simId"), "sim-1");
  assert.equal(store.get("boot"), undefined);
  assert.deepEqual(log, [`store: ${path}: key "boot" holds a JSON number, not a string; dropped`]);
});

test("unreadable-store-is-reported", () => {
  const { path } = place();
  mkdirSync(path); // a folder where the file should be
  const log: string[] = [];
  new FileStore(path, (l) => log.push(l));
  assert.equal(log.length, 1);
  assert.match(log[0]!, new RegExp(`^store: cannot read ${path} \\(.*EISDIR.*\\); starting empty$`));
});

test("missing-store-starts-empty-silently", () => {
  const { path } = place();
  const log: string[] = [];
  assert.equal(new FileStore(path, (l) => log.push(l)).get("boot"), undefined);
  assert.deepEqual(log, []);
});

test("store-file-and-folder-are-created-owner-only", () => {
  const { dir } = place();
  const path = join(dir, "flash", "store.json");
  new FileStore(path, () => {}).set("config", "secret");
  assert.equal(mode(path).toString(8), "600");
  assert.equal(mode(join(dir, "flash")).toString(8), "700");
});

test("world-readable-store-is-tightened-with-a-log-line", () => {
  const { path } = place();
  writeFileSync(path, JSON.stringify({ config: "password" }));
  chmodSync(path, 0o644);
  const log: string[] = [];
  const store = new FileStore(path, (l) => log.push(l));
  assert.equal(mode(path).toString(8), "600");
  assert.deepEqual(log, [
    `store: ${path} was readable by others (mode 644); now 600, owner only: it holds the broker's credentials`,
  ]);
  assert.equal(store.get("config"), "password", "its contents are kept");
});

test("stale-temporary-file-does-not-loosen-the-mode", () => {
  const { path } = place();
  writeFileSync(path + ".tmp", "left by a crash");
  chmodSync(path + ".tmp", 0o666);
  new FileStore(path, () => {}).set("boot", "2");
  assert.equal(mode(path).toString(8), "600");
  assert.equal(existsSync(path + ".tmp"), false);
});
