// The integration tests' broker: a real Mosquitto (mosquitto.ts) on a free port, over TLS with certificates made at
// test time (pki.ts) unless asked for plain MQTT; the clients a test watches and commands the device with; and one
// teardown for what the test file opened.
import { after, before } from "node:test";
import mqtt from "mqtt";
import { makePki, type Pki } from "./pki.js";
import { Mosquitto, type MosquittoOptions } from "./mosquitto.js";

/** A message a listening client received. */
export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

export interface TestBrokerOptions extends Omit<MosquittoOptions, "tls"> {
  /** False: plain MQTT and no certificates. By default TLS 1.2 with a broker certificate for "localhost". */
  tls?: boolean;
  /** With TLS: the broker asks for a client certificate from the test CA (mutual TLS). */
  requireCertificate?: boolean;
}

export class TestBroker {
  readonly #options: TestBrokerOptions;
  #mosquitto: Mosquitto | undefined;
  #pki: Pki | undefined;
  #starting: Promise<void> | undefined;
  readonly #atEnd: (() => unknown)[] = [];

  /** Nothing runs until start(); see also brokerForFile. */
  constructor(options: TestBrokerOptions = {}) {
    this.#options = options;
  }

  /** A started broker. */
  static async start(options: TestBrokerOptions = {}): Promise<TestBroker> {
    const broker = new TestBroker(options);
    await broker.start();
    return broker;
  }

  /** Makes the certificates (with TLS) and starts Mosquitto, once: a second call waits for the first. */
  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    const { tls = true, requireCertificate, ...options } = this.#options;
    const pki = tls ? makePki() : undefined;
    this.#pki = pki;
    this.#mosquitto = await Mosquitto.start({
      ...options,
      tls: pki && { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, requireCertificate },
    });
  }

  get mosquitto(): Mosquitto {
    if (!this.#mosquitto) throw new Error("the test broker is not started yet (it starts in before())");
    return this.#mosquitto;
  }

  get port(): number {
    return this.mosquitto.port;
  }

  /** The certificates: the CA the device trusts, the broker's, and the rogue, wrong-host, expired and client ones. */
  get pki(): Pki {
    if (!this.#pki) throw new Error("this broker serves plain MQTT: it has no certificates");
    return this.#pki;
  }

  /** A device's config.broker for this broker (its URL, and with TLS the CA to trust), with `extra` over it. */
  deviceBroker(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return this.#pki
      ? { url: `mqtts://127.0.0.1:${this.port}`, ca: this.#pki.caPem, ...extra }
      : { url: `mqtt://127.0.0.1:${this.port}`, ...extra };
  }

  /** mqtt.js options for a client of this broker (with TLS, checked against the test CA for "localhost"). */
  clientOptions(extra: mqtt.IClientOptions = {}): mqtt.IClientOptions {
    const tls = this.#pki ? { protocol: "mqtts" as const, ca: this.#pki.caPem, servername: "localhost" } : {};
    return { host: "127.0.0.1", port: this.port, ...tls, ...extra };
  }

  /** A client, connected; ended at teardown. */
  async client(extra: mqtt.IClientOptions = {}): Promise<mqtt.MqttClient> {
    const client = mqtt.connect(this.clientOptions(extra));
    this.atEnd(() => client.end(true));
    await new Promise<void>((resolve) => client.once("connect", () => resolve()));
    return client;
  }

  /** A client subscribed to `filter` at QoS 1 (reconnecting every 200 ms), and what it receives; ended at teardown. */
  async listen(filter: string): Promise<{ client: mqtt.MqttClient; got: Received[] }> {
    const got: Received[] = [];
    const client = mqtt.connect(this.clientOptions({ reconnectPeriod: 200 }));
    this.atEnd(() => client.end(true));
    client.on("message", (topic, payload, packet) =>
      got.push({ topic, payload: payload.toString(), retain: packet.retain }),
    );
    await new Promise<void>((resolve, reject) => {
      client.once("error", reject);
      client.once("connect", () => client.subscribe(filter, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    });
    return { client, got };
  }

  /** Runs `fn` at teardown, before the broker stops; in the order given. */
  atEnd(fn: () => unknown): void {
    this.#atEnd.push(fn);
  }

  /** Kills the broker, or with `graceful` lets it save its database (Mosquitto.stop); resume() starts it again. */
  stop(graceful = false): Promise<void> {
    return this.mosquitto.stop(graceful);
  }

  resume(): Promise<void> {
    return this.mosquitto.resume();
  }

  /** Teardown: what atEnd registered, then the broker stops. */
  async close(): Promise<void> {
    for (const fn of this.#atEnd.splice(0)) await fn();
    await this.#mosquitto?.stop();
  }
}

/** The test file's broker: started in node:test's before(), closed in after(). */
export function brokerForFile(options: TestBrokerOptions = {}): TestBroker {
  const broker = new TestBroker(options);
  before(() => broker.start());
  after(() => broker.close());
  return broker;
}
