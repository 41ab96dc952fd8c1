// A process under the Node watchdog (limit 300 ms), for the watchdog test: node watchdog-child.js busy|idle.
import { startWatchdog } from "../../../hosts/node/watchdog.js";

await startWatchdog({ limitMs: 300 });
console.log("ready");
if (process.argv[2] === "busy")
  setTimeout(() => {
    for (;;); // the event loop never turns again
  }, 50);
// Idle: timers turn the loop for a while, then nothing is left and the process ends by itself.
else setTimeout(() => setTimeout(() => console.log("done"), 400), 400);
