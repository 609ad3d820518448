import { computeRetryAnalysis } from "@cairn/backend-interface";
import type {
  ActiveWorkersOptions,
  AnalyticsFastPaths,
  Event,
  QueueDepth,
  QueueDepthByWorkflow,
  ResolvedAnalyticsQuery,
  RetryAnalysis,
  SchedulingLatency,
  StepDuration,
  SuccessRate,
  Throughput,
  WorkerInfo,
  WorkerStability,
  WorkflowDuration,
  CallAnalytics,
  CounterAnalytics,
  UsageAnalytics,
} from "@cairn/backend-interface";
import type { EventRow } from "./postgres-analytics.js";
import type { PostgresAnalyticsSql } from "./postgres-analytics-sql.js";
import { PostgresAttemptAnalytics } from "./postgres-analytics-attempts.js";
import { PostgresCallAnalytics } from "./postgres-call-analytics.js";
import type { PostgresConnection } from "./postgres-connection.js";

/**
 * The Postgres driver's analytics fast paths; queries arrive validated and resolved. Aggregated in SQL: throughput,
 * success rate, step and run durations, scheduling latency, worker stability, queue depth, active workers. The
 * reference runs in JS over only the events it needs for the rest: errors (over StepFailed events, loaded by type)
 * and retries (the retried steps' events); logs, inputs and outputs never leave Postgres. The summary is composed of
 * the parts by the Backend, concurrently. Answers equal the reference's; the conformance suite compares.
 */
export class PostgresAnalyticsPaths implements AnalyticsFastPaths {
  private readonly attemptAnalytics: PostgresAttemptAnalytics;
  private readonly callSql: PostgresCallAnalytics;

  /**
   * @param analyticsSql the SQL aggregates of the deployment's schema
   * @param intactRows keeps the intact events of rows read (reporting damaged ones)
   */
  constructor(
    private readonly analyticsSql: PostgresAnalyticsSql,
    conn: PostgresConnection,
    quotedSchema: string,
    private readonly intactRows: (rows: EventRow[]) => Event[],
  ) {
    this.attemptAnalytics = new PostgresAttemptAnalytics(conn, quotedSchema, analyticsSql);
    this.callSql = new PostgresCallAnalytics(conn, quotedSchema, analyticsSql.workMem);
  }

  /** Calls per tool and operation, in SQL. */
  callAnalytics(q: ResolvedAnalyticsQuery): Promise<CallAnalytics> {
    return this.callSql.calls(q);
  }

  /** AI usage per workflow and model, in SQL. */
  usageAnalytics(q: ResolvedAnalyticsQuery): Promise<UsageAnalytics> {
    return this.callSql.usage(q);
  }

  /** Counters per workflow, in SQL over the runs' state. */
  counterAnalytics(q: ResolvedAnalyticsQuery): Promise<CounterAnalytics> {
    return this.callSql.counters(q);
  }

  /** The reference's retry analysis over the retried steps' events only. */
  async retryAnalysis(q: ResolvedAnalyticsQuery): Promise<RetryAnalysis> {
    return computeRetryAnalysis(await this.attemptAnalytics.retryEvents(q, q, this.intactRows), q, q.nowUs);
  }

  /** Scheduling latency in SQL. */
  schedulingLatency(q: ResolvedAnalyticsQuery): Promise<SchedulingLatency> {
    return this.attemptAnalytics.schedulingLatency(q, q);
  }

  /** Worker stability in SQL. */
  workerStability(q: ResolvedAnalyticsQuery): Promise<WorkerStability> {
    return this.attemptAnalytics.workerStability(q, q);
  }

  /** Step durations in SQL. */
  stepDuration(q: ResolvedAnalyticsQuery): Promise<StepDuration> {
    return this.analyticsSql.stepDuration(q, q);
  }

  /** Run durations in SQL. */
  workflowDuration(q: ResolvedAnalyticsQuery): Promise<WorkflowDuration> {
    return this.analyticsSql.workflowDuration(q, q);
  }

  /** Throughput in SQL. */
  throughput(q: ResolvedAnalyticsQuery): Promise<Throughput> {
    return this.analyticsSql.throughput(q, q);
  }

  /** Success rates in SQL. */
  successRate(q: ResolvedAnalyticsQuery): Promise<SuccessRate> {
    return this.analyticsSql.successRate(q, q);
  }

  /** The queue snapshot from the live rows only. */
  queueDepth(workflowSlug: string | undefined, nowUs: number): Promise<QueueDepth> {
    return this.analyticsSql.queueDepth(workflowSlug, nowUs);
  }

  /** The queue snapshot per workflow from the live rows only. */
  queueDepthByWorkflow(nowUs: number): Promise<QueueDepthByWorkflow> {
    return this.analyticsSql.queueDepthByWorkflow(nowUs);
  }

  /** Active workers in SQL (the stale threshold checked there, as the reference does). */
  activeWorkers(q: ResolvedAnalyticsQuery, options: ActiveWorkersOptions): Promise<WorkerInfo[]> {
    return this.attemptAnalytics.activeWorkers(q, q.nowUs, options);
  }

  /** One worker's record in SQL. */
  async workerById(q: ResolvedAnalyticsQuery, workerId: string): Promise<WorkerInfo | null> {
    return (await this.attemptAnalytics.activeWorkers(q, q.nowUs, { includeInactive: true }, workerId))[0] ?? null;
  }
}
