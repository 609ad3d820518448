import type { Clock } from "./clock.js";
import type { Event } from "./events.js";
import {
  computeActiveWorkers, computeAnalyticsSummary, computeErrorAnalysis, computeErrorDetail, computeErrorsList, computeQueueDepth,
  computeQueueDepthByWorkflow, computeRetryAnalysis, computeSchedulingLatency, computeStepDuration, computeSuccessRate, computeThroughput,
  computeWorkerById, computeWorkerStability, computeWorkflowDuration, resolveWindow,
  type ActiveWorkersOptions, type AnalyticsOptions, type AnalyticsSummary, type ErrorAnalysis, type ErrorDetail, type ErrorDetailOptions,
  type ErrorsList, type ErrorsListOptions, type GroupingStrategy, type LiveState, type QueueDepth, type QueueDepthByWorkflow,
  type RetryAnalysis, type SchedulingLatency, type StepDuration, type SuccessRate, type Throughput, type WorkerInfo,
  type WorkerStability, type WorkflowDuration,
} from "./analytics/index.js";
import { assertIds } from "./identifiers.js";
import { InvalidArgumentError } from "./errors.js";

/** The event selection an analytics query reads: events with timestamps in [startUs, endUs], optionally of one workflow and some runs. */
export interface AnalyticsWindow {
  startUs: number;
  endUs: number;
  workflowSlug?: string;
  runIds?: string[];
}

/**
 * The analytics layer of Backend. Every query is concrete here, computed by the pure reference implementation over
 * `loadAnalyticsEvents` (events in the window) or `loadLiveState` (non-terminal runs and their steps). A driver that
 * can aggregate in its own query language overrides the query; the conformance suite checks it against the reference.
 */
export abstract class BackendAnalytics {
  abstract readonly clock: Clock;

  /** Events whose timestamp lies in the window, each run's in order. */
  protected abstract loadAnalyticsEvents(window: AnalyticsWindow): Promise<Event[]>;
  /** Non-terminal runs (of one workflow, if given) and all their steps; cost proportional to live work. */
  protected abstract loadLiveState(filter: { workflowSlug?: string }): Promise<LiveState>;

  private async windowEvents(options: AnalyticsOptions | undefined): Promise<{ events: Event[]; opts: AnalyticsOptions; nowUs: number }> {
    const opts = validateOptions(options);
    const nowUs = this.clock.nowUs();
    const w = resolveWindow(opts, nowUs);
    const events = await this.loadAnalyticsEvents({ ...w, ...(opts.workflowSlug ? { workflowSlug: opts.workflowSlug } : {}), ...(opts.runIds ? { runIds: opts.runIds } : {}) });
    return { events, opts, nowUs };
  }

  /** Failure patterns: counts by error, step and reason. */
  async getErrorAnalysis(options?: AnalyticsOptions): Promise<ErrorAnalysis> {
    const { events, opts, nowUs } = await this.windowEvents(options);
    return computeErrorAnalysis(events, opts, nowUs);
  }

  /** Errors grouped by fingerprint under a strategy, paginated. */
  async getErrorsList(options: ErrorsListOptions = {}): Promise<ErrorsList> {
    const window = options.timeRange ? { startUs: options.timeRange.start, endUs: options.timeRange.end } : {};
    const { events, nowUs } = await this.windowEvents({ ...window, ...(options.workflowSlug ? { workflowSlug: options.workflowSlug } : {}) });
    return computeErrorsList(events, options, nowUs);
  }

  /** Every occurrence of one fingerprint. */
  async getErrorDetail(fingerprint: string, groupingStrategy: GroupingStrategy, options: ErrorDetailOptions = {}): Promise<ErrorDetail> {
    if (!["exact", "normalized", "portable"].includes(groupingStrategy)) throw new InvalidArgumentError(`Unknown grouping strategy ${JSON.stringify(groupingStrategy)}; use exact, normalized or portable.`);
    const window = options.timeRange ? { startUs: options.timeRange.start, endUs: options.timeRange.end } : {};
    const { events, nowUs } = await this.windowEvents(window);
    return computeErrorDetail(events, fingerprint, groupingStrategy, options, nowUs);
  }

  /** Retry patterns and how often retries end in success. */
  async getRetryAnalysis(options?: AnalyticsOptions): Promise<RetryAnalysis> {
    const { events, opts, nowUs } = await this.windowEvents(options);
    return computeRetryAnalysis(events, opts, nowUs);
  }

  /** Time from a step becoming available to its start. */
  async getSchedulingLatency(options?: AnalyticsOptions): Promise<SchedulingLatency> {
    const { events, opts, nowUs } = await this.windowEvents(options);
    return computeSchedulingLatency(events, opts, nowUs);
  }

  /** How long step attempts take. */
  async getStepDuration(options?: AnalyticsOptions): Promise<StepDuration> {
    const { events, opts, nowUs } = await this.windowEvents(options);
    return computeStepDuration(events, opts, nowUs);
  }

  /** How long runs take end to end. */
  async getWorkflowDuration(options?: AnalyticsOptions): Promise<WorkflowDuration> {
    const { events, opts, nowUs } = await this.windowEvents(options);
    return computeWorkflowDuration(events, opts, nowUs);
  }

  /** Reclamations, crashes and stale heartbeats per worker. */
  async getWorkerStability(options?: AnalyticsOptions): Promise<WorkerStability> {
    const { events, opts, nowUs } = await this.windowEvents(options);
    return computeWorkerStability(events, opts, nowUs);
  }

  /** Runs and steps finished per unit of time. */
  async getThroughput(options?: AnalyticsOptions): Promise<Throughput> {
    const { events, opts, nowUs } = await this.windowEvents(options);
    return computeThroughput(events, opts, nowUs);
  }

  /** Success and failure rates of runs and steps. */
  async getSuccessRate(options?: AnalyticsOptions): Promise<SuccessRate> {
    const { events, opts, nowUs } = await this.windowEvents(options);
    return computeSuccessRate(events, opts, nowUs);
  }

  /** Real-time queue snapshot: ready steps (available now) apart from delayed ones. */
  async getQueueDepth(options: Pick<AnalyticsOptions, "workflowSlug"> = {}): Promise<QueueDepth> {
    if (options.workflowSlug !== undefined) assertIds({ workflowSlug: options.workflowSlug });
    const live = await this.loadLiveState(options.workflowSlug ? { workflowSlug: options.workflowSlug } : {});
    return computeQueueDepth(live, options, this.clock.nowUs());
  }

  /** The queue snapshot per workflow. */
  async getQueueDepthByWorkflow(): Promise<QueueDepthByWorkflow> {
    return computeQueueDepthByWorkflow(await this.loadLiveState({}), this.clock.nowUs());
  }

  /** Every analytics query in one answer. */
  async getAnalyticsSummary(options?: AnalyticsOptions): Promise<AnalyticsSummary> {
    const { events, opts, nowUs } = await this.windowEvents(options);
    const queue = await this.getQueueDepth(opts.workflowSlug ? { workflowSlug: opts.workflowSlug } : {});
    return computeAnalyticsSummary(events, queue, opts, nowUs);
  }

  /** Workers seen in the last 24 h with their last sign of life; inactive ones only with includeInactive. */
  async getActiveWorkers(options: ActiveWorkersOptions = {}): Promise<WorkerInfo[]> {
    const { events, nowUs } = await this.windowEvents({});
    return computeActiveWorkers(events, options, nowUs);
  }

  /** One worker's record, or null. */
  async getWorkerById(workerId: string): Promise<WorkerInfo | null> {
    if (typeof workerId !== "string" || workerId.length === 0) throw new InvalidArgumentError("workerId must be a non-empty string.");
    const { events, nowUs } = await this.windowEvents({});
    return computeWorkerById(events, workerId, nowUs);
  }
}

function validateOptions(options: AnalyticsOptions | undefined): AnalyticsOptions {
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
