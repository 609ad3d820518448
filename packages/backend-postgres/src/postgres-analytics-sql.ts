import { averageOf, compareStrings, perUnit, rateOf } from "@cairn/backend-interface";
import type {
  AnalyticsOptions,
  Percentiles,
  QueueDepth,
  RunOutcomes,
  StepDuration,
  StepOutcomes,
  StepPercentiles,
  SuccessRate,
  Throughput,
  WorkflowDuration,
  WorkflowPercentiles,
} from "@cairn/backend-interface";
import type { PostgresConnection } from "./postgres-connection.js";

/**
 * Analytics aggregated in SQL, defined exactly as the reference implementation documents them (the conformance
 * suite compares): the selection is timestamp in [startUs, endUs], workflow, runs, step (step events only), copied
 * results excluded; percentiles are nearest-rank with integer rank `(p*n + 99) / 100` (at least 1); averages and
 * rates are rounded in JS with the reference's own helpers from exact SQL sums and counts.
 */
export class PostgresAnalyticsSql {
  /** `workMem`: work_mem of the aggregate statements (sorts and hashes over a window of events). */
  constructor(
    private readonly conn: PostgresConnection,
    private readonly s: string,
    readonly workMem: string,
  ) {}

  /** The reference's selection (window, workflow, runs, step for step events, no copies) on parameters $first..$first+4. */
  selection(first: number, alias = ""): string {
    const p = (i: number) => `$${first + i}`;
    const a = alias ? `${alias}.` : "";
    return `${a}timestamp_us BETWEEN ${p(0)} AND ${p(1)} AND (${p(2)}::text IS NULL OR ${a}workflow_slug = ${p(2)}) AND (${p(3)}::text[] IS NULL OR ${a}run_id = ANY(${p(3)}::text[]))
      AND (${p(4)}::text IS NULL OR ${a}step_id IS NULL OR ${a}step_id = ${p(4)}) AND NOT ${a}copied`;
  }

  /** The parameters of `selection`. */
  selectionValues(w: { startUs: number; endUs: number }, o: AnalyticsOptions): unknown[] {
    return [w.startUs, w.endUs, o.workflowSlug ?? null, o.runIds ?? null, o.stepId ?? null];
  }

  /** Counts of the outcome events per workflow and type (StepFailed split by terminal). */
  private async outcomeCounts(w: { startUs: number; endUs: number }, o: AnalyticsOptions): Promise<OutcomeCount[]> {
    const text = `SELECT workflow_slug AS slug, type, coalesce(terminal, false) AS terminal, count(*)::int AS n FROM ${this.s}.events
      WHERE type IN ('WorkflowCompleted', 'WorkflowFailed', 'WorkflowCancelled', 'StepCompleted', 'StepFailed', 'StepSkipped') AND ${this.selection(1)}
      GROUP BY 1, 2, 3`;
    return (
      await this.conn.aggregate<{ slug: string; type: string; terminal: boolean; n: number }>(
        { text, values: this.selectionValues(w, o) },
        this.workMem,
      )
    ).rows;
  }

  /** Success rates and throughput from one grouped count of the outcome events (the summary needs both). */
  async outcomes(
    w: { startUs: number; endUs: number },
    o: AnalyticsOptions,
  ): Promise<{ successRate: SuccessRate; throughput: Throughput }> {
    const counts = await this.outcomeCounts(w, o);
    return { successRate: successRateOf(counts), throughput: throughputOf(counts, w) };
  }

  /** Step and run durations from one statement (one round trip, one sort of the samples). */
  async durations(
    w: { startUs: number; endUs: number },
    o: AnalyticsOptions,
  ): Promise<{ stepDuration: StepDuration; workflowDuration: WorkflowDuration }> {
    const d = await this.distributions(w, o, [...STEP_KINDS, ...WORKFLOW_KINDS]);
    return { stepDuration: stepDurationOf(d), workflowDuration: workflowDurationOf(d) };
  }

  /** Throughput over the window. */
  async throughput(w: { startUs: number; endUs: number }, o: AnalyticsOptions): Promise<Throughput> {
    return throughputOf(await this.outcomeCounts(w, o), w);
  }

  /** Success and failure rates of runs and steps. */
  async successRate(w: { startUs: number; endUs: number }, o: AnalyticsOptions): Promise<SuccessRate> {
    return successRateOf(await this.outcomeCounts(w, o));
  }
  /** Nearest-rank distributions of duration_us per (kind, g1, g2), for the kinds given as (label, type, grouping). */
  private async distributions(
    w: { startUs: number; endUs: number },
    o: AnalyticsOptions,
    kinds: Kind[],
  ): Promise<Distributions> {
    const values = this.selectionValues(w, o);
    const parts = kinds.map(([label, type, by]) => {
      const g1 = by === "all" ? "''" : "workflow_slug";
      const g2 = by === "step" ? "step_id" : "''";
      return `SELECT $${values.push(label)}::text AS k, ${g1} AS g1, ${g2} AS g2, duration_us AS v FROM ${this.s}.events WHERE type = $${values.push(type)} AND ${this.selection(1)}`;
    });
    return this.percentilesOf(parts.join(" UNION ALL "), values);
  }

  /** Nearest-rank percentiles of the samples (k, g1, g2, v) produced by `samplesSql`, one sorted array per group. */
  async percentilesOf(
    samplesSql: string,
    values: unknown[],
  ): Promise<Map<string, Array<{ g1: string; g2: string } & Percentiles>>> {
    const text = `WITH s AS (${samplesSql}),
      g AS (SELECT k, g1, g2, count(*) AS n, sum(v)::text AS sum, array_agg(v ORDER BY v) AS a FROM s GROUP BY k, g1, g2)
      SELECT k, g1, g2, n::int AS count, sum, a[1]::float8 AS min, a[n]::float8 AS max, a[greatest(1, (50 * n + 99) / 100)]::float8 AS p50,
        a[greatest(1, (95 * n + 99) / 100)]::float8 AS p95, a[greatest(1, (99 * n + 99) / 100)]::float8 AS p99
      FROM g`;
    type Row = {
      k: string;
      g1: string;
      g2: string;
      count: number;
      sum: string;
      min: number;
      max: number;
      p50: number;
      p95: number;
      p99: number;
    };
    const out = new Map<string, Array<{ g1: string; g2: string } & Percentiles>>();
    for (const r of (await this.conn.aggregate<Row>({ text, values }, this.workMem)).rows) {
      const list = out.get(r.k) ?? [];
      list.push({
        g1: r.g1,
        g2: r.g2,
        count: r.count,
        averageUs: averageOf(Number(r.sum), r.count),
        medianUs: r.p50,
        p95Us: r.p95,
        p99Us: r.p99,
        minUs: r.min,
        maxUs: r.max,
      });
      out.set(r.k, list);
    }
    return out;
  }

  /** Step attempt durations. */
  async stepDuration(w: { startUs: number; endUs: number }, o: AnalyticsOptions): Promise<StepDuration> {
    return stepDurationOf(await this.distributions(w, o, STEP_KINDS));
  }

  /** Run durations. */
  async workflowDuration(w: { startUs: number; endUs: number }, o: AnalyticsOptions): Promise<WorkflowDuration> {
    return workflowDurationOf(await this.distributions(w, o, WORKFLOW_KINDS));
  }

  /** The real-time queue snapshot, from the live rows only (partial indexes). */
  async queueDepth(workflowSlug: string | undefined, nowUs: number): Promise<QueueDepth> {
    return (await this.queueRows(workflowSlug ?? null, nowUs, false))[0]?.depth ?? emptyQueue();
  }

  /** The queue snapshot per workflow with a live run. */
  async queueDepthByWorkflow(nowUs: number): Promise<Array<{ workflowSlug: string } & QueueDepth>> {
    return (await this.queueRows(null, nowUs, true))
      .map((r) => ({ workflowSlug: r.slug, ...r.depth }))
      .sort((a, b) => compareStrings(a.workflowSlug, b.workflowSlug));
  }

  private async queueRows(
    slug: string | null,
    nowUs: number,
    perWorkflow: boolean,
  ): Promise<Array<{ slug: string; depth: QueueDepth }>> {
    const key = perWorkflow ? "workflow_slug" : "''::text";
    const text = `WITH r AS (
        SELECT ${key} AS slug, count(*) FILTER (WHERE status = 'pending')::int AS pending, count(*) FILTER (WHERE status = 'pending' AND available_at_us <= $2)::int AS ready,
          count(*) FILTER (WHERE status = 'running')::int AS running, min(created_at_us) FILTER (WHERE status = 'pending')::float8 AS oldest
        FROM ${this.s}.runs WHERE live AND ($1::text IS NULL OR workflow_slug = $1) GROUP BY 1),
      sx AS (
        SELECT workflow_slug, status, available_at_us, (available_at_us > $2 AND (CASE WHEN strpos(state::text, '\\u0000') > 0 THEN strpos(state::text, '"waiting":') > 0 ELSE (state -> 'waiting') IS NOT NULL END)) AS waits
        FROM ${this.s}.steps WHERE status = 'scheduled' AND run_live AND ($1::text IS NULL OR workflow_slug = $1)
        UNION ALL
        SELECT workflow_slug, status, available_at_us, false AS waits FROM ${this.s}.steps WHERE status = 'running' AND run_live AND ($1::text IS NULL OR workflow_slug = $1)),
      st AS (
        SELECT ${key} AS slug, count(*) FILTER (WHERE status = 'scheduled')::int AS scheduled,
          count(*) FILTER (WHERE status = 'scheduled' AND coalesce(available_at_us, 0) <= $2)::int AS ready,
          count(*) FILTER (WHERE status = 'running')::int AS running, count(*) FILTER (WHERE waits)::int AS waiting,
          min(coalesce(available_at_us, 0)) FILTER (WHERE status = 'scheduled' AND coalesce(available_at_us, 0) <= $2)::float8 AS oldest
        FROM sx GROUP BY 1)
      SELECT r.slug, r.pending, r.ready, r.running, r.oldest, coalesce(st.scheduled, 0) AS s_scheduled, coalesce(st.ready, 0) AS s_ready,
        coalesce(st.running, 0) AS s_running, st.oldest AS s_oldest, coalesce(st.waiting, 0) AS s_waiting
      FROM r LEFT JOIN st ON st.slug = r.slug`;
    type Row = {
      slug: string;
      pending: number;
      ready: number;
      running: number;
      oldest: number | null;
      s_scheduled: number;
      s_ready: number;
      s_running: number;
      s_oldest: number | null;
      s_waiting: number;
    };
    return (await this.conn.query<Row>({ text, values: [slug, nowUs] })).rows.map((r) => ({
      slug: r.slug,
      depth: {
        pendingRuns: r.pending,
        readyRuns: r.ready,
        delayedRuns: r.pending - r.ready,
        runningRuns: r.running,
        scheduledSteps: r.s_scheduled,
        readySteps: r.s_ready,
        delayedSteps: r.s_scheduled - r.s_ready,
        waitingSteps: r.s_waiting,
        runningSteps: r.s_running,
        oldestReadyStepAvailableAtUs: r.s_oldest,
        oldestReadyStepAgeUs: r.s_oldest === null ? 0 : Math.max(0, nowUs - r.s_oldest),
        oldestPendingRunCreatedAtUs: r.oldest,
        oldestPendingRunAgeUs: r.oldest === null ? 0 : Math.max(0, nowUs - r.oldest),
      },
    }));
  }
}

function one(list: Array<{ g1: string; g2: string } & Percentiles> | undefined): Percentiles {
  const first = list?.[0];
  if (!first) return { count: 0, averageUs: 0, medianUs: 0, p95Us: 0, p99Us: 0, minUs: 0, maxUs: 0 };
  const { g1: _g1, g2: _g2, ...p } = first;
  return p;
}

function emptyQueue(): QueueDepth {
  return {
    pendingRuns: 0,
    readyRuns: 0,
    delayedRuns: 0,
    runningRuns: 0,
    scheduledSteps: 0,
    readySteps: 0,
    delayedSteps: 0,
    waitingSteps: 0,
    runningSteps: 0,
    oldestReadyStepAvailableAtUs: null,
    oldestReadyStepAgeUs: 0,
    oldestPendingRunCreatedAtUs: null,
    oldestPendingRunAgeUs: 0,
  };
}

/** Throughput from the outcome counts over window `w`. */
function throughputOf(counts: OutcomeCount[], w: { startUs: number; endUs: number }): Throughput {
  const rows = counts.filter((r) => r.type === "WorkflowCompleted" || r.type === "StepCompleted");
  const windowUs = w.endUs - w.startUs;
  const sum = (slug: string | undefined, type: string) =>
    rows.filter((r) => r.type === type && (slug === undefined || r.slug === slug)).reduce((a, r) => a + r.n, 0);
  const runs = sum(undefined, "WorkflowCompleted");
  const steps = sum(undefined, "StepCompleted");
  const byWorkflow = [...new Set(rows.map((r) => r.slug))].sort(compareStrings).map((workflowSlug) => {
    const r = sum(workflowSlug, "WorkflowCompleted");
    const s = sum(workflowSlug, "StepCompleted");
    return {
      workflowSlug,
      runsCompleted: r,
      stepsCompleted: s,
      runsPerHour: perUnit(r, windowUs, 3_600_000_000),
      stepsPerHour: perUnit(s, windowUs, 3_600_000_000),
    };
  });
  return {
    windowUs,
    runsCompleted: runs,
    stepsCompleted: steps,
    runsPerHour: perUnit(runs, windowUs, 3_600_000_000),
    runsPerMinute: perUnit(runs, windowUs, 60_000_000),
    stepsPerHour: perUnit(steps, windowUs, 3_600_000_000),
    stepsPerMinute: perUnit(steps, windowUs, 60_000_000),
    byWorkflow,
  };
}

/** Success rates from the outcome counts. */
function successRateOf(counts: OutcomeCount[]): SuccessRate {
  const rows = counts.filter((r) => r.type !== "StepFailed" || r.terminal);
  const n = (slug: string | undefined, type: string) =>
    rows.filter((r) => r.type === type && (slug === undefined || r.slug === slug)).reduce((a, r) => a + r.n, 0);
  const runs = (slug?: string): RunOutcomes => {
    const completed = n(slug, "WorkflowCompleted"),
      failed = n(slug, "WorkflowFailed"),
      cancelled = n(slug, "WorkflowCancelled");
    const total = completed + failed + cancelled;
    return {
      completed,
      failed,
      cancelled,
      total,
      successRate: rateOf(completed, total),
      failureRate: rateOf(failed, total),
      cancellationRate: rateOf(cancelled, total),
    };
  };
  const steps = (slug?: string): StepOutcomes => {
    const completed = n(slug, "StepCompleted"),
      failed = n(slug, "StepFailed"),
      skipped = n(slug, "StepSkipped");
    const total = completed + failed + skipped;
    return {
      completed,
      failed,
      skipped,
      total,
      successRate: rateOf(completed, total),
      failureRate: rateOf(failed, total),
      skipRate: rateOf(skipped, total),
    };
  };
  const slugs = [...new Set(rows.filter((r) => r.n > 0).map((r) => r.slug))].sort(compareStrings);
  return {
    runs: runs(),
    steps: steps(),
    byWorkflow: slugs.map((workflowSlug) => ({ workflowSlug, runs: runs(workflowSlug), steps: steps(workflowSlug) })),
  };
}

type OutcomeCount = { slug: string; type: string; terminal: boolean; n: number };
type Distributions = Map<string, Array<{ g1: string; g2: string } & Percentiles>>;
type Kind = [string, string, "all" | "step" | "workflow"];
const STEP_KINDS: Kind[] = [
  ["all", "StepCompleted", "all"],
  ["failed", "StepFailed", "all"],
  ["step", "StepCompleted", "step"],
];
const WORKFLOW_KINDS: Kind[] = [
  ["wf-all", "WorkflowCompleted", "all"],
  ["wf-failed", "WorkflowFailed", "all"],
  ["wf", "WorkflowCompleted", "workflow"],
];

function stepDurationOf(d: Distributions): StepDuration {
  const byStep: StepPercentiles[] = (d.get("step") ?? [])
    .map(({ g1, g2, ...p }) => ({ workflowSlug: g1, stepId: g2, ...p }))
    .sort((a, b) => compareStrings(a.workflowSlug, b.workflowSlug) || compareStrings(a.stepId, b.stepId));
  return { overall: one(d.get("all")), failed: one(d.get("failed")), byStep };
}

function workflowDurationOf(d: Distributions): WorkflowDuration {
  const byWorkflow: WorkflowPercentiles[] = (d.get("wf") ?? [])
    .map(({ g1, g2: _g2, ...p }) => ({ workflowSlug: g1, ...p }))
    .sort((a, b) => compareStrings(a.workflowSlug, b.workflowSlug));
  return { overall: one(d.get("wf-all")), failed: one(d.get("wf-failed")), byWorkflow };
}
