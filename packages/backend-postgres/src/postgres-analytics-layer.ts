import {
  Backend, InvalidArgumentError, assertIds, computeErrorAnalysis, computeErrorDetail, computeErrorsList, computeRetryAnalysis, resolveWindow,
} from "@cairn/backend-interface";
import type {
  ActiveWorkersOptions, AnalyticsOptions, AnalyticsSummary, AnalyticsWindow, ErrorAnalysis, ErrorDetail, ErrorDetailOptions, ErrorsList, ErrorsListOptions,
  Event, EventType, GroupingStrategy, QueueDepth, QueueDepthByWorkflow, RetryAnalysis, SchedulingLatency, StepDuration, SuccessRate, Throughput,
  WorkerInfo, WorkerStability, WorkflowDuration,
} from "@cairn/backend-interface";
import type { EventRow } from "./postgres-analytics.js";
import type { PostgresAnalyticsSql } from "./postgres-analytics-sql.js";
import type { PostgresAttemptAnalytics } from "./postgres-analytics-attempts.js";

const FAILURES: EventType[] = ["StepFailed"];

/**
 * The analytics of the Postgres driver. Aggregated in SQL: throughput, success rate, step and run durations,
 * scheduling latency, worker stability, queue depth. The reference runs in JS over only the events it needs for the
 * rest: errors (StepFailed) and retries (the retried steps' events); logs, inputs and outputs never leave Postgres.
 * Active workers are aggregated in SQL too. Answers equal the reference's; the conformance suite compares.
 */
export abstract class PostgresAnalyticsLayer extends Backend {
  /** The SQL aggregates of this backend's schema. */
  protected abstract readonly analyticsSql: PostgresAnalyticsSql;
  /** The attempt-following aggregates of this backend's schema. */
  protected abstract readonly attemptAnalytics: PostgresAttemptAnalytics;
  /** Keeps the intact events of rows read (reporting damaged ones). */
  protected abstract intactRows(rows: EventRow[]): Event[];
  /** Events of the window whose type is one of `types`, in commit order. */
  protected abstract loadEventsOfTypes(window: AnalyticsWindow, types: EventType[]): Promise<Event[]>;

  private async typed(options: AnalyticsOptions | undefined, types: EventType[]): Promise<{ events: Event[]; o: AnalyticsOptions; nowUs: number }> {
    const o = validate(options);
    const nowUs = this.clock.nowUs();
    const w = resolveWindow(o, nowUs);
    const events = await this.loadEventsOfTypes({ ...w, ...(o.workflowSlug ? { workflowSlug: o.workflowSlug } : {}), ...(o.runIds ? { runIds: o.runIds } : {}) }, types);
    return { events, o, nowUs };
  }

  private sqlWindow(options: AnalyticsOptions | undefined): { o: AnalyticsOptions; w: { startUs: number; endUs: number } } {
    const o = validate(options);
    return { o, w: resolveWindow(o, this.clock.nowUs()) };
  }

  override async getErrorAnalysis(options?: AnalyticsOptions): Promise<ErrorAnalysis> {
    const { events, o, nowUs } = await this.typed(options, FAILURES);
    return computeErrorAnalysis(events, o, nowUs);
  }

  override async getErrorsList(options: ErrorsListOptions = {}): Promise<ErrorsList> {
    const window = options.timeRange ? { startUs: options.timeRange.start, endUs: options.timeRange.end } : {};
    const { events, nowUs } = await this.typed({ ...window, ...(options.workflowSlug ? { workflowSlug: options.workflowSlug } : {}) }, FAILURES);
    return computeErrorsList(events, options, nowUs);
  }

  override async getErrorDetail(fingerprint: string, groupingStrategy: GroupingStrategy, options: ErrorDetailOptions = {}): Promise<ErrorDetail> {
    if (!["exact", "normalized", "portable"].includes(groupingStrategy)) throw new InvalidArgumentError(`Unknown grouping strategy ${JSON.stringify(groupingStrategy)}; use exact, normalized or portable.`);
    const window = options.timeRange ? { startUs: options.timeRange.start, endUs: options.timeRange.end } : {};
    const { events, nowUs } = await this.typed(window, FAILURES);
    return computeErrorDetail(events, fingerprint, groupingStrategy, options, nowUs);
  }

  override async getRetryAnalysis(options?: AnalyticsOptions): Promise<RetryAnalysis> {
    const { o, w } = this.sqlWindow(options);
    return computeRetryAnalysis(await this.attemptAnalytics.retryEvents(w, o, (rows) => this.intactRows(rows)), o, this.clock.nowUs());
  }

  override async getSchedulingLatency(options?: AnalyticsOptions): Promise<SchedulingLatency> {
    const { o, w } = this.sqlWindow(options);
    return this.attemptAnalytics.schedulingLatency(w, o);
  }

  override async getWorkerStability(options?: AnalyticsOptions): Promise<WorkerStability> {
    const { o, w } = this.sqlWindow(options);
    return this.attemptAnalytics.workerStability(w, o);
  }

  override async getStepDuration(options?: AnalyticsOptions): Promise<StepDuration> {
    const { o, w } = this.sqlWindow(options);
    return this.analyticsSql.stepDuration(w, o);
  }

  override async getWorkflowDuration(options?: AnalyticsOptions): Promise<WorkflowDuration> {
    const { o, w } = this.sqlWindow(options);
    return this.analyticsSql.workflowDuration(w, o);
  }

  override async getThroughput(options?: AnalyticsOptions): Promise<Throughput> {
    const { o, w } = this.sqlWindow(options);
    return this.analyticsSql.throughput(w, o);
  }

  override async getSuccessRate(options?: AnalyticsOptions): Promise<SuccessRate> {
    const { o, w } = this.sqlWindow(options);
    return this.analyticsSql.successRate(w, o);
  }

  override async getQueueDepth(options: Pick<AnalyticsOptions, "workflowSlug"> = {}): Promise<QueueDepth> {
    if (options.workflowSlug !== undefined) assertIds({ workflowSlug: options.workflowSlug });
    return this.analyticsSql.queueDepth(options.workflowSlug, this.clock.nowUs());
  }

  override async getQueueDepthByWorkflow(): Promise<QueueDepthByWorkflow> {
    return this.analyticsSql.queueDepthByWorkflow(this.clock.nowUs());
  }

  override async getAnalyticsSummary(options?: AnalyticsOptions): Promise<AnalyticsSummary> {
    const { events: failures, o, nowUs } = await this.typed(options, FAILURES);
    const w = resolveWindow(o, nowUs);
    const a = this.analyticsSql;
    const b = this.attemptAnalytics;
    const [successRate, throughput, stepDuration, workflowDuration, schedulingLatency, retryEvents, workerStability, queueDepth] = await Promise.all([
      a.successRate(w, o), a.throughput(w, o), a.stepDuration(w, o), a.workflowDuration(w, o), b.schedulingLatency(w, o),
      b.retryEvents(w, o, (rows) => this.intactRows(rows)), b.workerStability(w, o), a.queueDepth(o.workflowSlug, nowUs),
    ]);
    return {
      window: w, successRate, throughput, stepDuration, workflowDuration, schedulingLatency, retryAnalysis: computeRetryAnalysis(retryEvents, o, nowUs),
      errorAnalysis: computeErrorAnalysis(failures, o, nowUs), workerStability, queueDepth,
    };
  }

  override async getActiveWorkers(options: ActiveWorkersOptions = {}): Promise<WorkerInfo[]> {
    const nowUs = this.clock.nowUs();
    return this.attemptAnalytics.activeWorkers(resolveWindow({}, nowUs), nowUs, options);
  }

  override async getWorkerById(workerId: string): Promise<WorkerInfo | null> {
    if (typeof workerId !== "string" || workerId.length === 0) throw new InvalidArgumentError("workerId must be a non-empty string.");
    const nowUs = this.clock.nowUs();
    return (await this.attemptAnalytics.activeWorkers(resolveWindow({}, nowUs), nowUs, { includeInactive: true }, workerId))[0] ?? null;
  }
}

/** The reference layer's option checks (same errors for the same bad input). */
function validate(options: AnalyticsOptions | undefined): AnalyticsOptions {
  const o = options ?? {};
  assertIds({ workflowSlug: o.workflowSlug, stepId: o.stepId });
  for (const id of o.runIds ?? []) assertIds({ runId: id });
  for (const k of ["startUs", "endUs"] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isFinite(v) || v < 0)) throw new InvalidArgumentError(`${k} must be a non-negative number of µs, got ${v}.`);
  }
  if (o.startUs !== undefined && o.endUs !== undefined && o.startUs > o.endUs) throw new InvalidArgumentError("startUs must not be after endUs.");
  return o;
}
