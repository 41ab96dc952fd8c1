// npm run ota: the update publisher's command line (keygen, sign, serve) over tools/ota/publisher.ts from the build.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";

const usage = `usage: npm run ota -- keygen --out DIR [--id ID]
       npm run ota -- sign --key KEY.pem --id ID --image FILE --version N (--device ID … | --fleet F)
                           [--share P] [--min V] [--url U] [--block-size B] [--downgrade] [--out M.json]
       npm run ota -- serve --manifest M.json --image FILE --broker URL [--ca FILE]
                           [--https PORT --cert FILE --key FILE] [--device ID …]

keygen   makes a P-256 key pair in DIR: ota-key.pem (private, keep it off devices) and ota-key.json, the
         {id, key} entry to put in the devices' config.ota.keys.
sign     prints (or writes) the signed manifest of FILE as version N for the devices named or a fleet; --share P
         gives it to P% of them (the same devices every time); --url makes devices fetch it over HTTPS.
serve    publishes the manifest to each targeted device that shows up on the broker, answers its block requests,
         serves FILE over HTTPS with Range on PORT when --https is given, and draws a progress line per device.
  --username U, --password P   broker credentials     --prefix P   topic prefix (default telltale)`;

function fail(message) {
  console.error("ota: " + message + "\n\n" + usage);
  process.exit(2);
}

const [command, ...rest] = process.argv.slice(2);
if (!command || command === "--help" || command === "-h") {
  console.log(usage);
  process.exit(command ? 0 : 2);
}
const { values: o } = (() => {
  try {
    return parseArgs({
      args: rest,
      options: {
        out: { type: "string" },
        id: { type: "string" },
        key: { type: "string" },
        image: { type: "string" },
        version: { type: "string" },
        device: { type: "string", multiple: true },
        fleet: { type: "string" },
        share: { type: "string" },
        min: { type: "string" },
        url: { type: "string" },
        "block-size": { type: "string" },
        downgrade: { type: "boolean" },
        manifest: { type: "string" },
        broker: { type: "string" },
        ca: { type: "string" },
        https: { type: "string" },
        cert: { type: "string" },
        username: { type: "string" },
        password: { type: "string" },
        prefix: { type: "string", default: "telltale" },
      },
    });
  } catch (e) {
    return fail(e.message);
  }
})();

const build = join(new URL("..", import.meta.url).pathname, "build");
if (!existsSync(join(build, "tools/ota/publisher.js"))) fail("the build is missing: run `npm run build` first");
const { generateKeys, signManifest, Publisher, serveImage, progressLine } = await import(
  pathToFileURL(join(build, "tools/ota/publisher.js")).href
);

function integer(name, text, min, max) {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

function read(name, path) {
  if (!path) fail(`--${name} is required`);
  try {
    return readFileSync(path);
  } catch (e) {
    return fail(`--${name} ${path}: ${e.message}`);
  }
}

if (command === "keygen") {
  if (!o.out) fail("--out DIR is required");
  const id = o.id ?? "k" + new Date().toISOString().slice(0, 10).replaceAll("-", "");
  const { privatePem, publicEntry } = generateKeys(id);
  mkdirSync(o.out, { recursive: true });
  const keyFile = join(o.out, "ota-key.pem"),
    pubFile = join(o.out, "ota-key.json");
  if (existsSync(keyFile)) fail(`${keyFile} exists: choose another --out (a key is never overwritten)`);
  writeFileSync(keyFile, privatePem, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  writeFileSync(pubFile, JSON.stringify(publicEntry, null, 2) + "\n");
  console.log(`private key: ${keyFile} (keep it off devices)\nfor config.ota.keys: ${JSON.stringify(publicEntry)}`);
} else if (command === "sign") {
  if (!o.id) fail("--id is required (the key's id, as in config.ota.keys)");
  if (!o.device && !o.fleet) fail("name the target: --device ID (repeatable) and/or --fleet F");
  try {
    const manifest = signManifest({
      privatePem: read("key", o.key).toString(),
      keyId: o.id,
      image: new Uint8Array(read("image", o.image)),
      version: integer("version", o.version ?? fail("--version is required"), 0, 0x7fffffff),
      blockSize: integer("block-size", o["block-size"], 256, 16384),
      devices: o.device,
      fleet: o.fleet,
      share: integer("share", o.share, 0, 100),
      minVersion: integer("min", o.min, 0, 0x7fffffff),
      url: o.url,
      downgrade: o.downgrade,
    });
    const text = JSON.stringify(manifest, null, 2) + "\n";
    if (o.out) writeFileSync(o.out, text);
    else process.stdout.write(text);
  } catch (e) {
    fail(e.message);
  }
} else if (command === "serve") {
  let manifest;
  try {
    manifest = JSON.parse(read("manifest", o.manifest).toString());
  } catch (e) {
    fail("--manifest is not JSON: " + e.message);
  }
  const image = new Uint8Array(read("image", o.image));
  if (!o.broker) fail("--broker URL is required");
  if (o.https !== undefined) {
    const port = integer("https", o.https, 1, 65535);
    const server = await serveImage(
      image,
      { cert: read("cert", o.cert), key: read("key", o.key), port, host: "0.0.0.0" },
      (range) => process.stdout.isTTY || console.log(`https: ${range ?? "whole image"}`),
    );
    console.log(`serving the image over HTTPS on port ${server.address().port}`);
  }
  const { default: mqtt } = await import("mqtt");
  const client = mqtt.connect(o.broker, {
    ca: o.ca ? readFileSync(o.ca) : undefined,
    username: o.username,
    password: o.password,
    reconnectPeriod: 2000,
  });
  client.on("error", (e) => console.error("ota: broker: " + e.message));
  // One line per device: redrawn in place on a terminal, printed as it changes otherwise.
  const lines = new Map();
  let drawn = 0;
  const draw = () => {
    if (drawn > 0) process.stdout.write(`\x1b[${drawn}A`);
    for (const line of lines.values()) process.stdout.write(line + "\x1b[K\n");
    drawn = lines.size;
  };
  let publisher;
  try {
    publisher = new Publisher({
      client,
      manifest,
      image,
      prefix: o.prefix,
      onChange: (view) => {
        const line = progressLine(view, manifest.version);
        if (lines.get(view.id) === line) return;
        lines.set(view.id, line);
        if (process.stdout.isTTY) draw();
        else console.log(line);
      },
    });
  } catch (e) {
    fail("--manifest: " + e.message);
  }
  client.on("connect", async () => {
    await publisher.start();
    for (const id of o.device ?? []) publisher.send(id);
    console.log(`version ${manifest.version}: waiting for devices on ${o.broker} (Ctrl-C to stop)`);
  });
} else fail(`unknown command ${JSON.stringify(command)}`);
