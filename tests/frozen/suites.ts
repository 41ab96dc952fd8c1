// Suites that run only in the frozen XS run (tests/frozen/entry.ts): they need the staged mc/config.
import "./app-manifest.suite.js";
