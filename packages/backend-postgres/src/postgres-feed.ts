import { feedPosition, parseFeedPosition, type DriverFeedEntry, type DriverFeedQuery } from "@cairn/backend-interface";
import { intactEvents, type EventRow } from "./postgres-analytics.js";
import type { PostgresConnection } from "./postgres-connection.js";

/**
 * The event feed on Postgres (migration 0014): transactions in the order of their event_commits position (given out
 * at commit under a lock held until the commit is visible, so in commit order), each transaction's events in seq
 * order. A feed position is `p:<position>.<seq>`. One statement, so one snapshot: what it sees of the commits is a
 * prefix of their order, never a later commit without an earlier one.
 */
export class PostgresFeed {
  private readonly sql: string;

  constructor(
    private readonly conn: PostgresConnection,
    private readonly schema: string,
    s: string,
  ) {
    this.sql = `SELECT c.position, e.seq, e.event_id, e.type, e.run_id, e.body
      FROM ${s}.event_commits c JOIN ${s}.events e ON e.xid = c.xid
      WHERE c.position >= $1 AND (c.position > $1 OR e.seq > $2) AND ($3::text[] IS NULL OR e.type = ANY($3::text[]))
      ORDER BY c.position, e.seq LIMIT $4`;
  }

  /** The feed after `query.after`; damaged rows are reported (through `report`) and skipped. */
  async read(query: DriverFeedQuery, report: (row: EventRow) => void): Promise<DriverFeedEntry[]> {
    const [position, seq] = query.after === null ? [0, 0] : parseFeedPosition(query.after, "p", 2);
    const r = await this.conn.query<EventRow & { position: string }>({
      name: `${this.schema}:readFeed`,
      text: this.sql,
      values: [position, seq, query.types ? [...query.types] : null, query.limit],
    });
    const out: DriverFeedEntry[] = [];
    for (const row of r.rows) {
      const [event] = intactEvents([row], report);
      if (event) out.push({ position: feedPosition("p", [Number(row.position), Number(row.seq)]), event });
    }
    return out;
  }
}
