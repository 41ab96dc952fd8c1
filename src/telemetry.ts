// Telemetry: pure builders from one round's readings and detector state to the MQTT payloads and the log lines.
import type { Detector } from "telltale/detector/select";
import type { CommandCounters } from "./commands.js";

/** A reported value: two decimals, as readings and scores appear in telemetry and the log. */
export function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

/** One round's readings in physical units (two decimals): sensor name → channel key → value. Absent when not read. */
export type Readings = Record<string, Record<string, number>>;
/** One round's health per sensor: its state, its error count and the part's own figures. */
export type SensorHealth = Record<string, Record<string, unknown>>;

/** What a vibration stream saw in the latest round (see src/monitor.ts). */
export interface StreamReport {
  /** The sensor whose raw stream this is. */
  readonly sensor: string;
  readonly calibrated: boolean;
  /** Windows scored since the previous round, their highest score (Q8) and whether the alarm was on meanwhile. */
  readonly windows: number;
  readonly peakScore: number;
  readonly alarmSeen: boolean;
  /** The latest window's features by axis, in physical units; the feature contributing most ("z.kurtosis"). */
  readonly features: Record<string, Record<string, number>>;
  readonly top: string | undefined;
}

/** The MQTT counters in health telemetry. */
export interface Counters {
  published: number;
  dropped: number;
  reconnects: number;
  /** Incoming messages discarded as over the MQTT packet limit. */
  oversized: number;
  alarms: number;
}

/** QoS 1 messages lost, by reason. */
export interface OutboxLosses {
  /** Old telemetry dropped to make room (never an alarm). */
  evicted: number;
  /** New messages refused because the outbox was full of pending alarms. */
  full: number;
  /** Over the outbox's size limit while the broker was unreachable. */
  tooLarge: number;
  /** Found damaged in flash (at start or when read back). */
  damaged: number;
  /** The flash failed to write while the broker was unreachable. */
  unwritable: number;
}

/**
 * The outbox as health telemetry reports it: `dropped` is the sum of `lost`, `droppedAlarms` how many of them were
 * alarms; `durable` false when it lives in RAM, with the reason in `error`.
 */
export interface OutboxStatus {
  readonly pending: number;
  readonly dropped: number;
  readonly droppedAlarms: number;
  readonly lost: OutboxLosses;
  readonly durable: boolean;
  readonly error: string | undefined;
}

/** Whether the boot counter is kept (in the store or the outbox's flash); `error` says why not. */
export interface IdentityStatus {
  readonly durable: boolean;
  readonly error?: string;
}

/**
 * One round as telemetry reports it. The app keeps one and refills it every tick (so a tick allocates no frame);
 * the builders only read it.
 */
export interface Round {
  boot: number;
  seq: number;
  uptimeMs: number;
  readings: Readings;
  health: SensorHealth;
  readonly detector: Detector;
  /** "sensor.key" of each detector channel. */
  readonly channelNames: readonly string[];
  /** Per sensor, its vibration stream's report (undefined for a sensor without one). */
  readonly streams: readonly (StreamReport | undefined)[];
  /** The device's alarm this round: the slow detector's or any stream's. */
  alarm: boolean;
  readonly counters: Counters;
  readonly outbox: OutboxStatus;
  /** Commands run, refused with an answer, and dropped unanswered by the rate limit. */
  readonly commands: CommandCounters;
  /** Set with `boot` when the app starts. */
  identity: IdentityStatus;
}

/** A round before the first tick: what is fixed for the app's life, with counters and readings at zero. */
export function firstRound(
  parts: Pick<Round, "detector" | "channelNames" | "streams" | "counters" | "outbox" | "commands">,
): Round {
  return {
    boot: 0,
    seq: 0,
    uptimeMs: 0,
    readings: {},
    health: {},
    alarm: false,
    identity: { durable: false, error: "not started" },
    ...parts,
  };
}

/** A change of the device's alarm, as published on the alarm topic (key order is the payload's). */
export interface AlarmEvent {
  state: "raised" | "cleared";
  /** Why it changed (src/monitor.ts's AlarmReason): "threshold", "recovered", "recalibrate command (forced)"… */
  reason: string;
  boot: number;
  seq: number;
  score: number;
  channel: string;
  value: number | null;
}

function score(detector: Detector): number {
  return round2(detector.score / 256);
}

function streamScore(s: StreamReport): number {
  return round2(s.peakScore / 256);
}

/** The detector's part of telemetry: its thresholds, and while it calibrates how far it is ("samples" of "of"). */
function detectorBlock(det: Detector, top: string | null): Record<string, unknown> {
  const d: Record<string, unknown> = { model: det.model, calibrated: det.calibrated };
  if (!det.calibrated) d.calibration = { samples: det.samples, of: det.calibrationSamples };
  d.score = score(det);
  d.on = det.on;
  d.off = det.off;
  d.alarm = det.alarm;
  d.changePoint = det.changePoint;
  d.top = top;
  return d;
}

/** The telemetry payload (JSON) of a round. */
export function telemetryPayload(r: Round): string {
  const det = r.detector,
    top = det.topChannel();
  const t: Record<string, unknown> = {
    boot: r.boot,
    seq: r.seq,
    uptimeMs: r.uptimeMs,
    // The device's alarm (the slow detector's or any vibration stream's): what Home Assistant's problem sensor shows.
    alarm: r.alarm,
    sensors: r.readings,
    detector: detectorBlock(det, top >= 0 ? (r.channelNames[top] ?? null) : null),
  };
  let vibration: Record<string, unknown> | undefined;
  for (let i = 0; i < r.streams.length; i++) {
    const s = r.streams[i];
    if (!s) continue;
    vibration ??= {};
    vibration[s.sensor] = {
      calibrated: s.calibrated,
      windows: s.windows,
      score: streamScore(s),
      alarm: s.alarmSeen,
      top: s.top ?? null,
      features: s.features,
    };
  }
  if (vibration) t.vibration = vibration;
  t.health = healthBlock(r);
  return JSON.stringify(t);
}

/** Telemetry's `health` block (and the health topic's, src/health.ts): sensors, MQTT, outbox, identity, commands. */
export function healthBlock(r: Round): Record<string, unknown> {
  const c = r.counters,
    o = r.outbox,
    k = r.commands,
    id = r.identity;
  const outbox: Record<string, unknown> = {
    pending: o.pending,
    dropped: o.dropped,
    droppedAlarms: o.droppedAlarms,
    lost: o.lost,
    durable: o.durable,
  };
  if (o.error !== undefined) outbox.error = o.error;
  return {
    sensors: r.health,
    mqtt: {
      published: c.published,
      dropped: c.dropped,
      reconnects: c.reconnects,
      oversized: c.oversized,
      alarms: c.alarms,
    },
    outbox,
    identity: id.error === undefined ? { durable: id.durable } : { durable: id.durable, error: id.error },
    commands: { run: k.run, refused: k.refused, dropped: k.dropped },
  };
}

/** The log line of a round: "telemetry #12: sht3x temperature=30 humidity=50; score 0 (calibrating 12/120)". */
export function telemetryLine(r: Round): string {
  let line = "";
  for (const name in r.readings) {
    const values = r.readings[name];
    let part = "";
    for (const key in values) part += (part === "" ? name + " " : " ") + key + "=" + values[key];
    if (part !== "") line += (line === "" ? "" : ", ") + part;
  }
  const det = r.detector;
  return (
    "telemetry #" +
    r.seq +
    ": " +
    (line || "no readings") +
    "; score " +
    score(det) +
    (det.calibrated ? "" : " (calibrating " + det.samples + "/" + det.calibrationSamples + ")") +
    (r.alarm ? " ALARM" : "")
  );
}

/**
 * The alarm change of a round (its `alarm` is the new state) and why it changed. It names the slow detector's top channel and its reading,
 * or, when only a vibration stream alarmed, the first such stream's top feature ("pump.z.kurtosis") and its value.
 */
export function alarmEvent(r: Round, reason: string): AlarmEvent {
  const det = r.detector;
  let cause: StreamReport | undefined;
  if (!det.alarm)
    for (let i = 0; i < r.streams.length && !cause; i++) if (r.streams[i]?.alarmSeen) cause = r.streams[i];
  let channel: string, value: number | null, alarmScore: number;
  if (!cause) {
    const top = det.topChannel();
    channel = r.channelNames[top] ?? ""; // top is -1 when no channel leads
    const [sensorName = "", key = ""] = channel.split(".");
    value = r.readings[sensorName]?.[key] ?? null;
    alarmScore = score(det);
  } else {
    const [axis = "", feature = ""] = (cause.top ?? ".").split(".");
    channel = cause.sensor + "." + (cause.top ?? "");
    value = cause.features[axis]?.[feature] ?? null;
    alarmScore = streamScore(cause);
  }
  const state = r.alarm ? "raised" : "cleared";
  return { state, reason, boot: r.boot, seq: r.seq, score: alarmScore, channel, value };
}

export function alarmPayload(e: AlarmEvent): string {
  return JSON.stringify(e);
}

/** "ALARM raised: sht3x.temperature = 60.45 (score 253), reason: threshold"; "no channel" when none leads. */
export function alarmLine(e: AlarmEvent): string {
  const what = e.channel === "" ? "no channel" : e.channel + " = " + e.value;
  return "ALARM " + e.state + ": " + what + " (score " + e.score + "), reason: " + e.reason;
}
