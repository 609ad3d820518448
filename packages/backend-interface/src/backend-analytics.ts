import { BackendBase } from "./backend-base.js";
import type { BackendDriver } from "./backend-driver.js";
import type { Event, EventType } from "./events.js";
import * as ref from "./analytics/index.js";
import type {
  ActiveWorkersOptions,
  AnalyticsOptions,
  AnalyticsSummary,
  ErrorAnalysis,
  ErrorDetail,
  ErrorDetailOptions,
  ErrorsList,
  ErrorsListOptions,
  GroupingStrategy,
  LiveState,
  QueueDepth,
  QueueDepthByWorkflow,
  RetryAnalysis,
  SchedulingLatency,
  StepDuration,
  SuccessRate,
  Throughput,
  WorkerInfo,
  WorkerStability,
  WorkflowDuration,
} from "./analytics/index.js";
import { ANALYTICS_EVENT_TYPES as TYPES } from "./analytics/event-types.js";
import { assertIds } from "./identifiers.js";
import { InvalidArgumentError } from "./errors.js";
import type { AnalyticsFastPaths } from "./backend-driver.js";

/**
 * The event selection an analytics query reads: events with timestamps in [startUs, endUs], optionally of one
 * workflow, some runs and (step events only) one step. `stepId` and `types` are hints a loader may use to read less:
 * the reference selects again, so a loader may return more than asked, never less.
 */
export interface AnalyticsWindow {
  startUs: number;
  endUs: number;
  workflowSlug?: string;
  runIds?: string[];
  /** Only step events of this step; workflow events pass. */
  stepId?: string;
  /** The only event types the query reads; absent = every type. */
  types?: readonly EventType[];
}

/**
 * A validated windowed query, resolved once by the public method: concrete inclusive bounds, the filters, and the
 * `nowUs` it was resolved at. It is itself valid AnalyticsOptions for the reference functions (same selection).
 */
export interface ResolvedAnalyticsQuery {
  startUs: number;
  endUs: number;
  workflowSlug?: string;
  runIds?: string[];
  stepId?: string;
  nowUs: number;
}

/** Checks analytics options (ids, non-negative finite bounds, start not after end) and returns them; throws InvalidArgumentError. */
export function validateAnalyticsOptions(options: AnalyticsOptions | undefined): AnalyticsOptions {
  const o = options ?? {};
  assertIds({ workflowSlug: o.workflowSlug, stepId: o.stepId });
  for (const id of o.runIds ?? []) assertIds({ runId: id });
  for (const k of ["startUs", "endUs"] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isFinite(v) || v < 0))
      throw new InvalidArgumentError(`${k} must be a non-negative number of µs, got ${v}.`);
  }
  if (o.startUs !== undefined && o.endUs !== undefined && o.startUs > o.endUs)
    throw new InvalidArgumentError("startUs must not be after endUs.");
  return o;
}

/** Validates `options` and resolves its window at `nowUs` (default window: the 24 h up to now). */
export function resolveAnalyticsQuery(options: AnalyticsOptions | undefined, nowUs: number): ResolvedAnalyticsQuery {
  const o = validateAnalyticsOptions(options);
  const w = ref.resolveWindow(o, nowUs);
  return {
    ...w,
    nowUs,
    ...(o.workflowSlug ? { workflowSlug: o.workflowSlug } : {}),
    ...(o.runIds ? { runIds: o.runIds } : {}),
    ...(o.stepId !== undefined ? { stepId: o.stepId } : {}),
  };
}

/**
 * The analytics layer of Backend. Each public method validates its options and resolves the window exactly once,
 * then calls a hook with the resolved query. A hook answers through the driver's fast path when it has one
 * (`driver.analytics`), else with the pure reference implementation over `loadAnalyticsEvents` (only the event
 * types the query reads) or `loadLiveState`. The conformance suite checks fast paths against the reference.
 */
export abstract class BackendAnalytics<D extends BackendDriver = BackendDriver> extends BackendBase<D> {
  /** The events of `q`'s window of the given types (a hint to the loader). */
  protected eventsFor(q: ResolvedAnalyticsQuery, types: readonly EventType[]): Promise<Event[]> {
    const { nowUs: _nowUs, ...window } = q;
    return this.store.loadAnalyticsEvents({ ...window, types });
  }

  private resolve(options: AnalyticsOptions | undefined): ResolvedAnalyticsQuery {
    return resolveAnalyticsQuery(options, this.clock.nowUs());
  }

  /** The driver's analytics fast paths (none when it has no query language of its own). */
  private get fast(): AnalyticsFastPaths {
    return this.store.analytics ?? {};
  }

  // ─── Public queries: validate and resolve once, then the hook ───────────────────────────────────

  /** Failure patterns: counts by error, step and reason. */
  async getErrorAnalysis(options?: AnalyticsOptions): Promise<ErrorAnalysis> {
    return this.computeErrorAnalysis(this.resolve(options));
  }

  /** Errors grouped by fingerprint under a strategy, paginated. */
  async getErrorsList(options: ErrorsListOptions = {}): Promise<ErrorsList> {
    const window = options.timeRange ? { startUs: options.timeRange.start, endUs: options.timeRange.end } : {};
    return this.computeErrorsList(
      this.resolve({ ...window, ...(options.workflowSlug ? { workflowSlug: options.workflowSlug } : {}) }),
      options,
    );
  }

  /** Every occurrence of one fingerprint. */
  async getErrorDetail(
    fingerprint: string,
    groupingStrategy: GroupingStrategy,
    options: ErrorDetailOptions = {},
  ): Promise<ErrorDetail> {
    if (!["exact", "normalized", "portable"].includes(groupingStrategy))
      throw new InvalidArgumentError(
        `Unknown grouping strategy ${JSON.stringify(groupingStrategy)}; use exact, normalized or portable.`,
      );
    const window = options.timeRange ? { startUs: options.timeRange.start, endUs: options.timeRange.end } : {};
    return this.computeErrorDetail(this.resolve(window), fingerprint, groupingStrategy, options);
  }

  /** Retry patterns and how often retries end in success. */
  async getRetryAnalysis(options?: AnalyticsOptions): Promise<RetryAnalysis> {
    return this.computeRetryAnalysis(this.resolve(options));
  }

  /** Time from a step becoming available to its start. */
  async getSchedulingLatency(options?: AnalyticsOptions): Promise<SchedulingLatency> {
    return this.computeSchedulingLatency(this.resolve(options));
  }

  /** How long step attempts take. */
  async getStepDuration(options?: AnalyticsOptions): Promise<StepDuration> {
    return this.computeStepDuration(this.resolve(options));
  }

  /** How long runs take end to end. */
  async getWorkflowDuration(options?: AnalyticsOptions): Promise<WorkflowDuration> {
    return this.computeWorkflowDuration(this.resolve(options));
  }

  /** Reclamations, crashes and stale heartbeats per worker. */
  async getWorkerStability(options?: AnalyticsOptions): Promise<WorkerStability> {
    return this.computeWorkerStability(this.resolve(options));
  }

  /** Runs and steps finished per unit of time. */
  async getThroughput(options?: AnalyticsOptions): Promise<Throughput> {
    return this.computeThroughput(this.resolve(options));
  }

  /** Success and failure rates of runs and steps. */
  async getSuccessRate(options?: AnalyticsOptions): Promise<SuccessRate> {
    return this.computeSuccessRate(this.resolve(options));
  }

  /** Real-time queue snapshot: ready steps (available now) apart from delayed ones. */
  async getQueueDepth(options: Pick<AnalyticsOptions, "workflowSlug"> = {}): Promise<QueueDepth> {
    if (options.workflowSlug !== undefined) assertIds({ workflowSlug: options.workflowSlug });
    return this.computeQueueDepth(options.workflowSlug || undefined, this.clock.nowUs());
  }

  /** The queue snapshot per workflow. */
  async getQueueDepthByWorkflow(): Promise<QueueDepthByWorkflow> {
    return this.computeQueueDepthByWorkflow(this.clock.nowUs());
  }

  /** Every analytics query in one answer. */
  async getAnalyticsSummary(options?: AnalyticsOptions): Promise<AnalyticsSummary> {
    return this.computeAnalyticsSummary(this.resolve(options));
  }

  /** Workers seen in the last 24 h with their last sign of life; inactive ones only with includeInactive. */
  async getActiveWorkers(options: ActiveWorkersOptions = {}): Promise<WorkerInfo[]> {
    return this.computeActiveWorkers(this.resolve({}), options);
  }

  /** One worker's record, or null. */
  async getWorkerById(workerId: string): Promise<WorkerInfo | null> {
    if (typeof workerId !== "string" || workerId.length === 0)
      throw new InvalidArgumentError("workerId must be a non-empty string.");
    return this.computeWorkerById(this.resolve({}), workerId);
  }

  // ─── Hooks: a resolved, validated query in; defaults are the reference over loaded events ───────

  /** Error analysis of `q` (default: the reference over the window's StepFailed events). */
  protected async computeErrorAnalysis(q: ResolvedAnalyticsQuery): Promise<ErrorAnalysis> {
    const fast = this.fast.errorAnalysis;
    if (fast) return fast.call(this.fast, q);
    return ref.computeErrorAnalysis(await this.eventsFor(q, TYPES.errorAnalysis), q, q.nowUs);
  }

  /** Errors list of `q` (window and workflow from `options`); paging and strategy from `options`, checked by the reference. */
  protected async computeErrorsList(q: ResolvedAnalyticsQuery, options: ErrorsListOptions): Promise<ErrorsList> {
    return ref.computeErrorsList(await this.eventsFor(q, TYPES.errorsList), options, q.nowUs);
  }

  /** One fingerprint's occurrences in `q`'s window (strategy already checked). */
  protected async computeErrorDetail(
    q: ResolvedAnalyticsQuery,
    fingerprint: string,
    strategy: GroupingStrategy,
    options: ErrorDetailOptions,
  ): Promise<ErrorDetail> {
    return ref.computeErrorDetail(await this.eventsFor(q, TYPES.errorDetail), fingerprint, strategy, options, q.nowUs);
  }

  /** Retry analysis of `q`. */
  protected async computeRetryAnalysis(q: ResolvedAnalyticsQuery): Promise<RetryAnalysis> {
    const fast = this.fast.retryAnalysis;
    if (fast) return fast.call(this.fast, q);
    return ref.computeRetryAnalysis(await this.eventsFor(q, TYPES.retryAnalysis), q, q.nowUs);
  }

  /** Scheduling latency of `q`. */
  protected async computeSchedulingLatency(q: ResolvedAnalyticsQuery): Promise<SchedulingLatency> {
    const fast = this.fast.schedulingLatency;
    if (fast) return fast.call(this.fast, q);
    return ref.computeSchedulingLatency(await this.eventsFor(q, TYPES.schedulingLatency), q, q.nowUs);
  }

  /** Step durations of `q`. */
  protected async computeStepDuration(q: ResolvedAnalyticsQuery): Promise<StepDuration> {
    const fast = this.fast.stepDuration;
    if (fast) return fast.call(this.fast, q);
    return ref.computeStepDuration(await this.eventsFor(q, TYPES.stepDuration), q, q.nowUs);
  }

  /** Run durations of `q`. */
  protected async computeWorkflowDuration(q: ResolvedAnalyticsQuery): Promise<WorkflowDuration> {
    const fast = this.fast.workflowDuration;
    if (fast) return fast.call(this.fast, q);
    return ref.computeWorkflowDuration(await this.eventsFor(q, TYPES.workflowDuration), q, q.nowUs);
  }

  /** Worker stability of `q`. */
  protected async computeWorkerStability(q: ResolvedAnalyticsQuery): Promise<WorkerStability> {
    const fast = this.fast.workerStability;
    if (fast) return fast.call(this.fast, q);
    return ref.computeWorkerStability(await this.eventsFor(q, TYPES.workerStability), q, q.nowUs);
  }

  /** Throughput of `q`. */
  protected async computeThroughput(q: ResolvedAnalyticsQuery): Promise<Throughput> {
    const fast = this.fast.throughput;
    if (fast) return fast.call(this.fast, q);
    return ref.computeThroughput(await this.eventsFor(q, TYPES.throughput), q, q.nowUs);
  }

  /** Success rate of `q`. */
  protected async computeSuccessRate(q: ResolvedAnalyticsQuery): Promise<SuccessRate> {
    const fast = this.fast.successRate;
    if (fast) return fast.call(this.fast, q);
    return ref.computeSuccessRate(await this.eventsFor(q, TYPES.successRate), q, q.nowUs);
  }

  /** The queue snapshot of live runs (of one workflow, when given) at `nowUs`. */
  protected async computeQueueDepth(workflowSlug: string | undefined, nowUs: number): Promise<QueueDepth> {
    const fast = this.fast.queueDepth;
    if (fast) return fast.call(this.fast, workflowSlug, nowUs);
    const live = await this.store.loadLiveState(workflowSlug !== undefined ? { workflowSlug } : {});
    return ref.computeQueueDepth(live, workflowSlug !== undefined ? { workflowSlug } : {}, nowUs);
  }

  /** The queue snapshot per workflow with a live run, at `nowUs`. */
  protected async computeQueueDepthByWorkflow(nowUs: number): Promise<QueueDepthByWorkflow> {
    const fast = this.fast.queueDepthByWorkflow;
    if (fast) return fast.call(this.fast, nowUs);
    return ref.computeQueueDepthByWorkflow(await this.store.loadLiveState({}), nowUs);
  }

  /** The summary of `q` (default: one event load, the reference for every part, the queue hook). */
  protected async computeAnalyticsSummary(q: ResolvedAnalyticsQuery): Promise<AnalyticsSummary> {
    const fast = this.fast;
    if (fast.analyticsSummary) return fast.analyticsSummary(q);
    if (Object.keys(fast).length > 0) return this.composedSummary(q);
    const events = await this.eventsFor(q, TYPES.analyticsSummary);
    return ref.computeAnalyticsSummary(events, await this.computeQueueDepth(q.workflowSlug, q.nowUs), q, q.nowUs);
  }

  /** The summary from each part's hook, concurrently (for drivers that aggregate some parts themselves). */
  private async composedSummary(q: ResolvedAnalyticsQuery): Promise<AnalyticsSummary> {
    const [
      successRate,
      throughput,
      stepDuration,
      workflowDuration,
      schedulingLatency,
      retryAnalysis,
      errorAnalysis,
      workerStability,
      queueDepth,
    ] = await Promise.all([
      this.computeSuccessRate(q),
      this.computeThroughput(q),
      this.computeStepDuration(q),
      this.computeWorkflowDuration(q),
      this.computeSchedulingLatency(q),
      this.computeRetryAnalysis(q),
      this.computeErrorAnalysis(q),
      this.computeWorkerStability(q),
      this.computeQueueDepth(q.workflowSlug, q.nowUs),
    ]);
    return {
      window: { startUs: q.startUs, endUs: q.endUs },
      successRate,
      throughput,
      stepDuration,
      workflowDuration,
      schedulingLatency,
      retryAnalysis,
      errorAnalysis,
      workerStability,
      queueDepth,
    };
  }

  /** Active workers over `q` (the last 24 h, all workflows); the stale threshold is checked by the reference. */
  protected async computeActiveWorkers(
    q: ResolvedAnalyticsQuery,
    options: ActiveWorkersOptions,
  ): Promise<WorkerInfo[]> {
    const fast = this.fast.activeWorkers;
    if (fast) return fast.call(this.fast, q, options);
    return ref.computeActiveWorkers(await this.eventsFor(q, TYPES.activeWorkers), options, q.nowUs);
  }

  /** One worker's record over `q` (the last 24 h), or null. */
  protected async computeWorkerById(q: ResolvedAnalyticsQuery, workerId: string): Promise<WorkerInfo | null> {
    const fast = this.fast.workerById;
    if (fast) return fast.call(this.fast, q, workerId);
    return ref.computeWorkerById(await this.eventsFor(q, TYPES.activeWorkers), workerId, q.nowUs);
  }
}
