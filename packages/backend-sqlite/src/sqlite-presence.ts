import type { Database, Statement } from "better-sqlite3";
import {
  CorruptRecordError,
  WorkerPresenceSchema,
  type PresenceFilter,
  type WorkerPresence,
} from "@cairn/backend-interface";
import { encodeJson, type CorruptionReporter } from "./sqlite-codec.js";

/** Workers' presence records (table workers_presence, migration 0006): one JSON row per worker, replaced at each write. */
export class SqlitePresence {
  private readonly s: Record<"put" | "since" | "one", Statement>;

  constructor(
    db: Database,
    private readonly filename: string,
    private readonly report: CorruptionReporter,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      put: p(
        "INSERT INTO workers_presence (worker_id, last_seen_us, presence) VALUES (?, ?, ?) ON CONFLICT (worker_id) DO UPDATE SET last_seen_us = excluded.last_seen_us, presence = excluded.presence",
      ),
      since: p("SELECT worker_id, presence FROM workers_presence WHERE last_seen_us >= ? ORDER BY worker_id"),
      one: p("SELECT worker_id, presence FROM workers_presence WHERE worker_id = ? AND last_seen_us >= ?"),
    };
  }

  /** Stores (replaces) a worker's record; runs inside the caller's write transaction. */
  put(presence: WorkerPresence): void {
    this.s.put.run(presence.workerId, presence.lastSeenUs, encodeJson(presence));
  }

  /** Records matching the filter; damaged rows are reported and left out. */
  read(filter: PresenceFilter): WorkerPresence[] {
    const rows = (
      filter.workerId === undefined
        ? this.s.since.all(filter.seenSinceUs)
        : this.s.one.all(filter.workerId, filter.seenSinceUs)
    ) as Row[];
    return rows.map((r) => this.decode(r)).filter((p): p is WorkerPresence => p !== null);
  }

  private decode(row: Row): WorkerPresence | null {
    const location = `${this.filename} (table workers_presence, worker_id ${row.worker_id})`;
    let raw: unknown;
    try {
      raw = JSON.parse(row.presence);
    } catch (err) {
      this.report(
        new CorruptRecordError(location, `invalid JSON (${(err as Error).message})`, { workerId: row.worker_id }, err),
      );
      return null;
    }
    const parsed = WorkerPresenceSchema.safeParse(raw);
    if (parsed.success && parsed.data.workerId === row.worker_id) return parsed.data;
    this.report(
      new CorruptRecordError(location, "the presence record does not match its schema or row", {
        workerId: row.worker_id,
      }),
    );
    return null;
  }
}

interface Row {
  worker_id: string;
  presence: string;
}
