import type { RunContext, RunState, StepState } from "@cairn/backend-interface";
import { touchWorkersSql } from "./postgres-workers-sql.js";
import { oneOrEveryWorkflowSql, readyOrder, readyStepsSql } from "./postgres-ready-sql.js";

/**
 * The SQL of the driver, built once per schema. The quoted schema is the only interpolated value; every other
 * value is a bound parameter. Hot statements are sent as named (prepared) statements.
 */
/** The text of a workflow's pause lock key, before the slug (see 0021_workflow_pause_in_submit). */
export const pauseLockPrefix = (schema: string): string => `cairn-pause:${schema}:`;

/** The workflow's pause lock ($3: its key), held exclusively to commit by every registration write (as `l`). */
const PAUSE_LOCK = "WITH l AS MATERIALIZED (SELECT pg_advisory_xact_lock(hashtextextended($3::text, 0)))";

export function buildQueries(s: string) {
  return {
    /** Locks the run (share, or update when the write changes it) then the touched steps, and returns their states. */
    lockShare: `WITH r AS (SELECT workflow_slug, state FROM ${s}.runs WHERE run_id = $1 FOR SHARE),
      st AS (SELECT step_id, state FROM ${s}.steps WHERE run_id = $1 AND workflow_slug = $2 AND step_id = ANY($3::text[]) ORDER BY step_id FOR UPDATE)
      SELECT NULL::text AS step_id, workflow_slug, state FROM r UNION ALL SELECT step_id, NULL, state FROM st`,
    /** A run row and every step row of it, locked for an engine transition (which decides over the whole run). */
    dueRuns: `SELECT workflow_slug, run_id FROM ${s}.runs WHERE status = 'pending' AND (state->>'versionId') IS NOT NULL AND flow_key IS NULL AND available_at_us <= $1
      ORDER BY available_at_us, run_id LIMIT $2`,
    overdueRuns: `SELECT workflow_slug, run_id FROM ${s}.runs WHERE status = 'running' AND (state->>'timeoutUs') IS NOT NULL
      AND ((state->>'startedAtUs')::bigint + (state->>'timeoutUs')::bigint) < $1
      ORDER BY ((state->>'startedAtUs')::bigint + (state->>'timeoutUs')::bigint) LIMIT $2`,
    runContexts: `SELECT run_id, NULL::text AS step_id, state FROM ${s}.runs WHERE run_id = ANY($1::text[])
      UNION ALL SELECT s.run_id, s.step_id, s.state FROM ${s}.steps s JOIN ${s}.runs r ON r.run_id = s.run_id AND r.workflow_slug = s.workflow_slug
      WHERE s.run_id = ANY($1::text[])`,
    lockRun: `WITH r AS (SELECT workflow_slug, state FROM ${s}.runs WHERE run_id = $1 FOR UPDATE),
      st AS (SELECT step_id, state FROM ${s}.steps WHERE run_id = $1 AND workflow_slug = $2 ORDER BY step_id FOR UPDATE)
      SELECT NULL::text AS step_id, workflow_slug, state FROM r UNION ALL SELECT step_id, NULL, state FROM st`,
    lockUpdate: `WITH r AS (SELECT workflow_slug, state FROM ${s}.runs WHERE run_id = $1 FOR UPDATE),
      st AS (SELECT step_id, state FROM ${s}.steps WHERE run_id = $1 AND workflow_slug = $2 AND step_id = ANY($3::text[]) ORDER BY step_id FOR UPDATE)
      SELECT NULL::text AS step_id, workflow_slug, state FROM r UNION ALL SELECT step_id, NULL, state FROM st`,
    /**
     * Appends the events and upserts every projection row they change, in one statement. A row that appeared after
     * the lock was taken ($37: step ids that existed then; $38: whether the run row did) is not overwritten: it is not
     * counted in steps_written / runs_written, and the caller retries the transaction.
     */
    write: `WITH ev AS (
        INSERT INTO ${s}.events (event_id, workflow_slug, run_id, step_id, type, timestamp_us, body, duration_us, terminal, copied, attempt_number, available_at_us, worker_id, reason, worker_concurrency)
        SELECT e.event_id, $2, $1, e.step_id, e.type, e.ts, e.body, e.duration_us, e.terminal, e.copied, e.attempt_number, e.available_at_us, e.worker_id, e.reason, e.worker_concurrency
        FROM unnest($3::text[], $4::text[], $5::text[], $6::bigint[], $7::json[], $30::bigint[], $31::boolean[], $32::boolean[], $33::integer[], $34::bigint[], $35::text[], $36::text[], $39::integer[])
          WITH ORDINALITY AS e(event_id, step_id, type, ts, body, duration_us, terminal, copied, attempt_number, available_at_us, worker_id, reason, worker_concurrency, ord)
        ORDER BY e.ord
        RETURNING seq, step_id),
      ru AS (
        INSERT INTO ${s}.runs (run_id, workflow_slug, status, live, available_at_us, priority, created_at_us, idempotency_key, tags, state)
        SELECT $1, $2, $8, $9, $10, $11, $12, $13, $14, $15 WHERE $8::text IS NOT NULL
        ON CONFLICT (run_id) DO UPDATE SET status = EXCLUDED.status, live = EXCLUDED.live, available_at_us = EXCLUDED.available_at_us,
          priority = EXCLUDED.priority, created_at_us = EXCLUDED.created_at_us, idempotency_key = EXCLUDED.idempotency_key, tags = EXCLUDED.tags, state = EXCLUDED.state
        WHERE $38::boolean
        RETURNING 1),
      su AS (
        INSERT INTO ${s}.steps (run_id, workflow_slug, step_id, status, run_live, available_at_us, priority, attempt_number, last_seen_us, created_at_us, first_seq, state)
        SELECT $1, $2, u.step_id, u.status, u.run_live, u.available_at_us, u.priority, u.attempt_number, u.last_seen_us, u.created_at_us,
          (SELECT min(ev.seq) FROM ev WHERE ev.step_id = u.step_id), u.state
        FROM unnest($16::text[], $17::text[], $18::boolean[], $19::bigint[], $20::integer[], $21::integer[], $22::bigint[], $23::bigint[], $24::json[])
          AS u(step_id, status, run_live, available_at_us, priority, attempt_number, last_seen_us, created_at_us, state)
        ON CONFLICT (run_id, workflow_slug, step_id) DO UPDATE SET status = EXCLUDED.status, run_live = EXCLUDED.run_live,
          available_at_us = EXCLUDED.available_at_us, priority = EXCLUDED.priority, attempt_number = EXCLUDED.attempt_number,
          last_seen_us = EXCLUDED.last_seen_us, state = EXCLUDED.state, version = ${s}.steps.version + 1
        WHERE ${s}.steps.step_id = ANY($37::text[])
        RETURNING 1),
      lv AS (
        UPDATE ${s}.steps SET run_live = $25, version = version + 1 WHERE $25::boolean IS NOT NULL AND run_id = $1 AND workflow_slug = $2
          AND run_live IS DISTINCT FROM $25 AND NOT (step_id = ANY($16::text[]))
        RETURNING 1),
      wk AS (
        ${touchWorkersSql(s, "unnest($26::text[], $27::bigint[]) AS k(id, ts)")}),
      -- Referenced by the final SELECT: a plain CTE nobody reads is never evaluated.
      nt AS (SELECT pg_notify($28::text, $29::text) AS x WHERE $28::text IS NOT NULL)
      SELECT (SELECT count(*) FROM su)::int AS steps_written, (SELECT count(*) FROM ru)::int AS runs_written, (SELECT count(*) FROM nt) AS notified`,
    /** Creates a run unless its id or its (workflow, idempotency key) exists. */
    insertRun: `INSERT INTO ${s}.runs (run_id, workflow_slug, status, live, available_at_us, priority, created_at_us, idempotency_key, tags, state)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING RETURNING run_id`,
    existingRun: `SELECT run_id, state FROM ${s}.runs WHERE (workflow_slug = $1 AND idempotency_key = $2) OR run_id = $3
      ORDER BY (workflow_slug = $1 AND idempotency_key IS NOT DISTINCT FROM $2) DESC LIMIT 1`,
    readRun: `SELECT state FROM ${s}.runs WHERE run_id = $1`,
    readSteps: `SELECT state FROM ${s}.steps WHERE run_id = $1 AND workflow_slug = $2 ORDER BY first_seq`,
    readEvents: `SELECT seq, event_id, type, run_id, body FROM ${s}.events WHERE run_id = $1 AND workflow_slug = $2
      AND ($3::text IS NULL OR ($3 = 'step') = (step_id IS NOT NULL)) AND ($4::text IS NULL OR step_id = $4) ORDER BY seq`,
    scheduled: `SELECT w.workflow_slug, w.run_id, w.step_id FROM (${readyStepsSql(
      s,
      oneOrEveryWorkflowSql(s, "$2"),
      [],
      "s.available_at_us <= $1",
      "$3",
      false,
    )}) w ORDER BY ${readyOrder("w")}`,
    /** The expressions of steps_waiting_idx (0015), verbatim, so the planner uses it. */
    waiting: `SELECT state FROM ${s}.steps WHERE (CASE WHEN strpos(state::text, '\\u0000') > 0 THEN NULL ELSE state -> 'waiting' ->> 'name' END) = $1
      AND status = 'scheduled' AND run_live AND (CASE WHEN strpos(state::text, '\\u0000') > 0 THEN false ELSE (state -> 'waiting' ->> 'kind') = 'event' END)`,
    stale: `SELECT state FROM ${s}.steps WHERE status = 'running' AND run_live AND coalesce(last_seen_us, 0) < $1 ORDER BY last_seen_us, run_id, step_id`,
    activeWorkflows: `SELECT DISTINCT workflow_slug FROM ${s}.runs WHERE live ORDER BY workflow_slug`,
    tenantRunIds: `SELECT run_id FROM ${s}.runs WHERE tenant_id = $1 AND created_at_us <= $2`,
    runIds: `SELECT run_id FROM ${s}.runs WHERE workflow_slug = $1 UNION SELECT DISTINCT run_id FROM ${s}.steps WHERE workflow_slug = $1 ORDER BY 1`,
    /**
     * Under the workflow's pause lock, held exclusively to commit ($3: pauseLockKey; see 0021_workflow_pause_in_submit).
     * A registration without `paused` keeps the stored mark.
     */
    putWorkflow: `${PAUSE_LOCK}
      INSERT INTO ${s}.workflows AS w (slug, registration) SELECT $1, $2::json FROM l ON CONFLICT (slug) DO UPDATE
      SET registration = CASE WHEN EXCLUDED.registration -> 'paused' IS NULL AND w.registration -> 'paused' IS NOT NULL
        THEN (EXCLUDED.registration::jsonb || jsonb_build_object('paused', w.registration -> 'paused'))::json
        ELSE EXCLUDED.registration END`,
    /** A registration's pause mark set ($2) or cleared (null), the rest kept; under the same lock as putWorkflow. */
    setWorkflowPause: `${PAUSE_LOCK}
      UPDATE ${s}.workflows w SET registration = CASE WHEN $2::jsonb IS NULL THEN (w.registration::jsonb - 'paused')::json
        ELSE (w.registration::jsonb || jsonb_build_object('paused', $2::jsonb))::json END
      FROM l WHERE w.slug = $1 RETURNING 1`,
    readWorkflow: `SELECT registration FROM ${s}.workflows WHERE slug = $1`,
    readWorkflows: `SELECT registration FROM ${s}.workflows ORDER BY slug`,
    insertVersion: `INSERT INTO ${s}.versions (workflow_slug, version_id, created_at_us, version) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING version_id`,
    readVersions: `SELECT version FROM ${s}.versions WHERE workflow_slug = $1 AND ($2::text IS NULL OR version_id = $2) ORDER BY created_at_us DESC, version_id DESC`,
    analyticsEvents: `SELECT seq, event_id, type, run_id, body FROM ${s}.events WHERE timestamp_us BETWEEN $1 AND $2 AND ($3::text IS NULL OR workflow_slug = $3)
      AND ($4::text[] IS NULL OR run_id = ANY($4)) AND ($5::text[] IS NULL OR type = ANY($5)) ORDER BY seq`,
    /** Live runs and their steps in one statement (one snapshot). */
    liveState: `SELECT 'run' AS kind, state FROM ${s}.runs WHERE live AND ($1::text IS NULL OR workflow_slug = $1)
      UNION ALL
      SELECT 'step', st.state FROM ${s}.runs r JOIN ${s}.steps st ON st.run_id = r.run_id AND st.workflow_slug = r.workflow_slug
      WHERE r.live AND ($1::text IS NULL OR r.workflow_slug = $1)`,
  };
}

/** The statements of one schema. */
export type Queries = ReturnType<typeof buildQueries>;

/** listRuns' filters, as the Backend passes them to queryRuns. */
export interface ListRunsFilter {
  workflowSlug?: string;
  status?: readonly string[];
  tags?: readonly string[];
  limit?: number;
  before?: { createdAtUs: number; runId: string };
  createdAfterUs?: number;
  tenantId?: string;
}

/**
 * listRuns newest first (created_at_us DESC, run_id DESC), reading about as many rows as the page needs. Each status
 * is one range of runs_slug_status_created_idx / runs_status_created_idx already in page order, read up to the limit;
 * several statuses are one such arm each of a UNION ALL that the planner merges in order (Merge Append). A
 * `status = ANY(...)` instead comes out of the index ordered by status first, so every matching row was read and
 * sorted. Without a status the walk is runs_slug_created_idx or runs_created_idx; tags are a filter (`@>`, GIN-able).
 */
export function listRunsQuery(s: string, o: ListRunsFilter): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const param = (v: unknown) => `$${values.push(v)}`;
  const common: string[] = [];
  if (o.tenantId !== undefined) common.push(`tenant_id = ${param(o.tenantId)}`);
  if (o.workflowSlug !== undefined) common.push(`workflow_slug = ${param(o.workflowSlug)}`);
  if (o.tags !== undefined && o.tags.length > 0) common.push(`tags @> ${param(o.tags)}::text[]`);
  // A row comparison in the index's order: the scan starts at the cursor.
  if (o.before)
    common.push(`(created_at_us, run_id) < (${param(o.before.createdAtUs)}::bigint, ${param(o.before.runId)}::text)`);
  if (o.createdAfterUs !== undefined) common.push(`created_at_us >= ${param(o.createdAfterUs)}`);
  const order = "ORDER BY created_at_us DESC, run_id DESC";
  const limit = o.limit === undefined ? "" : ` LIMIT ${param(o.limit)}`;
  const select = (where: string[]) =>
    `SELECT state, created_at_us, run_id FROM ${s}.runs${where.length ? ` WHERE ${where.join(" AND ")}` : ""}`;
  const statuses = [...new Set(o.status ?? [])];
  if (statuses.length <= 1) {
    const where = statuses.length === 1 ? [...common, `status = ${param(statuses[0])}`] : common;
    return { text: `${select(where)} ${order}${limit}`, values };
  }
  const arms = statuses.map((st) => `(${select([...common, `status = ${param(st)}`])} ${order}${limit})`);
  return { text: `${arms.join(" UNION ALL ")} ${order}${limit}`, values };
}

/** Run contexts from rows of runContexts' shape: a run's row has no step id, its steps' rows follow in any order. */
export function runContextsOf(
  rows: ReadonlyArray<{ run_id: string; step_id: string | null; state: unknown }>,
): Map<string, RunContext> {
  const out = new Map<string, RunContext>();
  for (const row of rows) if (row.step_id === null) out.set(row.run_id, { run: row.state as RunState, steps: [] });
  for (const row of rows) if (row.step_id !== null) out.get(row.run_id)?.steps.push(row.state as StepState);
  return out;
}
