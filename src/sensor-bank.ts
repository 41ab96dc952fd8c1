// The sensor bank: declared sensors as drivers (probed, failed, re-probed), their health, and the detector's fixed-point channel vector.
import type { Channel, PartDescriptor, SensorDeclaration, SensorInstance, SensorIO } from "telltale/drivers/part";
import { parts as registry } from "telltale/drivers/registry";
import { messageOf } from "telltale/errors/message";
import { round2, type Readings, type SensorHealth } from "./telemetry.js";

/** Consecutive failed samples after which a sensor is marked failed and re-probed later. */
export const FAIL_AFTER = 3;
/** Rounds between re-probes of a failed sensor. */
export const REPROBE_TICKS = 10;
/** Delay before a probed part's first conversion, so that its reset has settled and the first round has data. */
const FIRST_SAMPLE_MS = 5;

export interface SensorBankOptions {
  readonly sensors: readonly SensorDeclaration[];
  readonly io: SensorIO;
  log: (line: string) => void;
  /** The part descriptors by part name; default the driver registry (tests hand in fakes). */
  readonly parts?: Readonly<Record<string, PartDescriptor>>;
  /** A sensor's driver was built (at start or by a re-probe): e.g. to attach its raw stream. `index` is its declaration's. */
  onProbed?: (index: number, sensor: SensorDeclaration, instance: SensorInstance) => void;
}

interface Slot {
  readonly index: number;
  readonly declaration: SensorDeclaration;
  readonly descriptor: PartDescriptor;
  readonly channels: readonly Channel[];
  /** Index of this sensor's first channel in the vector. */
  readonly first: number;
  instance: SensorInstance | undefined;
  state: "ok" | "failed";
  errors: number;
  consecutive: number;
  reprobeIn: number;
  lastError: string;
}

/**
 * Every declared sensor, sampled once per round. A part that cannot be built, or fails FAIL_AFTER samples in a row, is
 * marked failed and re-probed every REPROBE_TICKS rounds; faults reported by a driver are counted and logged.
 */
export class SensorBank {
  /** The detector's input: channel c holds round(value × scale) of its latest valid reading. */
  readonly values: Int32Array;
  /** "sensor.key" of each channel, in vector order. */
  readonly channelNames: readonly string[];
  /** Each channel's noise floor in its fixed-point unit, in vector order. */
  readonly floors: readonly number[];
  readonly #slots: Slot[] = [];
  readonly #io: SensorIO;
  readonly #log: (line: string) => void;
  readonly #onProbed: SensorBankOptions["onProbed"];
  /** The alarm as last published (alarm()). */
  #alarm = false;

  constructor(options: SensorBankOptions) {
    const parts = options.parts ?? registry;
    this.#io = options.io;
    this.#log = options.log;
    this.#onProbed = options.onProbed;
    const names: string[] = [],
      floors: number[] = [];
    let first = 0;
    options.sensors.forEach((declaration, index) => {
      const descriptor = parts[declaration.part];
      if (descriptor === undefined) throw new Error("SensorBank: no part " + JSON.stringify(declaration.part));
      const channels = descriptor.channels(declaration);
      this.#slots.push({
        index,
        declaration,
        descriptor,
        channels,
        first,
        instance: undefined,
        state: "failed",
        errors: 0,
        consecutive: 0,
        reprobeIn: 0,
        lastError: "",
      });
      for (const ch of channels) {
        names.push(declaration.name + "." + ch.key);
        floors.push(ch.floor);
      }
      first += channels.length;
    });
    this.values = new Int32Array(first);
    this.channelNames = names;
    this.floors = floors;
  }

  /** Builds every sensor's driver (at start). */
  probe(): void {
    for (let i = 0; i < this.#slots.length; i++) this.#probe(this.#slots[i]!);
  }

  /**
   * One round: samples every working sensor and re-probes failed ones when due. Fills `readings` (two decimals) and
   * `health` per sensor, writes each valid channel to `values`, and returns the mask of channels read this round.
   */
  sample(readings: Readings, health: SensorHealth): number {
    const values = this.values;
    let valid = 0;
    for (let s = 0; s < this.#slots.length; s++) {
      const slot = this.#slots[s]!;
      if (!slot.instance) {
        if (--slot.reprobeIn <= 0) this.#probe(slot);
      } else {
        const sample = slot.instance.sample();
        if (sample === undefined) {
          if (++slot.consecutive >= FAIL_AFTER) {
            this.#log(`sensor ${slot.declaration.name}: marked failed after ${FAIL_AFTER} failed samples`);
            slot.instance.close();
            slot.instance = undefined;
            slot.state = "failed";
            slot.reprobeIn = REPROBE_TICKS;
          }
        } else {
          slot.consecutive = 0;
          const out: Record<string, number> = {},
            channels = slot.channels;
          for (let i = 0; i < channels.length; i++) {
            const ch = channels[i]!,
              v = ch.read(sample);
            if (v === undefined || !Number.isFinite(v)) continue;
            out[ch.key] = round2(v);
            values[slot.first + i] = Math.round(v * ch.scale);
            valid |= 1 << (slot.first + i);
          }
          readings[slot.declaration.name] = out;
        }
      }
      health[slot.declaration.name] = { state: slot.state, errors: slot.errors, ...slot.instance?.health?.() };
    }
    return valid;
  }

  /** Tells the outputs that follow the alarm (a relay) its new state; one probed later is told at once. */
  alarm(on: boolean): void {
    this.#alarm = on;
    for (let s = 0; s < this.#slots.length; s++) this.#slots[s]!.instance?.onAlarm?.(on);
  }

  /** Closes every driver; `probe()` builds them again. */
  close(): void {
    for (const slot of this.#slots) {
      slot.instance?.close();
      slot.instance = undefined;
    }
  }

  #probe(slot: Slot): void {
    const name = slot.declaration.name;
    try {
      const instance = slot.descriptor.create(slot.declaration, this.#io, (error) => this.#sensorError(slot, error));
      slot.instance = instance;
      if (slot.state === "failed" && slot.lastError) this.#log(`sensor ${name}: recovered`);
      slot.state = "ok";
      slot.consecutive = 0;
      this.#onProbed?.(slot.index, slot.declaration, instance);
      // A driver starts with its output off: a relay re-probed during an alarm follows it again, with no new alarm.
      if (this.#alarm) instance.onAlarm?.(true);
      this.#io.clock.setTimeout(() => {
        try {
          slot.instance?.sample();
        } catch {
          /* closed meanwhile */
        }
      }, FIRST_SAMPLE_MS);
    } catch (e) {
      slot.instance = undefined;
      slot.state = "failed";
      slot.errors++;
      slot.reprobeIn = REPROBE_TICKS;
      const message = messageOf(e);
      if (message !== slot.lastError)
        this.#log(`sensor ${name}: failed: ${message} (re-probing every ${REPROBE_TICKS} samples)`);
      slot.lastError = message;
    }
  }

  #sensorError(slot: Slot, error: Error): void {
    slot.errors++;
    slot.lastError = error.message;
    this.#log(`sensor ${slot.declaration.name}: ${error.message}`);
  }
}
