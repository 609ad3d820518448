import { checkGuard } from "@cairn/backend-interface";
import type { Event, GuardVerdict, RunState, StepState, WriteGuard, WriteTarget } from "@cairn/backend-interface";
import {
  eventColumnArrays,
  eventConcurrencyArray,
  eventFigureArrays,
  lastSeen,
  projectWrite,
} from "./postgres-projections.js";
import type { WriteContext } from "./postgres-writes.js";
import { touchWorkersSql } from "./postgres-workers-sql.js";

/** The statements of the optimistic step write. */
export function stepWriteQueries(s: string) {
  return {
    /** The step row with its version and liveness, and its run's state (no lock). */
    read: `SELECT st.state, st.version, st.run_live, r.workflow_slug AS run_slug, r.state AS run_state
      FROM ${s}.steps st LEFT JOIN ${s}.runs r ON r.run_id = st.run_id
      WHERE st.run_id = $1 AND st.workflow_slug = $2 AND st.step_id = $3`,
    /** Updates the row only if its version and liveness are unchanged since the read, and only then appends the events. */
    write: `WITH up AS (
        UPDATE ${s}.steps SET status = $8, available_at_us = $9, priority = $10, attempt_number = $11, last_seen_us = $12, state = $13, version = version + 1
        WHERE run_id = $1 AND workflow_slug = $2 AND step_id = $14 AND version = $15 AND run_live = $16
        RETURNING 1),
      ev AS (
        INSERT INTO ${s}.events (event_id, workflow_slug, run_id, step_id, type, timestamp_us, body, duration_us, terminal, copied, attempt_number, available_at_us, worker_id, reason, worker_concurrency)
        SELECT e.event_id, $2, $1, e.step_id, e.type, e.ts, e.body, e.duration_us, e.terminal, e.copied, e.attempt_number, e.available_at_us, e.worker_id, e.reason, e.worker_concurrency
        FROM unnest($3::text[], $4::text[], $5::text[], $6::bigint[], $7::json[], $20::bigint[], $21::boolean[], $22::boolean[], $23::integer[], $24::bigint[], $25::text[], $26::text[], $27::integer[])
          WITH ORDINALITY AS e(event_id, step_id, type, ts, body, duration_us, terminal, copied, attempt_number, available_at_us, worker_id, reason, worker_concurrency, ord)
        WHERE EXISTS (SELECT 1 FROM up)
        ORDER BY e.ord RETURNING 1),
      wk AS (
        ${touchWorkersSql(s, "unnest($17::text[], $18::bigint[]) AS k(id, ts)", "EXISTS (SELECT 1 FROM up)")}),
      nt AS (SELECT pg_notify($19::text, $2::text) AS x WHERE $19::text IS NOT NULL AND EXISTS (SELECT 1 FROM up))
      SELECT (SELECT count(*) FROM up)::int AS ok, (SELECT count(*) FROM nt) AS notified`,
  };
}

/** The statements of the optimistic step write. */
export type StepWriteQueries = ReturnType<typeof stepWriteQueries>;

type ReadRow = {
  state: StepState;
  version: string;
  run_live: boolean;
  run_slug: string | null;
  run_state: RunState | null;
};

/**
 * The fast path of a guarded write that touches one existing step row only (heartbeats, completions, failures,
 * retries, checkpoints, logs, reclaims): read the row and its run without locking, check the guard and reduce in
 * JS, then one statement updates the row only if its version (bumped by every write of the row, including run
 * liveness changes) is unchanged, and appends the events only if the row was updated. Two round trips, no
 * transaction; on a lost race it starts over. Returns null when the write does not qualify (then take the
 * locking path).
 */
export async function writeStepOptimistic(
  ctx: WriteContext,
  sq: StepWriteQueries,
  target: WriteTarget,
  guard: WriteGuard,
  events: Event[],
): Promise<GuardVerdict | null> {
  const { workflowSlug, runId, stepId } = target;
  if (stepId === undefined || events.length === 0 || !events.every((e) => e.category === "step" && e.stepId === stepId))
    return null;
  for (let attempt = 0; attempt < 25; attempt++) {
    const rows = (
      await ctx.conn.query<ReadRow>({
        name: `${ctx.schema}:stepRead`,
        text: sq.read,
        values: [runId, workflowSlug, stepId],
      })
    ).rows;
    const row = rows[0];
    if (!row) return null;
    const run = row.run_slug === workflowSlug ? row.run_state : null;
    const verdict = checkGuard(guard, run, row.state);
    if (!verdict.ok) return verdict;
    const p = projectWrite(run, new Map([[stepId, row.state]]), events);
    const s = p.steps.get(stepId) as StepState;
    const workers = [...p.workers];
    const result = await ctx.conn.query<{ ok: number }>({
      name: `${ctx.schema}:stepWrite`,
      text: sq.write,
      values: [
        runId,
        workflowSlug,
        ...eventColumnArrays(events),
        s.status,
        s.availableAtUs ?? null,
        s.priority,
        s.attemptNumber,
        lastSeen(s),
        JSON.stringify(s),
        stepId,
        row.version,
        row.run_live,
        workers.map((w) => w[0]),
        workers.map((w) => w[1]),
        p.notify ? ctx.channel : null,
        ...eventFigureArrays(events),
        eventConcurrencyArray(events),
      ],
    });
    if (result.rows[0]?.ok === 1) return verdict;
    await new Promise((r) => setTimeout(r, Math.random() * attempt));
  }
  return null;
}
