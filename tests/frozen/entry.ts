// Entry module for the frozen XS run (xsnap -m): what a preloaded Moddable host freezes is hardened first, then every
// portable suite and the frozen-only suites run, printing the same lines as tests/xs/entry.ts.
import { main } from "../xs/run.js";
import { preloaded } from "./preloaded.js";
import config from "./mc-config.js";
import { freezeConfig, freezeIntrinsics, freezeModules } from "./freeze.js";
import { tagTable, useHmac } from "../support/hmac.js";
import { tags } from "../xs/hmac-tags.js";
import { tableCrypto, useOtaCrypto } from "../support/ota-crypto.js";
import { tables } from "../xs/ota-tables.js";

declare function print(...text: unknown[]): void;

main(async () => {
  // The static imports above have evaluated every preloaded module, as preload does, before anything is frozen.
  const intrinsics = freezeIntrinsics();
  const exports = freezeModules(preloaded);
  freezeConfig(config);
  print(`# frozen: ${intrinsics} intrinsic roots, ${exports} exports of ${preloaded.length} modules, mc/config`);
  useHmac(tagTable(tags));
  useOtaCrypto(tableCrypto(tables));
  await import("../suites.js");
  await import("./suites.js");
  await import("../xs/vibration-native.suite.js");
});
