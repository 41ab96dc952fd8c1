// The firmware version Home Assistant shows (modules/ha/discovery.ts) is the package's: two lists that must agree.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { FIRMWARE_VERSION } from "telltale/ha/discovery";

test("firmware-version-is-the-package-version", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  assert.equal(FIRMWARE_VERSION, pkg.version);
});
