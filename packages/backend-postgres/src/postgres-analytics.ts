import type { AnalyticsWindow, Event, LiveState, RunState, StepState } from "@cairn/backend-interface";
import type { PostgresConnection } from "./postgres-connection.js";
import type { Queries } from "./postgres-queries.js";

/** Events in the window (of `types`, else of the window's `types` hint, when given; indexed by type and timestamp, or by timestamp), in commit order. */
export async function loadAnalyticsEvents(
  conn: PostgresConnection,
  q: Queries,
  w: AnalyticsWindow,
  report: (row: EventRow) => void,
  types?: readonly string[],
): Promise<Event[]> {
  if (w.runIds !== undefined && w.runIds.length === 0) return [];
  const rows = await conn.query<EventRow>({
    text: q.analyticsEvents,
    values: [w.startUs, w.endUs, w.workflowSlug ?? null, w.runIds ?? null, types ?? w.types ?? null],
  });
  return intactEvents(rows.rows, report);
}

/** An event row as read: its indexed columns and its body. */
export type EventRow = { seq: string; event_id: string; type: string; run_id: string; body: Event };

/** The intact events of `rows` (body's id, type and run agree with the row's columns); each damaged row is reported and skipped, never hiding the rest. */
export function intactEvents(rows: EventRow[], report: (row: EventRow) => void): Event[] {
  const out: Event[] = [];
  for (const r of rows) {
    const b = r.body as Partial<Event> | null;
    if (b !== null && typeof b === "object" && b.eventId === r.event_id && b.type === r.type && b.runId === r.run_id)
      out.push(r.body);
    else report(r);
  }
  return out;
}

/** Live runs and their steps, read through the `live` partial index: cost proportional to live work. */
export async function loadLiveState(
  conn: PostgresConnection,
  q: Queries,
  filter: { workflowSlug?: string },
): Promise<LiveState> {
  const rows = await conn.query<{ kind: "run" | "step"; state: RunState & StepState }>({
    text: q.liveState,
    values: [filter.workflowSlug ?? null],
  });
  const runs: RunState[] = [];
  const steps: StepState[] = [];
  for (const r of rows.rows) (r.kind === "run" ? runs : steps).push(r.state);
  return { runs, steps };
}
