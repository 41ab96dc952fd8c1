// The captive portal's request handling: the form, probes redirected, posted settings checked, stored or refused.
import { suite, test, equal, ok } from "../../harness.js";
import { Portal, PROBE_PATHS, type PortalRequest } from "telltale/provision/portal";
import { loadProvisioned } from "telltale/provision/credentials";
import { utf8Encode } from "telltale/text/utf8";
import { mapStore } from "../../support/test-host.js";

const URL_ = "http://192.168.4.1/";
function portal() {
  const map = new Map<string, string>();
  const log: string[] = [];
  const p = new Portal({ store: mapStore(map), url: URL_, deviceId: "a4d18cdbc020", log: (l) => log.push(l) });
  return { p, map, log, store: mapStore(map) };
}
function post(body: string, headers: Record<string, string> = {}): PortalRequest {
  return {
    method: "POST",
    path: "/save",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: utf8Encode(body),
  };
}
const GOOD = "ssid=Werkstatt+2&password=sicher%21123&broker=mqtts%3A%2F%2Fbroker.example%3A8883&device=press-7";

suite("provision/portal", () => {
  test("get-root-serves-the-form-with-every-field", () => {
    const r = portal().p.handle({ method: "GET", path: "/", headers: {}, body: new Uint8Array(0) });
    equal(r.status, 200);
    equal(r.headers["content-type"], "text/html; charset=utf-8");
    for (const name of ["ssid", "password", "broker", "device"]) ok(r.body.includes('name="' + name + '"'), name);
    ok(r.body.includes('action="/save"'));
    ok(!/(src|href)=/.test(r.body), "no external assets");
    ok(r.body.includes("a4d18cdbc020"), "the board's own id is the default name");
  });

  test("probe-paths-and-other-pages-redirect-to-the-form", () => {
    const { p } = portal();
    for (const path of [...PROBE_PATHS, "/anything?x=1"]) {
      const r = p.handle({
        method: "GET",
        path,
        headers: { host: "connectivitycheck.gstatic.com" },
        body: new Uint8Array(0),
      });
      equal(r.status, 302, path);
      equal(r.headers.location, URL_, path);
    }
  });

  test("good-post-stores-and-answers-restarting", () => {
    const t = portal();
    const r = t.p.handle(post(GOOD));
    equal(r.status, 200);
    equal(r.saved, true);
    ok(r.body.includes("restarts"), r.body);
    const stored = loadProvisioned(t.store).provisioned;
    equal(
      JSON.stringify(stored),
      JSON.stringify({
        ssid: "Werkstatt 2",
        password: "sicher!123",
        broker: "mqtts://broker.example:8883",
        deviceId: "press-7",
      }),
    );
  });

  test("empty-broker-and-device-keep-the-builds", () => {
    const t = portal();
    equal(t.p.handle(post("ssid=open&password=&broker=&device=")).status, 200);
    equal(JSON.stringify(loadProvisioned(t.store).provisioned), JSON.stringify({ ssid: "open", password: "" }));
  });

  test("field-errors-reshow-the-form-naming-the-field-and-store-nothing", () => {
    const cases: [string, RegExp][] = [
      ["ssid=&password=&broker=&device=", /Wi-Fi network \(SSID\): must be 1–32 bytes, got 0/],
      ["ssid=x&password=short&broker=&device=", /Wi-Fi password: must be 8–63 characters/],
      ["ssid=x&password=&broker=http%3A%2F%2Fb&device=", /MQTT broker URL: expected mqtt:\/\/host\[:port\]/],
      ["ssid=x&password=&broker=&device=press+7", /Device name: expected 1–64 letters/],
    ];
    for (const [body, message] of cases) {
      const t = portal();
      const r = t.p.handle(post(body));
      equal(r.status, 400, body);
      equal(r.saved, false);
      ok(message.test(r.body), body + " → " + r.body);
      ok(r.body.includes("<form"), "the form again");
      equal(t.map.size, 0, "nothing stored for " + body);
    }
  });

  test("entered-values-come-back-escaped-and-the-password-does-not", () => {
    const r = portal().p.handle(post("ssid=%22%3E%3Cscript%3E&password=geheim12x&broker=bad&device="));
    equal(r.status, 400);
    ok(r.body.includes('value="&quot;&gt;&lt;script&gt;"'), r.body);
    ok(!r.body.includes("geheim12x"), "the password is not sent back");
  });

  test("malformed-bodies-are-400-with-a-reason", () => {
    const cases: [PortalRequest, RegExp][] = [
      [post("ssid=%zz&password=&broker=&device="), /bad percent-encoding/],
      [post("ssid=%C3%28&password=&broker=&device="), /field "ssid": not valid UTF-8/],
      [post("ssid=x&password=&broker="), /missing field "device"/],
      [post("ssid=x&ssid=y&password=&broker=&device="), /sent twice/],
      [{ ...post(""), body: Uint8Array.of(0x73, 0xff) }, /byte 0xff at 1/],
      [post("ssid=x", { "content-length": "abc" }), /not a number/],
    ];
    for (const [request, reason] of cases) {
      const t = portal();
      const r = t.p.handle(request);
      equal(r.status, 400, reason.source);
      ok(reason.test(r.body), reason.source + " → " + r.body);
      ok(r.body.includes("nothing was stored"));
      equal(t.map.size, 0);
    }
  });

  test("oversized-body-is-413-and-wrong-content-type-415", () => {
    const t = portal();
    equal(t.p.handle(post(GOOD, { "content-length": "5000" })).status, 413);
    equal(t.p.handle(post("ssid=" + "x".repeat(1100))).status, 413);
    equal(t.p.handle(post(GOOD, { "content-type": "application/json" })).status, 415);
    equal(t.p.handle(post(GOOD, { "content-type": "application/x-www-form-urlencoded; charset=latin1" })).status, 415);
    equal(t.p.handle(post(GOOD, { "content-type": "application/x-www-form-urlencoded; charset=UTF-8" })).status, 200);
    equal(t.map.size, 1, "only the last one stored");
  });

  test("other-methods-are-405", () => {
    const r = portal().p.handle({ method: "PUT", path: "/", headers: {}, body: new Uint8Array(0) });
    equal(r.status, 405);
    equal(r.headers.allow, "GET, HEAD, POST");
  });
});
