import {
  compareStrings,
  rateOf,
  usageTotals,
  type CallAnalytics,
  type CounterAnalytics,
  type ResolvedAnalyticsQuery,
  type UsageAnalytics,
} from "@cairn/backend-interface";
import type { PostgresConnection } from "./postgres-connection.js";

/**
 * The call, AI-usage and counter analytics on Postgres, in SQL over the StepCall events of the window (events_type_time_idx):
 * grouped counts, sums and nearest-rank percentiles (window functions, integer rank `(p*n + 99) / 100`, at least 1).
 * Equal to the reference (computeCallAnalytics, computeUsageAnalytics); the conformance suite compares.
 */
export class PostgresCallAnalytics {
  constructor(
    private readonly conn: PostgresConnection,
    private readonly s: string,
    private readonly workMem: string,
  ) {}

  /** Calls per tool and operation. */
  async calls(q: ResolvedAnalyticsQuery): Promise<CallAnalytics> {
    const text = `WITH c AS (
        SELECT body->>'tool' AS tool, body->>'operation' AS op, duration_us AS d, (body->>'outcome') = 'error' AS failed
        FROM ${this.s}.events WHERE ${SELECTION}),
      r AS (SELECT tool, op, d, failed, row_number() OVER (PARTITION BY tool, op ORDER BY d) AS rn, count(*) OVER (PARTITION BY tool, op) AS n
        FROM c WHERE tool IS NOT NULL AND op IS NOT NULL AND d IS NOT NULL)
      SELECT tool, op, n::int AS n, count(*) FILTER (WHERE failed)::int AS errors, max(d)::float8 AS mx,
        max(d) FILTER (WHERE rn = greatest(1, (50 * n + 99) / 100))::float8 AS p50,
        max(d) FILTER (WHERE rn = greatest(1, (95 * n + 99) / 100))::float8 AS p95
      FROM r GROUP BY tool, op, n`;
    const rows = (
      await this.conn.aggregate<{
        tool: string;
        op: string;
        n: number;
        errors: number;
        mx: number;
        p50: number;
        p95: number;
      }>({ text, values: values(q) }, this.workMem)
    ).rows;
    const calls = rows.map((r) => ({
      tool: r.tool,
      operation: r.op,
      count: r.n,
      errorCount: r.errors,
      errorRate: rateOf(r.errors, r.n),
      p50Us: r.p50,
      p95Us: r.p95,
      maxUs: r.mx,
    }));
    return { calls: calls.sort((a, b) => compareStrings(a.tool, b.tool) || compareStrings(a.operation, b.operation)) };
  }

  /** Counters per workflow over the runs created in the window (computeCounterAnalytics), from the runs' state. */
  async counters(q: ResolvedAnalyticsQuery): Promise<CounterAnalytics> {
    const text = `SELECT r.workflow_slug AS "workflowSlug", j.key AS counter, sum(j.value::bigint)::float8 AS total, count(*)::int AS runs
      FROM ${this.s}.runs r CROSS JOIN LATERAL json_each_text(coalesce(${this.s}.cairn_run_counters(r.state), '{}'::json)) j
      WHERE r.created_at_us BETWEEN $1 AND $2 AND ($3::text IS NULL OR r.workflow_slug = $3) AND ($4::text[] IS NULL OR r.run_id = ANY($4::text[]))
      GROUP BY 1, 2`;
    const rows = (
      await this.conn.aggregate<CounterAnalytics["counters"][number]>(
        { text, values: [q.startUs, q.endUs, q.workflowSlug ?? null, q.runIds ?? null] },
        this.workMem,
      )
    ).rows;
    return {
      counters: rows
        .map((r) => ({ ...r }))
        .sort((a, b) => compareStrings(a.workflowSlug, b.workflowSlug) || compareStrings(a.counter, b.counter)),
    };
  }

  /** AI usage per workflow and model. */
  async usage(q: ResolvedAnalyticsQuery): Promise<UsageAnalytics> {
    const text = `SELECT workflow_slug AS slug, body->'usage'->>'model' AS model, count(*)::int AS calls,
        sum((body->'usage'->>'inputTokens')::bigint)::float8 AS "inTokens", sum((body->'usage'->>'outputTokens')::bigint)::float8 AS "outTokens",
        sum(coalesce((body->'usage'->>'costMicroUsd')::bigint, 0))::float8 AS micro
      FROM ${this.s}.events WHERE ${SELECTION} AND body->'usage'->>'model' IS NOT NULL GROUP BY 1, 2`;
    const rows = (
      await this.conn.aggregate<{
        slug: string;
        model: string;
        calls: number;
        inTokens: number;
        outTokens: number;
        micro: number;
      }>({ text, values: values(q) }, this.workMem)
    ).rows;
    const figures = rows.map((r) => ({
      calls: r.calls,
      inputTokens: r.inTokens,
      outputTokens: r.outTokens,
      micro: r.micro,
    }));
    const usage = rows.map((r, i) => ({ workflowSlug: r.slug, model: r.model, ...usageTotals([figures[i]!]) }));
    usage.sort((a, b) => compareStrings(a.workflowSlug, b.workflowSlug) || compareStrings(a.model, b.model));
    return { usage, totals: usageTotals(figures) };
  }
}

/** The reference's selection (selectEvents) of StepCall events on $1..$5. */
const SELECTION = `type = 'StepCall' AND timestamp_us BETWEEN $1 AND $2 AND ($3::text IS NULL OR workflow_slug = $3)
  AND ($4::text[] IS NULL OR run_id = ANY($4::text[])) AND ($5::text IS NULL OR step_id = $5)`;

function values(q: ResolvedAnalyticsQuery): unknown[] {
  return [q.startUs, q.endUs, q.workflowSlug ?? null, q.runIds ?? null, q.stepId ?? null];
}
