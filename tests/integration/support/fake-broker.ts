// A raw TCP MQTT 3.1.1 broker for misbehaviour tests: it speaks just enough MQTT, and each connection can be told to misbehave.
import net from "node:net";

export interface FakeConnection {
  readonly n: number;
  readonly socket: net.Socket;
  /** Packet types received, in order. */
  readonly received: number[];
  send(bytes: Uint8Array | number[]): void;
}

/** How one connection behaves: return true from onPacket to suppress the normal answer. */
export interface Behaviour {
  onPacket?(conn: FakeConnection, type: number, packet: Buffer): boolean | void;
}

export class FakeBroker {
  readonly port: number;
  readonly connections: FakeConnection[] = [];
  /** Wall time of each accepted connection. */
  readonly times: number[] = [];
  readonly #server: net.Server;

  private constructor(server: net.Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  /** `behave(n)` chooses the behaviour of the n-th connection (1-based). */
  static async start(behave: (n: number) => Behaviour): Promise<FakeBroker> {
    const server = net.createServer((socket) => {
      const conn: FakeConnection = {
        n: broker.connections.length + 1,
        socket,
        received: [],
        send: (bytes) => {
          if (!socket.destroyed) socket.write(Buffer.from(bytes));
        },
      };
      broker.connections.push(conn);
      broker.times.push(Date.now());
      const behaviour = behave(conn.n);
      let pending = Buffer.alloc(0);
      socket.on("error", () => {});
      socket.on("data", (chunk) => {
        pending = Buffer.concat([pending, chunk]);
        for (;;) {
          if (pending.length < 2) return;
          let length = 0,
            shift = 0,
            i = 1;
          for (;;) {
            if (i >= pending.length) return;
            const b = pending[i++]!; // i < pending.length
            length |= (b & 0x7f) << shift;
            shift += 7;
            if (!(b & 0x80)) break;
          }
          if (pending.length < i + length) return;
          const packet = pending.subarray(0, i + length);
          pending = pending.subarray(i + length);
          const first = packet[0]!; // pending.length >= 2
          const type = first >> 4;
          conn.received.push(type);
          if (behaviour.onPacket?.(conn, type, packet)) continue;
          if (type === 1) conn.send([0x20, 2, 0, 0]);
          else if (type === 3 && first & 0x06) {
            const topicLength = packet.readUInt16BE(i);
            const id = packet.readUInt16BE(i + 2 + topicLength);
            conn.send([0x40, 2, id >> 8, id & 0xff]);
          } else if (type === 12) conn.send([0xd0, 0]);
          else if (type === 14) socket.end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const broker = new FakeBroker(server, (server.address() as net.AddressInfo).port);
    return broker;
  }

  /** Connections that reached CONNECT and then saw at least one PUBLISH from the device. */
  published(n: number): number {
    return this.connections[n - 1]?.received.filter((t) => t === 3).length ?? 0;
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
