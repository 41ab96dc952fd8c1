// The JSON the firmware publishes, typed as the tests read it back: telemetry and alarms (built in src/telemetry.ts),
// command answers (src/commands.ts). Tests parse payloads with these instead of letting JSON.parse's `any` flow.
import type { AlarmEvent, Readings, SensorHealth } from "../../src/telemetry.js";

/** A vibration stream's entry in telemetry (`vibration.<sensor>`). */
export interface VibrationTelemetry {
  calibrated: boolean;
  windows: number;
  score: number;
  alarm: boolean;
  top: string | null;
  features: Record<string, Record<string, number>>;
}

/** A telemetry payload. */
export interface TelemetryMessage {
  boot: number;
  seq: number;
  uptimeMs: number;
  /** The device's alarm: the slow detector's or any vibration stream's. */
  alarm: boolean;
  sensors: Readings;
  detector: {
    model: string;
    calibrated: boolean;
    /** Only while calibrating: updates learned so far, of how many. */
    calibration?: { samples: number; of: number };
    score: number;
    on: number;
    off: number;
    alarm: boolean;
    changePoint: boolean;
    top: string | null;
  };
  vibration?: Record<string, VibrationTelemetry>;
  health: {
    sensors: SensorHealth;
    mqtt: { published: number; dropped: number; reconnects: number; oversized: number; alarms: number };
    outbox: {
      pending: number;
      dropped: number;
      droppedAlarms: number;
      lost: { evicted: number; full: number; tooLarge: number; damaged: number; unwritable: number };
      durable: boolean;
      error?: string;
    };
    identity: { durable: boolean; error?: string };
    commands: { run: number; refused: number; dropped: number };
  };
}

/** An answer on the command-result topic: `command` is absent when the request named none. */
export interface CommandAnswer {
  command?: string;
  ok: boolean;
  error?: string;
  [field: string]: unknown;
}

export function parseTelemetry(text: string): TelemetryMessage {
  return JSON.parse(text) as TelemetryMessage;
}

export function parseAlarm(text: string): AlarmEvent {
  return JSON.parse(text) as AlarmEvent;
}

export function parseAnswer(text: string): CommandAnswer {
  return JSON.parse(text) as CommandAnswer;
}
