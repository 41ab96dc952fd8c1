// A small installed build for supervisor tests: the real updates/boot-state/image modules and a main that acts a part.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { packBuild } from "../../../hosts/node/image.js";

/** This build's output folder (this file is build/tests/node/support/tiny-build.js). */
const BUILD = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const MODULES = ["updates", "disk", "boot-state", "image"];

/**
 * How the tiny firmware behaves: "good" confirms when pending (then restarts once, so the supervisor boots it again,
 * committed) and stops; "confirm" confirms and stops; "crash" throws at start; "hang" never confirms; "reject" gives itself up and restarts.
 */
export type Part = "good" | "confirm" | "crash" | "hang" | "reject";

/** The main of a tiny build: every boot appends "slot version pending rolledBack" to <flash>/boots.log. */
export function tinyMain(part: Part): string {
  return `import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bootFromEnv, NodeUpdates, RESTART_EXIT } from "../hosts/node/updates.js";
const boot = bootFromEnv(process.env);
const updates = new NodeUpdates(boot);
appendFileSync(join(boot.flashDir, "boots.log"),
  [boot.slot, boot.version, boot.pending ? "pending" : "committed", updates.rolledBack ?? "-"].join(" ") + "\\n");
const part = ${JSON.stringify(part)};
if (part === "crash") throw new Error("broken image: crashes at start");
if (part === "hang") setInterval(() => {}, 1000);
else if (part === "reject") { if (boot.pending) { updates.reject("self-test failed"); process.exit(RESTART_EXIT); } }
else if (boot.pending) {
  updates.confirm();
  const marker = part === "good" && join(boot.flashDir, "restarted-" + boot.version);
  if (marker && !existsSync(marker)) { writeFileSync(marker, ""); process.exit(RESTART_EXIT); }
}
`;
}

/** An installed build (package.json, the four host modules from this build, a main) in a new temporary folder. */
export function tinyInstall(part: Part = "good", version = "0.1.0"): string {
  const root = mkdtempSync(join(tmpdir(), "telltale-install-"));
  writeFileSync(
    join(root, "package.json"),
    JSON.stringify({ name: "telltale", version, type: "module", exports: { "./*": "./build/modules/*.js" } }),
  );
  mkdirSync(join(root, "build", "hosts", "node"), { recursive: true });
  mkdirSync(join(root, "build", "src"), { recursive: true });
  for (const m of MODULES)
    writeFileSync(
      join(root, "build", "hosts", "node", m + ".js"),
      readFileSync(join(BUILD, "hosts", "node", m + ".js")),
    );
  writeFileSync(join(root, "build", "src", "main-node.js"), tinyMain(part));
  return root;
}

/** An image of the tiny build at `root` as `version`, acting `part`. */
export function tinyImage(root: string, version: number, part: Part): Uint8Array {
  return packBuild(root, version, { "build/src/main-node.js": tinyMain(part) });
}

/** The boots the tiny firmware logged, one "slot version pending|committed rolledBack" string each. */
export function boots(flashDir: string): string[] {
  try {
    return readFileSync(join(flashDir, "boots.log"), "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
}
