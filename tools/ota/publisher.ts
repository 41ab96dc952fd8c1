// The update publisher's Node side: P-256 keys, signed manifests over the device's own canonical form, the MQTT block server and an HTTPS Range server.
import { createHash, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { MqttClient } from "mqtt";
import { canonicalManifest, manifestFields, rolloutBucket, type UpdateManifest } from "../../modules/ota/manifest.js";
import { encodeBlock, parseBlockRequest } from "../../modules/ota/blocks.js";

/** A fresh P-256 key pair: the private key as PKCS#8 PEM, the public one as config.ota.keys takes it. */
export function generateKeys(id: string): { privatePem: string; publicEntry: { id: string; key: string } } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    privatePem: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    publicEntry: { id, key: publicPoint(publicKey).toString("base64") },
  };
}

/** The uncompressed point 04‖x‖y of a P-256 key (public, or the public half of a private one). */
export function publicPoint(key: KeyObject): Buffer {
  const jwk = key.export({ format: "jwk" });
  return Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
}

export interface SignOptions {
  /** PKCS#8 or SEC1 PEM of the signing key. */
  readonly privatePem: string;
  readonly keyId: string;
  readonly image: Uint8Array;
  readonly version: number;
  readonly blockSize?: number;
  readonly devices?: readonly string[];
  readonly fleet?: string;
  readonly share?: number;
  readonly minVersion?: number;
  readonly url?: string;
  readonly downgrade?: boolean;
  /** Overrides of signed fields, for tests that sign what a device must refuse (e.g. another image's size). */
  readonly override?: Partial<Record<keyof UpdateManifest, unknown>>;
}

/**
 * A signed manifest for `image`: the fields checked as the device checks them (manifestFields), the signature ECDSA
 * P-256/SHA-256 in r‖s form over the device's canonicalManifest() bytes, base64.
 */
export function signManifest(o: SignOptions): Record<string, unknown> {
  const raw: Record<string, unknown> = {
    version: o.version,
    size: o.image.length,
    sha256: createHash("sha256").update(o.image).digest("hex"),
    blockSize: o.blockSize ?? 4096,
    mqtt: true,
    key: o.keyId,
  };
  if (o.url !== undefined) raw.url = o.url;
  if (o.minVersion !== undefined) raw.minVersion = o.minVersion;
  if (o.devices !== undefined) raw.devices = [...o.devices];
  if (o.fleet !== undefined) raw.fleet = o.fleet;
  if (o.share !== undefined) raw.share = o.share;
  if (o.downgrade) raw.downgrade = true;
  Object.assign(raw, o.override);
  const fields = manifestFields(raw);
  const signature = sign("sha256", canonicalManifest(fields), {
    key: createPrivateKey(o.privatePem),
    dsaEncoding: "ieee-p1363",
  });
  return { ...fields, signature: signature.toString("base64") };
}

/** A device as the publisher sees it, from its retained `…/ota` state. */
export interface DeviceView {
  readonly id: string;
  state: string;
  version?: number;
  fleet?: string;
  percent?: number;
  transport?: string;
  reason?: string;
  /** Blocks answered over MQTT. */
  blocks: number;
  /** When the manifest was sent to it (ms since the epoch), or 0. */
  sentAt: number;
}

export interface PublisherOptions {
  readonly client: MqttClient;
  /** The signed manifest (as signManifest returns it). */
  readonly manifest: Record<string, unknown>;
  /** The bytes answered for block requests (normally the signed image). */
  readonly image: Uint8Array;
  readonly prefix?: string;
  /** Called whenever a device's view changes (the CLI draws its progress line). */
  readonly onChange?: (device: DeviceView) => void;
}

/**
 * Serves one manifest over a broker: sends it (QoS 1, not retained) to each targeted device as its `…/ota` state
 * shows it online and below the version, once per device; answers `…/ota/get` requests with `…/ota/block` messages
 * (QoS 0: a lost block is asked again); keeps each device's state for a progress line.
 */
export class Publisher {
  readonly devices = new Map<string, DeviceView>();
  readonly #o: PublisherOptions;
  readonly #fields: UpdateManifest;
  readonly #text: string;
  readonly #prefix: string;

  constructor(options: PublisherOptions) {
    this.#o = options;
    this.#fields = manifestFields(options.manifest);
    this.#text = JSON.stringify(options.manifest);
    this.#prefix = options.prefix ?? "telltale";
    const client = options.client;
    client.on("message", (topic, payload) => this.#message(topic, payload));
  }

  /** Subscribes to every device's state and block requests; resolves once the broker granted both. */
  start(): Promise<void> {
    const p = this.#prefix;
    return new Promise((resolve, reject) =>
      this.#o.client.subscribe([p + "/+/ota", p + "/+/ota/get"], { qos: 1 }, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** Whether the manifest targets `id` (with `fleet`); the rollout share and versions are the device's to check. */
  targets(id: string, fleet: string | undefined): boolean {
    const m = this.#fields;
    return (m.devices?.includes(id) ?? false) || (m.fleet !== undefined && m.fleet === fleet);
  }

  /** Sends the manifest to `id` now (also what the CLI does for a device named on the command line). */
  send(id: string): void {
    const view = this.#view(id);
    view.sentAt = Date.now();
    this.#o.client.publish(this.#prefix + "/" + id + "/ota/set", this.#text, { qos: 1, retain: false });
  }

  #view(id: string): DeviceView {
    let view = this.devices.get(id);
    if (!view) {
      view = { id, state: "unknown", blocks: 0, sentAt: 0 };
      this.devices.set(id, view);
    }
    return view;
  }

  #message(topic: string, payload: Buffer): void {
    const p = this.#prefix + "/";
    if (!topic.startsWith(p)) return;
    const parts = topic.slice(p.length).split("/");
    const id = parts[0]!;
    if (parts.length === 2 && parts[1] === "ota") this.#state(id, payload);
    else if (parts.length === 3 && parts[1] === "ota" && parts[2] === "get") this.#request(id, payload);
  }

  #state(id: string, payload: Buffer): void {
    let s: Record<string, unknown>;
    try {
      s = JSON.parse(payload.toString()) as Record<string, unknown>;
    } catch {
      return;
    }
    const view = this.#view(id);
    view.state = typeof s.state === "string" ? s.state : "unknown";
    if (typeof s.version === "number") view.version = s.version;
    view.fleet = typeof s.fleet === "string" ? s.fleet : undefined;
    view.percent = typeof s.percent === "number" ? s.percent : undefined;
    view.transport = typeof s.transport === "string" ? s.transport : undefined;
    view.reason = typeof s.reason === "string" ? s.reason : undefined;
    const m = this.#fields;
    const below = view.version === undefined || view.version < m.version || m.downgrade === true;
    if (view.sentAt === 0 && below && view.version !== m.version && this.targets(id, view.fleet)) this.send(id);
    this.#o.onChange?.(view);
  }

  #request(id: string, payload: Buffer): void {
    const r = parseBlockRequest(payload.toString());
    const m = this.#fields;
    if (!r || r.version !== m.version) return;
    const image = this.#o.image,
      bs = m.blockSize,
      view = this.#view(id);
    // Another publisher's device asking for the same version is not ours to answer.
    if (view.sentAt === 0 && !this.targets(id, view.fleet)) return;
    const last = Math.min(r.block + r.count, Math.ceil(m.size / bs));
    for (let i = r.block; i < last; i++) {
      const start = i * bs;
      if (start >= image.length) break; // a publisher with a short image has no more to send
      const bytes = image.subarray(start, Math.min(start + bs, image.length));
      this.#o.client.publish(this.#prefix + "/" + id + "/ota/block", Buffer.from(encodeBlock(m.version, i, bytes)), {
        qos: 0,
      });
      view.blocks++;
    }
  }
}

/** One device's progress line: `id  [#####.....]  50%  downloading over mqtt  (v3 → v4)`. */
export function progressLine(view: DeviceView, target: number, width = 24): string {
  const done = view.state === "verifying" || view.state === "pending-verification" || view.state === "committed";
  const percent = view.percent ?? (done ? 100 : 0);
  const filled = Math.round((percent * width) / 100);
  const bar = "#".repeat(filled) + ".".repeat(width - filled);
  const what = view.state + (view.transport ? " over " + view.transport : "") + (view.reason ? ": " + view.reason : "");
  return `${view.id.padEnd(16)} [${bar}] ${String(percent).padStart(3)}%  ${what}  (v${view.version ?? "?"} → v${target})`;
}

/** Whether `id` is in a rollout of `share` percent (the device's own rolloutBucket). */
export function inRollout(id: string, share: number | undefined): boolean {
  return share === undefined || rolloutBucket(id) < share;
}

/**
 * Serves `image` over HTTPS with Range requests (RFC 9110 §14): `bytes=a-b` → 206 with Content-Range; a range
 * past the end → 416; no Range → 200 with the whole image. Every path serves the image.
 */
export function serveImage(
  image: Uint8Array,
  options: { cert: string | Buffer; key: string | Buffer; port?: number; host?: string },
  onRequest?: (range: string | undefined) => void,
): Promise<Server> {
  const server = createServer({ cert: options.cert, key: options.key }, (req, res) => {
    const range = req.headers.range;
    onRequest?.(range);
    if (range === undefined) {
      res.writeHead(200, { "Content-Length": image.length, "Content-Type": "application/octet-stream" });
      res.end(Buffer.from(image));
      return;
    }
    const m = /^bytes=(\d+)-(\d*)$/.exec(range);
    const start = m ? Number(m[1]) : NaN;
    const end = m && m[2] !== "" ? Math.min(Number(m[2]), image.length - 1) : image.length - 1;
    if (!m || start >= image.length || start > end) {
      res.writeHead(416, { "Content-Range": "bytes */" + image.length, "Content-Length": 0 });
      res.end();
      return;
    }
    res.writeHead(206, {
      "Content-Range": `bytes ${start}-${end}/${image.length}`,
      "Content-Length": end - start + 1,
      "Content-Type": "application/octet-stream",
    });
    res.end(Buffer.from(image.subarray(start, end + 1)));
  });
  return new Promise((resolve) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve(server)));
}
