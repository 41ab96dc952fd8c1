// One start of the firmware on the Node host with a real FileStore, for the boot-loop test: node boot-child.js <dir>.
import { join } from "node:path";
import { createNodeHost } from "../../../hosts/node/host.js";
import { FileStore } from "../../../hosts/node/store.js";
import { bootApp } from "../../../src/start.js";
import { parseConfig } from "telltale/config/config";

const dir = process.argv[2]!;
const storePath = join(dir, "store.json");
const config = parseConfig({
  deviceId: "loop",
  intervalMs: 200,
  broker: { url: "mqtt://127.0.0.1:9" },
  detector: { model: "zscore", calibrationSamples: 5 },
  safeMode: { boots: 3, healthyMs: 1000 },
});
const host = createNodeHost({ storePath, store: new FileStore(storePath), sensors: config.sensors, flash: false });
// The supervisor's side of a restart: this process ends, and the test starts the next one.
bootApp({ ...host, restart: (reason) => (console.log("restart: " + reason), process.exit(0)) }, config);
