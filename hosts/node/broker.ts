// The embedded broker for `npm start`: aedes on a loopback port, and MQTT over WebSocket for the dashboard's page.
import { createServer } from "node:http";
import net from "node:net";
import { Aedes } from "aedes";
import { WebSocketServer, createWebSocketStream } from "ws";

export interface EmbeddedBroker {
  url: string;
  port: number;
  /** MQTT over WebSocket (`ws://127.0.0.1:<port>`), as a browser reaches a broker. */
  wsUrl: string;
  close(): Promise<void>;
}

function listen(server: net.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** Starts aedes on `port` (TCP) and `wsPort` (WebSocket, aedes' documented `ws` setup); 0 picks free ports. */
export async function startEmbeddedBroker(port = 0, wsPort = 0): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker();
  const server = net.createServer(aedes.handle);
  const http = createServer((_request, response) => response.writeHead(426).end("MQTT over WebSocket only\n"));
  const wss = new WebSocketServer({ server: http });
  wss.on("connection", (socket, request) => aedes.handle(createWebSocketStream(socket), request));
  const actual = await listen(server, port);
  const actualWs = await listen(http, wsPort);
  return {
    url: `mqtt://127.0.0.1:${actual}`,
    port: actual,
    wsUrl: `ws://127.0.0.1:${actualWs}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        http.close();
        server.close(() => aedes.close(() => resolve()));
      }),
  };
}
