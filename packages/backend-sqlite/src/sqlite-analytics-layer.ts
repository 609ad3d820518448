import { AsyncLocalStorage } from "node:async_hooks";
import {
  assertIds, Backend, computeErrorAnalysis, computeRetryAnalysis,
  type ActiveWorkersOptions, type AnalyticsOptions, type AnalyticsSummary, type AnalyticsWindow, type ErrorAnalysis, type ErrorDetail,
  type ErrorDetailOptions, type ErrorsList, type ErrorsListOptions, type Event, type EventType, type GroupingStrategy, type QueueDepth,
  type QueueDepthByWorkflow, type RetryAnalysis, type SchedulingLatency, type StepDuration, type SuccessRate, type Throughput, type WorkerInfo,
  type WorkerStability, type WorkflowDuration,
} from "@cairn/backend-interface";
import { F, type FactRow, type FactSelection, type SqliteFacts } from "./sqlite-facts.js";
import { successRateFrom, throughputFrom } from "./sqlite-facts-compute.js";
import { outcomesSql, schedulingLatencySql, workerStabilitySql } from "./sqlite-facts-sql.js";

/** The event types the reference's error and worker queries read (they keep the reference over typed event loads). */
const REFERENCE_TYPES = {
  errors: ["StepFailed"],
  workers: ["StepStarted", "StepHeartbeat", "StepCompleted", "StepFailed", "StepSkipped", "StepReclaimed", "WorkflowCompleted", "WorkflowFailed", "WorkflowCancelled"],
} as const satisfies Record<string, readonly EventType[]>;
const OUTCOME_TYPES = ["WorkflowCompleted", "WorkflowFailed", "WorkflowCancelled", "StepCompleted", "StepFailed", "StepSkipped"];

/** What an analytics call in progress asks of loadAnalyticsEvents. */
type AnalyticsContext = { kind: "types"; types: readonly EventType[] } | { kind: "capture"; window?: AnalyticsWindow };

/**
 * The analytics layer of the SQLite driver, between Backend and SqliteBackend. Windowed queries are computed from the
 * event_facts table (one range scan of a narrow, time-clustered table; counts in SQL, percentiles and joins finished
 * with the reference's own helpers); error and worker lists keep the reference over typed event loads; the queue
 * snapshot is counted in SQL. Options are validated by the base class itself: each query first runs the base method
 * in "capture" mode (loadAnalyticsEvents records the validated window and returns no events).
 */
export abstract class SqliteAnalyticsLayer extends Backend {
  private readonly analyticsContext = new AsyncLocalStorage<AnalyticsContext>();

  /** Queue snapshot counted in SQL (equals computeQueueDepth over the live state). */
  protected abstract queryQueueDepth(workflowSlug: string | undefined, nowUs: number): Promise<QueueDepth>;
  /** Queue snapshot per workflow with a live run, counted in SQL. */
  protected abstract queryQueueDepthByWorkflow(nowUs: number): Promise<QueueDepthByWorkflow>;
  /** Runs `fn` over the analytics facts in one read transaction. */
  protected abstract readFacts<T>(fn: (facts: SqliteFacts) => T): Promise<T>;
  /** Events of the window, of `types` only when given (see loadAnalyticsEvents). */
  protected abstract readWindowEvents(window: AnalyticsWindow, types: readonly EventType[] | undefined): Promise<Event[]>;

  /** Events for the reference implementation: only the types the query in progress reads; none in capture mode. */
  protected async loadAnalyticsEvents(window: AnalyticsWindow): Promise<Event[]> {
    const ctx = this.analyticsContext.getStore();
    if (ctx?.kind === "capture") {
      ctx.window = window;
      return [];
    }
    return this.readWindowEvents(window, ctx?.types);
  }

  /** Validates `options` exactly as the base class does (by running its cheap empty computation) and returns the resolved selection. */
  private async selection(options: AnalyticsOptions | undefined): Promise<FactSelection> {
    const ctx: AnalyticsContext = { kind: "capture" };
    await this.analyticsContext.run(ctx, () => super.getThroughput(options));
    const w = ctx.window!;
    return { ...w, ...(options?.stepId !== undefined ? { stepId: options.stepId } : {}) };
  }

  private typed<T>(types: readonly EventType[], fn: () => Promise<T>): Promise<T> {
    return this.analyticsContext.run({ kind: "types", types }, fn);
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

  /** Success and failure rates: outcome counts grouped in SQL. */
  override async getSuccessRate(options?: AnalyticsOptions): Promise<SuccessRate> {
    const sel = await this.selection(options);
    return successRateFrom(await this.readFacts((f) => f.counts(sel, OUTCOME_TYPES)));
  }

  /** Completions per unit of time: counts grouped in SQL. */
  override async getThroughput(options?: AnalyticsOptions): Promise<Throughput> {
    const sel = await this.selection(options);
    return throughputFrom(await this.readFacts((f) => f.counts(sel, ["WorkflowCompleted", "StepCompleted"])), sel.endUs - sel.startUs);
  }

  /** Step durations from the facts' duration column. */
  override async getStepDuration(options?: AnalyticsOptions): Promise<StepDuration> {
    const sel = await this.selection(options);
    return (await this.readFacts((f) => outcomesSql(f, sel))).stepDuration;
  }

  /** Run durations from the facts' duration column. */
  override async getWorkflowDuration(options?: AnalyticsOptions): Promise<WorkflowDuration> {
    const sel = await this.selection(options);
    return (await this.readFacts((f) => outcomesSql(f, sel))).workflowDuration;
  }

  /** Scheduling latency: StepStarted paired with its attempt's StepScheduled facts. */
  override async getSchedulingLatency(options?: AnalyticsOptions): Promise<SchedulingLatency> {
    const sel = await this.selection(options);
    return this.readFacts((f) => schedulingLatencySql(f, sel));
  }

  /** Worker stability from the facts of starts, heartbeats, reclaims and outcomes. */
  override async getWorkerStability(options?: AnalyticsOptions): Promise<WorkerStability> {
    const sel = await this.selection(options);
    return this.readFacts((f) => workerStabilitySql(f, sel));
  }

  /** Retry patterns: the reference over the retries and the outcomes of retried steps only. */
  override async getRetryAnalysis(options?: AnalyticsOptions): Promise<RetryAnalysis> {
    const sel = await this.selection(options);
    return this.readFacts((f) => retryAnalysisSql(f, sel));
  }

  /** Failure patterns: the reference over the window's StepFailed events. */
  override async getErrorAnalysis(options?: AnalyticsOptions): Promise<ErrorAnalysis> {
    const sel = await this.selection(options);
    return this.readFacts((f) => errorAnalysisSql(f, sel));
  }

  /** Every windowed query and the queue snapshot, from one range scan of the facts. */
  override async getAnalyticsSummary(options?: AnalyticsOptions): Promise<AnalyticsSummary> {
    const sel = await this.selection(options);
    const parts = await this.readFacts((f) => {
      const { counts, stepDuration, workflowDuration } = outcomesSql(f, sel);
      return {
        successRate: successRateFrom(counts), throughput: throughputFrom(counts, sel.endUs - sel.startUs), stepDuration, workflowDuration, schedulingLatency: schedulingLatencySql(f, sel), retryAnalysis: retryAnalysisSql(f, sel),
        errorAnalysis: errorAnalysisSql(f, sel), workerStability: workerStabilitySql(f, sel),
      };
    });
    return {
      window: { startUs: sel.startUs, endUs: sel.endUs },
      successRate: parts.successRate,
      throughput: parts.throughput,
      stepDuration: parts.stepDuration,
      workflowDuration: parts.workflowDuration,
      schedulingLatency: parts.schedulingLatency,
      retryAnalysis: parts.retryAnalysis,
      errorAnalysis: parts.errorAnalysis,
      workerStability: parts.workerStability,
      queueDepth: await this.getQueueDepth(sel.workflowSlug !== undefined ? { workflowSlug: sel.workflowSlug } : {}),
    };
  }

  /** Errors grouped by fingerprint (reference over the window's StepFailed events). */
  override getErrorsList(options?: ErrorsListOptions): Promise<ErrorsList> {
    return this.typed(REFERENCE_TYPES.errors, () => super.getErrorsList(options));
  }

  /** Every occurrence of one fingerprint (reference over the window's StepFailed events). */
  override getErrorDetail(fingerprint: string, groupingStrategy: GroupingStrategy, options?: ErrorDetailOptions): Promise<ErrorDetail> {
    return this.typed(REFERENCE_TYPES.errors, () => super.getErrorDetail(fingerprint, groupingStrategy, options));
  }

  /** Workers seen in the last 24 h (reference over typed event loads). */
  override getActiveWorkers(options?: ActiveWorkersOptions): Promise<WorkerInfo[]> {
    return this.typed(REFERENCE_TYPES.workers, () => super.getActiveWorkers(options));
  }

  /** One worker's record (reference over typed event loads). */
  override getWorkerById(workerId: string): Promise<WorkerInfo | null> {
    return this.typed(REFERENCE_TYPES.workers, () => super.getWorkerById(workerId));
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
  const outcomes = runs.length === 0 ? [] : f.rows(sel, ["StepCompleted", "StepFailed"], "(type = 'StepCompleted' OR flag = 1) AND run_id IN (SELECT value FROM json_each(?))", [JSON.stringify(runs)]);
  return retryAnalysisFrom([...retries, ...outcomes], sel);
}

/** The reference's retry analysis over the retries and the completions / terminal failures of retried steps, rebuilt as minimal events. */
function retryAnalysisFrom(rows: readonly FactRow[], sel: FactSelection): RetryAnalysis {
  const step = (r: FactRow) => `${r[F.run]}\u0000${r[F.step] ?? ""}`;
  const retries = rows.filter((r) => r[F.type] === "StepScheduled" && r[F.flag] === 1);
  const retried = new Set(retries.map(step));
  const outcomes = rows.filter((r) => (r[F.type] === "StepCompleted" || (r[F.type] === "StepFailed" && r[F.flag] === 1)) && retried.has(step(r)));
  const events = [...retries, ...outcomes].map((r) => ({
    eventId: r[F.eventId], timestampUs: r[F.ts], workflowSlug: r[F.slug], runId: r[F.run], category: "step", stepId: r[F.step] ?? "", type: r[F.type],
    attemptNumber: r[F.attempt] ?? 0, ...(r[F.type] === "StepScheduled" ? { reason: "retry" } : {}), ...(r[F.type] === "StepFailed" ? { terminal: true } : {}),
  })) as unknown as Event[];
  return computeRetryAnalysis(events, sel, sel.endUs);
}
