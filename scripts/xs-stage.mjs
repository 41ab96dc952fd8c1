// Stages the build output for xsnap, which keys modules by the unnormalised specifier path (so "../a.js" reached two
// ways would load twice) and knows no packages: every import, relative or bare "telltale/…", becomes the absolute
// path of the staged file, in one pass. Bare specifiers resolve through package.json's "exports", as in Node.
// It also writes the two modules the frozen run (tests/frozen/entry.ts) imports: the list of preloaded modules and
// the manifest's config as mc/config; with writeHmacTags(), the HMAC-SHA256 tags the suites' signed commands need; and
// with writeOtaTables(), the SHA-256 digests, P-256 signatures and verifications of the OTA suites' vectors.
import { existsSync, readdirSync, readFileSync, writeFileSync, statSync, mkdirSync, rmSync } from "node:fs";
import { join, dirname, resolve, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { createHash, createHmac } from "node:crypto";

const project = new URL("..", import.meta.url).pathname;
export const buildDir = join(project, "build");
export const stageDir = join(project, ".xsnap", "stage");
export const xsnapPath = join(project, ".xsnap", "xsnap");
export const xsnapBenchPath = join(project, ".xsnap", "xsnap-bench");
const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
const pattern = /((?:from|import)\s*\(?\s*)(["'])((?:\.{1,2}\/|telltale\/)[^"']+)\2/g;

/** The build file a bare specifier names by the package's own "exports" (an exact key, else the longest pattern), or "". */
export function resolveBare(specifier) {
  const sub = "." + specifier.slice(pkg.name.length);
  let target = pkg.exports[sub];
  if (target === undefined) {
    let best = "";
    for (const [key, value] of Object.entries(pkg.exports)) {
      const [prefix, suffix = ""] = key.split("*");
      if (
        key.includes("*") &&
        prefix.length > best.length &&
        sub.startsWith(prefix) &&
        sub.endsWith(suffix) &&
        sub.length >= prefix.length + suffix.length
      ) {
        best = prefix;
        target = value.replace("*", sub.slice(prefix.length, sub.length - suffix.length));
      }
    }
  }
  return target === undefined ? "" : join(project, target);
}

/**
 * The staged path that an import of `specifier` from the build file `file` loads. A bare specifier that names no
 * built file (text that only looks like an import, e.g. in a comment) stays as written: a real import of it fails
 * in xsnap, naming it.
 */
function staged(file, specifier) {
  if (specifier.startsWith(".")) return join(stageDir, relative(buildDir, resolve(dirname(file), specifier)));
  const built = resolveBare(specifier);
  return existsSync(built) || existsSync(join(project, relative(buildDir, built)))
    ? join(stageDir, relative(buildDir, built))
    : specifier;
}

function walk(dir, fn) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, fn);
    else if (name.endsWith(".js")) fn(path);
  }
}

/**
 * The modules a preloaded host freezes, as [specifier, staged path] pairs: every module under modules/ (telltale/<path>),
 * and every other built module that a project manifest preloads for esp32 or the simulator (the app's, under src/).
 */
function preloadedModules() {
  const list = [];
  walk(join(stageDir, "modules"), (file) =>
    list.push(["telltale/" + relative(join(stageDir, "modules"), file).replace(/\.js$/, ""), file]),
  );
  const listed = new Set(list.map(([, file]) => file));
  for (const platform of ["esp32", "lin"]) {
    for (const manifest of manifests(join(project, "manifest.json"), platform)) {
      const block = manifest.platforms?.[platform];
      const paths = { ...manifest.modules, ...block?.modules };
      for (const specifier of [manifest.preload ?? [], block?.preload ?? []].flat()) {
        const path = paths[specifier];
        if (typeof path !== "string" || path.includes("$(")) continue;
        const file = join(stageDir, relative(project, resolve(manifest.directory, path)) + ".js");
        if (existsSync(join(buildDir, relative(stageDir, file))) && !listed.has(file)) {
          listed.add(file);
          list.push([specifier, file]);
        }
      }
    }
  }
  return list;
}

/** mcconfig's mergeProperties: where both sides are objects (arrays too, by index) they merge, else the source wins. */
function merge(target, source) {
  for (const [key, value] of Object.entries(source ?? {})) {
    const old = target[key];
    if (old && value && typeof old === "object" && typeof value === "object") merge(old, value);
    else target[key] = value;
  }
  return target;
}

/**
 * The project's manifests in the order mcconfig merges them for `platform`: each manifest after the ones it includes
 * (its own, then its platform block's), each once. The SDK's ($(MODDABLE)/…) are left out: their config keys are
 * the SDK's own.
 */
function manifests(path, platform, order = [], seen = new Set()) {
  if (seen.has(path)) return order;
  seen.add(path);
  const manifest = { ...JSON.parse(readFileSync(path, "utf8")), directory: dirname(path) };
  const block = manifest.platforms?.[platform];
  const includes = [manifest.include ?? [], block?.include ?? []].flat();
  for (const include of includes)
    if (!include.includes("$(")) manifests(resolve(dirname(path), include), platform, order, seen);
  order.push(manifest);
  return order;
}

/** mc/config as mcconfig builds it for `platform` from manifest.json and what it includes. */
export function deviceConfig(platform = "esp32") {
  const config = {};
  for (const manifest of manifests(join(project, "manifest.json"), platform)) {
    merge(config, manifest.config);
    merge(config, manifest.platforms?.[platform]?.config);
  }
  return config;
}

function writeFrozenModules() {
  const dir = join(stageDir, "tests/frozen");
  mkdirSync(dir, { recursive: true });
  const modules = preloadedModules();
  writeFileSync(
    join(dir, "preloaded.js"),
    "// Written by scripts/xs-stage.mjs: every preloaded module's namespace.\n" +
      modules.map(([, file], i) => `import * as m${i} from ${JSON.stringify(file)};\n`).join("") +
      "export const preloaded = [\n" +
      modules.map(([spec], i) => `  [${JSON.stringify(spec)}, m${i}],\n`).join("") +
      "];\n",
  );
  writeFileSync(
    join(dir, "mc-config.js"),
    "// Written by scripts/xs-stage.mjs: mc/config as mcconfig merges it for esp32 from manifest.json and its includes.\n" +
      "export default " +
      JSON.stringify(deviceConfig(), null, 2) +
      ";\n",
  );
}

/**
 * Copies build/{modules,src,tests} into the stage with absolute imports, and the hand-written .js files under modules/ (XS
 * host-function bindings, which tsc does not build); returns the stage folder.
 */
export function stage() {
  rmSync(stageDir, { recursive: true, force: true });
  walk(join(project, "modules"), (file) => {
    const target = join(stageDir, relative(project, file));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, readFileSync(file, "utf8"));
  });
  for (const top of ["modules", "src", "tests"]) {
    walk(join(buildDir, top), (file) => {
      const target = join(stageDir, relative(buildDir, file));
      mkdirSync(dirname(target), { recursive: true });
      const text = readFileSync(file, "utf8").replace(
        pattern,
        (_, lead, quote, spec) => lead + quote + staged(file, spec) + quote,
      );
      writeFileSync(target, text);
    });
  }
  writeFrozenModules();
  return stageDir;
}

/**
 * Writes tests/xs/hmac-tags.js into the stage: for every input of tests/support/command-vectors.ts, the HMAC-SHA256
 * tag node:crypto computes, keyed by tests/support/hmac.ts's tagKey(). The inputs are the device's own bytes (its
 * commandMessage() from the build), so the XS run checks the device's canonical form against real tags; only the
 * hash itself is not XS's (xsnap has no cryptography; a Moddable build uses the SDK's crypt modules).
 */
export async function writeHmacTags() {
  const load = (path) => import(pathToFileURL(join(buildDir, path)).href);
  const { VECTORS, keyOf } = await load("tests/support/command-vectors.js");
  const { tagKey } = await load("tests/support/hmac.js");
  const { commandMessage } = await load("src/command-auth.js");
  const tags = {};
  for (const vector of Object.values(VECTORS)) {
    const key = keyOf(vector),
      data = commandMessage(vector.deviceId, vector.request);
    tags[tagKey(key, data)] = createHmac("sha256", key).update(data).digest("hex");
  }
  const dir = join(stageDir, "tests/xs");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "hmac-tags.js"),
    "// Written by scripts/xs-stage.mjs: HMAC-SHA256 tags from node:crypto for tests/support/command-vectors.ts.\n" +
      "export const tags = " +
      JSON.stringify(tags, null, 2) +
      ";\n",
  );
}

/**
 * Writes tests/xs/ota-tables.js into the stage: for every image of tests/support/ota-vectors.ts its SHA-256, for every
 * manifest its signature over the device's own canonicalManifest() bytes (from the build), and whether node:crypto
 * verifies that signature under each test key, over the signed and over the tampered fields. XS then checks the
 * device's canonical form and its refusals against real signatures; only the arithmetic is not XS's.
 */
export async function writeOtaTables() {
  const load = (path) => import(pathToFileURL(join(buildDir, path)).href);
  const { useOtaCrypto, digestKey, verifyKey, signKey } = await load("tests/support/ota-crypto.js");
  const vectors = await load("tests/support/ota-vectors.js");
  const { nodeOtaCrypto } = await load("tests/node/support/ota-crypto.js");
  const { canonicalManifest } = await load("modules/ota/manifest.js");
  useOtaCrypto(nodeOtaCrypto);
  const hex = (bytes) => Buffer.from(bytes).toString("hex");
  const digests = {},
    signatures = {},
    verifies = {};
  for (const name of Object.keys(vectors.IMAGES)) {
    const bytes = vectors.image(name);
    digests[digestKey(bytes)] = createHash("sha256").update(bytes).digest("hex");
  }
  for (const [name, vector] of Object.entries(vectors.MANIFESTS)) {
    const data = canonicalManifest(vectors.fieldsOf(name));
    const signature = nodeOtaCrypto.sign(vector.signer, data);
    signatures[signKey(vector.signer, data)] = hex(signature);
    const received = [data];
    if (vector.tamper) received.push(canonicalManifest(vectors.fieldsOf(name, true)));
    for (const key of Object.keys(vectors.TEST_KEYS))
      for (const bytes of received) {
        const point = vectors.publicKey(key);
        verifies[verifyKey(point, bytes, signature)] = nodeOtaCrypto.verifyP256(point, bytes, signature);
      }
  }
  const dir = join(stageDir, "tests/xs");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "ota-tables.js"),
    "// Written by scripts/xs-stage.mjs: node:crypto's answers for tests/support/ota-vectors.ts.\n" +
      "export const tables = " +
      JSON.stringify({ digests, signatures, verifies }, null, 2) +
      ";\n",
  );
}
