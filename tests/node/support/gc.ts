// Counts young-generation collections while `run` executes, after a full collection clears what came before.
import { PerformanceObserver, constants } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

export async function minorCollectionsDuring(run: () => void): Promise<number> {
  gc();
  let minor = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      if ((e as unknown as { detail: { kind: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
  });
  obs.observe({ entryTypes: ["gc"] });
  run();
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return minor;
}
