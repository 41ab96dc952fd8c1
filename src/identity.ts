// What makes this device's messages its own: its topics, and the boot counter that, with `seq`, makes each unique.
import type { Store } from "telltale/io/io";
import { messageOf } from "telltale/errors/message";

/** The device's topics: `<prefix>/<deviceId>/telemetry`, `…/alarm`, `…/status`, `…/command` and `…/command/result`. */
export interface Topics {
  telemetry: string;
  alarm: string;
  status: string;
  command: string;
  result: string;
}

export function deviceTopics(prefix: string, deviceId: string): Topics {
  const base = prefix + "/" + deviceId + "/";
  return {
    telemetry: base + "telemetry",
    alarm: base + "alarm",
    status: base + "status",
    command: base + "command",
    result: base + "command/result",
  };
}

/** Starts of this device so far, kept in the store under "boot" and counted up (a store that refuses costs a log line). */
export function countBoot(store: Store, log: (line: string) => void): number {
  const boots = Number(store.get("boot"));
  const boot = (Number.isInteger(boots) && boots > 0 ? boots : 0) + 1;
  try {
    store.set("boot", String(boot));
  } catch (e) {
    log("store: " + messageOf(e));
  }
  return boot;
}
