// The discovery service over a recording link and a store: announced at start, again on HA's birth, removals across reboots.
import { suite, test, equal, ok, deepEqual, throws } from "../../harness.js";
import { parseConfig } from "telltale/config/config";
import { HomeAssistantDiscovery, STORE_KEY, type DiscoveryLink } from "telltale/ha/home-assistant";
import { mapStore } from "../../support/test-host.js";

type Handler = (payload: Uint8Array, info: { readonly retain: boolean }) => void;

/** The uplink's side as discovery sees it: what was announced (in order) and subscribed. */
class Link implements DiscoveryLink {
  connected = false;
  readonly announced: { topic: string; payload: string }[] = [];
  readonly handlers = new Map<string, Handler>();
  announce(topic: string, payload: string): void {
    this.announced.push({ topic, payload });
  }
  subscribe(topic: string, handler: Handler): void {
    this.handlers.set(topic, handler);
  }
  send(topic: string, text: string, retain = false): void {
    this.handlers.get(topic)?.(
      Uint8Array.from(text, (c) => c.charCodeAt(0)),
      { retain },
    );
  }
}

function boot(store: Map<string, string>, raw: Record<string, unknown> = {}) {
  const link = new Link();
  const log: string[] = [];
  const ha = new HomeAssistantDiscovery({
    config: parseConfig(raw),
    deviceId: "pump-3",
    topics: { telemetry: "telltale/pump-3/telemetry", status: "telltale/pump-3/status" },
    uplink: link,
    host: { name: "test", store: mapStore(store), log: (line) => log.push(line) },
  });
  ha.start();
  return { ha, link, log };
}

const TOPIC = "homeassistant/device/telltale_pump-3/config";
const WITH_BEARING = { sensors: [{ part: "sht3x" }, { part: "adxl345", name: "bearing" }] };

function cmpsOf(payload: string | undefined): Record<string, Record<string, unknown>> {
  return (JSON.parse(payload ?? "{}") as { cmps: Record<string, Record<string, unknown>> }).cmps;
}

function stored(store: Map<string, string>): { topic?: string; components: Record<string, string>; clear: string[] } {
  return JSON.parse(store.get(STORE_KEY) ?? "null") as {
    topic?: string;
    components: Record<string, string>;
    clear: string[];
  };
}

suite("ha-service", () => {
  test("announces-retained-on-start-and-listens-for-ha", () => {
    const store = new Map<string, string>();
    const r = boot(store);
    deepEqual(
      r.link.announced.map((a) => a.topic),
      [TOPIC],
    );
    equal(r.link.announced[0]!.payload, r.ha.payload);
    deepEqual(Object.keys(cmpsOf(r.ha.payload)), ["sht3x-temperature", "sht3x-humidity", "score", "alarm"]);
    deepEqual([...r.link.handlers.keys()], ["homeassistant/status"]);
    deepEqual(stored(store), {
      topic: TOPIC,
      components: {
        "sht3x-temperature": "sensor",
        "sht3x-humidity": "sensor",
        score: "sensor",
        alarm: "binary_sensor",
      },
      clear: [],
    });
    ok(r.log.includes("home assistant: discovery on " + TOPIC + ": 4 entities"), r.log.join("\n"));
  });

  test("ha-birth-republishes-and-other-status-does-not", () => {
    const r = boot(new Map());
    r.link.send("homeassistant/status", "offline");
    equal(r.link.announced.length, 1, "HA's will is not a reason to announce");
    r.link.send("homeassistant/status", "online");
    equal(r.link.announced.length, 2);
    equal(r.link.announced[1]!.payload, r.link.announced[0]!.payload);
  });

  test("configured-prefix-sets-both-topics", () => {
    const r = boot(new Map(), { homeAssistant: { prefix: "ha/site1" } });
    equal(r.link.announced[0]!.topic, "ha/site1/device/telltale_pump-3/config");
    deepEqual([...r.link.handlers.keys()], ["ha/site1/status"]);
  });

  test("a-sensor-that-left-is-removed-then-forgotten-after-ha-is-back", () => {
    const store = new Map<string, string>();
    boot(store, WITH_BEARING);
    // Next boot without the accelerometer: its three entities go out as {"p": "sensor"} until HA has seen them.
    const r = boot(store);
    const c = cmpsOf(r.link.announced[0]!.payload);
    deepEqual(c["bearing-rmsX"], { p: "sensor" });
    deepEqual(c["bearing-rmsZ"], { p: "sensor" });
    equal(c["sht3x-temperature"]?.p, "sensor");
    ok(
      r.log.some((l) => l.endsWith("; removing bearing-rmsX, bearing-rmsY, bearing-rmsZ")),
      r.log.join("\n"),
    );
    equal(stored(store).components["bearing-rmsY"], "sensor", "kept until HA is seen");
    // A reboot before HA came back still removes them.
    const again = boot(store);
    deepEqual(cmpsOf(again.link.announced[0]!.payload)["bearing-rmsY"], { p: "sensor" });
    // HA announces itself: the removal once more (it listens now), then the payload without it.
    again.link.send("homeassistant/status", "online");
    equal(again.link.announced.length, 3);
    deepEqual(cmpsOf(again.link.announced[1]!.payload)["bearing-rmsY"], { p: "sensor" });
    const clean = cmpsOf(again.link.announced[2]!.payload);
    equal(clean["bearing-rmsY"], undefined);
    deepEqual(Object.keys(clean), ["sht3x-temperature", "sht3x-humidity", "score", "alarm"]);
    equal(stored(store).components["bearing-rmsY"], undefined);
    equal(again.ha.payload, again.link.announced[2]!.payload, "later connections announce the clean payload");
    // And the boot after that has nothing to remove.
    equal(cmpsOf(boot(store).link.announced[0]!.payload)["bearing-rmsY"], undefined);
  });

  test("a-sensor-that-comes-back-is-announced-not-removed", () => {
    const store = new Map<string, string>();
    boot(store, WITH_BEARING);
    boot(store);
    const r = boot(store, WITH_BEARING);
    equal(cmpsOf(r.link.announced[0]!.payload)["bearing-rmsX"]?.name, "bearing vibration RMS X");
  });

  test("a-new-prefix-empties-the-old-topic-first-until-connected", () => {
    const store = new Map<string, string>();
    boot(store);
    const r = boot(store, { homeAssistant: { prefix: "ha2" } });
    deepEqual(r.link.announced[0], { topic: TOPIC, payload: "" });
    equal(r.link.announced[1]!.topic, "ha2/device/telltale_pump-3/config");
    deepEqual(stored(store).clear, [TOPIC], "kept while no connection has carried it");
    r.ha.round();
    deepEqual(stored(store).clear, [TOPIC], "not connected yet");
    r.link.connected = true;
    r.ha.round();
    deepEqual(stored(store).clear, []);
    equal(stored(store).topic, "ha2/device/telltale_pump-3/config");
    equal(stored(store).components.score, "sensor", "the new topic's own components are kept");
  });

  test("switched-off-empties-the-announced-topic-then-forgets-it", () => {
    const store = new Map<string, string>();
    boot(store);
    const r = boot(store, { homeAssistant: { enabled: false } });
    deepEqual(r.link.announced, [{ topic: TOPIC, payload: "" }]);
    equal(r.link.handlers.size, 0, "no subscription while off");
    equal(r.ha.payload, undefined);
    ok(r.log.includes("home assistant: discovery off; removing the device from " + TOPIC), r.log.join("\n"));
    // A reboot before any connection empties it again.
    const again = boot(store, { homeAssistant: { enabled: false } });
    deepEqual(again.link.announced, [{ topic: TOPIC, payload: "" }]);
    again.link.connected = true;
    again.ha.round();
    equal(store.has(STORE_KEY), false);
    deepEqual(boot(store, { homeAssistant: { enabled: false } }).link.announced, [], "nothing left to remove");
  });

  test("switched-on-again-before-the-topic-was-emptied-keeps-it", () => {
    const store = new Map<string, string>();
    boot(store);
    boot(store, { homeAssistant: { enabled: false } });
    const r = boot(store);
    deepEqual(
      r.link.announced.map((a) => a.topic),
      [TOPIC],
      "not emptied: announced",
    );
    deepEqual(stored(store).clear, []);
  });

  test("an-unreadable-record-is-reported-and-replaced", () => {
    const store = new Map([[STORE_KEY, '{"topic": 5}']]);
    const r = boot(store);
    ok(
      r.log.some((l) => l.includes("the stored discovery record is unreadable")),
      r.log.join("\n"),
    );
    equal(stored(store).topic, TOPIC);
    const broken = new Map([[STORE_KEY, "{not json"]]);
    ok(boot(broken).log.some((l) => l.includes("unreadable")));
  });

  test("a-store-that-refuses-costs-a-log-line", () => {
    const link = new Link();
    const log: string[] = [];
    const ha = new HomeAssistantDiscovery({
      config: parseConfig({}),
      deviceId: "pump-3",
      topics: { telemetry: "telltale/pump-3/telemetry", status: "telltale/pump-3/status" },
      uplink: link,
      host: {
        name: "test",
        store: {
          get: () => undefined,
          set: () => {
            throw new RangeError("Store: full");
          },
          delete: () => {},
        },
        log: (line) => log.push(line),
      },
    });
    ha.start();
    equal(link.announced.length, 1, "announced all the same");
    ok(log.includes("home assistant: store: Store: full"), log.join("\n"));
  });

  test("settings-default-on-and-are-validated-by-name", () => {
    deepEqual(parseConfig({}).homeAssistant, { enabled: true, prefix: "homeassistant" });
    deepEqual(parseConfig({ homeAssistant: { enabled: false, prefix: "ha/site-1" } }).homeAssistant, {
      enabled: false,
      prefix: "ha/site-1",
    });
    throws(
      () => parseConfig({ homeAssistant: { prefix: "ha/#" } }),
      /^config\.homeAssistant\.prefix: expected topic levels/,
    );
    throws(() => parseConfig({ homeAssistant: { prefix: "ha/" } }), /^config\.homeAssistant\.prefix: /);
    throws(() => parseConfig({ homeAssistant: { prefix: "" } }), /^config\.homeAssistant\.prefix: /);
    throws(() => parseConfig({ homeAssistant: { prefix: "a".repeat(65) } }), /^config\.homeAssistant\.prefix: /);
    throws(
      () => parseConfig({ homeAssistant: { enabled: "yes" } }),
      /^config\.homeAssistant\.enabled: expected true or false/,
    );
    throws(() => parseConfig({ homeAssistant: { prefx: "ha" } }), /^config\.homeAssistant\.prefx: unknown setting/);
    throws(() => parseConfig({ homeAssistant: true }), /^config\.homeAssistant: expected an object/);
  });
});
