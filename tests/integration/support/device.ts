// A device as its own process (so a test can kill -9 it): the firmware on the Node host, its flash and store kept in one folder.
// argv[2] is JSON: { dir, deviceId, config, tear?, machine?, flashBytes? }. stdout carries one line per event, written synchronously:
//   S <boot> <seq> <wall ms>   telemetry <seq> of this boot is in the outbox (durable)
//   A <boot> <seq> <state>     an alarm change (raised/cleared) of round <seq> is in the outbox
//   L <log line>
import { writeSync } from "node:fs";
import { join } from "node:path";
import { createNodeHost } from "../../../hosts/node/host.js";
import { FileFlash, type TearOptions } from "../../../hosts/node/flash.js";
import { App } from "../../../src/app.js";
import { parseConfig } from "../../../modules/config/config.js";
import type { MachineOptions } from "../../../modules/sim/machine.js";

interface DeviceArgs {
  dir: string;
  deviceId: string;
  config: Record<string, unknown>;
  tear?: TearOptions;
  machine?: MachineOptions;
  /** The outbox file's size (default the Node host's 64 KiB). */
  flashBytes?: number;
}

const [, , argsJson] = process.argv;
if (argsJson === undefined) throw new Error("device: expects its arguments as JSON in argv[2]");
const args = JSON.parse(argsJson) as DeviceArgs;
const out = (line: string) => writeSync(1, line + "\n");
// The round of the latest telemetry line: an alarm change is logged in the same round, after it.
let lastSeq = "0";
const config = parseConfig({ ...args.config, deviceId: args.deviceId });
const flash = new FileFlash({ path: join(args.dir, "outbox.flash"), byteLength: args.flashBytes });
// A power cut in the middle of a write: the write stops at byte `at`, then the process dies at once.
if (args.tear) flash.tearWrite({ ...args.tear, onTear: () => process.kill(process.pid, "SIGKILL") });
const host = createNodeHost({
  storePath: join(args.dir, "store.json"),
  deviceId: args.deviceId,
  sensors: config.sensors,
  flash,
  machine: args.machine,
  log: (line) => {
    const m = /^telemetry #(\d+):/.exec(line);
    const a = /^ALARM (raised|cleared):/.exec(line);
    if (m && !/\(dropped/.test(line)) {
      lastSeq = m[1]!;
      out(`S ${app.boot} ${lastSeq} ${Date.now()}`);
    } else if (a && !/\(dropped/.test(line)) out(`A ${app.boot} ${lastSeq} ${a[1]}`);
    else out("L " + line);
  },
});
const app = new App(host, config);
void app.start();
process.on("SIGTERM", () => {
  app.stop();
  setTimeout(() => process.exit(0), 300);
});
