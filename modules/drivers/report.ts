// The deferred error report every driver shares: count a transient fault, hand it to onError after the call returns.

/** Checks the `onError` option with a driver's other options, before any IO. */
export function checkOnError(name: string, onError: unknown): void {
  if (onError !== undefined && typeof onError !== "function")
    throw new TypeError(name + ': option "onError" must be a function');
}

/**
 * ECMA-419 callbacks never fire from inside a public method and never after close(): report() counts the fault at once
 * (health telemetry) and delivers it from a promise job, as a new Error whose message starts with "<name>: ".
 * Nothing is allocated unless there is a fault to report.
 */
export class ErrorReporter {
  readonly #name: string;
  #onError: ((error: Error) => void) | undefined;
  #count = 0;

  constructor(name: string, onError: ((error: Error) => void) | undefined) {
    this.#name = name;
    this.#onError = onError;
  }

  /** Faults reported since construction. */
  get count(): number {
    return this.#count;
  }

  /** Returns undefined, so `return this.#reporter.report(e)` ends a sample() that has nothing to return. */
  report(error: Error): undefined {
    this.#count++;
    if (this.#onError === undefined) return undefined;
    const name = this.#name,
      text = error.message;
    const message = text.startsWith(name + ":") ? text : name + ": " + text;
    void Promise.resolve().then(() => {
      const onError = this.#onError; // undefined once the driver is closed
      if (onError) onError(new Error(message));
    });
    return undefined;
  }

  /** After close no report is delivered, not even one already queued. */
  close(): void {
    this.#onError = undefined;
  }
}
Object.freeze(ErrorReporter.prototype);
