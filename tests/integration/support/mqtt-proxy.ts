// A TLS proxy that reads the MQTT packets it passes, so a test can make a real broker misbehave: cut links, refuse
// connections, or swallow acknowledgements while PINGRESP still flows (a broker that answers but never acknowledges).
import net from "node:net";
import tls from "node:tls";

/** Which way a packet travels. */
export type Direction = "to-broker" | "to-device";

/** Return false to swallow the packet (`type` is the MQTT packet type, 1..15). */
export type PacketFilter = (direction: Direction, type: number, packet: Buffer) => boolean;

export interface MqttProxyOptions {
  /** The broker's port on 127.0.0.1, read at each connection (it may change across restarts). */
  target: () => number;
  /** The certificate the device sees (for "localhost"/127.0.0.1), and the CA that signs the broker's. */
  cert: string;
  key: string;
  ca: string;
}

/** Splits a byte stream into whole MQTT packets; a malformed length hands the rest on unparsed. */
class Framer {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, each: (type: number, packet: Buffer) => void): void {
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    for (;;) {
      const p = this.#pending;
      if (p.length < 2) return;
      let length = 0,
        i = 1;
      for (let shift = 0; ; shift += 7) {
        if (i >= p.length) return;
        if (shift > 21) {
          this.#pending = Buffer.alloc(0);
          each(0, p);
          return;
        }
        const b = p[i++]!;
        length |= (b & 0x7f) << shift;
        if (!(b & 0x80)) break;
      }
      if (p.length < i + length) return;
      const packet = p.subarray(0, i + length);
      this.#pending = p.subarray(i + length);
      each(p[0]! >> 4, packet);
    }
  }
}

export class MqttProxy {
  readonly port: number;
  readonly #server: tls.Server;
  readonly #links = new Set<[net.Socket, net.Socket]>();
  /** While false, new connections are reset at once. */
  up = true;
  filter: PacketFilter | undefined;
  /** Connections accepted, and packets swallowed by the filter, by type. */
  accepted = 0;
  readonly swallowed = new Map<number, number>();

  private constructor(server: tls.Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  static async start(options: MqttProxyOptions): Promise<MqttProxy> {
    const server = tls.createServer({ cert: options.cert, key: options.key }, (device) =>
      proxy.#accept(device, options),
    );
    server.on("tlsClientError", () => {});
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const proxy = new MqttProxy(server, (server.address() as net.AddressInfo).port);
    return proxy;
  }

  #accept(device: tls.TLSSocket, options: MqttProxyOptions): void {
    this.accepted++;
    if (!this.up) {
      device.destroy();
      return;
    }
    const broker = tls.connect({ host: "127.0.0.1", port: options.target(), ca: options.ca, servername: "localhost" });
    const link: [net.Socket, net.Socket] = [device, broker];
    this.#links.add(link);
    const end = () => {
      device.destroy();
      broker.destroy();
      this.#links.delete(link);
    };
    device.on("error", end).on("close", end);
    broker.on("error", end).on("close", end);
    this.#pipe(device, broker, "to-broker");
    this.#pipe(broker, device, "to-device");
  }

  #pipe(from: net.Socket, to: net.Socket, direction: Direction): void {
    const framer = new Framer();
    from.on("data", (chunk: Buffer) =>
      framer.push(chunk, (type, packet) => {
        if (type !== 0 && this.filter && !this.filter(direction, type, packet)) {
          this.swallowed.set(type, (this.swallowed.get(type) ?? 0) + 1);
          return;
        }
        if (!to.destroyed) to.write(packet);
      }),
    );
  }

  /** Resets every open connection, as a lost Wi-Fi link would; returns how many there were. */
  dropAll(): number {
    const n = this.#links.size;
    for (const [device, broker] of this.#links) {
      device.destroy();
      broker.destroy();
    }
    this.#links.clear();
    return n;
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
