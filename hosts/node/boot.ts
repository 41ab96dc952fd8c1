// `npm start`: the Node supervisor (the bootloader of supervisor.ts) running the firmware (src/main-node.ts) from a slot.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_BOOT_TRIES, DEFAULT_CONFIRM_WITHIN_MS, runSupervisor } from "./supervisor.js";

const USAGE = `supervisor options (the others go to the firmware):
  --boot-tries N      boots a new image gets to confirm itself before it is rolled back (default ${DEFAULT_BOOT_TRIES})
  --confirm-within S  a new image that has not confirmed itself S seconds after it started is stopped and rolled
                      back (default ${DEFAULT_CONFIRM_WITHIN_MS / 1000})`;

function fail(message: string): never {
  console.error("telltale: " + message + "\n" + USAGE);
  process.exit(2);
}

// Its own two options are taken out; --flash is read (the slots live in it) and passed on with the rest.
const args: string[] = [];
let flashDir = "telltale-flash";
let bootTries = DEFAULT_BOOT_TRIES;
let confirmWithinMs = DEFAULT_CONFIRM_WITHIN_MS;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i]!;
  const [name, inline] =
    arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
  const value = () => inline ?? argv[++i] ?? fail(`${name} expects a value`);
  if (name === "--boot-tries") {
    const n = Number(value());
    if (!Number.isInteger(n) || n < 1) fail("--boot-tries expects a whole number of at least 1");
    bootTries = n;
  } else if (name === "--confirm-within") {
    const s = Number(value());
    if (!Number.isFinite(s) || s <= 0) fail("--confirm-within expects a positive number of seconds");
    confirmWithinMs = s * 1000;
  } else {
    if (name === "--flash") {
      const v = value();
      if (v) flashDir = v;
      args.push("--flash", v);
    } else args.push(arg);
    if (arg === "--help" || arg === "-h") console.log(USAGE + "\n");
  }
}

// This file is build/hosts/node/boot.js in the installed build.
const installRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
runSupervisor({ flashDir, installRoot, bootTries, confirmWithinMs }, args).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error("telltale: supervisor: " + ((e as Error).stack ?? String(e)));
    process.exit(1);
  },
);
