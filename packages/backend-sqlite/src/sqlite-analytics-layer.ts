import { AsyncLocalStorage } from "node:async_hooks";
import {
  assertIds, Backend,
  type ActiveWorkersOptions, type AnalyticsOptions, type AnalyticsSummary, type ErrorAnalysis, type ErrorDetail, type ErrorDetailOptions,
  type ErrorsList, type ErrorsListOptions, type EventType, type GroupingStrategy, type QueueDepth, type QueueDepthByWorkflow,
  type RetryAnalysis, type SchedulingLatency, type StepDuration, type SuccessRate, type Throughput, type WorkerInfo, type WorkerStability,
  type WorkflowDuration,
} from "@cairn/backend-interface";

/**
 * The event types each reference analytics function reads (every one of them starts from `ofType(selected, ...)`
 * over these). Loading only these types from the timestamp index gives the reference exactly the answer it would
 * compute over the whole window, without reading heartbeats, logs, checkpoints or inputs it never looks at.
 */
export const ANALYTICS_EVENT_TYPES = {
  errorAnalysis: ["StepFailed"],
  errors: ["StepFailed"],
  retryAnalysis: ["StepScheduled", "StepCompleted", "StepFailed"],
  schedulingLatency: ["StepScheduled", "StepStarted"],
  stepDuration: ["StepCompleted", "StepFailed"],
  workflowDuration: ["WorkflowCompleted", "WorkflowFailed"],
  workerStability: ["StepStarted", "StepHeartbeat", "StepReclaimed", "StepFailed", "StepCompleted"],
  throughput: ["WorkflowCompleted", "StepCompleted"],
  successRate: ["WorkflowCompleted", "WorkflowFailed", "WorkflowCancelled", "StepCompleted", "StepFailed", "StepSkipped"],
  workers: ["StepStarted", "StepHeartbeat", "StepCompleted", "StepFailed", "StepSkipped", "StepReclaimed", "WorkflowCompleted", "WorkflowFailed", "WorkflowCancelled"],
} as const satisfies Record<string, readonly EventType[]>;

const SUMMARY_TYPES: readonly EventType[] = [...new Set([
  ...ANALYTICS_EVENT_TYPES.successRate, ...ANALYTICS_EVENT_TYPES.throughput, ...ANALYTICS_EVENT_TYPES.stepDuration,
  ...ANALYTICS_EVENT_TYPES.workflowDuration, ...ANALYTICS_EVENT_TYPES.schedulingLatency, ...ANALYTICS_EVENT_TYPES.retryAnalysis,
  ...ANALYTICS_EVENT_TYPES.errorAnalysis, ...ANALYTICS_EVENT_TYPES.workerStability,
])];

/**
 * The analytics layer of the SQLite driver, between Backend and SqliteBackend. Windowed queries keep the reference
 * implementation (so answers are identical by construction) but tell `loadAnalyticsEvents` which event types the
 * query reads, through an AsyncLocalStorage so concurrent queries never mix; the queue snapshot is aggregated in SQL.
 */
export abstract class SqliteAnalyticsLayer extends Backend {
  private readonly analyticsTypes = new AsyncLocalStorage<readonly EventType[]>();

  /** The event types the analytics query in progress reads; undefined outside one (then load every type). */
  protected currentAnalyticsTypes(): readonly EventType[] | undefined {
    return this.analyticsTypes.getStore();
  }

  /** Queue snapshot counted in SQL over the partial indexes of live runs and steps (equals computeQueueDepth). */
  protected abstract queryQueueDepth(workflowSlug: string | undefined, nowUs: number): Promise<QueueDepth>;
  /** Queue snapshot per workflow with a live run, counted in SQL (equals computeQueueDepthByWorkflow). */
  protected abstract queryQueueDepthByWorkflow(nowUs: number): Promise<QueueDepthByWorkflow>;

  private typed<T>(types: readonly EventType[], fn: () => Promise<T>): Promise<T> {
    return this.analyticsTypes.run(types, fn);
  }

  /** Real-time queue snapshot, counted in SQL. */
  override async getQueueDepth(options: Pick<AnalyticsOptions, "workflowSlug"> = {}): Promise<QueueDepth> {
    if (options.workflowSlug !== undefined) assertIds({ workflowSlug: options.workflowSlug });
    return this.queryQueueDepth(options.workflowSlug, this.clock.nowUs());
  }

  /** The queue snapshot per workflow, counted in SQL. */
  override async getQueueDepthByWorkflow(): Promise<QueueDepthByWorkflow> {
    return this.queryQueueDepthByWorkflow(this.clock.nowUs());
  }

  /** Failure patterns (reference implementation over the window's StepFailed events). */
  override getErrorAnalysis(options?: AnalyticsOptions): Promise<ErrorAnalysis> {
    return this.typed(ANALYTICS_EVENT_TYPES.errorAnalysis, () => super.getErrorAnalysis(options));
  }

  /** Errors grouped by fingerprint (reference implementation over the window's StepFailed events). */
  override getErrorsList(options?: ErrorsListOptions): Promise<ErrorsList> {
    return this.typed(ANALYTICS_EVENT_TYPES.errors, () => super.getErrorsList(options));
  }

  /** Every occurrence of one fingerprint (reference implementation over the window's StepFailed events). */
  override getErrorDetail(fingerprint: string, groupingStrategy: GroupingStrategy, options?: ErrorDetailOptions): Promise<ErrorDetail> {
    return this.typed(ANALYTICS_EVENT_TYPES.errors, () => super.getErrorDetail(fingerprint, groupingStrategy, options));
  }

  /** Retry patterns (reference implementation). */
  override getRetryAnalysis(options?: AnalyticsOptions): Promise<RetryAnalysis> {
    return this.typed(ANALYTICS_EVENT_TYPES.retryAnalysis, () => super.getRetryAnalysis(options));
  }

  /** Scheduling latency (reference implementation). */
  override getSchedulingLatency(options?: AnalyticsOptions): Promise<SchedulingLatency> {
    return this.typed(ANALYTICS_EVENT_TYPES.schedulingLatency, () => super.getSchedulingLatency(options));
  }

  /** Step durations (reference implementation). */
  override getStepDuration(options?: AnalyticsOptions): Promise<StepDuration> {
    return this.typed(ANALYTICS_EVENT_TYPES.stepDuration, () => super.getStepDuration(options));
  }

  /** Run durations (reference implementation). */
  override getWorkflowDuration(options?: AnalyticsOptions): Promise<WorkflowDuration> {
    return this.typed(ANALYTICS_EVENT_TYPES.workflowDuration, () => super.getWorkflowDuration(options));
  }

  /** Worker stability (reference implementation). */
  override getWorkerStability(options?: AnalyticsOptions): Promise<WorkerStability> {
    return this.typed(ANALYTICS_EVENT_TYPES.workerStability, () => super.getWorkerStability(options));
  }

  /** Throughput (reference implementation). */
  override getThroughput(options?: AnalyticsOptions): Promise<Throughput> {
    return this.typed(ANALYTICS_EVENT_TYPES.throughput, () => super.getThroughput(options));
  }

  /** Success rates (reference implementation). */
  override getSuccessRate(options?: AnalyticsOptions): Promise<SuccessRate> {
    return this.typed(ANALYTICS_EVENT_TYPES.successRate, () => super.getSuccessRate(options));
  }

  /** Every windowed query plus the SQL queue snapshot, from one load of the types they read. */
  override getAnalyticsSummary(options?: AnalyticsOptions): Promise<AnalyticsSummary> {
    return this.typed(SUMMARY_TYPES, () => super.getAnalyticsSummary(options));
  }

  /** Workers seen in the last 24 h (reference implementation). */
  override getActiveWorkers(options?: ActiveWorkersOptions): Promise<WorkerInfo[]> {
    return this.typed(ANALYTICS_EVENT_TYPES.workers, () => super.getActiveWorkers(options));
  }

  /** One worker's record (reference implementation). */
  override getWorkerById(workerId: string): Promise<WorkerInfo | null> {
    return this.typed(ANALYTICS_EVENT_TYPES.workers, () => super.getWorkerById(workerId));
  }
}
