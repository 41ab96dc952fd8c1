// Improv Wi-Fi over serial, the service: answers RPCs from a client, keeps credentials in the portal's store key.
import type { Store } from "telltale/io/io";
import { messageOf } from "telltale/errors/message";
import {
  encodeByteFrame,
  encodeRpcResult,
  IMPROV_COMMAND,
  IMPROV_ERROR,
  IMPROV_STATE,
  IMPROV_TYPE,
  ImprovDecoder,
  ImprovError,
  parseRpc,
  parseWifiSettings,
} from "telltale/provision/improv";
import {
  checkPassword,
  checkSsid,
  loadProvisioned,
  ProvisionError,
  saveProvisioned,
  type Provisioned,
} from "telltale/provision/credentials";

/** A network a scan found. */
export interface ScannedNetwork {
  ssid: string;
  rssi: number;
  secure: boolean;
}

export interface ImprovServiceOptions {
  /** Sends bytes to the client (the serial port). */
  write: (bytes: Uint8Array) => void;
  store: Store;
  /** Milliseconds, monotonic: a frame cut short by a pause is dropped. */
  now: () => number;
  /** Firmware name, firmware version, chip/variant, device name (the device-information RPC result). */
  deviceInfo: readonly [string, string, string, string];
  /**
   * Tries the credentials; resolves when the network is joined (with the URL to show the user, if any), rejects when
   * it cannot be. Without it the credentials are stored untried and the device restarts into them.
   */
  join?: (ssid: string, password: string) => Promise<string | undefined>;
  /** The networks in range, for the scan RPC; without it the scan RPC is answered "unknown command". */
  scan?: () => Promise<readonly ScannedNetwork[]>;
  /** Called once the credentials are stored: the host restarts into them. */
  onSaved?: (p: Provisioned) => void;
  log?: (line: string) => void;
  /** True when the device is already online: it starts in the Provisioned state. */
  online?: boolean;
  /** The URL the device is reachable at once online (returned with Provisioned). */
  url?: string;
}

/**
 * The Improv state machine: Ready (no authorization step: the serial cable is the user's consent) → Provisioning
 * (credentials received, being tried) → Provisioned, or back to Ready with error "unable to connect". A bad frame or
 * RPC is answered with an error state and logged with its reason; the service keeps running and stores nothing.
 */
export class ImprovService {
  readonly #options: ImprovServiceOptions;
  readonly #decoder: ImprovDecoder;
  #state: number;
  #error: number = IMPROV_ERROR.none;
  #url: string;
  #closed = false;

  constructor(options: ImprovServiceOptions) {
    this.#options = options;
    this.#state = options.online ? IMPROV_STATE.provisioned : IMPROV_STATE.ready;
    this.#url = options.url ?? "";
    this.#decoder = new ImprovDecoder({
      onFrame: (type, data) => this.#frame(type, data),
      onReject: (reason) => {
        this.#log("frame dropped: " + reason);
        this.#sendError(IMPROV_ERROR.invalidRpc);
      },
    });
  }

  get state(): number {
    return this.#state;
  }
  get error(): number {
    return this.#error;
  }
  /** Frames decoded, dropped, and bytes skipped between frames. */
  get counts(): { frames: number; rejected: number; junk: number } {
    const d = this.#decoder;
    return { frames: d.frames, rejected: d.rejected, junk: d.junk };
  }

  /** Bytes from the client. */
  feed(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#decoder.push(bytes, this.#options.now());
  }

  /** Announces the current state (a client that opened the port early learns it without asking). */
  announce(): void {
    this.#send(encodeByteFrame(IMPROV_TYPE.currentState, this.#state));
  }

  /** The device joined its network by itself (not through Improv): the state becomes Provisioned, with `url`. */
  online(url?: string): void {
    if (url !== undefined) this.#url = url;
    if (this.#state !== IMPROV_STATE.provisioned) this.#setState(IMPROV_STATE.provisioned);
  }

  close(): void {
    this.#closed = true;
  }

  #log(line: string): void {
    this.#options.log?.("improv: " + line);
  }

  #send(frame: Uint8Array): void {
    if (this.#closed) return;
    try {
      // A newline after each frame keeps the log lines sharing the port on lines of their own; the client skips it.
      this.#options.write(frame);
      this.#options.write(Uint8Array.of(0x0a));
    } catch (e) {
      this.#log("cannot write to the client: " + messageOf(e));
    }
  }

  #sendError(code: number): void {
    this.#error = code;
    this.#send(encodeByteFrame(IMPROV_TYPE.errorState, code));
  }

  #setState(state: number): void {
    this.#state = state;
    this.#send(encodeByteFrame(IMPROV_TYPE.currentState, state));
  }

  #result(command: number, strings: readonly string[]): void {
    try {
      this.#send(encodeRpcResult(command, strings));
    } catch (e) {
      this.#log(messageOf(e));
      this.#sendError(IMPROV_ERROR.unknown);
    }
  }

  #frame(type: number, data: Uint8Array): void {
    if (type !== IMPROV_TYPE.rpc) {
      this.#log("frame dropped: type 0x0" + type.toString(16) + " is not sent by a client");
      this.#sendError(IMPROV_ERROR.invalidRpc);
      return;
    }
    let rpc: { command: number; payload: Uint8Array };
    try {
      rpc = parseRpc(data);
    } catch (e) {
      this.#refuse(e);
      return;
    }
    // "When an RPC command is sent, the device should send an update to the client to set the error state to 0."
    this.#sendError(IMPROV_ERROR.none);
    switch (rpc.command) {
      case IMPROV_COMMAND.wifiSettings:
        this.#wifiSettings(rpc.payload);
        return;
      case IMPROV_COMMAND.currentState:
        this.announce();
        if (this.#state === IMPROV_STATE.provisioned) this.#result(IMPROV_COMMAND.wifiSettings, this.#urls());
        return;
      case IMPROV_COMMAND.deviceInfo:
        this.#result(IMPROV_COMMAND.deviceInfo, this.#options.deviceInfo);
        return;
      case IMPROV_COMMAND.scan:
        if (this.#options.scan) {
          this.#scan(this.#options.scan);
          return;
        }
        break;
    }
    this.#log("RPC 0x" + rpc.command.toString(16) + " is not one this device answers");
    this.#sendError(IMPROV_ERROR.unknownRpc);
  }

  #refuse(e: unknown): void {
    const code = e instanceof ImprovError ? e.code : IMPROV_ERROR.invalidRpc;
    this.#log("RPC refused: " + messageOf(e));
    this.#sendError(code);
  }

  #urls(): string[] {
    return this.#url === "" ? [] : [this.#url];
  }

  #wifiSettings(payload: Uint8Array): void {
    if (this.#state === IMPROV_STATE.provisioning) {
      this.#log("Wi-Fi settings refused: the previous ones are still being tried");
      this.#sendError(IMPROV_ERROR.unknown);
      return;
    }
    let ssid: string, password: string;
    try {
      ({ ssid, password } = parseWifiSettings(payload));
      checkSsid(ssid);
      checkPassword(password);
    } catch (e) {
      this.#refuse(e instanceof ProvisionError ? new ImprovError(IMPROV_ERROR.invalidRpc, e.message) : e);
      return;
    }
    this.#setState(IMPROV_STATE.provisioning);
    const join = this.#options.join;
    if (!join) {
      this.#store(ssid, password, undefined);
      return;
    }
    join(ssid, password).then(
      (url) => this.#store(ssid, password, url),
      (e: unknown) => {
        this.#log("cannot join " + JSON.stringify(ssid) + ": " + messageOf(e));
        this.#state = IMPROV_STATE.ready;
        this.#sendError(IMPROV_ERROR.unableToConnect);
        this.#setState(IMPROV_STATE.ready);
      },
    );
  }

  #store(ssid: string, password: string, url: string | undefined): void {
    // The broker and device name given earlier through the portal stay.
    const p: Provisioned = { ...(loadProvisioned(this.#options.store).provisioned ?? {}), ssid, password };
    try {
      saveProvisioned(this.#options.store, p);
    } catch (e) {
      this.#log("credentials not stored: " + messageOf(e));
      this.#state = IMPROV_STATE.ready;
      this.#sendError(IMPROV_ERROR.unknown);
      this.#setState(IMPROV_STATE.ready);
      return;
    }
    if (url !== undefined) this.#url = url;
    this.#log("credentials stored for Wi-Fi " + JSON.stringify(ssid));
    this.#setState(IMPROV_STATE.provisioned);
    this.#result(IMPROV_COMMAND.wifiSettings, this.#urls());
    this.#options.onSaved?.(p);
  }

  #scan(scan: () => Promise<readonly ScannedNetwork[]>): void {
    scan().then(
      (networks) => {
        for (const n of networks) this.#result(IMPROV_COMMAND.scan, [n.ssid, String(n.rssi), n.secure ? "YES" : "NO"]);
        this.#result(IMPROV_COMMAND.scan, []);
      },
      (e: unknown) => {
        this.#log("scan failed: " + messageOf(e));
        this.#sendError(IMPROV_ERROR.unknown);
      },
    );
  }
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(ImprovService.prototype);
