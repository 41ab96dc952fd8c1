// The driver kit's deferred error report: counted at once, delivered after the call, prefixed, never after close.
import { suite, test, equal, deepEqual, throws, settle } from "../../harness.js";
import { ErrorReporter, checkOnError } from "telltale/drivers/report";

suite("drivers/report", () => {
  test("report-is-counted-at-once-and-delivered-later", async () => {
    const seen: string[] = [];
    const reporter = new ErrorReporter("SHT3x", (e) => seen.push(e.message));
    equal(reporter.report(new Error("NACK")), undefined);
    equal(reporter.count, 1);
    deepEqual(seen, [], "not from inside the call");
    await settle();
    deepEqual(seen, ["SHT3x: NACK"]);
  });

  test("prefix-is-added-once", async () => {
    const seen: string[] = [];
    const reporter = new ErrorReporter("INA226", (e) => seen.push(e.message));
    reporter.report(new Error("INA226: closed"));
    reporter.report(new RangeError("out of range"));
    await settle();
    deepEqual(seen, ["INA226: closed", "INA226: out of range"]);
  });

  test("nothing-is-delivered-after-close", async () => {
    let calls = 0;
    const reporter = new ErrorReporter("BME280", () => {
      calls++;
    });
    reporter.report(new Error("queued before close"));
    reporter.close();
    reporter.report(new Error("after close"));
    await settle();
    equal(calls, 0);
    equal(reporter.count, 2, "still counted");
  });

  test("without-on-error-faults-are-only-counted", () => {
    const reporter = new ErrorReporter("ADS1115", undefined);
    reporter.report(new Error("x"));
    equal(reporter.count, 1);
  });

  test("check-on-error-names-the-option", () => {
    checkOnError("SHT4x", undefined);
    checkOnError("SHT4x", () => {});
    throws(() => checkOnError("SHT4x", 5), /^SHT4x: option "onError" must be a function$/);
  });
});
