// Remote configuration's pure parts: RFC 7386 merge patches, redaction, versions and what applies live, the trial
// beside the last good copy in the store, and the choice at start.
import { suite, test, equal, deepEqual, ok, throws } from "../../harness.js";
import { parseConfig } from "telltale/config/config";
import {
  chooseStartConfig,
  classifyChange,
  mergePatch,
  planChange,
  redactConfig,
  PENDING_RESULT_KEY,
  REDACTED,
  type ConfigState,
} from "telltale/config/remote";
import {
  configText,
  dropTrial,
  loadConfigText,
  loadTrialText,
  promoteTrial,
  saveConfigText,
  saveTrialText,
} from "telltale/config/saved";
import { mapStore } from "../../support/test-host.js";

const RAW = Object.freeze({
  intervalMs: 1000,
  broker: { url: "mqtt://192.0.2.1:1883", username: "dev", password: "pw" },
  commandKey: "000102030405060708090a0b0c0d0e0f",
});

function state(raw: unknown = RAW, version = 1): ConfigState {
  return { version, raw, base: "", trial: false };
}

suite("config/remote", () => {
  test("merge-patch-follows-rfc-7386-appendix-a", () => {
    // RFC 7386 Appendix A, a selection: [original, patch, result].
    const cases: [unknown, unknown, unknown][] = [
      [{ a: "b" }, { a: "c" }, { a: "c" }],
      [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
      [{ a: "b" }, { a: null }, {}],
      [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
      [{ a: ["b"] }, { a: "c" }, { a: "c" }],
      [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
      [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
      [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
      [
        ["a", "b"],
        ["c", "d"],
        ["c", "d"],
      ],
      [{ a: "b" }, ["c"], ["c"]],
      [{ a: "foo" }, null, null],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: "b", c: null }, { a: "b" }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [original, patch, result] of cases)
      deepEqual(mergePatch(original, patch), result, JSON.stringify(original) + " + " + JSON.stringify(patch));
    const original = { a: { b: 1 } };
    mergePatch(original, { a: { b: 2 } });
    deepEqual(original, { a: { b: 1 } }, "the target is not changed");
  });

  test("redaction-hides-passwords-private-keys-and-the-command-key-only", () => {
    const raw = {
      ...RAW,
      broker: { url: "mqtts://h:8883", ca: "-----BEGIN CERTIFICATE-----x", key: "-----BEGIN PRIVATE KEY-----y" },
    };
    deepEqual(redactConfig(raw), {
      intervalMs: 1000,
      broker: { url: "mqtts://h:8883", ca: "-----BEGIN CERTIFICATE-----x", key: REDACTED },
      commandKey: REDACTED,
    });
    equal(raw.broker.key, "-----BEGIN PRIVATE KEY-----y", "a copy");
    deepEqual(redactConfig(RAW), { ...RAW, broker: { ...RAW.broker, password: REDACTED }, commandKey: REDACTED });
  });

  test("a-patch-keeps-the-secrets-it-does-not-send-and-says-what-applies-live", () => {
    const current = parseConfig(RAW),
      store = mapStore(new Map());
    const change = planChange(state(), current, { version: 2, patch: { broker: { keepalive: 60 } } }, store);
    equal(change.config.broker.password, "pw", "the password not sent stays");
    deepEqual(change.config.commandKey, current.commandKey);
    deepEqual([...change.changed], ["broker.keepalive"]);
    equal(change.live, false, "keepalive is a CONNECT field: a restart");
    const live = planChange(
      state(),
      current,
      { version: 2, patch: { intervalMs: 2000, broker: { telemetryQos: 0 } } },
      store,
    );
    deepEqual([...live.changed], ["intervalMs", "broker.telemetryQos"]);
    equal(live.live, true);
    equal(classifyChange(current, parseConfig({ ...RAW, topicPrefix: "plant" })).live, false);
    equal(classifyChange(current, parseConfig({ ...RAW, sensors: [{ part: "bme280" }] })).live, false);
    equal(
      planChange(state(), current, { version: 2, patch: { broker: { password: null, username: null } } }, store).config
        .broker.password,
      undefined,
      "null removes a setting",
    );
  });

  test("versions-stale-duplicate-invalid-and-too-large-are-told-apart", () => {
    const current = parseConfig(RAW),
      store = mapStore(new Map());
    throws(() => planChange(state(RAW, 5), current, { version: 4, patch: {} }, store), /version 4 is stale: version 5/);
    equal(planChange(state(RAW, 5), current, { version: 5, patch: { intervalMs: 9 } }, store).duplicate, true);
    throws(() => planChange(state(), current, { version: 1.5, patch: {} }, store), /^version: expected an integer/);
    throws(() => planChange(state(), current, { version: 2, patch: [1] }, store), /patch: expected an object/);
    throws(
      () => planChange(state(), current, { version: 2, patch: { intervalMs: "fast" } }, store),
      /^config\.intervalMs: expected an integer from 100 to 3600000, got "fast"$/,
    );
    throws(() => planChange(state(), current, { version: 2, patch: { deviceId: "other" } }, store), /deviceId/);
    const small = mapStore(new Map(), 100);
    throws(
      () => planChange(state(), current, { version: 2, patch: { topicPrefix: "p".repeat(60) } }, small),
      /^config: too large \(\d+ bytes, limit 200\)$/,
    );
  });

  test("the-trial-uses-the-slot-the-last-good-copy-does-not-and-is-kept-or-dropped", () => {
    const map = new Map<string, string>(),
      store = mapStore(map, 80);
    const good = configText(RAW),
      trial = configText({ ...RAW, intervalMs: 2000 });
    saveConfigText(store, good);
    saveTrialText(store, trial, { version: 2, base: "0badf00d" }, 0);
    equal(loadConfigText(store).text, good, "the last good copy is whole beside the trial");
    const t = loadTrialText(store);
    equal(t.text, trial);
    equal(t.version, 2);
    equal(t.boots, 0);
    ok(t.slot !== loadConfigText(store).slot, "another slot");
    dropTrial(store);
    equal(loadTrialText(store).text, undefined);
    equal(loadConfigText(store).text, good);
    ok(![...map.keys()].some((k) => k.startsWith("cfg" + t.slot!)), "the trial's parts are cleared");
    saveTrialText(store, trial, { version: 3, base: "0badf00d" }, 1);
    equal(promoteTrial(store), undefined);
    const kept = loadConfigText(store);
    equal(kept.text, trial);
    equal(kept.version, 3);
    equal(kept.base, "0badf00d");
    equal(loadTrialText(store).text, undefined);
    equal(
      [...map.keys()].filter((k) => /^cfg[ab]\d$/.test(k)).length,
      Math.ceil(trial.length / 80),
      "old copy cleared",
    );
  });

  test("a-remote-version-outlives-restarts-until-the-built-in-configuration-changes", () => {
    const map = new Map<string, string>(),
      store = mapStore(map),
      log: string[] = [];
    const first = chooseStartConfig(RAW, store, (l) => log.push(l));
    equal(first.state.version, 0);
    const text = configText({ ...RAW, intervalMs: 4000 });
    saveConfigText(store, text, { version: 7, base: first.state.base });
    const second = chooseStartConfig(RAW, store, (l) => log.push(l));
    equal(second.config.intervalMs, 4000);
    equal(second.state.version, 7);
    const flashed = chooseStartConfig({ ...RAW, intervalMs: 3000 }, store, (l) => log.push(l));
    equal(flashed.config.intervalMs, 3000, "a new built-in configuration wins");
    equal(flashed.state.version, 0);
    ok(
      log.some((l) => /the built-in configuration changed since version 7/.test(l)),
      log.join("\n"),
    );
  });

  test("a-trial-this-firmware-refuses-is-dropped-at-start-and-the-last-good-runs", () => {
    const map = new Map<string, string>(),
      store = mapStore(map);
    const first = chooseStartConfig(RAW, store, () => {});
    saveTrialText(store, configText({ ...RAW, intervalMs: 5 }), { version: 2, base: first.state.base }, 0);
    const log: string[] = [];
    const next = chooseStartConfig(RAW, store, (l) => log.push(l));
    equal(next.config.intervalMs, 1000);
    equal(next.state.trial, false);
    equal(loadTrialText(store).text, undefined);
    deepEqual(JSON.parse(map.get(PENDING_RESULT_KEY) ?? "null"), {
      version: 2,
      ok: false,
      error: "version 2 refused at start: config.intervalMs: expected an integer from 100 to 3600000, got 5",
    });
  });
});
