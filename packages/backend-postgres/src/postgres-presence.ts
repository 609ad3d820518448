import {
  CorruptRecordError,
  WorkerPresenceSchema,
  type PresenceFilter,
  type WorkerPresence,
} from "@cairn/backend-interface";
import type { PostgresConnection } from "./postgres-connection.js";

/**
 * Workers' presence records: columns `presence` (the record as jsonb) and `presence_seen_us` of the workers table
 * (migration 0009), replaced at each write. A damaged record is reported and left out.
 */
export class PostgresPresence {
  constructor(
    private readonly conn: PostgresConnection,
    private readonly s: string,
    private readonly onCorrupt: (error: CorruptRecordError) => void,
  ) {}

  /** Stores (replaces) a worker's record; a new row is also the worker's first and last sighting. */
  async put(presence: WorkerPresence): Promise<void> {
    const text = `INSERT INTO ${this.s}.workers AS w (worker_id, first_seen_us, last_seen_us, presence, presence_seen_us) VALUES ($1, $2, $2, $3, $2)
      ON CONFLICT (worker_id) DO UPDATE SET presence = EXCLUDED.presence, presence_seen_us = EXCLUDED.presence_seen_us`;
    await this.conn.query({ text, values: [presence.workerId, presence.lastSeenUs, JSON.stringify(presence)] });
  }

  /** Records matching the filter. */
  async read(filter: PresenceFilter): Promise<WorkerPresence[]> {
    const text = `SELECT worker_id, presence FROM ${this.s}.workers WHERE presence_seen_us >= $1 AND ($2::text IS NULL OR worker_id = $2) ORDER BY worker_id COLLATE "C"`;
    const rows = (
      await this.conn.query<{ worker_id: string; presence: unknown }>({
        text,
        values: [filter.seenSinceUs, filter.workerId ?? null],
      })
    ).rows;
    return rows.flatMap((r) => {
      const parsed = WorkerPresenceSchema.safeParse(r.presence);
      if (parsed.success && parsed.data.workerId === r.worker_id) return [parsed.data];
      this.onCorrupt(
        new CorruptRecordError(
          `${this.conn.location} table workers worker_id ${r.worker_id}`,
          "the presence record does not match its schema or row",
          { workerId: r.worker_id },
        ),
      );
      return [];
    });
  }
}
