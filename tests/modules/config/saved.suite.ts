// The last good configuration in a store that keeps at most 3999 bytes a value (ESP32 NVS): split, checked, atomic.
import { suite, test, equal, ok, throws } from "../../harness.js";
import { chooseConfig } from "telltale/config/config";
import { loadConfigText, SAVED_CONFIG_PARTS } from "telltale/config/saved";
import { utf8Size } from "telltale/text/utf8";
import { mapStore } from "../../support/test-host.js";

/** ESP-IDF NVS strings hold 4000 bytes with their terminator (hosts/esp32/host.ts). */
const NVS_MAX_STRING = 3999;

/** PEM-shaped text of `size` characters: 64-column base64 lines between the markers of `label`. */
function pem(label: string, size: number, seed: number): string {
  const head = "-----BEGIN " + label + "-----\n",
    tail = "-----END " + label + "-----\n";
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let body = "",
    x = seed;
  while (head.length + body.length + tail.length < size) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    body += (body.length + 1) % 65 === 0 ? "\n" : alphabet[(x >>> 16) & 63];
  }
  return head + body + tail;
}

/** The sizes of a CA, an RSA-2048 client certificate and its PKCS#8 key as openssl writes them: 4186 bytes in all. */
const CA = pem("CERTIFICATE", 1273, 1),
  CERTIFICATE = pem("CERTIFICATE", 1209, 2),
  KEY = pem("PRIVATE KEY", 1704, 3);

function mutualTls(extra: Record<string, unknown> = {}) {
  return {
    deviceId: "pump-7",
    broker: { url: "mqtts://broker.example:8883", ca: CA, certificate: CERTIFICATE, key: KEY, ...extra },
  };
}

function esp32Store() {
  const map = new Map<string, string>();
  let sets = 0;
  const inner = mapStore(map, NVS_MAX_STRING);
  const store = {
    maxValueBytes: NVS_MAX_STRING,
    get: (k: string) => inner.get(k),
    set: (k: string, v: string) => {
      sets++;
      inner.set(k, v);
    },
    delete: (k: string) => inner.delete(k),
  };
  return { map, store, sets: () => sets };
}

suite("config/saved", () => {
  test("mutual-tls-config-above-one-store-value-is-stored-in-parts", () => {
    equal(CA.length + CERTIFICATE.length + KEY.length, 4186);
    const { map, store } = esp32Store();
    const log: string[] = [];
    const { config, error } = chooseConfig(mutualTls(), store, (l) => log.push(l));
    ok(!error && log.length === 0, log.join("\n"));
    equal(config.broker.key, KEY);
    for (const [k, v] of map) ok(utf8Size(v) <= NVS_MAX_STRING, k + " holds " + utf8Size(v) + " bytes");
    const saved = loadConfigText(store).text;
    ok(saved !== undefined && saved.length > NVS_MAX_STRING, "the text is longer than one value");
    // A bad candidate later falls back to it, whole.
    const again = chooseConfig({ intervalMs: "fast" }, store, (l) => log.push(l));
    equal(again.config.broker.certificate, CERTIFICATE);
    equal(again.config.broker.key, KEY);
    ok(again.error && /config\.intervalMs/.test(again.error.message));
  });

  test("valid-config-replaces-the-older-weaker-one", () => {
    const { store } = esp32Store();
    const log: string[] = [];
    chooseConfig({ broker: { url: "mqtt://broker.example:1883" } }, store, (l) => log.push(l));
    const { config, error } = chooseConfig(mutualTls(), store, (l) => log.push(l));
    ok(!error, String(error));
    equal(config.broker.scheme, "mqtts", "runs the configuration it was given");
    equal(chooseConfig({ brokr: {} }, store, (l) => log.push(l)).config.broker.scheme, "mqtts", "and keeps it");
    equal(log.length, 0, log.join("\n"));
  });

  test("config-too-large-for-the-store-is-refused-not-replaced", () => {
    const { store } = esp32Store();
    const log: string[] = [];
    chooseConfig({ broker: { url: "mqtt://broker.example:1883" } }, store, (l) => log.push(l));
    const before = loadConfigText(store).text;
    throws(
      () => chooseConfig(mutualTls({ ca: pem("CERTIFICATE", 5000, 4) }), store, (l) => log.push(l)),
      new RegExp(
        "^config: too large \\(\\d+ bytes, limit " +
          NVS_MAX_STRING * SAVED_CONFIG_PARTS +
          "\\); the largest item is broker\\.ca \\(5000 characters\\)$",
      ),
    );
    equal(loadConfigText(store).text, before, "the saved configuration is untouched");
  });

  test("non-ascii-credentials-survive-the-split", () => {
    const { map, store } = esp32Store();
    const username = "é€😀".repeat(100);
    chooseConfig(mutualTls({ username, password: "pâss" }), store, () => {});
    for (const v of map.values()) ok(/^[\x20-\x7e]*$/.test(v), "stored as ASCII");
    const back = chooseConfig({ intervalMs: 0 }, store, () => {}).config.broker;
    equal(back.username, username);
    equal(back.password, "pâss");
  });

  test("unchanged-config-writes-nothing", () => {
    const r = esp32Store();
    chooseConfig(mutualTls(), r.store, () => {});
    const sets = r.sets();
    ok(sets >= 3, "two parts and the header: " + sets);
    chooseConfig(mutualTls(), r.store, () => {});
    equal(r.sets(), sets, "a second start with the same configuration writes no flash");
  });

  test("save-cut-short-keeps-the-previous-copy-and-runs-the-new-one", () => {
    const r = esp32Store();
    chooseConfig({ intervalMs: 2000 }, r.store, () => {});
    const before = loadConfigText(r.store).text;
    // The store fails on the second part, as a full NVS partition or a power cut would stop it.
    let left = 1;
    const failing = {
      ...r.store,
      set: (k: string, v: string) => {
        if (left-- <= 0) throw new Error("nvs set fail");
        r.store.set(k, v);
      },
    };
    const log: string[] = [];
    const { config, error } = chooseConfig(mutualTls(), failing, (l) => log.push(l));
    ok(!error);
    equal(config.broker.scheme, "mqtts", "the valid configuration runs");
    ok(
      log.some((l) => l === "config: not kept as the last good configuration (nvs set fail); running it all the same"),
      log.join("\n"),
    );
    equal(loadConfigText(r.store).text, before, "the header still names the whole previous copy");
    equal(chooseConfig({ intervalMs: 1 }, r.store, () => {}).config.intervalMs, 2000);
  });

  test("damaged-copy-is-reported-and-not-used", () => {
    const { map, store } = esp32Store();
    chooseConfig(mutualTls(), store, () => {});
    const key = [...map.keys()].find((k) => k !== "config" && map.get(k)!.includes("PRIVATE KEY"))!;
    const part = map.get(key)!;
    map.set(key, part.slice(0, 100) + (part[100] === "A" ? "B" : "A") + part.slice(101));
    const log: string[] = [];
    throws(() => chooseConfig({ intervalMs: 1 }, store, (l) => log.push(l)), /^config\.intervalMs: /);
    ok(
      log.includes(
        "config: the saved last good configuration is not used: its CRC-32 does not match (the store is damaged)",
      ),
      log.join("\n"),
    );
  });

  test("config-saved-in-one-key-by-earlier-firmware-is-read", () => {
    const { map, store } = esp32Store();
    map.set("config", JSON.stringify({ intervalMs: 3000 }));
    equal(chooseConfig({ intervalMs: 1 }, store, () => {}).config.intervalMs, 3000);
    chooseConfig(mutualTls(), store, () => {});
    ok(map.get("config")!.startsWith("a 2 "), "rewritten as a header: " + map.get("config"));
  });
});
