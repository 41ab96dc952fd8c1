// The Node host's HMAC-SHA256 against RFC 4231's test vectors (§4.3 test case 2, §4.7 test case 6: a key longer than a block).
import { test } from "node:test";
import assert from "node:assert/strict";
import { nodeHmacSha256 } from "../../hosts/node/host.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

test("node-host-hmac-sha256-matches-rfc-4231", () => {
  assert.equal(
    hex(nodeHmacSha256(new TextEncoder().encode("Jefe"), new TextEncoder().encode("what do ya want for nothing?"))),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  );
  assert.equal(
    hex(
      nodeHmacSha256(
        new Uint8Array(131).fill(0xaa),
        new TextEncoder().encode("Test Using Larger Than Block-Size Key - Hash Key First"),
      ),
    ),
    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
  );
});
