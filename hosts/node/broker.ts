// The embedded broker for `npm start`: aedes on a loopback port (tests use a real Mosquitto instead).
import net from "node:net";
import { Aedes } from "aedes";

export interface EmbeddedBroker {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(port = 0): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker();
  const server = net.createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const actual = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${actual}`,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => aedes.close(() => resolve()));
      }),
  };
}
