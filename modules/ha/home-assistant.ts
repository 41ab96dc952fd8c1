// Home Assistant discovery as a service of the app: announced on every connection and on HA's birth message, removals carried across reboots in the store.
import type { Store } from "telltale/io/io";
import type { HomeAssistantConfig } from "telltale/config/config";
import type { SensorDeclaration } from "telltale/drivers/part";
import { messageOf } from "telltale/errors/message";
import {
  AVAILABLE,
  discoveryComponents,
  discoveryPayload,
  discoveryTopic,
  type Component,
  type DiscoveryDevice,
} from "telltale/ha/discovery";

/**
 * Store key of what discovery announced: `{topic, components, clear}`. `components` (id → platform) holds every
 * component announced on `topic` that Home Assistant has not yet been seen to remove; `clear` lists discovery topics
 * still to be emptied (an old prefix, or discovery switched off).
 */
export const STORE_KEY = "ha";

/** The session as discovery uses it: the app's uplink (retained announcements re-sent on every connection). */
export interface DiscoveryLink {
  readonly connected: boolean;
  /** Publishes `payload` retained (QoS 1) now if connected, and on every connection. */
  announce(topic: string, payload: string): void;
  subscribe(topic: string, handler: (payload: Uint8Array, info: { readonly retain: boolean }) => void): void;
}

/** The app as discovery reads it (its fields by shape: a module does not import the app). */
export interface DiscoveryApp {
  readonly config: { readonly sensors: readonly SensorDeclaration[]; readonly homeAssistant: HomeAssistantConfig };
  readonly deviceId: string;
  readonly topics: { readonly telemetry: string; readonly status: string };
  readonly uplink: DiscoveryLink;
  readonly host: { readonly name: string; readonly store: Store; log(line: string): void };
}

interface Announced {
  topic?: string;
  components: Record<string, string>;
  clear: string[];
}

function isStringRecord(value: unknown): value is Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  for (const v of Object.values(value)) if (typeof v !== "string") return false;
  return true;
}

function platforms(components: Readonly<Record<string, Component>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const id of Object.keys(components)) out[id] = components[id]!.p;
  return out;
}

/** HA's birth message: "online" on `<prefix>/status` (its MQTT documentation, "Birth and last will messages"). */
function isBirth(payload: Uint8Array): boolean {
  if (payload.length > 32) return false;
  let text = "";
  for (let i = 0; i < payload.length; i++) text += String.fromCharCode(payload[i]!);
  return text.trim() === AVAILABLE;
}

/**
 * Announces the device to Home Assistant with one retained device-based discovery message, re-sent on every
 * connection (the uplink's announcements) and whenever Home Assistant publishes its birth message.
 *
 * Removal: a component announced before (the store remembers which) and absent from this configuration is sent as
 * `{"p": platform}`, which HA reads as "remove it". Those entries stay in the retained payload, harmless to HA, until
 * HA announces itself while this device is connected: then it has seen them, and a payload without them follows.
 * With discovery switched off, or the prefix changed, the old discovery topic gets an empty retained payload, which
 * removes the device and clears the broker's copy.
 */
export class HomeAssistantDiscovery {
  readonly #app: DiscoveryApp;
  #topic = "";
  #device: DiscoveryDevice | undefined;
  #components: Record<string, Component> = {};
  #removed: Record<string, string> = {};
  #record: Announced | undefined;

  constructor(app: DiscoveryApp) {
    this.#app = app;
  }

  /** The discovery topic (empty while discovery is off). */
  get topic(): string {
    return this.#topic;
  }

  /** The payload announced now (undefined while discovery is off). */
  get payload(): string | undefined {
    return this.#device && discoveryPayload(this.#device, this.#components, this.#removed);
  }

  start(): void {
    const app = this.#app,
      settings = app.config.homeAssistant,
      uplink = app.uplink;
    const previous = this.#load();
    const clear = previous ? previous.clear.slice() : [];
    const topic = settings.enabled ? discoveryTopic(settings.prefix, app.deviceId) : "";
    if (previous?.topic !== undefined && previous.topic !== topic && !clear.includes(previous.topic))
      clear.push(previous.topic);
    if (clear.includes(topic)) clear.splice(clear.indexOf(topic), 1);
    // Emptied first: the uplink sends its announcements in the order they were made.
    for (const old of clear) uplink.announce(old, "");
    if (!settings.enabled) {
      this.#topic = "";
      this.#device = undefined;
      if (clear.length > 0) this.#log("discovery off; removing the device from " + clear.join(", "));
      this.#save(clear.length > 0 ? { components: {}, clear } : undefined);
      return;
    }
    const device: DiscoveryDevice = {
      deviceId: app.deviceId,
      hardware: app.host.name,
      telemetryTopic: app.topics.telemetry,
      statusTopic: app.topics.status,
      sensors: app.config.sensors,
    };
    const components = discoveryComponents(device);
    const removed: Record<string, string> = {};
    if (previous?.topic === topic)
      for (const id of Object.keys(previous.components))
        if (!Object.hasOwn(components, id)) removed[id] = previous.components[id]!;
    this.#topic = topic;
    this.#device = device;
    this.#components = components;
    this.#removed = removed;
    uplink.announce(topic, this.payload!);
    uplink.subscribe(settings.prefix + "/status", (payload) => {
      if (isBirth(payload)) this.#birth();
    });
    const gone = Object.keys(removed);
    this.#log(
      "discovery on " +
        topic +
        ": " +
        Object.keys(components).length +
        " entities" +
        (gone.length > 0 ? "; removing " + gone.join(", ") : ""),
    );
    this.#save({ topic, components: { ...platforms(components), ...removed }, clear });
  }

  /** Each round: once connected, the emptied topics went out (first) on this connection, and the store forgets them. */
  round(): void {
    const record = this.#record;
    if (!record || record.clear.length === 0 || !this.#app.uplink.connected) return;
    this.#save(record.topic === undefined ? undefined : { ...record, clear: [] });
  }

  /**
   * Home Assistant (re)started and subscribed: the payload again, with the pending removals, which it now reads; then,
   * if there were any, the payload without them (HA's documented sequence), and the store forgets them.
   */
  #birth(): void {
    const device = this.#device;
    if (!device) return;
    const uplink = this.#app.uplink;
    uplink.announce(this.#topic, this.payload!);
    const gone = Object.keys(this.#removed);
    if (gone.length === 0) return;
    this.#removed = {};
    uplink.announce(this.#topic, this.payload!);
    this.#log("Home Assistant is online: removed " + gone.join(", "));
    this.#save({ topic: this.#topic, components: platforms(this.#components), clear: this.#record?.clear ?? [] });
  }

  #log(line: string): void {
    this.#app.host.log("home assistant: " + line);
  }

  /** The stored record, or undefined when there is none or it cannot be read (said once in the log). */
  #load(): Announced | undefined {
    const text = this.#app.host.store.get(STORE_KEY);
    if (text === undefined) return undefined;
    try {
      const r = JSON.parse(text) as Record<string, unknown>;
      const clear = r.clear;
      if (
        (r.topic === undefined || typeof r.topic === "string") &&
        isStringRecord(r.components) &&
        Array.isArray(clear) &&
        clear.every((t) => typeof t === "string")
      ) {
        const record: Announced = { components: r.components, clear };
        if (r.topic !== undefined) record.topic = r.topic;
        return record;
      }
    } catch {
      /* reported below */
    }
    this.#log("the stored discovery record is unreadable; nothing announced before is removed");
    return undefined;
  }

  #save(record: Announced | undefined): void {
    this.#record = record;
    const store = this.#app.host.store;
    try {
      if (record === undefined) {
        if (store.get(STORE_KEY) !== undefined) store.delete(STORE_KEY);
      } else {
        const text = JSON.stringify(record);
        if (store.get(STORE_KEY) !== text) store.set(STORE_KEY, text);
      }
    } catch (e) {
      this.#log("store: " + messageOf(e));
    }
  }
}

// Frozen so that, preloaded, the prototype stays in flash.
Object.freeze(HomeAssistantDiscovery.prototype);
