import {
  compareStrings,
  rateOf,
  usageTotals,
  type CallAnalytics,
  type CounterAnalytics,
  type ResolvedAnalyticsQuery,
  type UsageAnalytics,
} from "@cairn/backend-interface";
import type { SqliteQueries } from "./sqlite-queries.js";
import { windowConditions } from "./sqlite-window-sql.js";

/** A StepCall's JSON field, or NULL for a damaged body (json_extract would throw on it). */
const field = (path: string): string => `CASE WHEN json_valid(body) THEN json_extract(body, '$.${path}') END`;

/**
 * The call, AI-usage and counter analytics on SQLite, in SQL over the StepCall events of the window (the
 * events_calls_by_time partial index): grouped counts, sums and nearest-rank percentiles (window functions). Equal to
 * the reference (computeCallAnalytics, computeUsageAnalytics); the conformance suite compares.
 */
export class SqliteCallAnalytics {
  constructor(private readonly queries: SqliteQueries) {}

  /** Counters per workflow over the runs created in the window. */
  counters(q: ResolvedAnalyticsQuery): CounterAnalytics {
    return counterAnalytics(this.queries, q);
  }

  /** Calls per tool and operation. */
  calls(q: ResolvedAnalyticsQuery): CallAnalytics {
    const { where, params } = selection(q);
    const sql = `WITH c AS (
        SELECT ${field("tool")} AS tool, ${field("operation")} AS op, ${field("durationUs")} AS d, ${field("outcome")} = 'error' AS failed
        FROM events INDEXED BY events_calls_by_time WHERE ${where}),
      r AS (SELECT tool, op, d, failed, row_number() OVER (PARTITION BY tool, op ORDER BY d) AS rn, count(*) OVER (PARTITION BY tool, op) AS n
        FROM c WHERE tool IS NOT NULL AND op IS NOT NULL AND d IS NOT NULL)
      SELECT tool, op, n, sum(failed) AS errors, max(d) AS mx,
        max(CASE WHEN rn = max(1, (50 * n + 99) / 100) THEN d END) AS p50,
        max(CASE WHEN rn = max(1, (95 * n + 99) / 100) THEN d END) AS p95
      FROM r GROUP BY tool, op`;
    const rows = this.queries
      .statement(sql)
      .raw(false)
      .all(...params) as Array<{
      tool: string;
      op: string;
      n: number;
      errors: number;
      mx: number;
      p50: number;
      p95: number;
    }>;
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

  /** AI usage per workflow and model. */
  usage(q: ResolvedAnalyticsQuery): UsageAnalytics {
    const { where, params } = selection(q);
    const sql = `SELECT workflow_slug AS slug, ${field("usage.model")} AS model, count(*) AS calls,
        sum(${field("usage.inputTokens")}) AS inTokens, sum(${field("usage.outputTokens")}) AS outTokens, sum(coalesce(${field("usage.costMicroUsd")}, 0)) AS micro
      FROM events INDEXED BY events_calls_by_time WHERE ${where} AND ${field("usage.model")} IS NOT NULL GROUP BY slug, model`;
    const rows = this.queries
      .statement(sql)
      .raw(false)
      .all(...params) as Array<{
      slug: string;
      model: string;
      calls: number;
      inTokens: number;
      outTokens: number;
      micro: number;
    }>;
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

/** Counters per workflow over the runs created in the window (computeCounterAnalytics), from the runs' state in SQL. */
export function counterAnalytics(queries: SqliteQueries, q: ResolvedAnalyticsQuery): CounterAnalytics {
  const { where, params } = windowConditions(q, "created_at_us", "r.");
  const sql = `SELECT r.workflow_slug AS workflowSlug, j.key AS counter, sum(j.value) AS total, count(*) AS runs
    FROM runs r, json_each(CASE WHEN json_valid(r.state) THEN r.state END, '$.counters') j WHERE ${where.join(" AND ")} GROUP BY r.workflow_slug, j.key`;
  const rows = queries
    .statement(sql)
    .raw(false)
    .all(...params) as CounterAnalytics["counters"];
  return {
    counters: rows
      .map((r) => ({ ...r }))
      .sort((a, b) => compareStrings(a.workflowSlug, b.workflowSlug) || compareStrings(a.counter, b.counter)),
  };
}

/** The reference's selection (selectEvents) of StepCall events, as SQL. */
function selection(q: ResolvedAnalyticsQuery): { where: string; params: unknown[] } {
  const { where, params } = windowConditions(q, "timestamp_us");
  where.unshift("type = 'StepCall'");
  if (q.stepId !== undefined) {
    where.push("step_id = ?");
    params.push(q.stepId);
  }
  return { where: where.join(" AND "), params };
}
