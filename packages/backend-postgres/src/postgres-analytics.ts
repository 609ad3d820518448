import type { AnalyticsWindow, Event, LiveState, RunState, StepState } from "@cairn/backend-interface";
import type { PostgresConnection } from "./postgres-connection.js";
import type { Queries } from "./postgres-queries.js";

/** Events in the window (indexed by timestamp, or by workflow and timestamp), in commit order per run. */
export async function loadAnalyticsEvents(conn: PostgresConnection, q: Queries, w: AnalyticsWindow, report: (row: EventRow) => void): Promise<Event[]> {
  if (w.runIds !== undefined && w.runIds.length === 0) return [];
  const rows = await conn.query<EventRow>({ text: q.analyticsEvents, values: [w.startUs, w.endUs, w.workflowSlug ?? null, w.runIds ?? null] });
  return intactEvents(rows.rows, report);
}

/** An event row as read, with the result of the damage check (body ids and type agree with the row's columns). */
export type EventRow = { seq: string; body: Event; intact: boolean | null };

/** The intact events of `rows`; each damaged row is reported and skipped, never hiding the rest. */
export function intactEvents(rows: EventRow[], report: (row: EventRow) => void): Event[] {
  const out: Event[] = [];
  for (const r of rows) {
    if (r.intact === true && r.body !== null && typeof r.body === "object") out.push(r.body);
    else report(r);
  }
  return out;
}

/** Live runs and their steps, read through the `live` partial index: cost proportional to live work. */
export async function loadLiveState(conn: PostgresConnection, q: Queries, filter: { workflowSlug?: string }): Promise<LiveState> {
  const rows = await conn.query<{ kind: "run" | "step"; state: RunState & StepState }>({ text: q.liveState, values: [filter.workflowSlug ?? null] });
  const runs: RunState[] = [];
  const steps: StepState[] = [];
  for (const r of rows.rows) (r.kind === "run" ? runs : steps).push(r.state);
  return { runs, steps };
}
