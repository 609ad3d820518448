import type pg from "pg";
import type { GateQuery, GateRunsQuery, GateView } from "@cairn/backend-interface";

/** The SQL of flow-control gates for one schema (served by the indexes of migration 0012). */
export function buildGateQueries(s: string) {
  const gate = `workflow_slug = $1 AND flow_key = $2 AND run_id <> $3`;
  return {
    /** Serialises every write that counts one gate, until its transaction ends. */
    lockGate: `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
    /** lockGate for many gates ($1, keys), taken in one order (hash, then key) so two batches never deadlock. */
    lockGates: `SELECT count(pg_advisory_xact_lock(h)) FROM (SELECT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY 1, k) l`,
    /**
     * The runs countGate needs of gates $1 (slugs) / $2 (keys): the live ones, and those started at or after $3 when
     * not null (rate limits); at most $4 rows.
     */
    gateRunsOf: `SELECT r.run_id, r.workflow_slug, r.flow_key, r.status, r.priority, r.created_at_us, r.available_at_us, r.started_at_us
      FROM unnest($1::text[], $2::text[]) AS g(workflow_slug, flow_key)
      JOIN ${s}.runs r ON r.workflow_slug = g.workflow_slug AND r.flow_key = g.flow_key
        AND (r.status IN ('pending', 'running') OR ($3::bigint IS NOT NULL AND r.started_at_us >= $3))
      LIMIT $4`,
    /** The gate's count (countGate semantics), read after the lock so its snapshot sees every earlier holder's commit. */
    countGate: `SELECT
      ARRAY(SELECT run_id FROM ${s}.runs WHERE ${gate} AND status = 'running' ORDER BY run_id LIMIT $4) AS running,
      (SELECT count(*) FROM (SELECT 1 FROM ${s}.runs WHERE ${gate} AND status = 'pending' AND available_at_us <= $5
        AND (priority > $6 OR (priority = $6 AND (created_at_us < $7 OR (created_at_us = $7 AND run_id < $3)))) LIMIT $4) x)::int AS ahead,
      (SELECT count(*) FROM (SELECT 1 FROM ${s}.runs WHERE ${gate} AND status = 'pending' LIMIT $4) x)::int AS waiting,
      EXISTS (SELECT 1 FROM ${s}.runs WHERE ${gate} AND status = 'pending' AND (created_at_us > $7 OR (created_at_us = $7 AND run_id > $3))) AS newer,
      (SELECT count(*) FROM (SELECT 1 FROM ${s}.runs WHERE ${gate} AND started_at_us >= $8 LIMIT $4) x)::int AS started,
      (SELECT min(st) FROM (SELECT started_at_us AS st FROM ${s}.runs WHERE ${gate} AND started_at_us >= $8 ORDER BY started_at_us LIMIT $4) x) AS earliest`,
    gatePending: `SELECT workflow_slug, run_id FROM ${s}.runs WHERE workflow_slug = $1 AND flow_key = $2 AND status = 'pending'
      AND ($3::bigint IS NULL OR available_at_us <= $3) ORDER BY priority DESC, created_at_us, run_id LIMIT $4`,
    gateRunning: `SELECT workflow_slug, run_id FROM ${s}.runs WHERE workflow_slug = $1 AND flow_key = $2 AND status = 'running' ORDER BY run_id LIMIT $3`,
    waitingGates: `SELECT DISTINCT workflow_slug, flow_key FROM ${s}.runs WHERE flow_key IS NOT NULL AND status = 'pending' AND available_at_us <= $1 LIMIT $2`,
    /** Which of the gates $3 (slugs) / $4 (keys) have a pending run available by $1. */
    waitingAmong: `SELECT g.workflow_slug, g.flow_key FROM unnest($3::text[], $4::text[]) AS g(workflow_slug, flow_key)
      WHERE EXISTS (SELECT 1 FROM ${s}.runs r WHERE r.workflow_slug = g.workflow_slug AND r.flow_key = g.flow_key AND r.status = 'pending' AND r.available_at_us <= $1)
      LIMIT $2`,
  };
}
export type GateQueries = ReturnType<typeof buildGateQueries>;

/** Locks the gate for the rest of the transaction and counts it. */
export async function readGate(c: pg.PoolClient, g: GateQueries, schema: string, q: GateQuery): Promise<GateView> {
  await c.query({
    name: `${schema}:lockGate`,
    text: g.lockGate,
    values: [gateLockKey(schema, q.workflowSlug, q.flowKey)],
  });
  const row = (
    await c.query<{
      running: string[];
      ahead: number;
      waiting: number;
      newer: boolean;
      started: number;
      earliest: string | null;
    }>({
      name: `${schema}:countGate`,
      text: g.countGate,
      values: [q.workflowSlug, q.flowKey, q.runId, q.cap, q.nowUs, q.priority, q.createdAtUs, q.startedSinceUs ?? null],
    })
  ).rows[0]!;
  const view: GateView = {
    running: row.running,
    ahead: row.ahead,
    waiting: row.waiting,
    newer: row.newer,
    startedSince: row.started,
  };
  if (row.earliest !== null) view.earliestStartUs = Number(row.earliest);
  return view;
}

/** The gate key of the advisory lock: every write that counts a gate takes it first, so they serialise on it. */
export const gateLockKey = (schema: string, workflowSlug: string, flowKey: string): string =>
  JSON.stringify([schema, workflowSlug, flowKey]);

type RefRow = { workflow_slug: string; run_id: string };

/** Runs of one gate in a status (pending ones in start order). */
export async function gateRuns(
  query: (stmt: { name: string; text: string; values: unknown[] }) => Promise<pg.QueryResult<RefRow>>,
  g: GateQueries,
  schema: string,
  q: GateRunsQuery,
): Promise<Array<{ workflowSlug: string; runId: string }>> {
  const res =
    q.status === "running"
      ? await query({
          name: `${schema}:gateRunning`,
          text: g.gateRunning,
          values: [q.workflowSlug, q.flowKey, q.limit],
        })
      : await query({
          name: `${schema}:gatePending`,
          text: g.gatePending,
          values: [q.workflowSlug, q.flowKey, q.availableByUs ?? null, q.limit],
        });
  return res.rows.map((r) => ({ workflowSlug: r.workflow_slug, runId: r.run_id }));
}
