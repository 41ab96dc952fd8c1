// What makes this device's messages its own: its topics, and the boot counter that, with `seq`, makes each unique.
import type { Host } from "telltale/io/host";
import { messageOf } from "telltale/errors/message";
import type { IdentityStatus } from "./telemetry.js";

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

/** The flash side of the boot counter: the durable outbox's boot stamps (Delivery; see Outbox.stampBoot). */
export interface BootStamps {
  /** The highest boot counter found in flash: 0 when none, or when there is no durable flash. */
  readonly bootStamp: number;
  /** Keeps `boot` in flash: false when there is no durable flash; throws when the write fails. */
  stampBoot(boot: number): boolean;
}

/** The boot counter and whether anything keeps it. */
export interface BootCount {
  boot: number;
  identity: IdentityStatus;
}

/** With nothing to keep the counter, a boot draws it from this many values above the last one known. */
export const RANDOM_BOOTS = 2 ** 30;

/**
 * Counts this start: one more than the highest of the store's counter (key "boot") and the outbox's flash stamps, then
 * kept in both. A store that was lost, holds garbage or refuses costs a log line and nothing more while the flash keeps
 * the count. When neither keeps it, the boot is drawn at random above the last one known (one chance in 2^30 that two
 * such boots share it), the log says so, and `identity` reports it for health telemetry.
 */
export function countBoot(host: Pick<Host, "store" | "log" | "random">, stamps: BootStamps): BootCount {
  const store = host.store;
  let raw: string | undefined,
    stored = 0,
    storeNote = "";
  try {
    raw = store.get("boot");
  } catch (e) {
    storeNote = "could not be read (" + messageOf(e) + ")";
  }
  if (raw !== undefined) {
    if (/^[1-9][0-9]{0,9}$/.test(raw) && Number(raw) <= 0xffffffff) stored = Number(raw);
    else storeNote = "holds " + JSON.stringify(raw.length > 24 ? raw.slice(0, 24) + "…" : raw) + ", not a count";
  } else if (storeNote === "" && stamps.bootStamp > 0) storeNote = "is missing";
  const flash = stamps.bootStamp;
  if (storeNote !== "")
    host.log(
      "identity: the store's boot counter " +
        storeNote +
        "; " +
        (flash > 0 ? "counting on from the outbox's flash (boot " + flash + ")" : "the outbox's flash holds none"),
    );
  const base = Math.max(stored, flash);
  let storeError: string | undefined, flashError: string | undefined;
  try {
    store.set("boot", String(base + 1));
  } catch (e) {
    storeError = "store: " + messageOf(e);
  }
  try {
    if (!stamps.stampBoot(base + 1)) flashError = "no durable outbox flash";
  } catch (e) {
    flashError = "outbox flash: " + messageOf(e);
  }
  if (storeError === undefined || flashError === undefined) {
    if (storeError !== undefined)
      host.log("identity: " + storeError + "; the boot counter is kept in the outbox's flash");
    else if (flashError !== undefined && flashError !== "no durable outbox flash")
      host.log("identity: " + flashError + "; the boot counter is kept in the store only");
    return { boot: base + 1, identity: { durable: true } };
  }
  const problems = [storeError, flashError];
  const boot = base + 1 + Math.floor((host.random ?? Math.random)() * RANDOM_BOOTS);
  const error = "boot counter not kept (" + problems.join("; ") + "): boot " + boot + " is random";
  host.log("identity: " + error + ", so a later boot repeats it only by chance");
  return { boot, identity: { durable: false, error } };
}
