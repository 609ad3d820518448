import { BackendAnalytics } from "./backend-analytics.js";
import { join } from "node:path";
import { tmpdir } from "node:os";
import type { Clock } from "./clock.js";
import { systemClock } from "./clock.js";
import type { Event, EventBody, EventOf, EventType, StepEvent, WorkflowEvent } from "./events.js";
import type { GuardVerdict, WriteGuard } from "./guards.js";
import { projectStepStates } from "./project-step.js";
import { assertIds } from "./identifiers.js";
import { newEventId } from "./ids.js";
import { parseEvent, parseEventFor } from "./validate-event.js";
import type { RunState } from "./run-state.js";
import type { StepState } from "./step-state.js";
import type { LogEntry, StepDefinition, WorkflowMetadata, WorkflowRegistration, WorkflowVersion } from "./schemas.js";
import { CairnError, InvalidArgumentError, RunTerminalError, StaleAttemptError } from "./errors.js";
import type { BackendCapabilities, BackendOptions, EventFilter, FollowUp, ListRunsOptions, ListScheduledOptions, PutVersionResult, StepRef, SubmissionResult, WriteTarget } from "./backend-primitives.js";


/** Metadata for when a step starts. `timestamp` is accepted for compatibility; event times come from the backend's clock. */
export type StepStartMetadata = { dependencies: string[]; timestamp: number; attemptNumber: number; slotIndex?: number; workerConcurrency?: number };
/** Metadata for when a step completes. `duration` is µs. */
export type StepCompleteMetadata = { timestamp: number; duration: number; logs?: LogEntry[]; attemptNumber: number; output: unknown; resourceUsage?: EventOf<"StepCompleted">["resourceUsage"] };
/** One completion of a batch (saveStepCompletes): the arguments of saveStepComplete. */
export type StepCompleteItem = { workflowSlug: string; runId: string; stepId: string; output: unknown; metadata: StepCompleteMetadata; exportOutput?: boolean };
/** The outcome of one item of a batch: written, or refused with the error saveStepComplete would have thrown. */
export type StepCompleteOutcome = { ok: true } | { ok: false; error: CairnError };
/** One guarded write of a batch (writeEventBatch): what writeEvents takes. */
export type GuardedWrite = { target: WriteTarget; guard: WriteGuard; events: Event[]; follow?: FollowUp };
/** @deprecated Use WorkflowRegistration. */
export type WorkflowDetails = WorkflowMetadata & { steps: StepDefinition[]; stepCount: number };
/** A saved checkpoint, as a retry replays it. */
export type SavedCheckpoint = { name: string; sequenceNumber: number; attemptNumber: number; data: string; label?: string; timestampUs: number };

/** The base layer of Backend: the primitives every driver implements, event append/load, fencing and wake-ups. */
export abstract class BackendCore extends BackendAnalytics {
  /** The time source of every timestamp this backend writes. */
  readonly clock: Clock;
  /** What this driver offers beyond the minimum. */
  readonly capabilities: BackendCapabilities = { notifications: false, multiProcess: true, batchClaim: false };
  protected readonly outputDir: string;

  constructor(options: BackendOptions = {}) {
    super();
    this.clock = options.clock ?? systemClock;
    this.outputDir = options.outputDir ?? join(tmpdir(), "cairn-step-outputs");
  }

  // ─── Primitives every driver implements ────────────────────────────────────────────────────────
  /** Prepare storage (migrations, directories). Must be called before use. */
  abstract initialize(): Promise<void>;
  /** Release resources. The backend is unusable afterwards. */
  abstract close(): Promise<void>;
  /**
   * Atomically: evaluate `guard` against the current projection of the run (and step) and, when it holds, append
   * `events` in order, then the events `follow` returns for the state after them (see FollowUp), in the same write.
   */
  protected abstract writeEvents(target: WriteTarget, guard: WriteGuard, events: Event[], follow?: FollowUp): Promise<GuardVerdict>;
  /** Atomically create a run from its RunSubmitted event plus `extra` events of the same run, honouring the idempotency key; `follow` as in writeEvents, only when created. */
  protected abstract writeSubmission(submitted: EventOf<"RunSubmitted">, extra: Event[], follow?: FollowUp): Promise<SubmissionResult>;
  /** A run's events in append order, filtered. */
  protected abstract readEvents(workflowSlug: string, runId: string, filter: EventFilter): Promise<Event[]>;
  /** A run's state by id alone, at a cost independent of history. */
  protected abstract readRun(runId: string): Promise<RunState | null>;
  /** Runs, newest first (createdAt descending, runId descending on ties), filtered; reads no more than needed for `limit`. */
  protected abstract queryRuns(options: ListRunsOptions): Promise<RunState[]>;
  /** Scheduled steps available by `availableBefore` in non-terminal runs, priority desc then availableAt asc (then runId, stepId). */
  protected abstract queryScheduledSteps(options: Required<Pick<ListScheduledOptions, "availableBefore">> & ListScheduledOptions): Promise<StepRef[]>;
  /** Running steps of non-terminal runs whose last heartbeat (or start) is before `heartbeatBeforeUs`. */
  protected abstract queryStaleSteps(heartbeatBeforeUs: number): Promise<StepState[]>;
  /** Pending runs of registered versions available by `nowUs`, longest due first (availableAt ascending); at most `limit`. */
  protected abstract queryDueRuns(nowUs: number, limit: number): Promise<Array<Pick<RunState, "workflowSlug" | "runId">>>;
  /** Running runs whose timeout (startedAt + timeout) is before `nowUs`, longest overdue first; at most `limit`. */
  protected abstract queryOverdueRuns(nowUs: number, limit: number): Promise<Array<Pick<RunState, "workflowSlug" | "runId">>>;
  /** Slugs of workflows that have at least one non-terminal run. */
  protected abstract queryActiveWorkflows(): Promise<string[]>;
  /** Every run id of a workflow. */
  protected abstract queryRunIds(workflowSlug: string): Promise<string[]>;
  /** Store (or replace) a workflow registration. */
  protected abstract putWorkflow(registration: WorkflowRegistration): Promise<void>;
  /** A registration, or null. */
  protected abstract readWorkflow(slug: string): Promise<WorkflowRegistration | null>;
  /** Every registration. */
  protected abstract readWorkflows(): Promise<WorkflowRegistration[]>;
  /** Store a version unless one with its id exists (then report it, and whether the content differs). */
  protected abstract putVersion(version: WorkflowVersion): Promise<PutVersionResult>;
  /** Versions of a workflow, newest first (createdAt descending, versionId descending on ties). */
  protected abstract readVersions(workflowSlug: string, versionId?: string): Promise<WorkflowVersion[]>;

  // ─── Overridable template helpers ──────────────────────────────────────────────────────────────
  /** Runs and all their steps, by run id (absent ids are left out). Default: readRun and readSteps per run. */
  protected async readRunContexts(runIds: readonly string[]): Promise<Map<string, { run: RunState; steps: StepState[] }>> {
    const out = new Map<string, { run: RunState; steps: StepState[] }>();
    await Promise.all(runIds.map(async (id) => {
      const run = await this.readRun(id);
      if (run) out.set(id, { run, steps: await this.readSteps(run.workflowSlug, id) });
    }));
    return out;
  }

  /** All step states of a run. Default: project the run's step events. */
  protected async readSteps(workflowSlug: string, runId: string): Promise<StepState[]> {
    const events = (await this.readEvents(workflowSlug, runId, { category: "step" })) as StepEvent[];
    return [...projectStepStates(events).values()];
  }

  /** Builds and validates an event of `type` for a run (and step) with the backend's clock. */
  protected makeEvent<T extends EventType>(type: T, workflowSlug: string, runId: string, stepId: string | undefined, body: EventBody<T>): EventOf<T> {
    const timestampUs = this.clock.nowUs();
    const category = stepId === undefined ? "workflow" : "step";
    const raw = { ...body, eventId: newEventId(timestampUs), timestampUs, workflowSlug, runId, category, type, ...(stepId === undefined ? {} : { stepId }) };
    return parseEvent(raw) as EventOf<T>;
  }

  // ─── Events ────────────────────────────────────────────────────────────────────────────────────
  /** Appends one validated event to its run (unconditionally). Invalid events are rejected and nothing is written. */
  async appendEvent(workflowSlug: string, runId: string, event: Event): Promise<void> {
    assertIds({ workflowSlug, runId });
    const ev = parseEventFor(workflowSlug, runId, event);
    await this.writeEvents({ workflowSlug, runId }, { kind: "none" }, [ev]);
  }

  /** Appends many events; all are validated before any is written. Events of one run are written as one batch. */
  async batchAppendEvents(items: Array<{ workflowSlug: string; runId: string; event: Event }>): Promise<void> {
    const byRun = new Map<string, { workflowSlug: string; runId: string; events: Event[] }>();
    for (const item of items) {
      assertIds({ workflowSlug: item.workflowSlug, runId: item.runId });
      const ev = parseEventFor(item.workflowSlug, item.runId, item.event);
      const key = `${item.workflowSlug}\0${item.runId}`;
      const group = byRun.get(key) ?? { workflowSlug: item.workflowSlug, runId: item.runId, events: [] };
      group.events.push(ev);
      byRun.set(key, group);
    }
    for (const g of byRun.values()) await this.writeEvents({ workflowSlug: g.workflowSlug, runId: g.runId }, { kind: "none" }, g.events);
  }

  /** Loads a run's events in order, optionally only one category and/or one step. */
  loadEvents(workflowSlug: string, runId: string, options: { category: "step"; stepId?: string }): Promise<StepEvent[]>;
  loadEvents(workflowSlug: string, runId: string, options: { category: "workflow" }): Promise<WorkflowEvent[]>;
  loadEvents(workflowSlug: string, runId: string, options?: { category?: "workflow" | "step"; stepId?: string }): Promise<Event[]>;
  async loadEvents(workflowSlug: string, runId: string, options: EventFilter = {}): Promise<Event[]> {
    assertIds({ workflowSlug, runId, stepId: options.stepId });
    if (options.category !== undefined && options.category !== "step" && options.category !== "workflow") {
      throw new InvalidArgumentError(`Unknown event category ${JSON.stringify(options.category)}; use "step" or "workflow".`);
    }
    return this.readEvents(workflowSlug, runId, options);
  }

  /** One read of a run's step events grouped by step, without heartbeats, logs and retry notices. */
  async loadStepEventsForProjection(workflowSlug: string, runId: string): Promise<Map<string, StepEvent[]>> {
    const events = await this.loadEvents(workflowSlug, runId, { category: "step" });
    const out = new Map<string, StepEvent[]>();
    for (const ev of events) {
      if (ev.type === "StepHeartbeat" || ev.type === "LogEntry" || ev.type === "StepRetrying") continue;
      const list = out.get(ev.stepId) ?? [];
      list.push(ev);
      out.set(ev.stepId, list);
    }
    return out;
  }

  /** Validates the ids; storage is created lazily by the first event, so nothing else is needed. */
  async initializeRun(workflowSlug: string, runId: string): Promise<void> {
    assertIds({ workflowSlug, runId });
  }

  /** The error of a refused fenced write: RunTerminalError when the run ended, else StaleAttemptError. */
  protected refusal(target: Required<WriteTarget>, verdict: GuardVerdict & { ok: false }, attemptNumber: number): CairnError {
    if (verdict.reason === "run-terminal") return new RunTerminalError({ ...target, status: verdict.runStatus ?? "ended" });
    return new StaleAttemptError({ ...target, attemptNumber, currentAttempt: verdict.stepAttempt, currentStatus: verdict.stepStatus });
  }

  // ─── Wake-ups ──────────────────────────────────────────────────────────────────────────────────
  /** Calls `listener` when steps may have become ready. Only drivers with `capabilities.notifications` ever call it. Returns an unsubscribe function. */
  subscribe(_listener: () => void): () => void {
    return () => {};
  }
}
