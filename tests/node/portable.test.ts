// Runs the portable suites (tests/suites.ts) under node:test; the same suites run in XS via scripts/run-xs.mjs.
import { test } from "node:test";
import { registered } from "../harness.js";
import { useHmac } from "../support/hmac.js";
import { nodeHmacSha256 } from "../../hosts/node/host.js";
import { useOtaCrypto } from "../support/ota-crypto.js";
import { nodeOtaCrypto } from "./support/ota-crypto.js";
import "../suites.js";

useHmac(nodeHmacSha256);
useOtaCrypto(nodeOtaCrypto);

for (const c of registered())
  test(`${c.suite} › ${c.name}`, async () => {
    await c.body();
  });
