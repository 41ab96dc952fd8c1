// The HTTP/1.1 Range client's parser: the URL, the request, and every way a 206 answer can be wrong.
import { suite, test, equal, ok, deepEqual, throws } from "../../harness.js";
import { HttpError, MAX_HEAD, RangeResponse, parseHttpsUrl, rangeRequest } from "telltale/ota/http";

function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

const HEAD = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 100-104/1000\r\nContent-Length: 5\r\n\r\n";

function parse(
  start: number,
  end: number,
  total: number,
): { response: RangeResponse; body: number[]; offsets: number[] } {
  const body: number[] = [],
    offsets: number[] = [];
  const response = new RangeResponse(start, end, total, (offset, b) => {
    offsets.push(offset);
    for (const x of b) body.push(x);
  });
  return { response, body, offsets };
}

suite("ota http", () => {
  test("https-urls-give-host-port-and-path", () => {
    deepEqual(parseHttpsUrl("https://updates.example.com/fw/v2.bin?x=1"), {
      host: "updates.example.com",
      port: 443,
      path: "/fw/v2.bin?x=1",
    });
    deepEqual(parseHttpsUrl("https://[::1]:8443"), { host: "::1", port: 8443, path: "/" });
    throws(() => parseHttpsUrl("http://example.com/a"), /^expected https:\/\/host\[:port\]\/path, got "http:/);
    throws(() => parseHttpsUrl("https://example.com:70000/"), /port 70000 is outside 1–65535/);
  });

  test("the-request-asks-for-an-inclusive-range-and-closes", () => {
    equal(
      rangeRequest({ host: "h", port: 8443, path: "/a.bin" }, 4096, 8191),
      "GET /a.bin HTTP/1.1\r\nHost: h:8443\r\nRange: bytes=4096-8191\r\nAccept-Encoding: identity\r\nConnection: close\r\nUser-Agent: telltale-ota\r\n\r\n",
    );
    ok(rangeRequest({ host: "h", port: 443, path: "/" }, 0, 1).includes("\r\nHost: h\r\n"));
  });

  test("a-206-answer-fed-a-byte-at-a-time-gives-the-body-with-offsets", () => {
    const { response, body, offsets } = parse(100, 104, 1000);
    const all = bytes(HEAD + "abcde" + "trailing");
    for (let i = 0; i < all.length; i++) response.feed(all.subarray(i, i + 1));
    deepEqual(body, [97, 98, 99, 100, 101]);
    deepEqual(offsets, [100, 101, 102, 103, 104]);
    ok(response.done);
    response.close();
  });

  test("a-bad-status-is-refused-with-its-code", () => {
    for (const [line, message] of [
      ["HTTP/1.1 404 Not Found", /^HTTP 404 Not Found for bytes 100-104 \(expected 206 Partial Content\)$/],
      ["HTTP/1.1 200 OK", /^HTTP 200 OK for bytes/],
      ["HTTP/1.1 416 Range Not Satisfiable", /^HTTP 416 /],
      ["SSH-2.0-OpenSSH", /^not an HTTP\/1\.1 answer: "SSH-2\.0-OpenSSH"$/],
    ] as const) {
      const { response } = parse(100, 104, 1000);
      const e = throws(() => response.feed(bytes(line + "\r\nContent-Length: 5\r\n\r\nabcde")), message);
      ok(e instanceof HttpError);
    }
  });

  test("a-wrong-content-range-or-length-is-refused", () => {
    const answer = (headers: string) => () =>
      parse(100, 104, 1000).response.feed(bytes("HTTP/1.1 206 Partial Content\r\n" + headers + "\r\n\r\n"));
    throws(
      answer("Content-Range: bytes 0-4/1000\r\nContent-Length: 5"),
      /^wrong Content-Range: "bytes 0-4\/1000", expected bytes 100-104\/1000$/,
    );
    throws(
      answer("Content-Range: bytes 100-104/999\r\nContent-Length: 5"),
      /^wrong Content-Range: .*expected bytes 100-104\/1000$/,
    );
    throws(answer("Content-Length: 5"), /^wrong Content-Range: none/);
    throws(answer("Content-Range: bytes 100-104/1000\r\nContent-Length: 6"), /^wrong Content-Length: "6", expected 5$/);
    throws(answer("Content-Range: bytes 100-104/1000"), /^wrong Content-Length: none, expected 5$/);
    throws(
      answer("Content-Range: bytes 100-104/1000\r\nContent-Length: 5\r\nTransfer-Encoding: chunked"),
      /^Transfer-Encoding chunked is not supported/,
    );
    throws(answer("Content-Range bytes"), /^a malformed header line: "Content-Range bytes"$/);
  });

  test("a-short-body-is-reported-when-the-connection-closes", () => {
    const { response, body } = parse(100, 104, 1000);
    response.feed(bytes(HEAD + "abc"));
    equal(body.length, 3);
    ok(!response.done);
    throws(() => response.close(), /^short body: the connection closed after 3 of 5 bytes$/);
    const early = parse(100, 104, 1000).response;
    early.feed(bytes("HTTP/1.1 206 Partial"));
    throws(() => early.close(), /^the connection closed before the answer's headers ended$/);
  });

  test("endless-headers-are-cut-off", () => {
    const { response } = parse(0, 0, 1);
    throws(
      () => response.feed(bytes("HTTP/1.1 206 Partial Content\r\nX: " + "a".repeat(MAX_HEAD))),
      /longer than 8192 bytes/,
    );
  });
});
