// A TCP proxy between the firmware and the broker, so a test can cut connections or take the network away.
import net from "node:net";

export class Proxy {
  readonly port: number;
  readonly #server: net.Server;
  readonly #pairs = new Set<[net.Socket, net.Socket]>();
  #up = true;
  /** Connections accepted so far (attempts that reached the proxy), and when each came (Date.now()). */
  accepted = 0;
  readonly times: number[] = [];

  private constructor(server: net.Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  static async start(target: () => number): Promise<Proxy> {
    const server = net.createServer((client) => proxy.#accept(client, target()));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const proxy = new Proxy(server, (server.address() as net.AddressInfo).port);
    return proxy;
  }

  #accept(client: net.Socket, port: number): void {
    this.accepted++;
    this.times.push(Date.now());
    if (!this.#up) {
      client.destroy();
      return;
    }
    const upstream = net.connect(port, "127.0.0.1");
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.#pairs.add(pair);
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.#pairs.delete(pair);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Resets every open connection, as a lost Wi-Fi link or NAT timeout would. */
  dropAll(): number {
    const n = this.#pairs.size;
    for (const [a, b] of this.#pairs) {
      a.resetAndDestroy();
      b.destroy();
    }
    this.#pairs.clear();
    return n;
  }

  /** While down, new connections are reset at once. */
  set up(value: boolean) {
    this.#up = value;
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
