import type { Event, EventOf, WriteGuard, WriteTarget } from "@cairn/backend-interface";
import { pgCode } from "./postgres-errors.js";
import { eventColumnArrays, eventConcurrencyArray, eventFigureArrays } from "./postgres-projections.js";
import type { WriteContext } from "./postgres-writes.js";
import { touchWorkersSql } from "./postgres-workers-sql.js";

/**
 * One-statement fenced writes for the two most frequent ones: a heartbeat, and a completion (with its log lines).
 * The UPDATE checks the attempt guard in its WHERE (running, same attempt, same worker for heartbeats, live run when
 * asked) and computes reduceStepState's StepHeartbeat / LogEntry / StepCompleted cases in jsonb; the events are
 * appended only if the row was updated. Zero rows means "not obviously allowed": the caller then takes the
 * read-check-write path, which gives the exact verdict.
 */
export function fencedSqlQueries(s: string) {
  const events = (concurrency: string) => `ev AS (
      INSERT INTO ${s}.events (event_id, workflow_slug, run_id, step_id, type, timestamp_us, body, duration_us, terminal, copied, attempt_number, available_at_us, worker_id, reason, worker_concurrency)
      SELECT e.event_id, $2, $1, $3, e.type, e.ts, e.body, e.duration_us, e.terminal, e.copied, e.attempt_number, e.available_at_us, e.worker_id, e.reason, e.worker_concurrency
      FROM unnest($4::text[], $5::text[], $6::bigint[], $7::json[], $8::bigint[], $9::boolean[], $10::boolean[], $11::integer[], $12::bigint[], $13::text[], $14::text[], ${concurrency}::integer[])
        WITH ORDINALITY AS e(event_id, type, ts, body, duration_us, terminal, copied, attempt_number, available_at_us, worker_id, reason, worker_concurrency, ord)
      WHERE EXISTS (SELECT 1 FROM up) ORDER BY e.ord RETURNING 1)`;
  const where = `run_id = $1 AND workflow_slug = $2 AND step_id = $3 AND status = 'running' AND attempt_number = $15 AND ($16::boolean IS NOT TRUE OR run_live)`;
  return {
    /** $17 worker, $18 heartbeat time. */
    heartbeat: `WITH up AS (
        UPDATE ${s}.steps SET last_seen_us = $18, version = version + 1,
          state = (state::jsonb || jsonb_build_object('lastHeartbeatUs', $18::bigint, 'updatedAtUs', greatest((state::jsonb ->> 'updatedAtUs')::bigint, $18::bigint)))::json
        WHERE ${where} AND state::jsonb ->> 'claimedBy' = $17 RETURNING 1),
      ${events("$19")},
      wk AS (
        ${touchWorkersSql(s, "(VALUES ($17::text, $18::bigint)) AS k(id, ts)", "EXISTS (SELECT 1 FROM up)")})
      SELECT (SELECT count(*) FROM up)::int AS ok`,
    /** $17 completion time, $18 latest time of the batch, $19 output, $20 exportOutput, $21 durationUs, $22 resourceUsage json or null. */
    complete: `WITH up AS (
        UPDATE ${s}.steps SET status = 'completed', version = version + 1,
          state = ((state::jsonb - 'error' - 'errorFingerprints' - 'failureReason' - 'nextRetryAtUs') || jsonb_build_object(
            'status', 'completed', 'output', $19::text, 'exportOutput', $20::boolean, 'durationUs', $21::bigint, 'endTimeUs', $17::bigint,
            'updatedAtUs', greatest((state::jsonb ->> 'updatedAtUs')::bigint, $18::bigint),
            'stateChanges', (state::jsonb -> 'stateChanges') || jsonb_build_array(jsonb_build_object('status', 'completed', 'timestampUs', $17::bigint)))
            || CASE WHEN $22::jsonb IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('resourceUsage', $22::jsonb) END)::json
        WHERE ${where} RETURNING 1),
      ${events("$23")}
      SELECT (SELECT count(*) FROM up)::int AS ok`,
  };
}

/** The fenced statements of one schema. */
export type FencedSqlQueries = ReturnType<typeof fencedSqlQueries>;

/** Tries the one-statement path; true when written, false when the caller must take the exact path. */
export async function writeFencedSql(ctx: WriteContext, q: FencedSqlQueries, target: WriteTarget, guard: WriteGuard, events: Event[]): Promise<boolean> {
  if (guard.kind !== "attempt" || target.stepId === undefined || events.length === 0) return false;
  if (!events.every((e) => e.category === "step" && e.stepId === target.stepId && e.attemptNumber === guard.attemptNumber)) return false;
  const last = events[events.length - 1] as Event;
  const head = events.slice(0, -1);
  let kind: "heartbeat" | "complete";
  if (last.type === "StepHeartbeat" && head.length === 0 && guard.workerId === last.workerId) kind = "heartbeat";
  else if (last.type === "StepCompleted" && head.every((e) => e.type === "LogEntry") && guard.workerId === undefined) kind = "complete";
  else return false;
  const json = JSON.stringify(events);
  if (json.includes("\\u0000")) return false; // text parameters cannot carry NUL; jsonb cannot hold it
  const [ids, , types, ts, bodies] = eventColumnArrays(events);
  const base = [target.runId, target.workflowSlug, target.stepId, ids, types, ts, bodies, ...eventFigureArrays(events), guard.attemptNumber, guard.rejectIfRunTerminal ?? false];
  const maxTs = Math.max(...events.map((e) => e.timestampUs));
  let values: unknown[];
  if (kind === "heartbeat") {
    values = [...base, (last as EventOf<"StepHeartbeat">).workerId, last.timestampUs, eventConcurrencyArray(events)];
  } else {
    const c = last as EventOf<"StepCompleted">;
    values = [...base, c.timestampUs, maxTs, c.output, c.exportOutput, c.durationUs, c.resourceUsage === undefined ? null : JSON.stringify(c.resourceUsage), eventConcurrencyArray(events)];
  }
  try {
    const r = await ctx.conn.query<{ ok: number }>({ name: `${ctx.schema}:fenced:${kind}`, text: q[kind], values });
    return r.rows[0]?.ok === 1;
  } catch (err) {
    if (pgCode(err) === "22P05") return false;
    throw err;
  }
}
