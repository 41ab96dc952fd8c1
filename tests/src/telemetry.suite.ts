// The telemetry builders on hand-made rounds: payload key order and rounding, log lines, and which channel an alarm names.
import { suite, test, equal, deepEqual } from "../harness.js";
import {
  alarmEvent,
  alarmLine,
  alarmPayload,
  telemetryLine,
  telemetryPayload,
  type OutboxStatus,
  type Round,
  type StreamReport,
} from "../../src/telemetry.js";
import type { Detector } from "telltale/detector/select";
import { parseTelemetry } from "../support/wire.js";

/** A detector whose state the test sets. */
function fakeDetector(
  state: Partial<{
    alarm: boolean;
    calibrated: boolean;
    score: number;
    changePoint: boolean;
    top: number;
    samples: number;
  }> = {},
): Detector {
  const s = { alarm: false, calibrated: true, score: 0, changePoint: false, top: -1, samples: 400, ...state };
  return {
    model: "multivariate",
    on: 5,
    off: 2.5,
    calibrationSamples: 400,
    get samples() {
      return s.samples;
    },
    get alarm() {
      return s.alarm;
    },
    get calibrated() {
      return s.calibrated;
    },
    get score() {
      return s.score;
    },
    get changePoint() {
      return s.changePoint;
    },
    topChannel: () => s.top,
    update: () => false,
    exportState: () => undefined,
    importState: () => {},
    reset: () => {},
  };
}

function stream(fields: Partial<StreamReport> = {}): StreamReport {
  return {
    sensor: "pump",
    calibrated: true,
    windows: 6,
    peakScore: 512,
    alarmSeen: false,
    features: { z: { rms: 0.36, kurtosis: 1.92 } },
    top: "z.kurtosis",
    ...fields,
  };
}

const NONE_LOST = { evicted: 0, full: 0, tooLarge: 0, damaged: 0, unwritable: 0 };

function outbox(fields: Partial<OutboxStatus> = {}): OutboxStatus {
  return { pending: 2, dropped: 0, droppedAlarms: 0, lost: NONE_LOST, durable: true, error: undefined, ...fields };
}

function round(fields: Partial<Round> = {}): Round {
  return {
    boot: 2,
    seq: 7,
    uptimeMs: 7000,
    readings: { sht3x: { temperature: 30.5, humidity: 50 } },
    health: { sht3x: { state: "ok", errors: 0 } },
    detector: fakeDetector({ score: 389, top: 0 }),
    channelNames: ["sht3x.temperature", "sht3x.humidity"],
    streams: [undefined],
    alarm: false,
    counters: { published: 3, dropped: 1, reconnects: 0, oversized: 0, alarms: 0 },
    outbox: outbox(),
    identity: { durable: true },
    commands: { run: 4, refused: 1, dropped: 7 },
    ...fields,
  };
}

suite("telemetry", () => {
  test("payload-keys-in-order-and-score-in-hundredths", () => {
    equal(
      telemetryPayload(round()),
      '{"boot":2,"seq":7,"uptimeMs":7000,"alarm":false,"sensors":{"sht3x":{"temperature":30.5,"humidity":50}},' +
        '"detector":{"model":"multivariate","calibrated":true,"score":1.52,"on":5,"off":2.5,"alarm":false,"changePoint":false,"top":"sht3x.temperature"},' +
        '"health":{"sensors":{"sht3x":{"state":"ok","errors":0}},"mqtt":{"published":3,"dropped":1,"reconnects":0,"oversized":0,"alarms":0},' +
        '"outbox":{"pending":2,"dropped":0,"droppedAlarms":0,' +
        '"lost":{"evicted":0,"full":0,"tooLarge":0,"damaged":0,"unwritable":0},"durable":true},' +
        '"identity":{"durable":true},"commands":{"run":4,"refused":1,"dropped":7}}}',
    );
  });

  test("payload-alarm-is-the-devices-when-only-a-stream-alarms", () => {
    // Home Assistant's problem sensor reads this: the slow detector is quiet, a vibration stream is not.
    const t = parseTelemetry(
      telemetryPayload(round({ alarm: true, streams: [undefined, stream({ alarmSeen: true })] })),
    );
    equal(t.alarm, true);
    equal(t.detector.alarm, false);
  });

  test("payload-reports-calibration-progress-only-while-calibrating", () => {
    const det = parseTelemetry(
      telemetryPayload(round({ detector: fakeDetector({ calibrated: false, samples: 45 }) })),
    ).detector;
    deepEqual(Object.keys(det), [
      "model",
      "calibrated",
      "calibration",
      "score",
      "on",
      "off",
      "alarm",
      "changePoint",
      "top",
    ]);
    deepEqual(det.calibration, { samples: 45, of: 400 });
    equal(parseTelemetry(telemetryPayload(round())).detector.calibration, undefined, "calibrated: no progress");
  });

  test("payload-has-vibration-between-detector-and-health-only-with-a-stream", () => {
    const t = parseTelemetry(telemetryPayload(round({ streams: [undefined, stream()] })));
    deepEqual(Object.keys(t), ["boot", "seq", "uptimeMs", "alarm", "sensors", "detector", "vibration", "health"]);
    deepEqual(t.vibration, {
      pump: {
        calibrated: true,
        windows: 6,
        score: 2,
        alarm: false,
        top: "z.kurtosis",
        features: { z: { rms: 0.36, kurtosis: 1.92 } },
      },
    });
    equal(
      parseTelemetry(telemetryPayload(round({ streams: [undefined, stream({ top: undefined })] }))).vibration?.pump
        ?.top,
      null,
      "no top feature yet",
    );
  });

  test("outbox-error-is-reported-only-when-there-is-one", () => {
    const lost = { ...NONE_LOST, evicted: 3, damaged: 1 };
    const ram = parseTelemetry(
      telemetryPayload(
        round({
          outbox: outbox({ pending: 0, dropped: 4, droppedAlarms: 1, lost, durable: false, error: "flash: bad block" }),
        }),
      ),
    );
    deepEqual(ram.health.outbox, {
      pending: 0,
      dropped: 4,
      droppedAlarms: 1,
      lost,
      durable: false,
      error: "flash: bad block",
    });
    deepEqual(parseTelemetry(telemetryPayload(round({ outbox: outbox({ durable: false }) }))).health.outbox, {
      pending: 2,
      dropped: 0,
      droppedAlarms: 0,
      lost: NONE_LOST,
      durable: false,
    });
  });

  test("identity-says-when-the-boot-counter-is-not-kept", () => {
    const error = "boot counter not kept (store: read-only): boot 9 is random";
    deepEqual(parseTelemetry(telemetryPayload(round({ identity: { durable: false, error } }))).health.identity, {
      durable: false,
      error,
    });
    deepEqual(parseTelemetry(telemetryPayload(round())).health.identity, { durable: true });
  });

  test("no-top-channel-is-null", () => {
    equal(parseTelemetry(telemetryPayload(round({ detector: fakeDetector({ top: -1 }) }))).detector.top, null);
  });

  test("line-lists-readings-and-marks-calibration-and-alarm", () => {
    equal(telemetryLine(round()), "telemetry #7: sht3x temperature=30.5 humidity=50; score 1.52");
    const r = round({
      readings: { sht3x: { temperature: 30.5 }, broken: {}, pump: { rmsX: 0.36 } },
      detector: fakeDetector({ calibrated: false, samples: 45 }),
      alarm: true,
    });
    equal(
      telemetryLine(r),
      "telemetry #7: sht3x temperature=30.5, pump rmsX=0.36; score 0 (calibrating 45/400) ALARM",
      "a sensor without readings is left out",
    );
    equal(telemetryLine(round({ readings: { broken: {} } })), "telemetry #7: no readings; score 1.52");
  });

  test("alarm-names-the-slow-channel-and-its-reading", () => {
    const r = round({ alarm: true, detector: fakeDetector({ alarm: true, score: 64768, top: 0 }) });
    const e = alarmEvent(r, "threshold");
    equal(
      alarmPayload(e),
      '{"state":"raised","reason":"threshold","boot":2,"seq":7,"score":253,"channel":"sht3x.temperature","value":30.5}',
    );
    equal(alarmLine(e), "ALARM raised: sht3x.temperature = 30.5 (score 253), reason: threshold");
  });

  test("alarm-names-the-first-alarming-stream-when-only-vibration-alarms", () => {
    const r = round({
      alarm: true,
      streams: [
        stream({ sensor: "fan", alarmSeen: false }),
        stream({ alarmSeen: true, peakScore: 12339 }),
        stream({ sensor: "motor", alarmSeen: true }),
      ],
    });
    const e = alarmEvent(r, "threshold");
    deepEqual(e, {
      state: "raised",
      reason: "threshold",
      boot: 2,
      seq: 7,
      score: 48.2,
      channel: "pump.z.kurtosis",
      value: 1.92,
    });
    equal(alarmLine(e), "ALARM raised: pump.z.kurtosis = 1.92 (score 48.2), reason: threshold");
  });

  test("slow-alarm-wins-over-a-stream-alarm", () => {
    const r = round({
      alarm: true,
      detector: fakeDetector({ alarm: true, score: 2560, top: 1 }),
      streams: [stream({ alarmSeen: true })],
    });
    deepEqual(alarmEvent(r, "threshold"), {
      state: "raised",
      reason: "threshold",
      boot: 2,
      seq: 7,
      score: 10,
      channel: "sht3x.humidity",
      value: 50,
    });
  });

  test("cleared-alarm-without-a-top-channel-says-why", () => {
    const e = alarmEvent(round({ detector: fakeDetector({ top: -1 }) }), "recalibrate command (forced)");
    equal(alarmLine(e), "ALARM cleared: no channel (score 0), reason: recalibrate command (forced)");
    equal(
      alarmPayload(e),
      '{"state":"cleared","reason":"recalibrate command (forced)","boot":2,"seq":7,"score":0,"channel":"","value":null}',
    );
  });
});
