import { newEventId } from "@cairn/backend-interface";
import type pg from "pg";
import type { ClaimScope, ClaimedStep, Clock, StepRef } from "@cairn/backend-interface";
import { runContextsOf } from "./postgres-queries.js";
import { isConnectionError, pgCode, translatePgError } from "./postgres-errors.js";
import type { WriteContext } from "./postgres-writes.js";
import { touchWorkersSql } from "./postgres-workers-sql.js";
import { isReady, oneOrEveryWorkflowSql, readyOrder, readyStepsSql } from "./postgres-ready-sql.js";

/**
 * The one-statement claims: lock with FOR UPDATE SKIP LOCKED, compute the StepStarted event and the new step state in
 * SQL, write both, in a single autocommitted statement (one round trip). The SQL state is reduceStepState's
 * StepStarted case spelled in jsonb: status running, claimedBy, startTimeUs, dependencies, lastHeartbeatUs,
 * nextRetryAtUs, waiting and heldAvailableAtUs removed, updatedAtUs = greatest(updatedAtUs, ts), a stateChanges entry "attempt n on worker"
 * (the tests check it against the reducer).
 */
export function claimSqlQueries(s: string) {
  const claimedRows = `SELECT workflow_slug, run_id, step_id, attempt_number FROM ns ORDER BY ord`;
  /** The claimed steps (kind 0, in order), then their runs (kind 1) and the runs' steps (kind 2), read in the claim's snapshot. */
  const withContexts = `SELECT 0 AS kind, ns.ord, ns.workflow_slug, ns.run_id, ns.step_id, ns.attempt_number, NULL::json AS state FROM ns
    UNION ALL SELECT 1, NULL, r.workflow_slug, r.run_id, NULL, NULL, r.state FROM ${s}.runs r WHERE r.run_id IN (SELECT run_id FROM ns)
    UNION ALL SELECT 2, NULL, st.workflow_slug, st.run_id, st.step_id, NULL, st.state FROM ${s}.steps st
      JOIN ${s}.runs r ON r.run_id = st.run_id AND r.workflow_slug = st.workflow_slug WHERE st.run_id IN (SELECT run_id FROM ns)
    ORDER BY 1, 2`;
  const tail = (source: string, final = claimedRows) => `WITH ${source},
    ns AS (
      SELECT c.ord, c.run_id, c.workflow_slug, c.step_id, c.attempt_number, c.event_id, c.ts, c.deps,
        ((c.state::jsonb - 'lastHeartbeatUs' - 'nextRetryAtUs' - 'waiting' - 'heldAvailableAtUs') || jsonb_build_object(
          'status', 'running', 'claimedBy', $1::text, 'startTimeUs', c.ts, 'dependencies', c.deps,
          'updatedAtUs', greatest((c.state::jsonb ->> 'updatedAtUs')::bigint, c.ts),
          'stateChanges', (c.state::jsonb -> 'stateChanges') || jsonb_build_array(jsonb_build_object(
            'status', 'running', 'timestampUs', c.ts, 'message', 'attempt ' || c.attempt_number || ' on ' || $1::text)))) AS new_state
      FROM c),
    up AS (
      UPDATE ${s}.steps st SET status = 'running', last_seen_us = ns.ts, state = ns.new_state::json, version = st.version + 1
      FROM ns WHERE st.run_id = ns.run_id AND st.workflow_slug = ns.workflow_slug AND st.step_id = ns.step_id RETURNING 1),
    ev AS (
      INSERT INTO ${s}.events (event_id, workflow_slug, run_id, step_id, type, timestamp_us, attempt_number, worker_id, worker_concurrency, body)
      SELECT ns.event_id, ns.workflow_slug, ns.run_id, ns.step_id, 'StepStarted', ns.ts, ns.attempt_number, $1::text, ($2::jsonb ->> 'workerConcurrency')::integer,
        (jsonb_build_object('eventId', ns.event_id, 'timestampUs', ns.ts, 'workflowSlug', ns.workflow_slug, 'runId', ns.run_id, 'category', 'step',
          'type', 'StepStarted', 'stepId', ns.step_id, 'workerId', $1::text, 'dependencies', ns.deps, 'attemptNumber', ns.attempt_number) || $2::jsonb)::json
      FROM ns ORDER BY ns.ord RETURNING 1),
    wk AS (
      ${touchWorkersSql(s, "(SELECT $1::text AS id, max(ns.ts) AS ts FROM ns HAVING count(*) > 0) AS k")})
    ${final}`;
  const claimable = `${isReady("s")} AND s.available_at_us <= $3`;
  const claimColumns = ["attempt_number", "state"]; // beside readyStepsSql's own: what a claim builds the step's new state from
  const numbered = `SELECT l.*, row_number() OVER (ORDER BY ${readyOrder("l")}) AS ord FROM l`;
  const scopeSource = `l AS (${readyStepsSql(s, "jsonb_object_keys($4::jsonb)", claimColumns, "s.available_at_us <= $3", "$5", true)}),
      c AS (
        SELECT o.ord, o.run_id, o.workflow_slug, o.step_id, o.attempt_number, o.state, coalesce($4::jsonb -> o.workflow_slug -> o.step_id, '[]'::jsonb) AS deps,
          ($6::text[])[o.ord] AS event_id, ($7::bigint[])[o.ord] AS ts
        FROM (${numbered}) o)`;
  return {
    /** Named refs ($4..$9: slugs, runs, steps, dependency lists, event ids, timestamps), in the given order, at most $10. */
    refs: tail(`t AS (
        SELECT * FROM unnest($4::text[], $5::text[], $6::text[], $7::jsonb[], $8::text[], $9::bigint[]) WITH ORDINALITY AS t(workflow_slug, run_id, step_id, deps, event_id, ts, ord)),
      c AS (
        SELECT t.ord, s.run_id, s.workflow_slug, s.step_id, s.attempt_number, s.state, t.deps, t.event_id, t.ts
        FROM ${s}.steps s JOIN t ON s.run_id = t.run_id AND s.workflow_slug = t.workflow_slug AND s.step_id = t.step_id
        WHERE ${claimable} ORDER BY t.ord LIMIT $10 FOR UPDATE OF s SKIP LOCKED)`),
    /**
     * One named ref (same parameters as `refs`, one element each): locked by its primary key alone, then checked. With
     * the claimable condition in the locking scan, the planner may pick the partial ready index and walk the whole
     * ready queue for one row (it did, on generic plans and stale statistics: O(queue depth) per claim). Locking a
     * row that then proves unclaimable is harmless: nobody else could claim it either, and the lock ends with the statement.
     */
    one: tail(`k AS (
        SELECT s.run_id, s.workflow_slug, s.step_id, s.attempt_number, s.state, s.status, s.run_live, s.available_at_us FROM ${s}.steps s
        WHERE s.run_id = ($5::text[])[1] AND s.workflow_slug = ($4::text[])[1] AND s.step_id = ($6::text[])[1] FOR UPDATE SKIP LOCKED),
      c AS (
        SELECT 1::bigint AS ord, k.run_id, k.workflow_slug, k.step_id, k.attempt_number, k.state, ($7::jsonb[])[1] AS deps, ($8::text[])[1] AS event_id, ($9::bigint[])[1] AS ts
        FROM k WHERE ${isReady("k")} AND k.available_at_us <= $3 AND $10::integer >= 1)`),
    /** The first $5 ready steps in listing order (of workflow $4 when not null), with no dependencies; ids $6, timestamps $7. */
    next: tail(`l AS (${readyStepsSql(s, oneOrEveryWorkflowSql(s, "$4"), claimColumns, "s.available_at_us <= $3", "$5", true)}),
      c AS (
        SELECT o.ord, o.run_id, o.workflow_slug, o.step_id, o.attempt_number, o.state, '[]'::jsonb AS deps, ($6::text[])[o.ord] AS event_id, ($7::bigint[])[o.ord] AS ts
        FROM (${numbered}) o)`),
    /** The first $5 ready steps of the workflows of scope $4 (slug → step → dependencies, jsonb) in listing order; ids $6, timestamps $7. */
    scope: tail(scopeSource),
    /** `scope` that also returns the claimed steps' run contexts (withContexts). */
    scopeContexts: tail(scopeSource, withContexts),
  };
}

/** The one-statement claim queries of one schema. */
export type ClaimSqlQueries = ReturnType<typeof claimSqlQueries>;

type Claimed = StepRef & { attemptNumber: number };
type Row = { workflow_slug: string; run_id: string; step_id: string; attempt_number: number };

/** Extra StepStarted fields, validated the way the event schema would (null when invalid: take the validating path). */
export function startedExtras(
  workerId: unknown,
  deps: unknown[],
  m: { slotIndex?: number; workerConcurrency?: number },
): string | null {
  if (typeof workerId !== "string" || workerId.length === 0) return null;
  if (!deps.every((d) => Array.isArray(d) && d.every((x) => typeof x === "string"))) return null;
  if (m.slotIndex !== undefined && !(Number.isInteger(m.slotIndex) && m.slotIndex >= 0)) return null;
  if (m.workerConcurrency !== undefined && !(Number.isInteger(m.workerConcurrency) && m.workerConcurrency > 0))
    return null;
  return JSON.stringify({
    ...(m.slotIndex === undefined ? {} : { slotIndex: m.slotIndex }),
    ...(m.workerConcurrency === undefined ? {} : { workerConcurrency: m.workerConcurrency }),
  });
}

function stamps(clock: Clock, n: number): { ids: string[]; ts: number[] } {
  const ts = Array.from({ length: n }, () => clock.nowUs());
  return { ids: ts.map((t) => newEventId(t)), ts };
}

const toClaimed = (r: Row): Claimed => ({
  workflowSlug: r.workflow_slug,
  runId: r.run_id,
  stepId: r.step_id,
  attemptNumber: r.attempt_number,
});

/** Claims up to `limit` of the given refs (in order; those still claimable and not locked by someone else) in one statement. Null: use the reducer path. */
export async function claimRefsSql(
  ctx: WriteContext,
  q: ClaimSqlQueries,
  clock: Clock,
  nowUs: number,
  workerId: string,
  refs: Array<StepRef & { deps: string[] }>,
  extras: string,
  limit: number,
): Promise<Claimed[] | null> {
  if (refs.length === 0) return [];
  const { ids, ts } = stamps(clock, refs.length);
  const one = refs.length === 1;
  return run(ctx, {
    name: `${ctx.schema}:${one ? "claimOne" : "claimRefs"}`,
    text: one ? q.one : q.refs,
    values: [
      workerId,
      extras,
      nowUs,
      refs.map((r) => r.workflowSlug),
      refs.map((r) => r.runId),
      refs.map((r) => r.stepId),
      refs.map((r) => JSON.stringify(r.deps)),
      ids,
      ts,
      limit,
    ],
  });
}

/** Claims the next `limit` ready steps (no dependencies recorded) in one statement. Null: use the reducer path. */
export async function claimNextSql(
  ctx: WriteContext,
  q: ClaimSqlQueries,
  clock: Clock,
  nowUs: number,
  workerId: string,
  limit: number,
  workflowSlug: string | undefined,
): Promise<Claimed[] | null> {
  const { ids, ts } = stamps(clock, limit);
  return run(ctx, {
    name: `${ctx.schema}:claimNext`,
    text: q.next,
    values: [workerId, "{}", nowUs, workflowSlug ?? null, limit, ids, ts],
  });
}

/** Claims the next `limit` ready steps of the scope's workflows, with their dependencies, in one statement. Null: use the reducer path. */
export async function claimScopeSql(
  ctx: WriteContext,
  q: ClaimSqlQueries,
  clock: Clock,
  nowUs: number,
  workerId: string,
  limit: number,
  scope: ClaimScope,
  contexts = false,
): Promise<ClaimedStep[] | null> {
  const { ids, ts } = stamps(clock, limit);
  const values = [workerId, "{}", nowUs, JSON.stringify(scope), limit, ids, ts];
  if (!contexts) return run(ctx, { name: `${ctx.schema}:claimScope`, text: q.scope, values });
  const rows = await rowsOrNull<ContextRow>(ctx, {
    name: `${ctx.schema}:claimScopeContexts`,
    text: q.scopeContexts,
    values,
  });
  if (rows === null) return null;
  const byRun = runContextsOf(rows.filter((r) => r.kind !== 0));
  return rows
    .filter((r) => r.kind === 0)
    .map((r) => {
      const context = byRun.get(r.run_id);
      return { ...toClaimed(r as Row), ...(context ? { context } : {}) };
    });
}

type ContextRow = Row & { kind: number; state: unknown; step_id: string | null };

async function run(
  ctx: WriteContext,
  stmt: { name: string; text: string; values: unknown[] },
): Promise<Claimed[] | null> {
  return (await rowsOrNull<Row>(ctx, stmt))?.map(toClaimed) ?? null;
}

/** The rows of a claim statement, or null when a state holds what jsonb cannot (then the reducer path claims). */
async function rowsOrNull<R extends pg.QueryResultRow>(
  ctx: WriteContext,
  stmt: { name: string; text: string; values: unknown[] },
): Promise<R[] | null> {
  const client = await ctx.conn.checkout();
  try {
    const rows = (await client.query<R>(stmt)).rows;
    ctx.conn.release(client);
    return rows;
  } catch (err) {
    // jsonb cannot hold \u0000 inside strings; such a (rare) state is claimed through the json-preserving reducer path.
    if (pgCode(err) === "22P05" || pgCode((err as { cause?: unknown }).cause) === "22P05") {
      // The error arrives before the server has ended the statement's transaction, and with it the row locks its
      // scan took: the reducer path, on another connection, would skip those rows as locked (SKIP LOCKED). A query
      // on this connection runs once that is done.
      await client.query("SELECT 1").catch(() => {});
      ctx.conn.release(client);
      return null;
    }
    ctx.conn.release(client, isConnectionError(err) ? err : undefined);
    throw translatePgError(err, ctx.conn.location);
  }
}
