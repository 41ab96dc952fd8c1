// Counts the binary buffers code allocates while `run` executes: every ArrayBuffer, typed array and DataView made.
//
// The global constructors are swapped for counting proxies (portable code looks `Uint8Array` up on the global object
// at each call, so it meets the proxy), and the methods that make a new view or copy (subarray, slice, map, filter,
// ArrayBuffer.prototype.slice) are wrapped. Plain objects are not counted: an ECMA-419 sample() returns a new one.

const CONSTRUCTORS = [
  "ArrayBuffer",
  "DataView",
  "Uint8Array",
  "Uint8ClampedArray",
  "Int8Array",
  "Uint16Array",
  "Int16Array",
  "Uint32Array",
  "Int32Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
] as const;
const TYPED_ARRAY_METHODS = ["subarray", "slice", "map", "filter"] as const;

export function buffersAllocatedDuring(run: () => void): number {
  let count = 0;
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = new Map<string, unknown>();
  const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as Record<string, unknown>;
  const savedMethods = new Map<string, unknown>();
  // eslint-disable-next-line @typescript-eslint/unbound-method -- saved to be restored, and called with .apply(this)
  const savedSlice = ArrayBuffer.prototype.slice;
  for (const name of CONSTRUCTORS) {
    const original = g[name] as new (...args: unknown[]) => object;
    saved.set(name, original);
    g[name] = new Proxy(original, {
      construct(target, args, newTarget) {
        count++;
        return Reflect.construct(target, args, newTarget) as object;
      },
    });
  }
  for (const name of TYPED_ARRAY_METHODS) {
    const original = typedArrayPrototype[name] as (...args: unknown[]) => unknown;
    savedMethods.set(name, original);
    typedArrayPrototype[name] = function (this: unknown, ...args: unknown[]) {
      count++;
      return original.apply(this, args);
    };
  }
  ArrayBuffer.prototype.slice = function (this: ArrayBuffer, ...args: [number?, number?]) {
    count++;
    return savedSlice.apply(this, args);
  };
  try {
    run();
  } finally {
    for (const [name, original] of saved) g[name] = original;
    for (const [name, original] of savedMethods) typedArrayPrototype[name] = original;
    ArrayBuffer.prototype.slice = savedSlice;
  }
  return count;
}
