// Suites that run only in the frozen XS run (tests/frozen/entry.ts): they need the staged mc/config and module list.
import "./app-manifest.suite.js";
