// messageOf: the text of whatever a catch clause received.
import { suite, test, equal } from "../../harness.js";
import { messageOf } from "telltale/errors/message";

suite("errors/message", () => {
  test("error-gives-its-message", () => equal(messageOf(new RangeError("out of range")), "out of range"));
  test("other-values-give-their-text", () => {
    equal(messageOf("plain"), "plain");
    equal(messageOf(42), "42");
    equal(messageOf(undefined), "undefined");
  });
});
