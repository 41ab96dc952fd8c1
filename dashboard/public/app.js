// The dashboard page: each device's last hour from the server's history at once, then live over MQTT-over-WebSocket.
import uPlot from "/vendor/uPlot.esm.js";
import mqtt from "/vendor/mqtt.esm.js";

const COLORS = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#0891b2", "#be185d", "#854d0e", "#4b5563", "#65a30d"];
const AXIS_COLORS = { x: "#2563eb", y: "#ea580c", z: "#16a34a" };
/** Charts are redrawn at most this often, however fast telemetry comes. */
const REDRAW_MS = 250;
/** Points older than the window are dropped in batches of at least this many seconds. */
const TRIM_SLACK_S = 60;
/** Each device remembers this many (boot, seq) keys to drop a message it already has. */
const RECENT_KEYS = 2048;
/** A floor for the score on the log axis (0 cannot be drawn on it). */
const SCORE_FLOOR = 0.01;

/** Everything the page knows; `charts` ("<device>/<chart>" → uPlot) is what the browser test reads. */
const state = {
  prefix: "telltale",
  haPrefix: "homeassistant",
  windowS: 3600,
  /** The server's clock minus the page's, so that history and live points share one time axis. */
  offsetMs: 0,
  devices: new Map(),
  charts: new Map(),
  refused: 0,
  connection: "connecting",
};
window.dashboard = state;
state.alarmPeriods = (id) => alarmPeriods(state.devices.get(id));

const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
};

const time = (s) => new Date(s * 1000).toLocaleTimeString([], { hour12: false });

function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return s + " s ago";
  if (s < 3600) return Math.round(s / 60) + " min ago";
  return Math.round(s / 3600) + " h ago";
}

function device(id) {
  let d = state.devices.get(id);
  if (!d) {
    d = {
      id,
      status: null,
      last: null,
      lastAt: 0,
      /** Received-at times (s) and, aligned with them, one column per quantity ("ch/sht3x.temperature", "score"…). */
      t: [],
      cols: new Map(),
      alarms: [],
      alarmBefore: null,
      info: null,
      recent: new Set(),
      /** Counts changes to the data, so that a chart is redrawn only when its device has something new. */
      version: 0,
      ui: null,
      charts: new Map(),
    };
    state.devices.set(id, d);
  }
  return d;
}

/**
 * What a device's Home Assistant discovery payload tells: its firmware version, its hardware and each channel's unit
 * (from the template that reads the channel out of telemetry). Null when it is not a Telltale device's.
 */
function discoveryInfo(payload) {
  if (typeof payload !== "object" || payload === null || payload.o?.name !== "telltale") return null;
  const stat = String(payload.stat_t ?? ""),
    base = state.prefix + "/";
  if (!stat.startsWith(base) || !stat.endsWith("/telemetry")) return null;
  const units = new Map();
  for (const c of Object.values(payload.cmps ?? {})) {
    const m = /value_json\.sensors\.([^.\s]+)\.([^\s}]+)/.exec(String(c.val_tpl ?? ""));
    if (m && typeof c.unit_of_meas === "string") units.set(m[1] + "." + m[2], c.unit_of_meas);
  }
  return {
    id: stat.slice(base.length, -"/telemetry".length),
    firmware: typeof payload.dev?.sw === "string" ? payload.dev.sw : null,
    hardware: typeof payload.dev?.hw === "string" ? payload.dev.hw : null,
    units,
  };
}

/** False when the device already sent this (boot, seq): a reload overlap or a QoS 1 duplicate. */
function fresh(d, kind, msg) {
  const key = kind + msg.boot + ":" + msg.seq;
  if (d.recent.has(key)) return false;
  d.recent.add(key);
  if (d.recent.size > RECENT_KEYS) d.recent.delete(d.recent.values().next().value);
  return true;
}

/** The quantities one telemetry message gives, by column name. */
function columns(msg) {
  const v = new Map();
  for (const [sensor, values] of Object.entries(msg.sensors ?? {}))
    for (const [key, value] of Object.entries(values)) v.set("ch/" + sensor + "." + key, value);
  const det = msg.detector;
  let alarm = false;
  if (det) {
    v.set("score", det.calibrated ? Math.max(SCORE_FLOOR, det.score) : null);
    if (typeof det.on === "number") v.set("on", det.on);
    if (typeof det.off === "number") v.set("off", det.off);
    alarm = det.alarm === true;
  }
  for (const [sensor, s] of Object.entries(msg.vibration ?? {})) {
    v.set("vib/" + sensor + "/score", s.calibrated ? Math.max(SCORE_FLOOR, s.score) : null);
    alarm ||= s.alarm === true;
    for (const [axis, features] of Object.entries(s.features ?? {}))
      for (const [feature, value] of Object.entries(features)) v.set(`vib/${sensor}/${feature}/${axis}`, value);
  }
  // The device's alarm, as the firmware reports it; from the detectors' own for a firmware that does not.
  if (typeof msg.alarm === "boolean") alarm = msg.alarm;
  v.set("alarm", alarm ? 1 : 0);
  return v;
}

function addTelemetry(d, atMs, msg) {
  if (typeof msg !== "object" || msg === null || typeof msg.sensors !== "object") return void state.refused++;
  if (!fresh(d, "t", msg)) return;
  const n = d.t.length;
  // Received-at order is the axis' order (uPlot needs it ascending), even across the history/live seam.
  d.t.push(Math.max(atMs / 1000, d.t[n - 1] ?? 0));
  const values = columns(msg);
  for (const [key, col] of d.cols) col.push(values.has(key) ? values.get(key) : null);
  for (const [key, value] of values)
    if (!d.cols.has(key)) {
      const col = new Array(n).fill(null);
      col.push(value);
      d.cols.set(key, col);
    }
  d.version++;
  if (atMs >= d.lastAt) {
    d.last = msg;
    d.lastAt = atMs;
  }
  trim(d);
}

function trim(d) {
  const oldest = Date.now() / 1000 - state.windowS;
  if (d.t.length === 0 || d.t[0] >= oldest - TRIM_SLACK_S) return;
  let i = 0;
  while (i < d.t.length && d.t[i] < oldest) i++;
  d.t.splice(0, i);
  for (const col of d.cols.values()) col.splice(0, i);
}

function addAlarm(d, atMs, msg) {
  if (typeof msg !== "object" || msg === null || (msg.state !== "raised" && msg.state !== "cleared"))
    return void state.refused++;
  if (!fresh(d, "a", msg)) return;
  d.alarms.push({ at: atMs / 1000, ...msg });
  d.version++;
}

/** The periods the device's alarm was on, in seconds, from its telemetry: [start, end] (end null while it still is). */
function alarmPeriods(d) {
  const periods = [],
    on = d.cols.get("alarm") ?? [];
  let start = null;
  for (let i = 0; i < d.t.length; i++) {
    if (on[i] === 1 && start === null) start = d.t[i];
    else if (on[i] === 0 && start !== null) {
      periods.push([start, d.t[i]]);
      start = null;
    }
  }
  if (start !== null) periods.push([start, null]);
  return periods;
}

/** A uPlot plugin that shades the alarm periods behind the series. */
function alarmBands(d) {
  return {
    hooks: {
      drawClear: [
        (u) => {
          const { left, top, width, height } = u.bbox,
            ctx = u.ctx;
          ctx.save();
          ctx.fillStyle = "rgba(220, 38, 38, 0.14)";
          for (const [a, b] of alarmPeriods(d)) {
            const x0 = Math.max(left, u.valToPos(a, "x", true));
            const x1 = Math.min(left + width, u.valToPos(b ?? u.scales.x.max, "x", true));
            if (x1 > x0) ctx.fillRect(x0, top, x1 - x0, height);
          }
          ctx.restore();
        },
      ],
    },
  };
}

/** The charts a device's columns call for: the score, each channel, each vibration stream's features. */
function chartSpecs(d) {
  const specs = [];
  if (d.cols.has("score") || d.cols.has("on"))
    specs.push({
      name: "score",
      group: "score",
      title: "Anomaly score (log scale) against the alarm's on / off thresholds",
      log: true,
      series: [
        { key: "score", label: "score", color: "#111827", width: 2 },
        { key: "on", label: "on", color: "#b91c1c", dash: [6, 4] },
        { key: "off", label: "off", color: "#ca8a04", dash: [2, 4] },
      ],
    });
  const streams = new Map();
  let color = 0;
  for (const key of d.cols.keys()) {
    if (key.startsWith("ch/")) {
      const name = key.slice(3),
        unit = d.info?.units.get(name);
      specs.push({
        name,
        group: "channels",
        title: unit ? `${name} (${unit})` : name,
        series: [{ key, label: name.split(".").pop(), color: COLORS[color++ % COLORS.length] }],
      });
    } else if (key.startsWith("vib/")) {
      const [, sensor, feature, axis] = key.split("/");
      if (!streams.has(sensor)) streams.set(sensor, new Map());
      if (feature !== "score") {
        const kind = feature.startsWith("band") ? "bands" : feature;
        const list = streams.get(sensor).get(kind) ?? [];
        list.push({ key, feature, axis });
        streams.get(sensor).set(kind, list);
      }
    }
  }
  const titles = { rms: "RMS per axis", kurtosis: "Kurtosis per axis", crest: "Crest factor per axis" };
  for (const [sensor, kinds] of streams) {
    const group = "vib/" + sensor;
    specs.push({
      name: sensor + ".score",
      group,
      title: sensor + ": vibration score (log)",
      log: true,
      series: [{ key: "vib/" + sensor + "/score", label: "score", color: "#111827", width: 2 }],
    });
    for (const kind of ["rms", "kurtosis", "crest", "bands"]) {
      const list = kinds.get(kind);
      if (!list) continue;
      let c = 0;
      specs.push({
        name: sensor + "." + kind,
        group,
        title: sensor + ": " + (titles[kind] ?? "Band amplitudes per axis"),
        series: list.map((f) => ({
          key: f.key,
          label: kind === "bands" ? f.feature.slice(4) + " " + f.axis : f.axis,
          color: kind === "bands" ? COLORS[c++ % COLORS.length] : (AXIS_COLORS[f.axis] ?? COLORS[c++ % COLORS.length]),
        })),
      });
    }
  }
  return specs;
}

function chartData(d, spec) {
  const empty = d.t.map(() => null);
  return [d.t, ...spec.series.map((s) => d.cols.get(s.key) ?? empty)];
}

function makeChart(d, spec, parent) {
  const box = el("div", { class: "chart", "data-chart": d.id + "/" + spec.name });
  parent.append(box);
  const width = Math.max(260, box.clientWidth || parent.clientWidth);
  const u = new uPlot(
    {
      title: spec.title,
      width,
      height: spec.group === "score" ? 220 : 170,
      scales: { x: { time: true }, y: spec.log ? { distr: 3, log: 10 } : {} },
      series: [
        { value: (_u, v) => (v === null ? "–" : time(v)) },
        ...spec.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.width ?? 1.5,
          dash: s.dash,
          points: { show: false },
        })),
      ],
      // Times as 12:36:30 only: the default's second line (the date) overlaps on a narrow chart.
      axes: [{ space: 80, values: (_u, splits) => splits.map(time) }, { size: 56 }],
      plugins: [alarmBands(d)],
    },
    chartData(d, spec),
    box,
  );
  d.charts.set(spec.name, { u, box, version: d.version });
  state.charts.set(d.id + "/" + spec.name, u);
  resizer.observe(box);
}

const resizer = new ResizeObserver((entries) => {
  for (const entry of entries) {
    const box = entry.target;
    for (const d of state.devices.values())
      for (const c of d.charts.values())
        if (c.box === box && Math.abs(c.u.width - box.clientWidth) > 4)
          c.u.setSize({ width: Math.max(260, box.clientWidth), height: c.u.height });
  }
});

function deviceUi(d) {
  if (d.ui) return d.ui;
  const ui = {
    section: el("section", { class: "device", id: "device-" + d.id }),
    status: el("span", { class: "pill" }),
    alarm: el("span", { class: "pill" }),
    meta: el("div", { class: "meta" }),
    progress: el("progress", { max: "1", value: "0" }),
    calibration: el("span"),
    groups: new Map(),
    alarms: el("ol", { class: "alarms" }),
    health: el("table", { class: "health" }),
    row: el("tr"),
  };
  ui.calibrationBox = el("div", { class: "calibration" }, ui.progress, ui.calibration);
  ui.section.append(el("header", {}, el("h2", { text: d.id }), ui.status, ui.alarm), ui.meta, ui.calibrationBox);
  const scoreBox = el("div");
  ui.groups.set("score", scoreBox);
  ui.section.append(scoreBox, el("h3", { text: "Alarm timeline" }), ui.alarms);
  const channels = el("div", { class: "grid" });
  ui.groups.set("channels", channels);
  ui.section.append(el("h3", { text: "Channels" }), channels);
  ui.vibration = el("div");
  ui.section.append(ui.vibration, el("h3", { text: "Health" }), el("div", { class: "scroll" }, ui.health));
  document.getElementById("devices").append(ui.section);
  document.querySelector("#fleet tbody").append(ui.row);
  d.ui = ui;
  return ui;
}

function groupBox(d, group) {
  const ui = d.ui;
  let box = ui.groups.get(group);
  if (!box) {
    box = el("div", { class: "grid" });
    ui.groups.set(group, box);
    ui.vibration.append(el("h3", { text: "Vibration: " + group.slice(4) }), box);
  }
  return box;
}

function renderAlarms(d) {
  const ui = d.ui;
  if (ui.alarmCount === d.alarms.length) return;
  ui.alarmCount = d.alarms.length;
  ui.alarms.replaceChildren(
    ...d.alarms
      .slice()
      .reverse()
      .map((a) =>
        el(
          "li",
          { "data-state": a.state, "data-channel": a.channel },
          el("time", { text: time(a.at) + " " }),
          el("span", { class: "state", text: a.state }),
          ` ${a.channel || "(no channel)"} = ${a.value} (score ${a.score}${a.reason ? ", " + a.reason : ""}; boot ${a.boot}, #${a.seq})`,
        ),
      ),
  );
  const b = d.alarmBefore;
  if (b?.state === "raised")
    ui.alarms.append(
      el(
        "li",
        { "data-state": "raised", "data-channel": b.channel },
        `raised before this period, at ${time(b.at)}: ${b.channel}`,
      ),
    );
  else if (d.alarms.length === 0) ui.alarms.append(el("li", { text: "no alarm in this period" }));
}

function healthRows(d, msg) {
  const rows = [];
  const h = msg.health ?? {};
  for (const [name, s] of Object.entries(h.sensors ?? {})) {
    const { state: st, errors, ...rest } = s;
    const extra = Object.entries(rest)
      .map(([k, v]) => k + " " + v)
      .join(", ");
    rows.push(["sensor " + name, String(st), "errors " + errors + (extra ? ", " + extra : "")]);
  }
  const o = h.outbox;
  if (o) {
    const lost = Object.entries(o.lost ?? {})
      .filter(([, n]) => n > 0)
      .map(([why, n]) => why + " " + n);
    rows.push([
      "outbox",
      o.durable ? "flash" : "RAM",
      `pending ${o.pending}, dropped ${o.dropped}` +
        (o.droppedAlarms ? ` (${o.droppedAlarms} alarms)` : "") +
        (lost.length ? ": " + lost.join(", ") : "") +
        (o.error ? "; " + o.error : ""),
    ]);
  }
  const m = h.mqtt;
  if (m)
    rows.push([
      "mqtt",
      d.status === "online" ? "connected" : (d.status ?? "?"),
      `published ${m.published}, dropped ${m.dropped}, reconnects ${m.reconnects}, alarms ${m.alarms}` +
        (m.oversized ? `, oversized ${m.oversized}` : ""),
    ]);
  const k = h.commands;
  if (k) rows.push(["commands", "", `run ${k.run}, refused ${k.refused}, dropped ${k.dropped}`]);
  const id = h.identity;
  if (id) rows.push(["boot counter", id.durable ? "kept" : "not kept", id.error ?? ""]);
  return rows;
}

function renderDevice(d) {
  const ui = deviceUi(d),
    msg = d.last;
  const status = d.status ?? "unknown";
  ui.status.textContent = status;
  ui.status.dataset.state = status;
  const det = msg?.detector;
  const inAlarm = d.cols.get("alarm")?.at(-1) === 1;
  ui.alarm.textContent = inAlarm ? "ALARM" : "no alarm";
  ui.alarm.dataset.state = inAlarm ? "alarm" : "ok";
  const firmware = d.info?.firmware ?? "not reported";
  if (msg)
    ui.meta.textContent =
      `firmware ${firmware}${d.info?.hardware ? " on " + d.info.hardware : ""} · boot ${msg.boot} · #${msg.seq} · up ${Math.round(msg.uptimeMs / 1000)} s · ` +
      `model ${det?.model ?? "?"} · last seen ${ago(d.lastAt)}`;
  const calibrating = det && !det.calibrated;
  ui.calibrationBox.hidden = !det;
  if (det) {
    const c = det.calibration;
    ui.progress.max = c ? c.of : 1;
    ui.progress.value = c ? c.samples : calibrating ? 0 : 1;
    const streams = Object.entries(msg.vibration ?? {})
      .filter(([, s]) => !s.calibrated)
      .map(([name]) => name + " calibrating");
    ui.calibration.textContent =
      (calibrating
        ? c
          ? `calibrating ${c.samples}/${c.of} samples (${Math.floor((100 * c.samples) / c.of)} %)`
          : "calibrating"
        : "calibrated") + (streams.length ? "; " + streams.join(", ") : "");
    ui.calibration.dataset.state = calibrating ? "calibrating" : "ok";
  }
  for (const spec of chartSpecs(d)) {
    const c = d.charts.get(spec.name);
    if (!c) makeChart(d, spec, spec.group.startsWith("vib/") ? groupBox(d, spec.group) : ui.groups.get(spec.group));
    else if (c.version !== d.version) {
      c.version = d.version;
      c.u.setData(chartData(d, spec));
      // A unit learned after the chart was made (the discovery payload came later).
      const title = c.u.root.querySelector(".u-title");
      if (title && title.textContent !== spec.title) title.textContent = spec.title;
    }
  }
  renderAlarms(d);
  if (msg)
    ui.health.replaceChildren(...healthRows(d, msg).map((r) => el("tr", {}, ...r.map((v) => el("td", { text: v })))));
  const cells = [
    el("a", { href: "#device-" + d.id, text: d.id }),
    el("span", { class: "pill", "data-state": status, text: status }),
    el("span", { class: "pill", "data-state": inAlarm ? "alarm" : "ok", text: inAlarm ? "ALARM" : "ok" }),
    calibrating
      ? det.calibration
        ? `calibrating ${det.calibration.samples}/${det.calibration.of}`
        : "calibrating"
      : det
        ? "calibrated"
        : "–",
    firmware,
    d.lastAt ? ago(d.lastAt) : "–",
  ];
  ui.row.replaceChildren(...cells.map((c) => el("td", {}, c)));
}

let scheduled = false;
function render() {
  scheduled = false;
  for (const d of state.devices.values()) renderDevice(d);
  document.getElementById("empty").hidden = state.devices.size > 0;
  const banner = document.getElementById("connection");
  banner.dataset.state =
    state.connection === "live" ? "live" : state.connection === "connecting" ? "connecting" : "down";
  banner.textContent = state.connectionText ?? state.connection;
  document.getElementById("footer").textContent =
    `Window ${state.windowS / 60} min · ${state.refused} message(s) refused · charts by uPlot, MQTT by mqtt.js`;
}
function schedule() {
  if (scheduled) return;
  scheduled = true;
  setTimeout(render, REDRAW_MS);
}

function receive(topic, payload, atMs) {
  const text = new TextDecoder().decode(payload);
  if (topic.startsWith(state.haPrefix + "/device/")) {
    let info = null;
    try {
      info = text === "" ? null : discoveryInfo(JSON.parse(text));
    } catch {
      /* not JSON: not a Telltale device's */
    }
    if (info) {
      const d = device(info.id);
      d.info = info;
      d.version++;
      schedule();
    }
    return;
  }
  const rest = topic.startsWith(state.prefix + "/") ? topic.slice(state.prefix.length + 1).split("/") : [];
  if (rest.length !== 2) return;
  const [id, kind] = rest;
  if (kind === "status") {
    device(id).status = text;
  } else if (kind === "telemetry" || kind === "alarm") {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      state.refused++;
      return;
    }
    if (kind === "telemetry") addTelemetry(device(id), atMs, msg);
    else addAlarm(device(id), atMs, msg);
  }
  schedule();
}

/** The page's broker URL: a loopback listener is reached on the host that served the page (from a phone, say). */
function brokerUrl(ws) {
  const u = new URL(ws);
  const loopback = (h) => h === "127.0.0.1" || h === "localhost" || h === "[::1]";
  if (loopback(u.hostname) && !loopback(location.hostname) && location.hostname !== "") u.hostname = location.hostname;
  return u.toString();
}

function connect(wsUrl, onMessage) {
  const url = brokerUrl(wsUrl);
  const client = mqtt.connect(url, {
    clientId: "telltale-page-" + Math.random().toString(16).slice(2, 10),
    reconnectPeriod: 2000,
    connectTimeout: 5000,
  });
  const set = (connection, text) => {
    state.connection = connection;
    state.connectionText = text;
    schedule();
  };
  set("connecting", "connecting to " + url);
  client.on("connect", () => {
    client.subscribe([
      ...["telemetry", "alarm", "status"].map((k) => `${state.prefix}/+/${k}`),
      state.haPrefix + "/device/+/config",
    ]);
    set("live", "live: " + url);
  });
  const down = () =>
    set(
      "down",
      `cannot reach the broker's WebSocket listener at ${url} (retrying; see the README for a Mosquitto websockets listener)`,
    );
  client.on("offline", down);
  client.on("error", down);
  client.on("message", (topic, payload) => onMessage(topic, payload, Date.now()));
  return client;
}

async function main() {
  const config = await (await fetch("/api/config")).json();
  state.prefix = config.prefix;
  state.haPrefix = config.haPrefix;
  state.windowS = config.windowMs / 1000;
  // Subscribe first and hold what arrives until the history is in: nothing between the two is lost.
  const held = [];
  let live = false;
  connect(config.ws, (topic, payload, at) => (live ? receive(topic, payload, at) : held.push([topic, payload, at])));
  const sent = Date.now();
  const response = await fetch("/api/history?minutes=" + config.windowMs / 60000);
  if (!response.ok) throw new Error("history: " + (await response.text()));
  const history = await response.json();
  state.offsetMs = history.now - (sent + Date.now()) / 2;
  for (const h of history.devices) {
    const d = device(h.id);
    d.status = h.status;
    d.info = discoveryInfo(h.discovery);
    if (h.alarmBefore) d.alarmBefore = { at: (h.alarmBefore[0] - state.offsetMs) / 1000, ...h.alarmBefore[1] };
    for (const [at, msg] of h.telemetry) addTelemetry(d, at - state.offsetMs, msg);
    for (const [at, msg] of h.alarms) addAlarm(d, at - state.offsetMs, msg);
  }
  state.loaded = history.devices.reduce((n, h) => n + h.telemetry.length, 0);
  live = true;
  for (const m of held) receive(...m);
  render();
  setInterval(schedule, 1000); // "last seen" ages move on without new data
}

main().catch((e) => {
  state.connection = "down";
  state.connectionText = "error: " + e.message;
  render();
});
