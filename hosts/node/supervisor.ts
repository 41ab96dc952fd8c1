// The Node bootloader: boots the committed slot or a pending one with limited tries, unpacks images, rolls back bad ones.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { realDisk, writeFileAtomic, type Disk } from "./disk.js";
import {
  readBootState,
  slotPaths,
  writeBootState,
  type BootState,
  type SlotImage,
  type SlotName,
  type SlotPaths,
} from "./boot-state.js";
import { ImageError, packBuild, parseImage, type Image } from "./image.js";
import { BOOT_ENV, RESTART_EXIT, type BootInfo } from "./updates.js";
import { WATCHDOG_EXIT_CODE } from "./watchdog.js";

export const DEFAULT_BOOT_TRIES = 3;
export const DEFAULT_CONFIRM_WITHIN_MS = 10 * 60_000;
export const DEFAULT_SLOT_BYTES = 64 * 1024 * 1024;
/** The file each image runs, relative to its slot's tree. */
export const ENTRY = "build/src/main-node.js";
/** Written last into an unpacked tree: the tree is whole when this names the image the boot state names. */
const STAMP = ".telltale-image.json";

export interface SupervisorOptions {
  /** The firmware's flash folder (`--flash`): slots live in its "slots" folder. */
  readonly flashDir: string;
  /** Where the installed build is (package.json, build/, node_modules): slot a's image on first boot. */
  readonly installRoot: string;
  readonly bootTries?: number;
  /** A pending image that has not confirmed this long after it started is stopped and rolled back. */
  readonly confirmWithinMs?: number;
  readonly slotBytes?: number;
  readonly log?: (line: string) => void;
  readonly disk?: Disk;
}

export interface BootPlan {
  readonly slot: SlotName;
  readonly version: number;
  readonly sha256: string;
  readonly pending: boolean;
  /** Tries left after this boot, for a pending image. */
  readonly triesLeft?: number;
  readonly rolledBack?: string;
  /** The slot's unpacked tree. */
  readonly tree: string;
}

function without(state: BootState, keys: readonly ("pending" | "rolledBack")[]): BootState {
  const copy: Record<string, unknown> = { ...state };
  for (const key of keys) delete copy[key];
  return copy as unknown as BootState;
}

/** True when the slot's tree is the whole unpacked image `want`. */
export function treeHolds(tree: string, want: SlotImage): boolean {
  try {
    const stamp = JSON.parse(readFileSync(join(tree, STAMP), "utf8")) as { version?: unknown; sha256?: unknown };
    return stamp.version === want.version && stamp.sha256 === want.sha256 && existsSync(join(tree, ENTRY));
  } catch {
    return false;
  }
}

/** Reads and checks a slot's image file; an image that cannot run (no package.json or entry) is refused too. */
function readImage(path: string): Image {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ImageError(`cannot read ${path}: ${(e as Error).message}`);
  }
  const image = parseImage(bytes);
  for (const needed of ["package.json", ENTRY])
    if (!image.files.some((f) => f.path === needed)) throw new ImageError(`image has no ${needed}`);
  return image;
}

/**
 * Unpacks into `<tree>.unpack`, every file and folder fsynced and the stamp last, then replaces the tree by renames:
 * a cut leaves the old tree or the whole new one (or none, and the next boot unpacks again from the image file).
 * The tree gets a node_modules link to the installed build's, so its package.json "exports" and dependencies resolve.
 */
function unpack(disk: Disk, paths: SlotPaths, slot: SlotName, image: Image, installRoot: string): void {
  const tree = paths.tree(slot);
  const temporary = tree + ".unpack";
  disk.rm(temporary);
  disk.mkdir(temporary);
  const dirs = new Set<string>([temporary]);
  for (const file of image.files) {
    const path = join(temporary, file.path);
    const dir = dirname(path);
    if (!dirs.has(dir)) {
      disk.mkdir(dir);
      dirs.add(dir);
    }
    const fd = disk.open(path, "w");
    try {
      disk.write(fd, file.data, 0);
      disk.fsync(fd);
    } finally {
      disk.close(fd);
    }
  }
  const modules = join(installRoot, "node_modules");
  if (existsSync(modules)) disk.symlink(realpathSync(modules), join(temporary, "node_modules"));
  const stamp = JSON.stringify({ version: image.version, sha256: image.sha256 });
  const fd = disk.open(join(temporary, STAMP), "w");
  try {
    disk.write(fd, new TextEncoder().encode(stamp), 0);
    disk.fsync(fd);
  } finally {
    disk.close(fd);
  }
  for (const dir of [...dirs].sort((x, y) => y.length - x.length)) disk.syncDir(dir);
  // The old tree is moved aside whole before it is deleted: a half-deleted tree never keeps its name and stamp.
  const old = tree + ".old";
  disk.rm(old);
  if (existsSync(tree)) disk.rename(tree, old);
  disk.rename(temporary, tree);
  disk.syncDir(paths.dir);
  disk.rm(old);
}

/** Puts the installed build in slot a as the committed image (first boot, or the installed build changed). */
function install(o: SupervisorOptions, disk: Disk, paths: SlotPaths, bytes: Uint8Array): BootState {
  writeFileAtomic(disk, paths.image("a"), bytes);
  const image = readImage(paths.image("a"));
  unpack(disk, paths, "a", image, o.installRoot);
  const state: BootState = {
    format: 1,
    committed: { slot: "a", version: image.version, sha256: image.sha256 },
    installed: image.sha256,
  };
  writeBootState(disk, paths.state, state);
  return state;
}

/**
 * What to boot now, with the slot made ready: the pending image while it has tries (unpacked and checked first; one
 * try is taken before it runs), else the committed one. A pending image out of tries, or one whose image is refused,
 * is rolled back here, the reason kept in the state for the boot that follows.
 */
export function prepareBoot(o: SupervisorOptions): BootPlan {
  const disk = o.disk ?? realDisk;
  const log = o.log ?? ((line: string) => console.log(line));
  const tries = o.bootTries ?? DEFAULT_BOOT_TRIES;
  const paths = slotPaths(o.flashDir);
  disk.mkdir(paths.dir);
  let state: BootState | undefined;
  try {
    state = readBootState(paths.state);
  } catch (e) {
    log(`supervisor: boot state unreadable (${(e as Error).message}); installing the installed build in slot a`);
  }
  const installed = packBuild(o.installRoot);
  const installedSha = parseImage(installed).sha256;
  if (state?.installed !== installedSha) {
    log(
      state
        ? "supervisor: the installed build changed; it replaces slot a as the committed image"
        : "supervisor: first boot: the installed build becomes slot a",
    );
    state = install(o, disk, paths, installed);
  }

  const rollBack = (s: BootState, reason: string): BootState => {
    log("supervisor: rolled back: " + reason);
    const next = { ...without(s, ["pending"]), rolledBack: reason };
    writeBootState(disk, paths.state, next);
    return next;
  };
  const p = state.pending;
  if (p && p.triesLeft <= 0)
    state = rollBack(
      state,
      `version ${p.version} did not confirm itself in ${tries} boot${tries === 1 ? "" : "s"}` +
        (p.lastExit ? ` (last: ${p.lastExit})` : ""),
    );
  else if (p && !treeHolds(paths.tree(p.slot), p)) {
    try {
      const image = readImage(paths.image(p.slot));
      if (image.sha256 !== p.sha256 || image.version !== p.version)
        throw new ImageError(`slot ${p.slot}'s image is not the version ${p.version} that was completed`);
      unpack(disk, paths, p.slot, image, o.installRoot);
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
      state = rollBack(state, `version ${p.version} refused before the switch: ${e.message}`);
    }
  }

  const rolledBack = state.rolledBack;
  const next = state.pending;
  if (next) {
    const triesLeft = next.triesLeft - 1;
    writeBootState(disk, paths.state, { ...without(state, ["rolledBack"]), pending: { ...next, triesLeft } });
    return { ...next, pending: true, triesLeft, tree: paths.tree(next.slot), ...(rolledBack ? { rolledBack } : {}) };
  }
  const c = state.committed;
  if (!treeHolds(paths.tree(c.slot), c)) {
    // Only a damaged flash folder gets here: the committed tree is never written while it is committed.
    try {
      const image = readImage(paths.image(c.slot));
      if (image.sha256 !== c.sha256) throw new ImageError("its image file is not the committed one");
      log(`supervisor: slot ${c.slot}'s tree was incomplete; unpacked again`);
      unpack(disk, paths, c.slot, image, o.installRoot);
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
      log(`supervisor: committed slot ${c.slot} is unusable (${e.message}); installing the installed build`);
      state = install(o, disk, paths, installed);
      return { ...state.committed, pending: false, tree: paths.tree("a") };
    }
  }
  if (rolledBack !== undefined) writeBootState(disk, paths.state, without(state, ["rolledBack"]));
  return { ...c, pending: false, tree: paths.tree(c.slot), ...(rolledBack ? { rolledBack } : {}) };
}

/**
 * Runs the firmware, booting again whenever it exits with RESTART_EXIT or, as a device's task watchdog resets it,
 * WATCHDOG_EXIT_CODE (the next boot's TELLTALE_RESET_REASON says which), until it exits otherwise (that code is
 * returned). A pending image that crashes takes the next try; one that has not confirmed within confirmWithinMs is
 * stopped and rolled back. SIGINT (Ctrl-C reaches the firmware too) waits for the firmware to stop; SIGTERM is passed on.
 */
export async function runSupervisor(o: SupervisorOptions, args: readonly string[]): Promise<number> {
  const log = o.log ?? ((line: string) => console.log(line));
  const disk = o.disk ?? realDisk;
  const paths = slotPaths(o.flashDir);
  const confirmWithinMs = o.confirmWithinMs ?? DEFAULT_CONFIRM_WITHIN_MS;
  let stopping = false;
  let child: ChildProcess | undefined;
  const onInt = () => {
    stopping = true;
    setTimeout(() => child?.kill("SIGTERM"), 5000).unref();
  };
  const onTerm = () => {
    stopping = true;
    child?.kill("SIGTERM");
  };
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  let resetReason = "power-on";
  try {
    for (;;) {
      const plan = prepareBoot(o);
      log(
        `supervisor: booting slot ${plan.slot}, version ${plan.version}` +
          (plan.pending
            ? ` (pending verification, ${plan.triesLeft} more ${plan.triesLeft === 1 ? "try" : "tries"})`
            : ""),
      );
      const info: BootInfo = {
        flashDir: resolve(o.flashDir),
        slot: plan.slot,
        version: plan.version,
        pending: plan.pending,
        bootTries: o.bootTries ?? DEFAULT_BOOT_TRIES,
        slotBytes: o.slotBytes ?? DEFAULT_SLOT_BYTES,
        ...(plan.rolledBack !== undefined ? { rolledBack: plan.rolledBack } : {}),
      };
      const running = spawn(process.execPath, [join(plan.tree, ENTRY), ...args], {
        stdio: "inherit",
        env: { ...process.env, [BOOT_ENV]: JSON.stringify(info), TELLTALE_RESET_REASON: resetReason },
      });
      child = running;
      const stillPending = (): boolean => {
        const p = readBootState(paths.state)?.pending;
        return p !== undefined && p.slot === plan.slot && p.version === plan.version;
      };
      let timedOut = false;
      const timer = plan.pending
        ? setTimeout(() => {
            if (!stillPending()) return;
            timedOut = true;
            const reason = `version ${plan.version} did not confirm itself within ${confirmWithinMs / 1000} s`;
            log("supervisor: rolled back: " + reason);
            const state = readBootState(paths.state)!;
            writeBootState(disk, paths.state, { ...without(state, ["pending"]), rolledBack: reason });
            running.kill("SIGTERM");
            setTimeout(() => running.kill("SIGKILL"), 5000).unref();
          }, confirmWithinMs)
        : undefined;
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) =>
        running.on("exit", (c, s) => done([c, s])),
      );
      clearTimeout(timer);
      child = undefined;
      const how = signal ? `signal ${signal}` : `exit code ${code}`;
      resetReason = code === WATCHDOG_EXIT_CODE ? "watchdog" : code === RESTART_EXIT ? "restart" : "crash";
      if (plan.pending && !timedOut && stillPending() && code !== 0) {
        const state = readBootState(paths.state)!;
        const lastExit = code === RESTART_EXIT ? "it restarted before confirming" : how;
        writeBootState(disk, paths.state, { ...state, pending: { ...state.pending!, lastExit } });
        log(`supervisor: pending version ${plan.version} ended (${lastExit}); ${state.pending!.triesLeft} tries left`);
        if (!stopping) continue;
      }
      if (stopping) return code ?? 0;
      if (code === RESTART_EXIT || code === WATCHDOG_EXIT_CODE || timedOut) continue;
      if (code !== 0) log(`supervisor: version ${plan.version} ended with ${how}; not restarting it`);
      return code ?? 1;
    }
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
}
