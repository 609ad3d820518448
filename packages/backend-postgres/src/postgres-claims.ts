import { reduceStepState } from "@cairn/backend-interface";
import type { EventOf, StepRef, StepState } from "@cairn/backend-interface";
import { eventColumnArrays, eventConcurrencyArray, lastSeen } from "./postgres-projections.js";
import type { WriteContext } from "./postgres-writes.js";
import { touchWorkersSql } from "./postgres-workers-sql.js";
import { isReady, oneOrEveryWorkflowSql, readyOrder, readyStepsSql } from "./postgres-ready-sql.js";

/** Builds the StepStarted event of a claim (the backend's makeEvent, so ids and clock are the backend's). */
export type MakeStarted = (ref: StepRef, attemptNumber: number) => EventOf<"StepStarted">;

type Candidate = { workflow_slug: string; run_id: string; step_id: string; state: StepState };

/** The claim statements of one schema. */
export function claimQueries(s: string) {
  const claimable = `${isReady("s")} AND s.available_at_us <= $1`;
  return {
    /** One named step, skipped (not waited for) when another transaction holds it. */
    lockOne: `SELECT s.workflow_slug, s.run_id, s.step_id, s.state FROM ${s}.steps s
      WHERE s.run_id = $2 AND s.workflow_slug = $3 AND s.step_id = $4 AND ${claimable} FOR UPDATE SKIP LOCKED`,
    /** The first `limit` ready steps in listing order that nobody else is claiming. */
    lockMany: `SELECT w.workflow_slug, w.run_id, w.step_id, w.state FROM (${readyStepsSql(
      s,
      oneOrEveryWorkflowSql(s, "$2"),
      ["state"],
      "s.available_at_us <= $1",
      "$3",
      true,
    )}) w ORDER BY ${readyOrder("w")}`,
    /** StepStarted events and the running projections of the locked steps, one statement. */
    start: `WITH ev AS (
        INSERT INTO ${s}.events (event_id, workflow_slug, run_id, step_id, type, timestamp_us, body, attempt_number, worker_id, worker_concurrency)
        SELECT e.event_id, e.workflow_slug, e.run_id, e.step_id, e.type, e.ts, e.body, ($8::integer[])[e.ord], $11, ($13::integer[])[e.ord]
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::json[]) WITH ORDINALITY AS e(event_id, workflow_slug, run_id, step_id, type, ts, body, ord)
        ORDER BY e.ord RETURNING 1),
      su AS (
        UPDATE ${s}.steps st SET status = 'running', attempt_number = u.attempt_number, last_seen_us = u.last_seen_us, state = u.state, version = st.version + 1
        FROM unnest($2::text[], $3::text[], $4::text[], $8::integer[], $9::bigint[], $10::json[]) AS u(workflow_slug, run_id, step_id, attempt_number, last_seen_us, state)
        WHERE st.run_id = u.run_id AND st.workflow_slug = u.workflow_slug AND st.step_id = u.step_id RETURNING 1),
      wk AS (
        ${touchWorkersSql(s, "(VALUES ($11::text, $12::bigint)) AS k(id, ts)")})
      SELECT (SELECT count(*) FROM su) AS started`,
  };
}

/** The claim statements of one schema. */
export type ClaimQueries = ReturnType<typeof claimQueries>;

/**
 * Claims `ref` if it is scheduled, available by `nowUs` and its run is live: one transaction that locks the row
 * with FOR UPDATE SKIP LOCKED (a concurrent claimer gets null at once), applies reduceStepState to the
 * StepStarted event and writes event and projection in one statement.
 */
export async function claimOne(
  ctx: WriteContext,
  cq: ClaimQueries,
  ref: StepRef,
  workerId: string,
  nowUs: number,
  make: MakeStarted,
): Promise<{ attemptNumber: number } | null> {
  const started = await ctx.conn.tx(async (c) => {
    const rows = (
      await c.query<Candidate>({
        name: `${ctx.schema}:claimOne`,
        text: cq.lockOne,
        values: [nowUs, ref.runId, ref.workflowSlug, ref.stepId],
      })
    ).rows;
    if (rows.length === 0) return [];
    return start(ctx, cq, c, rows, workerId, make);
  });
  return started[0] ? { attemptNumber: started[0].attemptNumber } : null;
}

/** Claims up to `limit` ready steps (listing order) in one transaction: lock with SKIP LOCKED, then one write. */
export async function claimMany(
  ctx: WriteContext,
  cq: ClaimQueries,
  workerId: string,
  nowUs: number,
  limit: number,
  workflowSlug: string | undefined,
  make: MakeStarted,
): Promise<Array<StepRef & { attemptNumber: number }>> {
  if (limit <= 0) return [];
  return ctx.conn.tx(async (c) => {
    const rows = (
      await c.query<Candidate>({
        name: `${ctx.schema}:claimMany`,
        text: cq.lockMany,
        values: [nowUs, workflowSlug ?? null, limit],
      })
    ).rows;
    if (rows.length === 0) return [];
    return start(ctx, cq, c, rows, workerId, make);
  });
}

async function start(
  ctx: WriteContext,
  cq: ClaimQueries,
  c: import("pg").PoolClient,
  rows: Candidate[],
  workerId: string,
  make: MakeStarted,
): Promise<Array<StepRef & { attemptNumber: number }>> {
  const events: Array<EventOf<"StepStarted">> = [];
  const states: StepState[] = [];
  for (const r of rows) {
    const ev = make({ workflowSlug: r.workflow_slug, runId: r.run_id, stepId: r.step_id }, r.state.attemptNumber);
    events.push(ev);
    states.push(reduceStepState(r.state, ev));
  }
  const [eventIds, stepIds, types, ts, bodies] = eventColumnArrays(events);
  const last = events[events.length - 1] as EventOf<"StepStarted">;
  await c.query({
    name: `${ctx.schema}:claimStart`,
    text: cq.start,
    values: [
      eventIds,
      rows.map((r) => r.workflow_slug),
      rows.map((r) => r.run_id),
      stepIds,
      types,
      ts,
      bodies,
      states.map((s) => s.attemptNumber),
      states.map((s) => lastSeen(s)),
      states.map((s) => JSON.stringify(s)),
      workerId,
      last.timestampUs,
      eventConcurrencyArray(events),
    ],
  });
  return rows.map((r, i) => ({
    workflowSlug: r.workflow_slug,
    runId: r.run_id,
    stepId: r.step_id,
    attemptNumber: states[i]!.attemptNumber,
  }));
}
