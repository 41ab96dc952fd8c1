// npm run command: signs a command for one device with its commandKey (HMAC-SHA256 by node:crypto, over the device's own
// canonical form from src/command-auth.ts) and prints the JSON, or publishes it and prints the device's answer.
import { createHmac } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";

const usage = `usage: npm run command -- --key KEY --device ID [options] COMMAND [field=value …]
       npm run command -- --key KEY --device ID [options] '{"command": "recalibrate", "force": true}'
       npm run command -- --key KEY --device ID [options] config version=N 'patch={"intervalMs": 1000}'

Signs COMMAND for device ID and prints the signed JSON; with --publish, sends it (QoS 1, not retained) to
<prefix>/<ID>/command and prints the answer from <prefix>/<ID>/command/result. The "config" command (a versioned
JSON merge patch of the configuration, README "Remote configuration") goes to <prefix>/<ID>/config/set and its
answer comes from <prefix>/<ID>/config/result.
  --key KEY            the device's config.commandKey (hex or base64; or --key-file FILE holding it)
  --device ID          the device id in its topics (config.deviceId, or the board's)
  --counter N          the counter to sign with (default: the time in ms, so each signature is above the last)
  --publish URL        mqtt://host:port or mqtts://host:port
  --ca FILE            the broker's CA (PEM) for mqtts
  --servername NAME    the name the broker's certificate must carry (default: the URL's host)
  --username U, --password P   broker credentials
  --prefix P           the topic prefix (config.topicPrefix, default telltale)
Fields: field=value, where value is JSON if it parses (force=true, ms=500), else text.`;

function fail(message) {
  console.error("command: " + message + "\n\n" + usage);
  process.exit(2);
}

const { values: o, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        key: { type: "string" },
        "key-file": { type: "string" },
        device: { type: "string" },
        counter: { type: "string" },
        publish: { type: "string" },
        ca: { type: "string" },
        servername: { type: "string" },
        username: { type: "string" },
        password: { type: "string" },
        prefix: { type: "string", default: "telltale" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    return fail(e.message);
  }
})();
if (o.help) {
  console.log(usage);
  process.exit(0);
}

const build = join(new URL("..", import.meta.url).pathname, "build");
if (!existsSync(join(build, "src/command-auth.js"))) fail("the build is missing: run `npm run build` first");
const { signCommand } = await import(pathToFileURL(join(build, "src/command-auth.js")).href);
const { parseConfig } = await import(pathToFileURL(join(build, "modules/config/config.js")).href);

const keyText = o.key ?? (o["key-file"] ? readFileSync(o["key-file"], "utf8").trim() : undefined);
if (!keyText) fail("--key or --key-file is required");
if (!o.device) fail("--device is required");
let key;
try {
  // The device's own reading of config.commandKey, so what it refuses is refused here too.
  key = parseConfig({ commandKey: keyText }).commandKey;
} catch (e) {
  fail(e.message.replace(/^config\.commandKey/, "--key"));
}

if (positionals.length === 0) fail("name the command");
let request;
if (positionals[0].trim().startsWith("{")) {
  if (positionals.length > 1) fail("a JSON request takes no field=value arguments");
  try {
    request = JSON.parse(positionals[0]);
  } catch (e) {
    fail("the request is not JSON: " + e.message);
  }
  if (typeof request !== "object" || request === null || typeof request.command !== "string")
    fail('a JSON request is an object with "command"');
} else {
  request = { command: positionals[0] };
  for (const field of positionals.slice(1)) {
    const eq = field.indexOf("=");
    if (eq <= 0) fail(`expected field=value, got ${JSON.stringify(field)}`);
    const name = field.slice(0, eq),
      text = field.slice(eq + 1);
    if (name === "command" || name === "counter" || name === "mac") fail(`${name} is set by the signature`);
    try {
      request[name] = JSON.parse(text);
    } catch {
      request[name] = text;
    }
  }
}
const counter = o.counter === undefined ? Date.now() : Number(o.counter);
if (!Number.isSafeInteger(counter) || counter < 1) fail("--counter must be an integer from 1 to 2^53 − 1");

const hmac = (k, data) => new Uint8Array(createHmac("sha256", k).update(data).digest());
const signed = JSON.stringify(signCommand(request, { key, deviceId: o.device, counter, hmac }));
if (!o.publish) {
  console.log(signed);
  process.exit(0);
}

const { default: mqtt } = await import("mqtt");
const topic = `${o.prefix}/${o.device}/` + (request.command === "config" ? "config/set" : "command");
const resultTopic = request.command === "config" ? `${o.prefix}/${o.device}/config/result` : topic + "/result";
const client = mqtt.connect(o.publish, {
  ca: o.ca ? readFileSync(o.ca) : undefined,
  servername: o.servername,
  username: o.username,
  password: o.password,
  reconnectPeriod: 0,
  connectTimeout: 10_000,
});
const timer = setTimeout(() => {
  console.error(`command: no answer on ${resultTopic} within 10 s (sent: ${signed})`);
  client.end(true);
  process.exit(1);
}, 10_000);
client.on("error", (e) => {
  console.error("command: " + e.message);
  process.exit(1);
});
client.on("message", (_topic, payload) => {
  clearTimeout(timer);
  const answer = payload.toString();
  console.log(answer);
  client.end();
  let ok = false;
  try {
    ok = JSON.parse(answer).ok === true;
  } catch {
    /* not an answer of ours */
  }
  process.exitCode = ok ? 0 : 1;
});
client.on("connect", () => {
  client.subscribe(resultTopic, { qos: 1 }, (err) => {
    if (err) fail(err.message);
    client.publish(topic, signed, { qos: 1, retain: false });
  });
});
