// Every portable suite: run by tests/node/portable.test.ts in Node and by tests/xs/entry.ts in XS.
import "./modules/sim/i2c-bus.suite.js";
import "./modules/crc/crc8.suite.js";
import "./modules/drivers/sht3x/sht3x.suite.js";
import "./modules/detector/zscore.suite.js";
import "./modules/config/config.suite.js";
import "./modules/mqtt/codec.suite.js";
import "./modules/mqtt/client.suite.js";
import "./src/app.suite.js";
import "./modules/sim/machine.suite.js";
import "./modules/detector/multivariate.suite.js";
import "./modules/detector/vibration.suite.js";
