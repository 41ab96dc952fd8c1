// Entry module for the XS engine (xsnap -m): runs every portable suite and prints one line per test.
import { main } from "./run.js";
import { tagTable, useHmac } from "../support/hmac.js";
import { tags } from "./hmac-tags.js";
import { tableCrypto, useOtaCrypto } from "../support/ota-crypto.js";
import { tables } from "./ota-tables.js";
import "../suites.js";
// XS-only suites: they import modules that exist only in XS builds (host functions linked into xsnap).
import "./vibration-native.suite.js";

main(() => {
  useHmac(tagTable(tags));
  useOtaCrypto(tableCrypto(tables));
  return Promise.resolve();
});
