// The per-platform host module: the manifest maps "telltale/host" to hosts/esp32/host or hosts/sim/host.
import type { Host } from "telltale/io/host";

/** Builds this platform's Host. Call it once, at run time (never during preload). */
export default function createHost(): Host;
