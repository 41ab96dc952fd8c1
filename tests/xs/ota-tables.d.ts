// Typing of the module scripts/xs-stage.mjs writes into the stage: node:crypto's answers for tests/support/ota-vectors.ts.
import type { OtaTables } from "../support/ota-crypto.js";
export declare const tables: OtaTables;
