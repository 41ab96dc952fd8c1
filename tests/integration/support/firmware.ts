// Runs the firmware in-process on the Node host (simulated SHT3x, real sockets) and records its log.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeHost, type NodeHost } from "../../../hosts/node/host.js";
import { App } from "../../../src/app.js";
import { parseConfig } from "../../../modules/config/config.js";
import type { MachineOptions } from "../../../modules/sim/machine.js";

export interface Firmware {
  app: App;
  host: NodeHost;
  log: string[];
}

export function startFirmware(
  deviceId: string,
  broker: Record<string, unknown>,
  machine: MachineOptions = {},
  extra: Record<string, unknown> = {},
): Firmware {
  const log: string[] = [];
  const config = parseConfig({
    deviceId,
    intervalMs: 100,
    broker: { keepalive: 10, ...broker },
    detector: { calibrationSamples: 60 },
    ...extra,
  });
  const host = createNodeHost({
    storePath: join(mkdtempSync(join(tmpdir(), "telltale-flash-")), "store.json"),
    deviceId,
    log: (line) => log.push(line),
    machine,
    sensors: config.sensors,
  });
  const app = new App(host, config);
  void app.start();
  return { app, host, log };
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false,
  ms = 15_000,
  context?: () => string,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > until)
      throw new Error(`timed out after ${ms} ms waiting for ${what}${context ? "\n" + context() : ""}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
