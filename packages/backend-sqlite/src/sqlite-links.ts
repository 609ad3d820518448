import type { EventOf } from "@cairn/backend-interface";
import { decodeEventRow, type CorruptionReporter, type EventRow } from "./sqlite-codec.js";
import type { SqliteQueries } from "./sqlite-queries.js";

/** The expressions of the events_links_by_entity index (migration 0010): a query must spell them alike to use it. */
const SQL = `SELECT seq, run_id, workflow_slug, type, body FROM events
  WHERE type = 'StepLinked' AND json_extract(body, '$.entityType') = ? AND json_extract(body, '$.entityId') = ?
  ORDER BY timestamp_us DESC, json_extract(body, '$.eventId') DESC LIMIT ?`;

/** The StepLinked events naming one entity, newest first, through the events_links_by_entity index; damaged rows reported and skipped. */
export function entityLinks(
  queries: SqliteQueries,
  filename: string,
  report: CorruptionReporter,
  q: { entityType: string; entityId: string; limit: number },
): Array<EventOf<"StepLinked">> {
  const rows = queries.statement(SQL).raw(false).all(q.entityType, q.entityId, q.limit) as EventRow[];
  return rows
    .map((r) => decodeEventRow(r, filename, report))
    .filter((e): e is EventOf<"StepLinked"> => e?.type === "StepLinked");
}
