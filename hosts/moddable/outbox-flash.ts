// The outbox's flash on a Moddable host: opened once at start, or the reason there is none, for health telemetry.
import type { Flash } from "telltale/io/io";
import { messageOf } from "telltale/errors/message";

/**
 * Opens the outbox's flash (`where` names it: a partition, a file) and logs what it got. Without it the outbox can only
 * live in RAM, and `flashProblem` says why, for the app to report in health telemetry: never a silent fallback.
 */
export function openOutboxFlash(
  where: string,
  open: () => Flash,
  log: (line: string) => void,
): { flash?: Flash; flashProblem?: string } {
  try {
    const flash = open();
    const sectors = flash.byteLength / flash.blockSize;
    log(`outbox on ${where}, ${flash.byteLength} bytes (${sectors} sectors of ${flash.blockSize})`);
    return { flash };
  } catch (e) {
    const flashProblem = `no ${where} for the outbox (${messageOf(e)}); messages are kept in RAM only`;
    log(flashProblem);
    return { flashProblem };
  }
}
