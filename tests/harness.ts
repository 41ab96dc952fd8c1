// A minimal test registry that runs unchanged in Node (via node:test) and in the XS engine.

export type TestBody = () => void | Promise<void>;
export interface TestCase {
  suite: string;
  name: string;
  body: TestBody;
}

const cases: TestCase[] = [];
let currentSuite = "";

/** Groups the tests registered inside `define` under a suite name. */
export function suite(name: string, define: () => void): void {
  const previous = currentSuite;
  currentSuite = name;
  try {
    define();
  } finally {
    currentSuite = previous;
  }
}

export function test(name: string, body: TestBody): void {
  cases.push({ suite: currentSuite, name, body });
}

export function registered(): readonly TestCase[] {
  return cases;
}

export class AssertionError extends Error {
  override name = "AssertionError";
  constructor(message: string) {
    super(message);
  }
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof Uint8Array) return "Uint8Array[" + Array.prototype.join.call(value, ",") + "]";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function ok(value: unknown, message = "expected a truthy value"): asserts value {
  if (!value) throw new AssertionError(message);
}

export function equal<T>(actual: T, expected: T, message?: string): void {
  if (!Object.is(actual, expected))
    throw new AssertionError((message ? message + ": " : "") + "expected " + show(expected) + ", got " + show(actual));
}

function deepEq(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    if (x.length !== y.length || a.constructor !== b.constructor) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a),
    kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!deepEq((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

export function deepEqual(actual: unknown, expected: unknown, message?: string): void {
  if (!deepEq(actual, expected))
    throw new AssertionError((message ? message + ": " : "") + "expected " + show(expected) + ", got " + show(actual));
}

/** Asserts that `fn` throws an error whose message matches `pattern`. */
export function throws(fn: () => unknown, pattern: RegExp, message?: string): Error {
  try {
    fn();
  } catch (e) {
    const err = e as Error;
    if (!pattern.test(String(err?.message)))
      throw new AssertionError(
        (message ? message + ": " : "") + "error " + show(String(err?.message)) + " does not match " + pattern,
      );
    return err;
  }
  throw new AssertionError((message ? message + ": " : "") + "expected an error matching " + pattern);
}

/** Lets queued promise jobs (deferred callbacks) run. */
export async function settle(rounds = 4): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
