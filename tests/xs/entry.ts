// Entry module for the XS engine (xsnap -m): runs every portable suite and prints one line per test.
import { main } from "./run.js";
import "../suites.js";

main(async () => {});
