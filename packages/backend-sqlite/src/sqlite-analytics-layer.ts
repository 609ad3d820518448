import {
  Backend, computeErrorAnalysis, computeRetryAnalysis,
  type AnalyticsSummary, type AnalyticsWindow, type ErrorAnalysis, type Event, type EventType, type QueueDepth, type QueueDepthByWorkflow,
  type ResolvedAnalyticsQuery, type RetryAnalysis, type SchedulingLatency, type StepDuration, type SuccessRate, type Throughput,
  type WorkerStability, type WorkflowDuration,
} from "@cairn/backend-interface";
import { F, type FactRow, type FactSelection, type SqliteFacts } from "./sqlite-facts.js";
import { successRateFrom, throughputFrom } from "./sqlite-facts-compute.js";
import { outcomesSql, schedulingLatencySql, workerStabilitySql } from "./sqlite-facts-sql.js";

const OUTCOME_TYPES = ["WorkflowCompleted", "WorkflowFailed", "WorkflowCancelled", "StepCompleted", "StepFailed", "StepSkipped"];

/**
 * The analytics layer of the SQLite driver, between Backend and SqliteBackend. It overrides the base class's
 * per-query hooks (options arrive validated and resolved): windowed queries are computed from the event_facts table
 * (one range scan per event type of a narrow, type-and-time-clustered table; counts in SQL, percentiles finished with
 * the reference's own helpers), the queue snapshot is counted in SQL. Error lists and active workers keep the base
 * class's reference over typed event loads (loadAnalyticsEvents honours the window's `types`).
 */
export abstract class SqliteAnalyticsLayer extends Backend {
  /** Queue snapshot counted in SQL (equals computeQueueDepth over the live state). */
  protected abstract queryQueueDepth(workflowSlug: string | undefined, nowUs: number): Promise<QueueDepth>;
  /** Queue snapshot per workflow with a live run, counted in SQL. */
  protected abstract queryQueueDepthByWorkflow(nowUs: number): Promise<QueueDepthByWorkflow>;
  /** Runs `fn` over the analytics facts in one read transaction. */
  protected abstract readFacts<T>(fn: (facts: SqliteFacts) => T): Promise<T>;
  /** Events of the window, of `types` only when given (see loadAnalyticsEvents). */
  protected abstract readWindowEvents(window: AnalyticsWindow, types: readonly EventType[] | undefined): Promise<Event[]>;

  /** Events for the reference implementation: only the window's `types` when it names them. */
  protected loadAnalyticsEvents(window: AnalyticsWindow): Promise<Event[]> {
    return this.readWindowEvents(window, window.types);
  }

  /** Real-time queue snapshot, counted in SQL. */
  protected override computeQueueDepth(workflowSlug: string | undefined, nowUs: number): Promise<QueueDepth> {
    return this.queryQueueDepth(workflowSlug, nowUs);
  }

  /** The queue snapshot per workflow, counted in SQL. */
  protected override computeQueueDepthByWorkflow(nowUs: number): Promise<QueueDepthByWorkflow> {
    return this.queryQueueDepthByWorkflow(nowUs);
  }

  /** Success and failure rates: outcome counts grouped in SQL. */
  protected override async computeSuccessRate(q: ResolvedAnalyticsQuery): Promise<SuccessRate> {
    return successRateFrom(await this.readFacts((f) => f.counts(q, OUTCOME_TYPES)));
  }

  /** Completions per unit of time: counts grouped in SQL. */
  protected override async computeThroughput(q: ResolvedAnalyticsQuery): Promise<Throughput> {
    return throughputFrom(await this.readFacts((f) => f.counts(q, ["WorkflowCompleted", "StepCompleted"])), q.endUs - q.startUs);
  }

  /** Step durations from the facts' duration column. */
  protected override async computeStepDuration(q: ResolvedAnalyticsQuery): Promise<StepDuration> {
    return (await this.readFacts((f) => outcomesSql(f, q))).stepDuration;
  }

  /** Run durations from the facts' duration column. */
  protected override async computeWorkflowDuration(q: ResolvedAnalyticsQuery): Promise<WorkflowDuration> {
    return (await this.readFacts((f) => outcomesSql(f, q))).workflowDuration;
  }

  /** Scheduling latency: StepStarted paired with its attempt's StepScheduled facts. */
  protected override computeSchedulingLatency(q: ResolvedAnalyticsQuery): Promise<SchedulingLatency> {
    return this.readFacts((f) => schedulingLatencySql(f, q));
  }

  /** Worker stability from the facts of starts, heartbeats, reclaims and outcomes. */
  protected override computeWorkerStability(q: ResolvedAnalyticsQuery): Promise<WorkerStability> {
    return this.readFacts((f) => workerStabilitySql(f, q));
  }

  /** Retry patterns: the reference over the retries and the outcomes of retried steps only. */
  protected override computeRetryAnalysis(q: ResolvedAnalyticsQuery): Promise<RetryAnalysis> {
    return this.readFacts((f) => retryAnalysisSql(f, q));
  }

  /** Failure patterns: the reference over the window's StepFailed events. */
  protected override computeErrorAnalysis(q: ResolvedAnalyticsQuery): Promise<ErrorAnalysis> {
    return this.readFacts((f) => errorAnalysisSql(f, q));
  }

  /** Every windowed query from the facts in one read transaction (one snapshot), then the queue snapshot. */
  protected override async computeAnalyticsSummary(q: ResolvedAnalyticsQuery): Promise<AnalyticsSummary> {
    const parts = await this.readFacts((f) => {
      const { counts, stepDuration, workflowDuration } = outcomesSql(f, q);
      return {
        successRate: successRateFrom(counts), throughput: throughputFrom(counts, q.endUs - q.startUs), stepDuration, workflowDuration,
        schedulingLatency: schedulingLatencySql(f, q), retryAnalysis: retryAnalysisSql(f, q), errorAnalysis: errorAnalysisSql(f, q), workerStability: workerStabilitySql(f, q),
      };
    });
    return { window: { startUs: q.startUs, endUs: q.endUs }, ...parts, queueDepth: await this.queryQueueDepth(q.workflowSlug, q.nowUs) };
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
