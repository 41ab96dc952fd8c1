// The device's own commands: `ping` (read-only, open) and `recalibrate` (changes detection: signed, and refused during an alarm unless forced).
import type { Commands } from "./commands.js";
import type { Monitor } from "./monitor.js";

export interface DeviceCommandParts {
  readonly monitor: Monitor;
  log: (line: string) => void;
  uptimeMs: () => number;
}

export function registerDeviceCommands(commands: Commands, parts: DeviceCommandParts): void {
  const { monitor, log } = parts;
  commands.register(
    "recalibrate",
    (request) => {
      // Relearning during an alarm would learn the fault as normal and clear the alarm: only when asked to.
      const inAlarm = monitor.alarm;
      if (inAlarm && request.force !== true)
        throw new Error('the alarm is raised; to relearn anyway send {"command": "recalibrate", "force": true}');
      monitor.recalibrate(inAlarm ? "recalibrate command (forced)" : "recalibrate command");
      log("detector: recalibrating on command" + (inAlarm ? " (forced during an alarm)" : ""));
    },
    { signed: true },
  );
  commands.register("ping", () => ({ uptimeMs: parts.uptimeMs() }));
}
