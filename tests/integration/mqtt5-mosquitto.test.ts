// The MQTT client speaking 5.0 to a real Mosquitto over TLS: QoS 2 both ways and a persistent session resumed after a drop.
import { test } from "node:test";
import assert from "node:assert/strict";
import mqtt from "mqtt";
import { brokerForFile } from "./support/test-broker.js";
import { waitFor } from "./support/firmware.js";
import { NodeTCPSocket } from "../../hosts/node/tcp.js";
import { nodeClock } from "../../hosts/node/host.js";
import { MQTTClient, type MQTTClientOptions } from "../../modules/mqtt/client.js";
import { utf8Decode } from "../../modules/text/utf8.js";

const broker = brokerForFile();

function client(extra: Partial<MQTTClientOptions>, events: unknown[][]): MQTTClient {
  return new MQTTClient({
    host: "127.0.0.1",
    port: broker.port,
    clientId: "v5-device",
    keepalive: 30,
    protocolVersion: 5,
    socket: { io: NodeTCPSocket, secure: { ca: broker.pki.caPem, serverName: "localhost" } },
    clock: nodeClock,
    onConnect(sessionPresent) {
      events.push(["connect", sessionPresent]);
    },
    onSubscribed(id, granted) {
      events.push(["subscribed", granted]);
    },
    onMessage(topic, payload, info) {
      events.push(["message", topic, utf8Decode(payload), info.qos]);
    },
    onPublished(id, code) {
      events.push(["published", id, code]);
    },
    onClose(reason) {
      events.push(["close", reason?.message]);
    },
    onError(error) {
      events.push(["error", error.message]);
    },
    ...extra,
  });
}

test("mqtt5-qos2-round-trip-and-persistent-session-resume", async () => {
  const events: unknown[][] = [];
  const c = client({ clean: false, sessionExpiry: 300 }, events);
  try {
    c.connect();
    await waitFor(
      "CONNACK",
      () => events.find((e) => e[0] === "connect"),
      10_000,
      () => JSON.stringify(events),
    );
    c.subscribe([{ topic: "v5/#", qos: 2 }]);
    await waitFor("SUBACK", () => events.find((e) => e[0] === "subscribed"));
    assert.deepEqual(
      events.find((e) => e[0] === "subscribed"),
      ["subscribed", [2]],
    );
    const id = c.publish("v5/self", "exactly once", { qos: 2 });
    await waitFor("PUBCOMP", () => events.find((e) => e[0] === "published" && e[1] === id));
    await waitFor("own message back", () => events.find((e) => e[0] === "message"));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(events.filter((e) => e[0] === "message").length, 1, "QoS 2 delivered once");

    // The link drops; while the device is away a message is published to its subscription.
    for (const s of NodeTCPSocket.open) s.destroy();
    await waitFor("drop noticed", () => events.find((e) => e[0] === "close"));
    const other = mqtt.connect(broker.clientOptions({ protocolVersion: 5 }));
    await new Promise<void>((resolve, reject) =>
      other.once("connect", () =>
        other.publish("v5/cmd", "while away", { qos: 2 }, (e) => (e ? reject(e) : resolve())),
      ),
    );
    other.end(true);
    c.connect();
    await waitFor("session resumed", () => events.filter((e) => e[0] === "connect").length === 2);
    assert.deepEqual(events.filter((e) => e[0] === "connect")[1], ["connect", true], "the broker kept the session");
    await waitFor(
      "queued message delivered",
      () => events.find((e) => e[0] === "message" && e[2] === "while away"),
      10_000,
      () => JSON.stringify(events),
    );
    assert.equal(events.filter((e) => e[0] === "error").length, 0, JSON.stringify(events));
  } finally {
    c.close();
  }
});

test("mqtt5-maximum-packet-size-keeps-an-oversized-retained-message-away", async () => {
  // With 5.0 the client's limit goes in CONNECT, and the broker drops what would exceed it (§3.1.2.11.4): the
  // device never sees the 4 KB retained message, only the small one after it, and needs no discard.
  const other = mqtt.connect(broker.clientOptions({ protocolVersion: 5 }));
  await new Promise<void>((resolve) => other.once("connect", () => resolve()));
  await other.publishAsync("v5size/a", Buffer.alloc(4096, 0x61), { qos: 1, retain: true });
  await other.publishAsync("v5size/b", "small", { qos: 1, retain: true });
  const events: unknown[][] = [];
  const c = client({ clientId: "v5-size", maxPacketSize: 1024 }, events);
  try {
    c.connect();
    await waitFor("CONNACK", () => events.find((e) => e[0] === "connect"));
    c.subscribe([{ topic: "v5size/#", qos: 1 }]);
    await waitFor("the small retained message", () => events.find((e) => e[0] === "message" && e[2] === "small"));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      events.filter((e) => e[0] === "message").map((e) => e[1]),
      ["v5size/b"],
      "the large one was never sent: " + JSON.stringify(events),
    );
    assert.equal(c.oversized, 0);
    assert.equal(events.filter((e) => e[0] === "error").length, 0, JSON.stringify(events));
    assert.ok(c.connected);
  } finally {
    c.close();
    await other.publishAsync("v5size/a", "", { qos: 1, retain: true });
    await other.publishAsync("v5size/b", "", { qos: 1, retain: true });
    other.end(true);
  }
});
