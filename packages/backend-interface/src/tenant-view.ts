import type { Backend, SubmitOutcome } from "./backend.js";
import type { ListRunsOptions } from "./backend-primitives.js";
import type { CallRecord } from "./calls.js";
import type { ChildStepRecord } from "./child-steps.js";
import { CairnError, InvalidArgumentError, RunNotFoundError } from "./errors.js";
import type { Event, StepEvent, WorkflowEvent } from "./events.js";
import { assertRunId, assertWorkflowSlug } from "./identifiers.js";
import type { RunState } from "./run-state.js";
import type { StepState } from "./step-state.js";
import type { RunSubmissionInput } from "./submission.js";
import { assertTenantId } from "./tenants.js";
import type { RerunOptions } from "./rerun.js";
import type { StepLink } from "./links.js";
import type { AnalyticsOptions } from "./analytics/index.js";
import { validateAnalyticsOptions } from "./backend-analytics.js";

/** The AI usage of one run, as Backend.getRunUsage returns it. */
type RunUsage = Awaited<ReturnType<Backend["getRunUsage"]>>;

/** The windowed analytics a tenant view scopes (each takes AnalyticsOptions and honours `runIds`). */
const SCOPED_ANALYTICS = [
  "getSuccessRate",
  "getThroughput",
  "getWorkflowDuration",
  "getStepDuration",
  "getRetryAnalysis",
  "getSchedulingLatency",
  "getErrorAnalysis",
  "getAnalyticsSummary",
  "getCallAnalytics",
  "getUsageAnalytics",
  "getCounterAnalytics",
] as const;
type ScopedAnalytics = (typeof SCOPED_ANALYTICS)[number];
/** One of the scoped analytics, as the view offers it. */
type Analytics<K extends ScopedAnalytics> = (options?: AnalyticsOptions) => ReturnType<Backend[K]>;

/**
 * One tenant's view of a Backend (`backend.forTenant(id)`): the application-facing methods, each scoped to the
 * tenant's runs, so an application serving many customers cannot read or change another's runs by mistake.
 *
 * - Submits (`submitRun`, `submitRuns`) stamp the tenant id on the run (a submission naming another tenant is an
 *   INVALID_ARGUMENT error that writes nothing); idempotency keys are scoped per tenant.
 * - Reads of one run (`getRun`, `loadRun`, `loadEvents`, `getStepState`, `loadStepCalls`, `loadStepChildren`, `getStepLinks`) treat a run of
 *   another tenant (or of no tenant) exactly as a run that does not exist: null or an empty list.
 * - `listRuns` lists only the tenant's runs (the drivers filter on the indexed tenant id).
 * - Changes and run-level reads that throw for an unknown run (`cancelRun`, `retryRun`, `rerunFrom`, `pauseRun`,
 *   `resumeRun`, `signal`, `getRunUsage`) throw RunNotFoundError for a run of another tenant, and change nothing.
 *
 * - The windowed analytics (`getSuccessRate`, `getThroughput`, `getWorkflowDuration`, `getStepDuration`,
 *   `getRetryAnalysis`, `getSchedulingLatency`, `getErrorAnalysis`, `getAnalyticsSummary`, `getCallAnalytics`,
 *   `getUsageAnalytics`, `getCounterAnalytics`) are restricted to the tenant's runs created up to the window's end
 *   (`runIds`, intersected with the caller's own): the tenant's run ids are read first (the driver's
 *   queryTenantRunIds, ids only from the tenant index, else pages of listRuns), so the cost grows with the tenant's
 *   run count.
 *
 * Not on the view: the live and worker analytics (queue depth, workers), the error list, workflow registration,
 * claiming and the other worker-facing methods; use the Backend itself for those.
 */
export class TenantView {
  /** The tenant every call is scoped to. */
  readonly tenantId: string;
  readonly #backend: Backend;

  /** Prefer `backend.forTenant(id)`. InvalidArgumentError for an id that is not a valid tenant id. */
  constructor(backend: Backend, tenantId: string) {
    assertTenantId(tenantId);
    this.#backend = backend;
    this.tenantId = tenantId;
  }

  /** Backend.getSuccessRate over this tenant's runs. */
  readonly getSuccessRate: Analytics<"getSuccessRate"> = (o) => this.#analytics("getSuccessRate", o);
  /** Backend.getThroughput over this tenant's runs. */
  readonly getThroughput: Analytics<"getThroughput"> = (o) => this.#analytics("getThroughput", o);
  /** Backend.getWorkflowDuration over this tenant's runs. */
  readonly getWorkflowDuration: Analytics<"getWorkflowDuration"> = (o) => this.#analytics("getWorkflowDuration", o);
  /** Backend.getStepDuration over this tenant's runs. */
  readonly getStepDuration: Analytics<"getStepDuration"> = (o) => this.#analytics("getStepDuration", o);
  /** Backend.getRetryAnalysis over this tenant's runs. */
  readonly getRetryAnalysis: Analytics<"getRetryAnalysis"> = (o) => this.#analytics("getRetryAnalysis", o);
  /** Backend.getSchedulingLatency over this tenant's runs. */
  readonly getSchedulingLatency: Analytics<"getSchedulingLatency"> = (o) => this.#analytics("getSchedulingLatency", o);
  /** Backend.getErrorAnalysis over this tenant's runs. */
  readonly getErrorAnalysis: Analytics<"getErrorAnalysis"> = (o) => this.#analytics("getErrorAnalysis", o);
  /** Backend.getAnalyticsSummary over this tenant's runs. */
  readonly getAnalyticsSummary: Analytics<"getAnalyticsSummary"> = (o) => this.#analytics("getAnalyticsSummary", o);
  /** Backend.getCallAnalytics over this tenant's runs. */
  readonly getCallAnalytics: Analytics<"getCallAnalytics"> = (o) => this.#analytics("getCallAnalytics", o);
  /** Backend.getUsageAnalytics over this tenant's runs. */
  readonly getUsageAnalytics: Analytics<"getUsageAnalytics"> = (o) => this.#analytics("getUsageAnalytics", o);
  /** Backend.getCounterAnalytics over this tenant's runs. */
  readonly getCounterAnalytics: Analytics<"getCounterAnalytics"> = (o) => this.#analytics("getCounterAnalytics", o);

  /** The analytics query restricted to this tenant's runs created up to the window's end. */
  async #analytics<K extends ScopedAnalytics>(
    name: K,
    options?: AnalyticsOptions,
  ): Promise<Awaited<ReturnType<Backend[K]>>> {
    const o = validateAnalyticsOptions(options);
    const endUs = o.endUs ?? this.#backend.clock.nowUs();
    const wanted = o.runIds ? new Set(o.runIds) : null;
    const fast = await this.#backend.driver.queryTenantRunIds?.(this.tenantId, endUs);
    const runIds: string[] = fast ? fast.filter((id) => !wanted || wanted.has(id)) : [];
    let before: { createdAtUs: number; runId: string } | undefined;
    while (!fast) {
      const page = await this.#backend.listRuns({
        tenantId: this.tenantId,
        limit: 1000,
        ...(before ? { before } : {}),
      });
      for (const r of page) if (r.createdAtUs <= endUs && (!wanted || wanted.has(r.runId))) runIds.push(r.runId);
      const last = page[page.length - 1];
      if (!last || page.length < 1000) break;
      before = { createdAtUs: last.createdAtUs, runId: last.runId };
    }
    const method = this.#backend[name] as unknown as (options: AnalyticsOptions) => ReturnType<Backend[K]>;
    return (await method.call(this.#backend, { ...o, endUs, runIds })) as Awaited<ReturnType<Backend[K]>>;
  }

  /** The run, if it exists and belongs to this tenant. */
  async #owned(runId: string, workflowSlug?: string): Promise<RunState | null> {
    assertRunId(runId);
    if (workflowSlug !== undefined) assertWorkflowSlug(workflowSlug);
    const run = await this.#backend.getRun(runId);
    if (!run || run.tenantId !== this.tenantId) return null;
    if (workflowSlug !== undefined && run.workflowSlug !== workflowSlug) return null;
    return run;
  }

  async #required(runId: string): Promise<RunState> {
    const run = await this.#owned(runId);
    if (!run) throw new RunNotFoundError(runId);
    return run;
  }

  #stamp(submission: RunSubmissionInput): RunSubmissionInput {
    if (submission === null || typeof submission !== "object") return submission;
    if (submission.tenantId !== undefined && submission.tenantId !== this.tenantId) {
      throw new InvalidArgumentError(
        `The submission names tenant ${JSON.stringify(String(submission.tenantId))}, but this view is scoped to tenant ${JSON.stringify(this.tenantId)}; leave tenantId out. Nothing was written.`,
      );
    }
    return { ...submission, tenantId: this.tenantId };
  }

  /** Backend.submitRun, the run owned by this tenant. */
  async submitRun(submission: RunSubmissionInput): Promise<{ runId: string; isNew: boolean }> {
    return this.#backend.submitRun(this.#stamp(submission));
  }

  /** Backend.submitRuns, every run owned by this tenant (an item naming another tenant is that item's error). */
  async submitRuns(items: RunSubmissionInput[]): Promise<SubmitOutcome[]> {
    if (!Array.isArray(items)) throw new InvalidArgumentError("submitRuns takes an array of submissions.");
    const out: Array<SubmitOutcome | undefined> = new Array(items.length);
    const stamped: RunSubmissionInput[] = [];
    const at: number[] = [];
    for (const [index, item] of items.entries()) {
      try {
        stamped.push(this.#stamp(item));
        at.push(index);
      } catch (err) {
        if (!(err instanceof CairnError)) throw err;
        out[index] = { ok: false, error: err };
      }
    }
    const results = stamped.length === 0 ? [] : await this.#backend.submitRuns(stamped);
    results.forEach((r, k) => (out[at[k]!] = r));
    return out as SubmitOutcome[];
  }

  /** The run's state, or null when it does not exist or belongs to another tenant. */
  getRun(runId: string): Promise<RunState | null> {
    return this.#owned(runId);
  }

  /** Backend.listRuns over this tenant's runs only. */
  async listRuns(options: ListRunsOptions = {}): Promise<RunState[]> {
    if (options.tenantId !== undefined && options.tenantId !== this.tenantId) {
      throw new InvalidArgumentError(
        `listRuns names tenant ${JSON.stringify(String(options.tenantId))}, but this view is scoped to tenant ${JSON.stringify(this.tenantId)}; leave tenantId out.`,
      );
    }
    return this.#backend.listRuns({ ...options, tenantId: this.tenantId });
  }

  /** Every step's projected state; empty when the run does not exist or belongs to another tenant. */
  async loadRun(workflowSlug: string, runId: string): Promise<StepState[]> {
    return (await this.#owned(runId, workflowSlug)) ? this.#backend.loadRun(workflowSlug, runId) : [];
  }

  /** One step's projected state, or null (also for a run of another tenant). */
  async getStepState(workflowSlug: string, runId: string, stepId: string): Promise<StepState | null> {
    return (await this.#owned(runId, workflowSlug)) ? this.#backend.getStepState(workflowSlug, runId, stepId) : null;
  }

  /** The run's events in order (as Backend.loadEvents); empty when the run belongs to another tenant. */
  loadEvents(workflowSlug: string, runId: string, options: { category: "step"; stepId?: string }): Promise<StepEvent[]>;
  loadEvents(workflowSlug: string, runId: string, options: { category: "workflow" }): Promise<WorkflowEvent[]>;
  loadEvents(
    workflowSlug: string,
    runId: string,
    options?: { category?: "workflow" | "step"; stepId?: string },
  ): Promise<Event[]>;
  async loadEvents(
    workflowSlug: string,
    runId: string,
    options: { category?: "workflow" | "step"; stepId?: string } = {},
  ): Promise<Event[]> {
    return (await this.#owned(runId, workflowSlug)) ? this.#backend.loadEvents(workflowSlug, runId, options) : [];
  }

  /** The calls of a run's step (or of every step); empty when the run belongs to another tenant. */
  async loadStepCalls(workflowSlug: string, runId: string, stepId?: string): Promise<CallRecord[]> {
    return (await this.#owned(runId, workflowSlug)) ? this.#backend.loadStepCalls(workflowSlug, runId, stepId) : [];
  }

  /** The child steps of a run's step (or of every step); empty when the run belongs to another tenant. */
  async loadStepChildren(workflowSlug: string, runId: string, stepId?: string): Promise<ChildStepRecord[]> {
    return (await this.#owned(runId, workflowSlug)) ? this.#backend.loadStepChildren(workflowSlug, runId, stepId) : [];
  }

  /** The entity links of a run's step; empty when the run belongs to another tenant. */
  async getStepLinks(workflowSlug: string, runId: string, stepId: string): Promise<StepLink[]> {
    return (await this.#owned(runId, workflowSlug)) ? this.#backend.getStepLinks(workflowSlug, runId, stepId) : [];
  }

  /** AI usage of one of this tenant's runs; RunNotFoundError for a run of another tenant. */
  async getRunUsage(runId: string): Promise<RunUsage> {
    await this.#required(runId);
    return this.#backend.getRunUsage(runId);
  }

  /** Backend.cancelRun; RunNotFoundError (and nothing written) for a run of another tenant. */
  async cancelRun(runId: string, reason?: string): Promise<void> {
    await this.#required(runId);
    return this.#backend.cancelRun(runId, reason);
  }

  /** Backend.retryRun; RunNotFoundError (and nothing written) for a run of another tenant. */
  async retryRun(
    runId: string,
    options: { reason?: string } = {},
  ): Promise<{ workflowAttemptNumber: number; retriedSteps: string[] }> {
    await this.#required(runId);
    return this.#backend.retryRun(runId, options);
  }

  /** Backend.rerunFrom of one of this tenant's runs (the new run keeps the tenant); RunNotFoundError for a run of another tenant. */
  async rerunFrom(options: RerunOptions): Promise<{ runId: string; rerunStepIds: string[] }> {
    await this.#required(options?.parentRunId);
    return this.#backend.rerunFrom(options);
  }

  /** Backend.pauseRun; RunNotFoundError for a run of another tenant. */
  async pauseRun(runId: string, options: { reason?: string } = {}): Promise<{ paused: boolean }> {
    await this.#required(runId);
    return this.#backend.pauseRun(runId, options);
  }

  /** Backend.resumeRun; RunNotFoundError for a run of another tenant. */
  async resumeRun(runId: string, options: { patch?: Record<string, unknown> } = {}): Promise<{ resumed: boolean }> {
    await this.#required(runId);
    return this.#backend.resumeRun(runId, options);
  }

  /** Backend.signal; RunNotFoundError for a run of another tenant. */
  async signal(
    runId: string,
    name: string,
    payload?: unknown,
    options: { id?: string } = {},
  ): Promise<{ signalId: string; isNew: boolean }> {
    await this.#required(runId);
    return this.#backend.signal(runId, name, payload, options);
  }
}
