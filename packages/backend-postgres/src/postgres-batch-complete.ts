import type { Event, EventOf, GuardVerdict, GuardedWrite } from "@cairn/backend-interface";
import { pgCode } from "./postgres-errors.js";
import { eventColumnArrays, eventConcurrencyArray, eventFigureArrays } from "./postgres-projections.js";
import type { WriteContext } from "./postgres-writes.js";

/**
 * The batch completion statement: for every item (a completion of step $1..$3 by attempt $4) whose step is still
 * running that attempt, update the step row (reduceStepState's LogEntry / StepCompleted cases in jsonb, as the
 * single-completion statement of postgres-fenced-sql.ts) and append the item's events; returns the ordinals of the
 * items written. The rows are locked in key order first (FOR UPDATE re-checks the guard on the newest row version),
 * so two batches over the same steps never deadlock and each step is completed by exactly one item.
 */
export function batchCompleteSql(s: string): string {
  return `WITH i AS (
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[], $5::boolean[], $6::bigint[], $7::bigint[], $8::text[], $9::boolean[], $10::bigint[], $11::text[])
        WITH ORDINALITY AS i(run_id, workflow_slug, step_id, attempt_number, reject_terminal, ts, max_ts, output, export_output, duration_us, resource_usage, ord)),
    lk AS (
      SELECT st.run_id, st.workflow_slug, st.step_id, i.ord FROM ${s}.steps st JOIN i ON st.run_id = i.run_id AND st.workflow_slug = i.workflow_slug AND st.step_id = i.step_id
      WHERE st.status = 'running' AND st.attempt_number = i.attempt_number AND (NOT i.reject_terminal OR st.run_live)
      ORDER BY st.run_id, st.workflow_slug, st.step_id FOR UPDATE OF st),
    up AS (
      UPDATE ${s}.steps st SET status = 'completed', version = st.version + 1,
        state = ((st.state::jsonb - 'error' - 'errorFingerprints' - 'failureReason' - 'nextRetryAtUs') || jsonb_build_object(
          'status', 'completed', 'output', i.output, 'exportOutput', i.export_output, 'durationUs', i.duration_us, 'endTimeUs', i.ts,
          'updatedAtUs', greatest((st.state::jsonb ->> 'updatedAtUs')::bigint, i.max_ts),
          'stateChanges', (st.state::jsonb -> 'stateChanges') || jsonb_build_array(jsonb_build_object('status', 'completed', 'timestampUs', i.ts)))
          || CASE WHEN i.resource_usage IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('resourceUsage', i.resource_usage::jsonb) END)::json
      FROM lk JOIN i ON i.ord = lk.ord
      WHERE st.run_id = lk.run_id AND st.workflow_slug = lk.workflow_slug AND st.step_id = lk.step_id
      RETURNING i.ord),
    ev AS (
      INSERT INTO ${s}.events (event_id, workflow_slug, run_id, step_id, type, timestamp_us, body, duration_us, terminal, copied, attempt_number, available_at_us, worker_id, reason, worker_concurrency)
      SELECT e.event_id, i.workflow_slug, i.run_id, i.step_id, e.type, e.ts, e.body, e.duration_us, e.terminal, e.copied, e.attempt_number, e.available_at_us, e.worker_id, e.reason, e.worker_concurrency
      FROM unnest($12::bigint[], $13::text[], $14::text[], $15::bigint[], $16::json[], $17::bigint[], $18::boolean[], $19::boolean[], $20::integer[], $21::bigint[], $22::text[], $23::text[], $24::integer[])
        WITH ORDINALITY AS e(item, event_id, type, ts, body, duration_us, terminal, copied, attempt_number, available_at_us, worker_id, reason, worker_concurrency, ord)
      JOIN i ON i.ord = e.item
      WHERE e.item IN (SELECT ord FROM up) ORDER BY e.ord RETURNING 1)
    SELECT ord::int AS ord, (SELECT count(*) FROM ev)::int AS events FROM up`;
}

/** A completion the batch statement can write: a fenced StepCompleted (after log lines only) of one step, JSON without NUL. */
function qualifies(w: GuardedWrite): boolean {
  const { guard, target, events } = w;
  if (guard.kind !== "attempt" || guard.workerId !== undefined || target.stepId === undefined || events.length === 0) return false;
  if (!events.every((e) => e.category === "step" && e.stepId === target.stepId && e.attemptNumber === guard.attemptNumber)) return false;
  const last = events[events.length - 1] as Event;
  if (last.type !== "StepCompleted" || !events.slice(0, -1).every((e) => e.type === "LogEntry")) return false;
  return !JSON.stringify(events).includes("\\u0000"); // text parameters cannot carry NUL; jsonb cannot hold it
}

/**
 * Writes a batch of guarded writes: the completions that qualify in one statement (one round trip, one commit),
 * every other write, and every completion the statement did not write (its guard may have failed, or the step row
 * be missing), through `exact` one by one, which gives the exact verdict. A step named by several writes is written
 * by the statement once at most; its later writes take the exact path, after the statement, in their order.
 */
export async function writeBatchCompletes(ctx: WriteContext, sql: string, writes: GuardedWrite[], exact: (w: GuardedWrite) => Promise<GuardVerdict>): Promise<GuardVerdict[]> {
  const fast: number[] = [];
  const seen = new Set<string>();
  writes.forEach((w, k) => {
    const key = `${w.target.workflowSlug}\0${w.target.runId}\0${w.target.stepId}`;
    if (qualifies(w) && !seen.has(key)) fast.push(k);
    seen.add(key);
  });
  const written = fast.length >= 2 ? await runStatement(ctx, sql, fast.map((k) => writes[k] as GuardedWrite)) : null;
  const out: GuardVerdict[] = new Array(writes.length);
  if (written) fast.forEach((k, n) => { if (written.has(n + 1)) out[k] = { ok: true }; });
  for (let k = 0; k < writes.length; k++) out[k] ??= await exact(writes[k] as GuardedWrite);
  return out;
}

/** Runs the statement (retrying a deadlock or serialization failure: nothing was written); the 1-based ordinals written, or null to take the exact path. */
async function runStatement(ctx: WriteContext, sql: string, writes: GuardedWrite[]): Promise<Set<number> | null> {
  const items: unknown[][] = Array.from({ length: 11 }, () => []);
  const events: Event[] = [];
  const owner: number[] = [];
  writes.forEach((w, n) => {
    const c = w.events[w.events.length - 1] as EventOf<"StepCompleted">;
    const guard = w.guard as { attemptNumber: number; rejectIfRunTerminal?: boolean };
    const row = [w.target.runId, w.target.workflowSlug, w.target.stepId, guard.attemptNumber, guard.rejectIfRunTerminal ?? false, c.timestampUs,
      Math.max(...w.events.map((e) => e.timestampUs)), c.output, c.exportOutput, c.durationUs, c.resourceUsage === undefined ? null : JSON.stringify(c.resourceUsage)];
    row.forEach((v, i) => items[i]!.push(v));
    for (const e of w.events) {
      events.push(e);
      owner.push(n + 1);
    }
  });
  const [ids, , types, ts, bodies] = eventColumnArrays(events);
  const values = [...items, owner, ids, types, ts, bodies, ...eventFigureArrays(events), eventConcurrencyArray(events)];
  for (let attempt = 1; ; attempt++) {
    try {
      const r = await ctx.conn.query<{ ord: number }>({ name: `${ctx.schema}:batchComplete`, text: sql, values });
      return new Set(r.rows.map((x) => x.ord));
    } catch (err) {
      const code = pgCode(err) ?? pgCode((err as { cause?: unknown }).cause);
      if (code === "22P05") return null;
      if ((code === "40P01" || code === "40001") && attempt < 8) {
        await new Promise((r) => setTimeout(r, Math.random() * 2 * attempt));
        continue;
      }
      throw err;
    }
  }
}
