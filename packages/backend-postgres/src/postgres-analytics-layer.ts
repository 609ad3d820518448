import { Backend, computeRetryAnalysis } from "@cairn/backend-interface";
import type {
  ActiveWorkersOptions, AnalyticsSummary, Event, QueueDepth, QueueDepthByWorkflow, ResolvedAnalyticsQuery, RetryAnalysis, SchedulingLatency,
  StepDuration, SuccessRate, Throughput, WorkerInfo, WorkerStability, WorkflowDuration,
} from "@cairn/backend-interface";
import type { EventRow } from "./postgres-analytics.js";
import type { PostgresAnalyticsSql } from "./postgres-analytics-sql.js";
import type { PostgresAttemptAnalytics } from "./postgres-analytics-attempts.js";

/**
 * The analytics of the Postgres driver: overrides of the base class's per-query hooks, which receive the options
 * validated and resolved. Aggregated in SQL: throughput, success rate, step and run durations, scheduling latency,
 * worker stability, queue depth, active workers. The reference runs in JS over only the events it needs for the
 * rest: errors (the base class's hooks over StepFailed events, loaded by type) and retries (the retried steps'
 * events); logs, inputs and outputs never leave Postgres. Answers equal the reference's; the conformance suite compares.
 */
export abstract class PostgresAnalyticsLayer extends Backend {
  /** The SQL aggregates of this backend's schema. */
  protected abstract readonly analyticsSql: PostgresAnalyticsSql;
  /** The attempt-following aggregates of this backend's schema. */
  protected abstract readonly attemptAnalytics: PostgresAttemptAnalytics;
  /** Keeps the intact events of rows read (reporting damaged ones). */
  protected abstract intactRows(rows: EventRow[]): Event[];

  /** The reference's retry analysis over the retried steps' events only. */
  protected override async computeRetryAnalysis(q: ResolvedAnalyticsQuery): Promise<RetryAnalysis> {
    return computeRetryAnalysis(await this.attemptAnalytics.retryEvents(q, q, (rows) => this.intactRows(rows)), q, q.nowUs);
  }

  /** Scheduling latency in SQL. */
  protected override computeSchedulingLatency(q: ResolvedAnalyticsQuery): Promise<SchedulingLatency> {
    return this.attemptAnalytics.schedulingLatency(q, q);
  }

  /** Worker stability in SQL. */
  protected override computeWorkerStability(q: ResolvedAnalyticsQuery): Promise<WorkerStability> {
    return this.attemptAnalytics.workerStability(q, q);
  }

  /** Step durations in SQL. */
  protected override computeStepDuration(q: ResolvedAnalyticsQuery): Promise<StepDuration> {
    return this.analyticsSql.stepDuration(q, q);
  }

  /** Run durations in SQL. */
  protected override computeWorkflowDuration(q: ResolvedAnalyticsQuery): Promise<WorkflowDuration> {
    return this.analyticsSql.workflowDuration(q, q);
  }

  /** Throughput in SQL. */
  protected override computeThroughput(q: ResolvedAnalyticsQuery): Promise<Throughput> {
    return this.analyticsSql.throughput(q, q);
  }

  /** Success rates in SQL. */
  protected override computeSuccessRate(q: ResolvedAnalyticsQuery): Promise<SuccessRate> {
    return this.analyticsSql.successRate(q, q);
  }

  /** The queue snapshot from the live rows only. */
  protected override computeQueueDepth(workflowSlug: string | undefined, nowUs: number): Promise<QueueDepth> {
    return this.analyticsSql.queueDepth(workflowSlug, nowUs);
  }

  /** The queue snapshot per workflow from the live rows only. */
  protected override computeQueueDepthByWorkflow(nowUs: number): Promise<QueueDepthByWorkflow> {
    return this.analyticsSql.queueDepthByWorkflow(nowUs);
  }

  /** Every part concurrently, each on its own pooled connection; success rate and throughput share one count, step and run durations one statement. */
  protected override async computeAnalyticsSummary(q: ResolvedAnalyticsQuery): Promise<AnalyticsSummary> {
    const [outcomes, durations, schedulingLatency, retryAnalysis, errorAnalysis, workerStability, queueDepth] = await Promise.all([
      this.analyticsSql.outcomes(q, q), this.analyticsSql.durations(q, q), this.computeSchedulingLatency(q), this.computeRetryAnalysis(q),
      this.computeErrorAnalysis(q), this.computeWorkerStability(q), this.computeQueueDepth(q.workflowSlug, q.nowUs),
    ]);
    return { window: { startUs: q.startUs, endUs: q.endUs }, ...outcomes, ...durations, schedulingLatency, retryAnalysis, errorAnalysis, workerStability, queueDepth };
  }

  /** Active workers in SQL (the stale threshold checked there, as the reference does). */
  protected override computeActiveWorkers(q: ResolvedAnalyticsQuery, options: ActiveWorkersOptions): Promise<WorkerInfo[]> {
    return this.attemptAnalytics.activeWorkers(q, q.nowUs, options);
  }

  /** One worker's record in SQL. */
  protected override async computeWorkerById(q: ResolvedAnalyticsQuery, workerId: string): Promise<WorkerInfo | null> {
    return (await this.attemptAnalytics.activeWorkers(q, q.nowUs, { includeInactive: true }, workerId))[0] ?? null;
  }
}
