import {
  computeErrorAnalysis,
  computeRetryAnalysis,
  type AnalyticsFastPaths,
  type AnalyticsSummary,
  type ErrorAnalysis,
  type Event,
  type QueueDepth,
  type QueueDepthByWorkflow,
  type ResolvedAnalyticsQuery,
  type RetryAnalysis,
  type SchedulingLatency,
  type StepDuration,
  type SuccessRate,
  type Throughput,
  type WorkerStability,
  type WorkflowDuration,
  type CallAnalytics,
  type CounterAnalytics,
  type UsageAnalytics,
} from "@cairn/backend-interface";
import { F, type FactRow, type FactSelection, type SqliteFacts } from "./sqlite-facts.js";
import type { SqliteAnalytics } from "./sqlite-analytics.js";
import type { SqliteCallAnalytics } from "./sqlite-call-analytics.js";
import { successRateFrom, throughputFrom } from "./sqlite-facts-compute.js";
import { outcomesSql, schedulingLatencySql, workerStabilitySql } from "./sqlite-facts-sql.js";

const OUTCOME_TYPES = [
  "WorkflowCompleted",
  "WorkflowFailed",
  "WorkflowCancelled",
  "StepCompleted",
  "StepFailed",
  "StepSkipped",
];

/**
 * The SQLite driver's analytics fast paths (options arrive validated and resolved): windowed queries are computed
 * from the event_facts table (one range scan per event type of a narrow, type-and-time-clustered table; counts in
 * SQL, percentiles finished with the reference's own helpers), the queue snapshot is counted in SQL. Error lists and
 * active workers keep the reference over typed event loads (loadAnalyticsEvents honours the window's `types`).
 */
export class SqliteAnalyticsPaths implements AnalyticsFastPaths {
  /**
   * @param readFacts runs a function over the analytics facts in one read transaction
   * @param readAnalytics runs a function over the live-state queries in one read transaction
   * @param readCalls runs a function over the call analytics in one read transaction
   */
  constructor(
    private readonly readFacts: <T>(fn: (facts: SqliteFacts) => T) => Promise<T>,
    private readonly readAnalytics: <T>(fn: (analytics: SqliteAnalytics) => T) => Promise<T>,
    private readonly readCalls: <T>(fn: (calls: SqliteCallAnalytics) => T) => Promise<T>,
  ) {}

  /** Calls per tool and operation, in SQL. */
  callAnalytics(q: ResolvedAnalyticsQuery): Promise<CallAnalytics> {
    return this.readCalls((c) => c.calls(q));
  }

  /** AI usage per workflow and model, in SQL. */
  usageAnalytics(q: ResolvedAnalyticsQuery): Promise<UsageAnalytics> {
    return this.readCalls((c) => c.usage(q));
  }

  /** Counters per workflow, in SQL over the runs' state. */
  counterAnalytics(q: ResolvedAnalyticsQuery): Promise<CounterAnalytics> {
    return this.readCalls((c) => c.counters(q));
  }

  /** Real-time queue snapshot, counted in SQL. */
  queueDepth(workflowSlug: string | undefined, nowUs: number): Promise<QueueDepth> {
    return this.readAnalytics((a) => a.queueDepth(workflowSlug, nowUs));
  }

  /** The queue snapshot per workflow, counted in SQL. */
  queueDepthByWorkflow(nowUs: number): Promise<QueueDepthByWorkflow> {
    return this.readAnalytics((a) => a.queueDepthByWorkflow(nowUs));
  }

  /** Success and failure rates: outcome counts grouped in SQL. */
  async successRate(q: ResolvedAnalyticsQuery): Promise<SuccessRate> {
    return successRateFrom(await this.readFacts((f) => f.counts(q, OUTCOME_TYPES)));
  }

  /** Completions per unit of time: counts grouped in SQL. */
  async throughput(q: ResolvedAnalyticsQuery): Promise<Throughput> {
    return throughputFrom(
      await this.readFacts((f) => f.counts(q, ["WorkflowCompleted", "StepCompleted"])),
      q.endUs - q.startUs,
    );
  }

  /** Step durations from the facts' duration column. */
  async stepDuration(q: ResolvedAnalyticsQuery): Promise<StepDuration> {
    return (await this.readFacts((f) => outcomesSql(f, q))).stepDuration;
  }

  /** Run durations from the facts' duration column. */
  async workflowDuration(q: ResolvedAnalyticsQuery): Promise<WorkflowDuration> {
    return (await this.readFacts((f) => outcomesSql(f, q))).workflowDuration;
  }

  /** Scheduling latency: StepStarted paired with its attempt's StepScheduled facts. */
  schedulingLatency(q: ResolvedAnalyticsQuery): Promise<SchedulingLatency> {
    return this.readFacts((f) => schedulingLatencySql(f, q));
  }

  /** Worker stability from the facts of starts, heartbeats, reclaims and outcomes. */
  workerStability(q: ResolvedAnalyticsQuery): Promise<WorkerStability> {
    return this.readFacts((f) => workerStabilitySql(f, q));
  }

  /** Retry patterns: the reference over the retries and the outcomes of retried steps only. */
  retryAnalysis(q: ResolvedAnalyticsQuery): Promise<RetryAnalysis> {
    return this.readFacts((f) => retryAnalysisSql(f, q));
  }

  /** Failure patterns: the reference over the window's StepFailed events. */
  errorAnalysis(q: ResolvedAnalyticsQuery): Promise<ErrorAnalysis> {
    return this.readFacts((f) => errorAnalysisSql(f, q));
  }

  /** Every windowed query from the facts in one read transaction (one snapshot), then the queue snapshot. */
  async analyticsSummary(q: ResolvedAnalyticsQuery): Promise<AnalyticsSummary> {
    const parts = await this.readFacts((f) => {
      const { counts, stepDuration, workflowDuration } = outcomesSql(f, q);
      return {
        successRate: successRateFrom(counts),
        throughput: throughputFrom(counts, q.endUs - q.startUs),
        stepDuration,
        workflowDuration,
        schedulingLatency: schedulingLatencySql(f, q),
        retryAnalysis: retryAnalysisSql(f, q),
        errorAnalysis: errorAnalysisSql(f, q),
        workerStability: workerStabilitySql(f, q),
      };
    });
    return {
      window: { startUs: q.startUs, endUs: q.endUs },
      ...parts,
      queueDepth: await this.queueDepth(q.workflowSlug, q.nowUs),
    };
  }
}

/** The reference's error analysis over the selection's StepFailed events (read in full: messages are not facts). */
function errorAnalysisSql(f: SqliteFacts, sel: FactSelection): ErrorAnalysis {
  return computeErrorAnalysis(f.eventsOf(f.rows(sel, ["StepFailed"])), sel, sel.endUs);
}

/** The retries of the selection and the completions / terminal failures of the runs they belong to. */
function retryAnalysisSql(f: SqliteFacts, sel: FactSelection): RetryAnalysis {
  const retries = f.rows(sel, ["StepScheduled"], "flag = 1");
  const runs = [...new Set(retries.map((r) => r[F.run]))];
  const outcomes =
    runs.length === 0
      ? []
      : f.rows(
          sel,
          ["StepCompleted", "StepFailed"],
          "(type = 'StepCompleted' OR flag = 1) AND run_id IN (SELECT value FROM json_each(?))",
          [JSON.stringify(runs)],
        );
  return retryAnalysisFrom([...retries, ...outcomes], sel);
}

/** The reference's retry analysis over the retries and the completions / terminal failures of retried steps, rebuilt as minimal events. */
function retryAnalysisFrom(rows: readonly FactRow[], sel: FactSelection): RetryAnalysis {
  const step = (r: FactRow) => `${r[F.run]}\u0000${r[F.step] ?? ""}`;
  const retries = rows.filter((r) => r[F.type] === "StepScheduled" && r[F.flag] === 1);
  const retried = new Set(retries.map(step));
  const outcomes = rows.filter(
    (r) => (r[F.type] === "StepCompleted" || (r[F.type] === "StepFailed" && r[F.flag] === 1)) && retried.has(step(r)),
  );
  const events = [...retries, ...outcomes].map((r) => ({
    eventId: r[F.eventId],
    timestampUs: r[F.ts],
    workflowSlug: r[F.slug],
    runId: r[F.run],
    category: "step",
    stepId: r[F.step] ?? "",
    type: r[F.type],
    attemptNumber: r[F.attempt] ?? 0,
    ...(r[F.type] === "StepScheduled" ? { reason: "retry" } : {}),
    ...(r[F.type] === "StepFailed" ? { terminal: true } : {}),
  })) as unknown as Event[];
  return computeRetryAnalysis(events, sel, sel.endUs);
}
