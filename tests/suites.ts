// Every portable suite: run by tests/node/portable.test.ts in Node and by tests/xs/entry.ts in XS.
import "./modules/sim/i2c-bus.suite.js";
