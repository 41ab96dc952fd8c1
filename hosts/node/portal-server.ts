// The captive portal on node:http: parses each request for modules/provision/portal.ts and sends its response.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Portal, PortalRequest } from "../../modules/provision/portal.js";

export interface NodePortalServer {
  /** http://127.0.0.1:<port>/ */
  readonly url: string;
  close(): Promise<void>;
}

/** Reads at most `limit + 1` bytes of the body: the portal refuses anything longer, so the rest is not read. */
function readBody(request: IncomingMessage, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      if (size > limit) return;
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) {
        request.pause();
        resolve(new Uint8Array(Buffer.concat(chunks).subarray(0, limit + 1)));
      }
    });
    request.on("end", () => resolve(new Uint8Array(Buffer.concat(chunks))));
    request.on("error", reject);
  });
}

async function serve(
  portal: Portal,
  request: IncomingMessage,
  response: ServerResponse,
  onSaved: () => void,
): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers))
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  const declared = Number(headers["content-length"] ?? 0);
  // A body declared too large is not read at all.
  const body = declared > portal.maxBodyBytes ? new Uint8Array(0) : await readBody(request, portal.maxBodyBytes);
  const parsed: PortalRequest = { method: request.method ?? "GET", path: request.url ?? "/", headers, body };
  const answer = portal.handle(parsed);
  const bytes = Buffer.from(answer.body, "utf8");
  response.writeHead(answer.status, {
    ...answer.headers,
    "content-length": String(bytes.length),
    // Like the SDK's server: one request per connection, and an unread body is not waited for.
    connection: "close",
  });
  response.end(parsed.method === "HEAD" ? undefined : bytes);
  if (answer.saved) response.on("finish", onSaved);
}

/**
 * Serves the portal `makePortal` builds for the server's address, on 127.0.0.1 (`port` 0: any free port). `onSaved`
 * runs once a "saved" response has been sent.
 */
export function startNodePortal(
  makePortal: (url: string) => Portal,
  port = 0,
  onSaved: () => void = () => {},
): Promise<NodePortalServer> {
  let portal: Portal | undefined;
  const server: Server = createServer((request, response) => {
    if (!portal) {
      response.destroy();
      return;
    }
    serve(portal, request, response, onSaved).catch((e: unknown) => {
      response.destroy(e as Error);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const { port: bound } = server.address() as AddressInfo;
      const url = "http://127.0.0.1:" + bound + "/";
      portal = makePortal(url);
      resolve({
        url,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
