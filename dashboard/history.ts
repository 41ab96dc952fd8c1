// The dashboard's history: each device's recent telemetry, alarms and availability in one SQLite file, with a retention limit.
import sqlite from "node-sqlite3-wasm";

/** SQLite compiled to WebAssembly with a VFS on node:fs: a real database file, no native build, nothing downloaded. */
const { Database } = sqlite;
type Database = InstanceType<typeof Database>;

export interface HistoryOptions {
  /** The database file (created when missing), or ":memory:". */
  path: string;
  /** Rows older than this are deleted (default 24 hours). */
  retentionMs?: number;
  /** At most this many telemetry rows are kept, the oldest deleted first (default 250 000: about 3 days at 1 Hz). */
  maxRows?: number;
}

/** One device's history from a given time on, as the page loads it. */
export interface DeviceHistory {
  id: string;
  /** The availability last published (retained "online"/"offline"), and when it was received. */
  status: string | null;
  statusAt: number | null;
  /** Its Home Assistant discovery payload (JSON text), if it published one. */
  discovery: string | null;
  /** Received-at time (ms since the epoch) and payload (JSON text) of each message, oldest first. */
  telemetry: [number, string][];
  alarms: [number, string][];
  /** The latest alarm event before the period (the alarm state at its start), if any. */
  alarmBefore: [number, string] | null;
}

/** Rows as the schema below stores them (times are integers well inside 2^53: SQLite returns them as numbers). */
interface DeviceRow {
  device: string;
  status: string | null;
  status_at: number | null;
  discovery: string | null;
}
interface MessageRow {
  at: number;
  payload: string;
}

/** A query's rows, typed as the schema makes them (the library types a row as any SQLite value by column). */
function all<T>(db: Database, sql: string, values: (string | number)[] = []): T[] {
  return db.all(sql, values) as unknown as T[];
}

export const DEFAULT_RETENTION_MS = 24 * 3600_000;
export const DEFAULT_MAX_ROWS = 250_000;

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new RangeError(`history: ${name} must be a positive integer, got ${value}`);
  return value;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS telemetry (device TEXT NOT NULL, at INTEGER NOT NULL, boot INTEGER NOT NULL,
  seq INTEGER NOT NULL, payload TEXT NOT NULL, UNIQUE (device, boot, seq));
CREATE INDEX IF NOT EXISTS telemetry_at ON telemetry (at);
CREATE INDEX IF NOT EXISTS telemetry_device_at ON telemetry (device, at);
CREATE TABLE IF NOT EXISTS alarms (device TEXT NOT NULL, at INTEGER NOT NULL, boot INTEGER NOT NULL,
  seq INTEGER NOT NULL, payload TEXT NOT NULL, UNIQUE (device, boot, seq));
CREATE INDEX IF NOT EXISTS alarms_at ON alarms (at);
CREATE TABLE IF NOT EXISTS devices (device TEXT PRIMARY KEY, status TEXT, status_at INTEGER, last_at INTEGER NOT NULL,
  discovery TEXT);
`;

/**
 * Keeps what the collector received: telemetry and alarms keyed by (device, boot, seq), so a message delivered twice
 * (QoS 1 after a reconnect) is stored once; the latest availability per device. `prune` applies the limits.
 */
export class History {
  readonly retentionMs: number;
  readonly maxRows: number;
  readonly #db: Database;

  constructor(options: HistoryOptions) {
    this.retentionMs = positive("retentionMs", options.retentionMs ?? DEFAULT_RETENTION_MS);
    this.maxRows = positive("maxRows", options.maxRows ?? DEFAULT_MAX_ROWS);
    this.#db = new Database(options.path);
    try {
      this.#db.exec(SCHEMA);
    } catch (e) {
      this.#db.close();
      throw e;
    }
  }

  /** Stores a telemetry message; false when (device, boot, seq) is already there. */
  addTelemetry(device: string, at: number, boot: number, seq: number, payload: string): boolean {
    const added =
      this.#db.run("INSERT OR IGNORE INTO telemetry VALUES (?, ?, ?, ?, ?)", [device, at, boot, seq, payload]).changes >
      0;
    this.#seen(device, at);
    return added;
  }

  /** Stores an alarm event; false when (device, boot, seq) is already there. */
  addAlarm(device: string, at: number, boot: number, seq: number, payload: string): boolean {
    const added =
      this.#db.run("INSERT OR IGNORE INTO alarms VALUES (?, ?, ?, ?, ?)", [device, at, boot, seq, payload]).changes > 0;
    this.#seen(device, at);
    return added;
  }

  setStatus(device: string, at: number, status: string): void {
    this.#db.run(
      "INSERT INTO devices (device, status, status_at, last_at) VALUES (?, ?, ?, ?) ON CONFLICT (device) DO UPDATE SET status = excluded.status, " +
        "status_at = excluded.status_at, last_at = max(last_at, excluded.last_at)",
      [device, status, at, at],
    );
  }

  /** The device's retained Home Assistant discovery payload (JSON: its firmware version, its channels' units). */
  setDiscovery(device: string, at: number, payload: string): void {
    this.#db.run(
      "INSERT INTO devices (device, last_at, discovery) VALUES (?, ?, ?) ON CONFLICT (device) DO UPDATE SET " +
        "discovery = excluded.discovery",
      [device, at, payload],
    );
  }

  #seen(device: string, at: number): void {
    this.#db.run(
      "INSERT INTO devices (device, last_at) VALUES (?, ?) ON CONFLICT (device) DO UPDATE SET last_at = max(last_at, excluded.last_at)",
      [device, at],
    );
  }

  /** Telemetry rows stored, over all devices. */
  get rows(): number {
    return all<{ n: number }>(this.#db, "SELECT count(*) AS n FROM telemetry")[0]!.n;
  }

  /** Every device heard from, with what it sent from `since` (ms since the epoch) on. */
  since(since: number): DeviceHistory[] {
    const db = this.#db;
    const devices = all<DeviceRow>(db, "SELECT device, status, status_at, discovery FROM devices ORDER BY device");
    return devices.map((d) => {
      const rows = (table: string) =>
        all<MessageRow>(db, `SELECT at, payload FROM ${table} WHERE device = ? AND at >= ? ORDER BY at, rowid`, [
          d.device,
          since,
        ]).map((r): [number, string] => [r.at, r.payload]);
      const [before] = all<MessageRow>(
        db,
        "SELECT at, payload FROM alarms WHERE device = ? AND at < ? ORDER BY at DESC LIMIT 1",
        [d.device, since],
      );
      return {
        id: d.device,
        status: d.status,
        statusAt: d.status_at,
        discovery: d.discovery,
        telemetry: rows("telemetry"),
        alarms: rows("alarms"),
        alarmBefore: before ? [before.at, before.payload] : null,
      };
    });
  }

  /** Deletes what is older than the retention and the oldest telemetry past `maxRows`; returns the rows deleted. */
  prune(now: number): number {
    const db = this.#db,
      oldest = now - this.retentionMs;
    let deleted = 0;
    db.exec("BEGIN");
    try {
      deleted += db.run("DELETE FROM telemetry WHERE at < ?", [oldest]).changes;
      deleted += db.run("DELETE FROM alarms WHERE at < ?", [oldest]).changes;
      deleted += db.run(
        "DELETE FROM telemetry WHERE rowid <= (SELECT rowid FROM telemetry ORDER BY rowid DESC LIMIT 1 OFFSET ?)",
        [this.maxRows],
      ).changes;
      deleted += db.run("DELETE FROM devices WHERE last_at < ?", [oldest]).changes;
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw e;
    }
    return deleted;
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
