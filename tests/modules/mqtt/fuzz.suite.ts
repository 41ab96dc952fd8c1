// The decoder under random and mutated bytes: only protocol errors, never a loop. (bench:mqtt runs a million inputs.)
import { suite, test, equal, ok } from "../../harness.js";
import { fuzzDecoder } from "../../support/mqtt-fuzz.js";

suite("mqtt/fuzz", () => {
  test("random-and-mutated-bytes-give-only-protocol-errors", () => {
    const r = fuzzDecoder(6000);
    equal(r.failures.length, 0, "non-protocol errors: " + r.failures.join(" | "));
    equal(r.decoded + r.rejected <= r.inputs, true);
    ok(r.rejected > 1000, "most inputs are rejected: " + r.rejected);
    ok(r.decoded > 100, "some mutations are still valid packets: " + r.decoded);
  });
});
