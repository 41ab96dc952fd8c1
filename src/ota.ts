// Over-the-air updates as a service of the app: signed manifests on `…/ota/set`, the download, the restart, and the new image's self-test before it commits.
import type { Host } from "telltale/io/host";
import type { Config } from "telltale/config/config";
import type { Detector } from "telltale/detector/select";
import { messageOf } from "telltale/errors/message";
import { utf8Decode, utf8Encode } from "telltale/text/utf8";
import { checkManifest, parseManifest, UpdateRefused, type SignedManifest } from "telltale/ota/manifest";
import { Download, type BlockSource, type OtaState } from "telltale/ota/download";
import { MqttBlockSource } from "telltale/ota/blocks";
import { HttpsBlockSource } from "telltale/ota/https-source";
import { parseHttpsUrl } from "telltale/ota/http";
import type { Service } from "./service.js";
import type { Round } from "./telemetry.js";

/** Blocks per MQTT request, and per HTTPS Range request. */
export const MQTT_WINDOW = 4;
export const HTTPS_WINDOW = 16;
/** Healthy rounds in a row that pass the self-test (sensors ok, broker connected, detector updating). */
export const SELF_TEST_ROUNDS = 3;
/** The pause between a verified image and the restart, so its status and "offline" reach the broker. */
export const RESTART_DELAY_MS = 500;

/** Store key of the manifest being downloaded: after a reboot the download resumes without the publisher. */
export const MANIFEST_KEY = "ota.manifest";

/** The topics of updates: `<prefix>/<id>/ota` (state, retained), `…/ota/set`, `…/ota/get`, `…/ota/block`. */
export function otaTopics(
  prefix: string,
  deviceId: string,
): { state: string; set: string; get: string; block: string } {
  const base = prefix + "/" + deviceId + "/ota";
  return { state: base, set: base + "/set", get: base + "/get", block: base + "/block" };
}

/** The app as updates use it. */
export interface OtaApp {
  readonly host: Host;
  readonly config: Config;
  readonly deviceId: string;
  readonly detector: Detector;
  readonly uplink: {
    readonly connected: boolean;
    announce(topic: string, payload: string): void;
    subscribe(topic: string, handler: (payload: Uint8Array, info: { readonly retain: boolean }) => void): void;
    reply(topic: string, payload: string): void;
  };
  stop(): void;
}

/**
 * Takes signed manifests on `…/ota/set` (QoS 1, not retained: a retained one would replay on every connection and
 * after every update, so retained messages there are ignored and the publisher sends to each device it sees online).
 * A manifest that passes every check (modules/ota/manifest.ts) is downloaded over HTTPS when it has a url, else over
 * the MQTT block stream; a verified image is handed to the bootloader and the device restarts into it.
 *
 * On a boot where the running image is pending, it tests itself: SELF_TEST_ROUNDS rounds in a row with every sensor
 * ok, the broker connected and the detector updating confirm it; no pass within config.ota.selfTestMs rejects it and
 * restarts into the previous image. The state is published retained on `…/ota` (re-sent on every connection), so a
 * publisher that connects later sees each device's state, version and fleet.
 */
export class OtaService implements Service {
  /** Safe mode keeps updates (a way out); a pending image there runs no rounds, so it fails its self-test. */
  readonly runsInSafeMode = true;
  readonly #app: OtaApp;
  readonly #topics: ReturnType<typeof otaTopics>;
  #download: Download | undefined;
  #source: MqttBlockSource | undefined;
  #selfTest: { timer: unknown; passes: number; samples: number; problem: string } | undefined;
  #restartTimer: unknown;
  #state: OtaState = { state: "idle" };
  #started = false;

  constructor(app: OtaApp) {
    this.#app = app;
    this.#topics = otaTopics(app.config.topicPrefix, app.deviceId);
  }

  /** The state last published. */
  get state(): Readonly<OtaState> {
    return this.#state;
  }

  start(): void {
    const app = this.#app,
      updates = app.host.updates;
    if (!app.config.ota.enabled || this.#started) return;
    this.#started = true;
    app.uplink.subscribe(this.#topics.set, (payload, info) => this.#manifest(payload, info.retain));
    app.uplink.subscribe(this.#topics.block, (payload) => this.#source?.deliver(payload));
    if (updates?.rolledBack !== undefined) {
      this.#log("the bootloader rolled back to version " + updates.running.version + ": " + updates.rolledBack);
      this.#publish({ state: "rolled-back", reason: updates.rolledBack });
    } else if (updates?.running.pending) this.#beginSelfTest();
    else {
      this.#publish({ state: "idle" });
      const kept = this.#kept();
      if (kept !== undefined) {
        this.#log("resuming the download of the stored manifest");
        this.#manifest(kept, false);
      }
    }
  }

  round(round: Readonly<Round>): void {
    const test = this.#selfTest;
    if (!test) return;
    const app = this.#app,
      detector = app.detector;
    let problem = "";
    for (const name of Object.keys(round.health))
      if (round.health[name]!.state !== "ok") problem = "sensor " + name + " is " + String(round.health[name]!.state);
    if (!problem && !app.uplink.connected) problem = "the broker is not connected";
    if (!problem && !(detector.samples > test.samples && Number.isFinite(detector.score)))
      problem = "the detector is not updating";
    test.samples = detector.samples;
    test.problem = problem;
    test.passes = problem ? 0 : test.passes + 1;
    if (test.passes < SELF_TEST_ROUNDS) return;
    app.host.clock.clearTimeout(test.timer);
    this.#selfTest = undefined;
    try {
      app.host.updates!.confirm();
    } catch (e) {
      this.#fail("confirming the image failed: " + messageOf(e));
      return;
    }
    this.#log("version " + app.host.updates!.running.version + " passed its self-test and is committed");
    this.#publish({ state: "committed" });
  }

  stop(): void {
    const clock = this.#app.host.clock;
    this.#download?.stop();
    this.#download = undefined;
    this.#source = undefined;
    if (this.#selfTest) clock.clearTimeout(this.#selfTest.timer);
    this.#selfTest = undefined;
    clock.clearTimeout(this.#restartTimer);
    this.#started = false;
  }

  #beginSelfTest(): void {
    const app = this.#app,
      ms = app.config.ota.selfTestMs,
      version = app.host.updates!.running.version;
    this.#log(`version ${version} is pending verification: self-test for up to ${ms} ms`);
    this.#publish({ state: "pending-verification" });
    const test = { timer: undefined as unknown, passes: 0, samples: app.detector.samples, problem: "no round ran" };
    test.timer = app.host.clock.setTimeout(() => {
      if (this.#selfTest !== test) return;
      this.#selfTest = undefined;
      this.#fail("self-test did not pass within " + ms + " ms (" + test.problem + ")");
    }, ms);
    this.#selfTest = test;
  }

  /** The self-test failed: the image is rejected and the device restarts into the previous one. */
  #fail(reason: string): void {
    const updates = this.#app.host.updates!;
    this.#log("rejecting version " + updates.running.version + ": " + reason);
    try {
      updates.reject(reason);
    } catch (e) {
      this.#log("reject failed: " + messageOf(e));
    }
    this.#restart("ota: version " + updates.running.version + " rejected: " + reason);
  }

  #manifest(payload: Uint8Array, retained: boolean): void {
    if (retained) {
      this.#log("ignored a retained manifest on " + this.#topics.set + " (the publisher sends them unretained)");
      return;
    }
    const app = this.#app,
      updates = app.host.updates;
    let signed: SignedManifest;
    try {
      signed = parseManifest(utf8Decode(payload));
      if (!updates) throw new UpdateRefused("unavailable", "this host has no update slots");
      checkManifest(signed, {
        deviceId: app.deviceId,
        fleet: app.config.ota.fleet,
        running: updates.running.version,
        slotBytes: updates.slotBytes,
        keys: app.config.ota.keys,
        verifyP256: app.host.verifyP256,
      });
      if (updates.running.pending)
        throw new UpdateRefused("busy", "the running image is still testing itself; send it again afterwards");
      if (!app.host.sha256) throw new UpdateRefused("no-crypto", "this host has no SHA-256");
    } catch (e) {
      const reason = messageOf(e);
      this.#log("refused a manifest: " + reason);
      this.#publish({ state: "refused", reason });
      if (this.#kept() !== undefined && this.#download === undefined) this.#forget();
      return;
    }
    const m = signed.manifest,
      current = this.#download;
    if (current && current.version === m.version && current.sha256 === m.sha256) {
      this.#log(`version ${m.version} is already downloading (${current.have} of ${current.blocks} blocks)`);
      return;
    }
    current?.stop();
    let source: BlockSource;
    this.#source = undefined;
    try {
      if (m.url !== undefined) {
        const ca = app.config.ota.ca ?? app.config.broker.ca;
        source = new HttpsBlockSource({
          tcp: app.host.tcp,
          target: parseHttpsUrl(m.url),
          secure: ca === undefined ? {} : { ca },
          size: m.size,
          blockSize: m.blockSize,
          window: HTTPS_WINDOW,
        });
      } else {
        const mqtt = new MqttBlockSource({
          version: m.version,
          window: MQTT_WINDOW,
          send: (text) => app.uplink.reply(this.#topics.get, text),
        });
        this.#source = mqtt;
        source = mqtt;
      }
    } catch (e) {
      const reason = "manifest.url: " + messageOf(e);
      this.#log("refused a manifest: " + reason);
      this.#publish({ state: "refused", reason });
      return;
    }
    const ota = app.config.ota;
    const download: Download = new Download({
      manifest: m,
      updates: updates,
      store: app.host.store,
      clock: app.host.clock,
      sha256: app.host.sha256,
      source,
      log: (line) => app.host.log(line),
      timeoutMs: ota.timeoutMs,
      retries: ota.retries,
      onState: (state) => this.#publish(state),
      onDone: (ok) => {
        if (this.#download !== download) return;
        this.#download = undefined;
        this.#source = undefined;
        this.#forget();
        if (ok) this.#restartSoon("ota: version " + m.version + " verified; restarting into it");
      },
    });
    this.#download = download;
    this.#keep(payload);
    download.start();
  }

  /** The stored manifest's bytes, or undefined. */
  #kept(): Uint8Array | undefined {
    try {
      const text = this.#app.host.store.get(MANIFEST_KEY);
      return text === undefined ? undefined : utf8Encode(text);
    } catch {
      return undefined;
    }
  }

  #keep(payload: Uint8Array): void {
    try {
      const text = utf8Decode(payload);
      if (this.#app.host.store.get(MANIFEST_KEY) !== text) this.#app.host.store.set(MANIFEST_KEY, text);
    } catch (e) {
      this.#log("the store does not keep the manifest (" + messageOf(e) + "); a reboot needs it sent again");
    }
  }

  #forget(): void {
    try {
      this.#app.host.store.delete(MANIFEST_KEY);
    } catch {
      /* a stale manifest is checked again, and refused, at the next start */
    }
  }

  #restartSoon(reason: string): void {
    this.#restartTimer = this.#app.host.clock.setTimeout(() => this.#restart(reason), RESTART_DELAY_MS);
  }

  #restart(reason: string): void {
    const app = this.#app,
      restart = app.host.restart;
    app.host.log(reason);
    if (!restart) {
      this.#log("this host cannot restart itself: restart it to boot the other image");
      return;
    }
    app.stop();
    restart(reason);
  }

  #publish(state: OtaState): void {
    this.#state = state;
    const updates = this.#app.host.updates,
      fleet = this.#app.config.ota.fleet;
    const body: Record<string, unknown> = { ...state };
    if (updates) body.version = updates.running.version;
    if (fleet !== undefined) body.fleet = fleet;
    this.#app.uplink.announce(this.#topics.state, JSON.stringify(body));
  }

  #log(line: string): void {
    this.#app.host.log("ota: " + line);
  }
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(OtaService.prototype);
