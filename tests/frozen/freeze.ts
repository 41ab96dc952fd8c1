// What a preloaded Moddable host leaves frozen, reproduced in xsnap: the intrinsics, every preloaded module's exports
// and mc/config, hardened, and marked read-only so that JSON.stringify refuses them as XS does for preloaded objects.
import { messageOf } from "telltale/errors/message";

/** xsnap's deep freeze: the object, its own properties' values and accessors, and its prototypes, transitively. */
declare function harden<T>(value: T): T;

/**
 * Objects that a device keeps in flash after preload. XS's JSON.stringify throws `read only value` on those
 * (it must flag the object it is visiting, and it cannot in flash); a runtime Object.freeze leaves an object in RAM.
 */
const preloaded = new WeakSet<object>();

function isObject(value: unknown): value is object {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

/** Marks what `harden(root)` freezes: the same walk over own properties, accessors and prototypes. */
function mark(root: unknown): void {
  const queue: unknown[] = [root];
  for (let i = 0; i < queue.length; i++) {
    const object = queue[i];
    if (!isObject(object) || preloaded.has(object)) continue;
    preloaded.add(object);
    queue.push(Object.getPrototypeOf(object));
    // A typed array's elements are not properties harden visits (and its buffer holds the data).
    const keys = ArrayBuffer.isView(object) ? [] : Reflect.ownKeys(object);
    for (const key of keys) {
      const d = Reflect.getOwnPropertyDescriptor(object, key);
      if (d) queue.push(d.value, d.get, d.set);
    }
  }
}

/** Marks and hardens `value`; `what` names it in the error if harden refuses (e.g. a non-extensible exotic). */
function freeze(value: unknown, what: string): void {
  try {
    mark(value);
    harden(value);
  } catch (e) {
    throw new Error("freeze " + what + ": " + messageOf(e), { cause: e });
  }
}

type Replacer =
  ((this: unknown, key: string, value: unknown) => unknown) | readonly (string | number)[] | null | undefined;

/** JSON.stringify as on a device: a preloaded object anywhere in the value (after toJSON and the replacer) throws. */
function guardStringify(): void {
  const stringify = JSON.stringify.bind(JSON);
  // An arrow, so that like the built-in it has no prototype property.
  const replacement = (value: unknown, replacer?: Replacer, space?: string | number): string => {
    const user = typeof replacer === "function" ? replacer : undefined;
    const allow = Array.isArray(replacer) ? new Set(replacer.map(String)) : undefined;
    return stringify(
      value,
      function (this: unknown, key: string, v: unknown): unknown {
        if (allow && key !== "" && !Array.isArray(this) && !allow.has(key)) return undefined;
        const result = user ? user.call(this, key, v) : v;
        if (isObject(result) && typeof result !== "function" && preloaded.has(result))
          throw new TypeError("read only value");
        return result;
      },
      space,
    );
  };
  Object.defineProperty(JSON, "stringify", {
    value: replacement,
    writable: true,
    enumerable: false,
    configurable: true,
  });
}

/** The global names of the ECMAScript intrinsics (xsnap's host globals such as print, gc and Compartment are left). */
const INTRINSIC_NAMES = [
  "Object",
  "Function",
  "Array",
  "Number",
  "Boolean",
  "String",
  "Symbol",
  "BigInt",
  "Date",
  "RegExp",
  "Error",
  "EvalError",
  "RangeError",
  "ReferenceError",
  "SyntaxError",
  "TypeError",
  "URIError",
  "AggregateError",
  "Promise",
  "Proxy",
  "Reflect",
  "JSON",
  "Math",
  "Atomics",
  "ArrayBuffer",
  "SharedArrayBuffer",
  "DataView",
  "TypedArray",
  "Int8Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "Int16Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
  "Map",
  "Set",
  "WeakMap",
  "WeakSet",
  "WeakRef",
  "FinalizationRegistry",
  "TextEncoder",
  "TextDecoder",
  "parseInt",
  "parseFloat",
  "isNaN",
  "isFinite",
  "decodeURI",
  "decodeURIComponent",
  "encodeURI",
  "encodeURIComponent",
  "escape",
  "unescape",
  "eval",
];

/** Intrinsics that no global names, reached from an instance. */
function anonymousIntrinsics(): unknown[] {
  return [
    Object.getPrototypeOf(function* () {}), // %GeneratorFunction.prototype%, and through it %GeneratorPrototype%
    Object.getPrototypeOf(async function () {}), // %AsyncFunction.prototype%
    Object.getPrototypeOf(async function* () {}), // %AsyncGeneratorFunction.prototype%
    Object.getPrototypeOf([][Symbol.iterator]()), // %ArrayIteratorPrototype% → %IteratorPrototype%
    Object.getPrototypeOf(new Map().entries()),
    Object.getPrototypeOf(new Set().values()),
    Object.getPrototypeOf(""[Symbol.iterator]()),
    Object.getPrototypeOf("".matchAll(/a/g)),
    Object.getPrototypeOf(Object.getPrototypeOf((async function* () {})())), // %AsyncGeneratorPrototype%
  ];
}

/** Hardens the intrinsics as preload leaves them; returns how many roots were hardened. */
export function freezeIntrinsics(): number {
  guardStringify();
  const global = globalThis as unknown as Record<string, unknown>;
  const roots: [string, unknown][] = INTRINSIC_NAMES.map((name) => {
    if (!(name in global)) throw new Error("freeze: the intrinsic " + name + " is missing in this engine");
    return [name, global[name]];
  });
  anonymousIntrinsics().forEach((value, i) => roots.push(["anonymous intrinsic " + i, value]));
  for (const [name, value] of roots) freeze(value, name);
  return roots.length;
}

/** Hardens every export of each preloaded module (a namespace itself cannot be frozen); returns how many. */
export function freezeModules(modules: readonly (readonly [string, Readonly<Record<string, unknown>>])[]): number {
  let count = 0;
  for (const [specifier, namespace] of modules) {
    for (const key of Object.keys(namespace)) {
      freeze(namespace[key], specifier + " export " + key);
      count++;
    }
  }
  return count;
}

/** Hardens the device configuration, as the preloaded mc/config is. */
export function freezeConfig(config: unknown): void {
  freeze(config, "mc/config");
}
