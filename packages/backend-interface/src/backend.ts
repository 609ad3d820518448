import { join } from "node:path";
import { tmpdir } from "node:os";
import type { Clock } from "./clock.js";
import { systemClock } from "./clock.js";
import type { Event, EventBody, EventOf, EventType, StepEvent, WorkflowEvent } from "./events.js";
import type { GuardVerdict, WriteGuard } from "./guards.js";
import { checkGuard } from "./guards.js";
import { projectStepStates } from "./project-step.js";
import { assertIds, assertRunId, assertWorkflowSlug } from "./identifiers.js";
import { newEventId } from "./ids.js";
import { parseEvent, parseEventFor } from "./validate-event.js";
import type { RunState } from "./run-state.js";
import type { StepState, StepRecord } from "./step-state.js";
import type { LogEntry, RunStatus, StepDefinition, StepError, WorkflowMetadata, WorkflowRegistration, WorkflowRegistrationInput, WorkflowVersion, WorkflowVersionInput } from "./schemas.js";
import { DEFAULT_MAX_RETRIES, WorkflowRegistrationSchema, WorkflowVersionSchema } from "./schemas.js";
import { CairnError, IdempotencyConflictError, InvalidArgumentError, InvalidEventError, RunNotFoundError, RunTerminalError, StaleAttemptError, StepNotClaimableError, VersionConflictError } from "./errors.js";
import { computeErrorFingerprints } from "./fingerprint.js";
import type {
  BackendCapabilities, BackendOptions, EventFilter, ListRunsOptions, ListScheduledOptions, PutVersionResult, StepRef, SubmissionResult, WriteTarget,
} from "./backend-primitives.js";
import { BackendAnalytics } from "./backend-analytics.js";
import { prepareSubmission, type RunSubmissionInput } from "./submission.js";
import { serializeValue } from "./serialize.js";
import { planRerun, type RerunOptions } from "./rerun.js";

/** Metadata for when a step starts. `timestamp` is accepted for compatibility; event times come from the backend's clock. */
export type StepStartMetadata = { dependencies: string[]; timestamp: number; attemptNumber: number; slotIndex?: number; workerConcurrency?: number };
/** Metadata for when a step completes. `duration` is µs. */
export type StepCompleteMetadata = { timestamp: number; duration: number; logs?: LogEntry[]; attemptNumber: number; output: unknown; resourceUsage?: EventOf<"StepCompleted">["resourceUsage"] };
/** One completion of a batch (saveStepCompletes): the arguments of saveStepComplete. */
export type StepCompleteItem = { workflowSlug: string; runId: string; stepId: string; output: unknown; metadata: StepCompleteMetadata; exportOutput?: boolean };
/** The outcome of one item of a batch: written, or refused with the error saveStepComplete would have thrown. */
export type StepCompleteOutcome = { ok: true } | { ok: false; error: CairnError };
/** One guarded write of a batch (writeEventBatch): what writeEvents takes. */
export type GuardedWrite = { target: WriteTarget; guard: WriteGuard; events: Event[] };
/** @deprecated Use WorkflowRegistration. */
export type WorkflowDetails = WorkflowMetadata & { steps: StepDefinition[]; stepCount: number };
/** A saved checkpoint, as a retry replays it. */
export type SavedCheckpoint = { name: string; sequenceNumber: number; attemptNumber: number; data: string; label?: string; timestampUs: number };

/**
 * The abstract Cairn backend: append-only events, projections, atomic claims, reclamation, submission and analytics.
 *
 * Three layers. Drivers implement the protected abstract primitives (guarded append, submission, reads and the
 * few indexed queries). Every public method of the seed interface is a concrete template method built on them,
 * which a driver may override for speed but never change in meaning. Capability flags say what else a driver offers.
 */
export abstract class Backend extends BackendAnalytics {
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
  /** Atomically: evaluate `guard` against the current projection of the run (and step) and, when it holds, append `events` in order. */
  protected abstract writeEvents(target: WriteTarget, guard: WriteGuard, events: Event[]): Promise<GuardVerdict>;
  /** Atomically create a run from its RunSubmitted event plus `extra` events of the same run, honouring the idempotency key. */
  protected abstract writeSubmission(submitted: EventOf<"RunSubmitted">, extra: Event[]): Promise<SubmissionResult>;
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

  // ─── Steps ─────────────────────────────────────────────────────────────────────────────────────
  /** Schedules attempt `attemptNumber` of a step; a duplicate or superseded schedule is ignored. Returns whether it was written. */
  async scheduleStep(workflowSlug: string, runId: string, stepId: string, metadata: { availableAt: number; reason: "initial" | "retry" | "dependency-satisfied"; attemptNumber: number; retryDelayMs?: number; priority?: number }): Promise<boolean> {
    assertIds({ workflowSlug, runId, stepId });
    const ev = this.makeEvent("StepScheduled", workflowSlug, runId, stepId, {
      availableAtUs: metadata.availableAt, reason: metadata.reason, attemptNumber: metadata.attemptNumber,
      ...(metadata.retryDelayMs === undefined ? {} : { retryDelayMs: metadata.retryDelayMs }),
      ...(metadata.priority === undefined ? {} : { priority: metadata.priority }),
    });
    const verdict = await this.writeEvents({ workflowSlug, runId, stepId }, { kind: "schedule", attemptNumber: metadata.attemptNumber }, [ev]);
    return verdict.ok;
  }

  /** Seed API: records that a step was scheduled (see scheduleStep). */
  async saveStepScheduled(workflowSlug: string, runId: string, stepId: string, metadata: { availableAt: number; reason: "initial" | "retry" | "dependency-satisfied"; attemptNumber: number; retryDelayMs?: number }): Promise<void> {
    await this.scheduleStep(workflowSlug, runId, stepId, metadata);
  }

  /** Atomically moves a scheduled, available step of a live run to running; exactly one concurrent claimer wins, the rest get null. */
  async claimScheduledStep(workflowSlug: string, runId: string, stepId: string, workerId: string, metadata: StepStartMetadata): Promise<{ attemptNumber: number } | null> {
    assertIds({ workflowSlug, runId, stepId });
    const nowUs = this.clock.nowUs();
    const step = (await this.readSteps(workflowSlug, runId)).find((s) => s.stepId === stepId);
    if (!step || step.status !== "scheduled") return null;
    const attemptNumber = step.attemptNumber;
    const ev = this.makeEvent("StepStarted", workflowSlug, runId, stepId, {
      workerId, dependencies: metadata.dependencies, attemptNumber,
      ...(metadata.slotIndex === undefined ? {} : { slotIndex: metadata.slotIndex }),
      ...(metadata.workerConcurrency === undefined ? {} : { workerConcurrency: metadata.workerConcurrency }),
    });
    // The guard re-checks status, availability, run liveness and (through the event) the attempt atomically.
    const verdict = await this.writeEvents({ workflowSlug, runId, stepId }, { kind: "claim", nowUs, attemptNumber }, [ev]);
    return verdict.ok ? { attemptNumber } : null;
  }

  /** Claims up to `limit` ready steps. Drivers with `capabilities.batchClaim` do it in one round trip. */
  async claimScheduledSteps(workerId: string, options: { limit: number; workflowSlug?: string; dependencies?: (ref: StepRef) => string[] }): Promise<Array<StepRef & { attemptNumber: number }>> {
    const out: Array<StepRef & { attemptNumber: number }> = [];
    const candidates = await this.listScheduledSteps({ limit: Math.max(options.limit * 2, options.limit), ...(options.workflowSlug ? { workflowSlug: options.workflowSlug } : {}) });
    for (const ref of candidates) {
      if (out.length >= options.limit) break;
      const claimed = await this.claimScheduledStep(ref.workflowSlug, ref.runId, ref.stepId, workerId, {
        dependencies: options.dependencies?.(ref) ?? [], timestamp: this.clock.nowUs(), attemptNumber: 0,
      });
      if (claimed) out.push({ ...ref, attemptNumber: claimed.attemptNumber });
    }
    return out;
  }

  /** Seed API, routed through the claim guard: throws StepNotClaimableError unless the claim succeeds. */
  async saveStepStart(workflowSlug: string, runId: string, stepId: string, workerId: string, metadata: StepStartMetadata): Promise<void> {
    const claimed = await this.claimScheduledStep(workflowSlug, runId, stepId, workerId, metadata);
    if (!claimed) throw new StepNotClaimableError({ workflowSlug, runId, stepId });
  }

  /** True when the step is scheduled, available now and its run is live. */
  async isStepClaimable(workflowSlug: string, runId: string, stepId: string): Promise<boolean> {
    assertIds({ workflowSlug, runId, stepId });
    const [run, steps] = await Promise.all([this.readRun(runId), this.readSteps(workflowSlug, runId)]);
    const step = steps.find((s) => s.stepId === stepId) ?? null;
    return checkGuard({ kind: "claim", nowUs: this.clock.nowUs() }, run && run.workflowSlug === workflowSlug ? run : null, step).ok;
  }

  /** Records a heartbeat for the running attempt; throws StaleAttemptError if the attempt lost the step, RunTerminalError if the run ended (cancel). */
  async saveStepHeartbeat(workflowSlug: string, runId: string, stepId: string, workerId: string, attemptNumber: number, extra: { slotIndex?: number; workerConcurrency?: number; resourceSnapshot?: { memoryBytes: number; cpuTimeUs?: number } } = {}): Promise<void> {
    assertIds({ workflowSlug, runId, stepId });
    const ev = this.makeEvent("StepHeartbeat", workflowSlug, runId, stepId, { workerId, attemptNumber, ...extra });
    await this.fenced({ workflowSlug, runId, stepId }, { kind: "attempt", attemptNumber, workerId, rejectIfRunTerminal: true }, [ev], attemptNumber);
  }

  /** Records the output of the running attempt (fenced). Logs given in metadata are written in the same batch. */
  async saveStepComplete(workflowSlug: string, runId: string, stepId: string, output: unknown, metadata: StepCompleteMetadata, exportOutput = false): Promise<void> {
    assertIds({ workflowSlug, runId, stepId });
    const events = this.completionEvents({ workflowSlug, runId, stepId, output, metadata, exportOutput });
    await this.fenced({ workflowSlug, runId, stepId }, { kind: "attempt", attemptNumber: metadata.attemptNumber }, events, metadata.attemptNumber);
  }

  /**
   * Many saveStepComplete calls in one: each item is fenced on its own attempt and succeeds or fails alone (a lost
   * attempt gets StaleAttemptError, bad ids or metadata their validation error, and the other items are still
   * written). Outcomes are in item order; two items for one step: the first wins, the second is stale. Throws only
   * when the storage fails (then any item may or may not have been written, as with saveStepComplete).
   * Drivers write the batch in one round trip (Postgres) or one transaction (SQLite) where they can.
   */
  async saveStepCompletes(items: StepCompleteItem[]): Promise<StepCompleteOutcome[]> {
    if (!Array.isArray(items)) throw new InvalidArgumentError("saveStepCompletes takes an array of completions.");
    const out: StepCompleteOutcome[] = new Array(items.length);
    const writes: Array<GuardedWrite & { index: number; attemptNumber: number }> = [];
    items.forEach((item, index) => {
      try {
        if (item === null || typeof item !== "object" || item.metadata === null || typeof item.metadata !== "object") throw new InvalidArgumentError(`Completion ${index} must be an object with metadata.`);
        const { workflowSlug, runId, stepId, metadata } = item;
        assertIds({ workflowSlug, runId, stepId });
        const events = this.completionEvents({ ...item, exportOutput: item.exportOutput ?? false });
        writes.push({ target: { workflowSlug, runId, stepId }, guard: { kind: "attempt", attemptNumber: metadata.attemptNumber }, events, index, attemptNumber: metadata.attemptNumber });
      } catch (err) {
        if (!(err instanceof CairnError)) throw err;
        out[index] = { ok: false, error: err };
      }
    });
    const verdicts = writes.length === 0 ? [] : await this.writeEventBatch(writes);
    writes.forEach((w, k) => {
      const v = verdicts[k] as GuardVerdict;
      out[w.index] = v.ok ? { ok: true } : { ok: false, error: this.refusal(w.target as Required<WriteTarget>, v, w.attemptNumber) };
    });
    return out;
  }

  /**
   * Overridable primitive: the guarded writes of a batch, each atomic and checked on its own (a refusal skips only that
   * write), in order (a later write sees the earlier ones); verdicts in the same order. Default: writeEvents, one
   * after the other. Drivers override it to write the batch in one round trip or one transaction.
   */
  protected async writeEventBatch(writes: GuardedWrite[]): Promise<GuardVerdict[]> {
    const out: GuardVerdict[] = [];
    for (const w of writes) out.push(await this.writeEvents(w.target, w.guard, w.events));
    return out;
  }

  /** The events of one completion: its log lines, then StepCompleted. */
  private completionEvents(c: StepCompleteItem & { exportOutput: boolean }): Event[] {
    const { workflowSlug, runId, stepId, metadata } = c;
    const events: Event[] = (metadata.logs ?? []).map((l) => this.makeEvent("LogEntry", workflowSlug, runId, stepId, { stream: l.stream, message: l.message, attemptNumber: l.attemptNumber }));
    events.push(this.makeEvent("StepCompleted", workflowSlug, runId, stepId, {
      output: serializeValue(c.output), durationUs: Math.max(0, Math.round(metadata.duration)), attemptNumber: metadata.attemptNumber, exportOutput: c.exportOutput,
      ...(metadata.resourceUsage ? { resourceUsage: metadata.resourceUsage } : {}),
    }));
    return events;
  }

  /** Records a failure of the running attempt (fenced), with its error fingerprints. */
  async saveStepFailed(workflowSlug: string, runId: string, stepId: string, error: StepError, metadata: { duration: number; attemptNumber: number; terminal: boolean; nextRetryAt?: number; failureReason: EventOf<"StepFailed">["failureReason"]; resourceUsage?: EventOf<"StepFailed">["resourceUsage"] }): Promise<void> {
    assertIds({ workflowSlug, runId, stepId });
    const ev = this.failureEvent(workflowSlug, runId, stepId, error, metadata);
    await this.fenced({ workflowSlug, runId, stepId }, { kind: "attempt", attemptNumber: metadata.attemptNumber }, [ev], metadata.attemptNumber);
  }

  /** Atomically: StepFailed (non-terminal), StepRetrying and StepScheduled for the next attempt; all or nothing, fenced. */
  async saveStepFailedAndScheduleRetry(workflowSlug: string, runId: string, stepId: string, error: StepError, failureMetadata: { duration: number; attemptNumber: number; nextRetryAt: number; failureReason: "execution-error" | "timeout" | "worker-crash"; resourceUsage?: EventOf<"StepFailed">["resourceUsage"] }, scheduleMetadata: { availableAt: number; nextAttemptNumber: number; retryDelayMs: number; maxRetries: number }): Promise<void> {
    assertIds({ workflowSlug, runId, stepId });
    if (scheduleMetadata.nextAttemptNumber !== failureMetadata.attemptNumber + 1) {
      throw new InvalidEventError("Invalid retry", [{ path: "nextAttemptNumber", message: `must be attemptNumber + 1 (${failureMetadata.attemptNumber + 1})` }], { runId, stepId });
    }
    const step = (await this.readSteps(workflowSlug, runId)).find((s) => s.stepId === stepId);
    const events: Event[] = [
      this.failureEvent(workflowSlug, runId, stepId, error, { ...failureMetadata, terminal: false }),
      this.makeEvent("StepRetrying", workflowSlug, runId, stepId, { attemptNumber: failureMetadata.attemptNumber, nextAttempt: scheduleMetadata.nextAttemptNumber, error: cleanError(error), maxRetries: scheduleMetadata.maxRetries }),
      this.makeEvent("StepScheduled", workflowSlug, runId, stepId, { availableAtUs: scheduleMetadata.availableAt, reason: "retry", attemptNumber: scheduleMetadata.nextAttemptNumber, retryDelayMs: scheduleMetadata.retryDelayMs, ...(step ? { priority: step.priority } : {}) }),
    ];
    await this.fenced({ workflowSlug, runId, stepId }, { kind: "attempt", attemptNumber: failureMetadata.attemptNumber }, events, failureMetadata.attemptNumber);
  }

  /** Records that a step will not run. A running step may be skipped only by its current attempt. Returns whether it was written. */
  async saveStepSkipped(workflowSlug: string, runId: string, stepId: string, metadata: { skipType: "primary" | "cascade"; reason: string; metadata?: Record<string, unknown>; duration: number; attemptNumber: number; cascadedFrom?: string }): Promise<void> {
    assertIds({ workflowSlug, runId, stepId });
    const ev = this.makeEvent("StepSkipped", workflowSlug, runId, stepId, {
      skipType: metadata.skipType, reason: metadata.reason, durationUs: Math.max(0, Math.round(metadata.duration)), attemptNumber: metadata.attemptNumber,
      ...(metadata.metadata ? { metadata: metadata.metadata } : {}), ...(metadata.cascadedFrom ? { cascadedFrom: metadata.cascadedFrom } : {}),
    });
    const verdict = await this.writeEvents({ workflowSlug, runId, stepId }, { kind: "step-open", attemptNumber: metadata.attemptNumber || undefined }, [ev]);
    if (!verdict.ok && verdict.reason === "stale-attempt") throw new StaleAttemptError({ workflowSlug, runId, stepId, attemptNumber: metadata.attemptNumber, currentAttempt: verdict.stepAttempt, currentStatus: verdict.stepStatus });
  }

  /** Seed API: appends a StepReclaimed event as given (reclaimStaleSteps is the atomic way to reclaim). */
  async saveStepReclaimed(workflowSlug: string, runId: string, stepId: string, metadata: { originalWorkerId: string; reclaimedBy: string; lastHeartbeat: number; staleThreshold: number; staleDuration: number; attemptNumber: number }): Promise<void> {
    assertIds({ workflowSlug, runId, stepId });
    const ev = this.makeEvent("StepReclaimed", workflowSlug, runId, stepId, {
      originalWorkerId: metadata.originalWorkerId, reclaimedBy: metadata.reclaimedBy, lastHeartbeatUs: metadata.lastHeartbeat,
      staleThresholdUs: metadata.staleThreshold, staleDurationUs: metadata.staleDuration, attemptNumber: metadata.attemptNumber,
    });
    await this.writeEvents({ workflowSlug, runId, stepId }, { kind: "none" }, [ev]);
  }

  /** Saves log lines of a step (any attempt) in one batch. */
  async saveStepLogs(workflowSlug: string, runId: string, stepId: string, logs: LogEntry[]): Promise<void> {
    assertIds({ workflowSlug, runId, stepId });
    if (logs.length === 0) return;
    const events = logs.map((l) => this.makeEvent("LogEntry", workflowSlug, runId, stepId, { stream: l.stream, message: l.message, attemptNumber: l.attemptNumber }));
    await this.writeEvents({ workflowSlug, runId, stepId }, { kind: "none" }, events);
  }

  /** A step's log lines (one attempt, or all), or null when it has none. */
  async loadStepLogs(workflowSlug: string, runId: string, stepId: string, attemptNumber?: number): Promise<LogEntry[] | null> {
    const events = await this.loadEvents(workflowSlug, runId, { category: "step", stepId });
    const logs = events
      .filter((e): e is EventOf<"LogEntry"> => e.type === "LogEntry" && (attemptNumber === undefined || e.attemptNumber === attemptNumber))
      .map((e) => ({ timestampUs: e.timestampUs, stream: e.stream, message: e.message, attemptNumber: e.attemptNumber }));
    return logs.length ? logs : null;
  }

  /** Saves a checkpoint of the running attempt (fenced). */
  async saveStepCheckpoint(workflowSlug: string, runId: string, stepId: string, checkpoint: { name: string; sequenceNumber: number; attemptNumber: number; data: unknown; label?: string; parentCheckpoint?: string }): Promise<void> {
    assertIds({ workflowSlug, runId, stepId });
    const ev = this.makeEvent("StepCheckpoint", workflowSlug, runId, stepId, {
      name: checkpoint.name, sequenceNumber: checkpoint.sequenceNumber, attemptNumber: checkpoint.attemptNumber, data: serializeValue(checkpoint.data),
      ...(checkpoint.label ? { label: checkpoint.label } : {}), ...(checkpoint.parentCheckpoint ? { parentCheckpoint: checkpoint.parentCheckpoint } : {}),
    });
    await this.fenced({ workflowSlug, runId, stepId }, { kind: "attempt", attemptNumber: checkpoint.attemptNumber }, [ev], checkpoint.attemptNumber);
  }

  /** Records that a checkpointed function threw. */
  async saveStepCheckpointFailed(workflowSlug: string, runId: string, stepId: string, failure: { name: string; sequenceNumber: number; attemptNumber: number; error: StepError }): Promise<void> {
    assertIds({ workflowSlug, runId, stepId });
    const ev = this.makeEvent("StepCheckpointFailed", workflowSlug, runId, stepId, { name: failure.name, sequenceNumber: failure.sequenceNumber, attemptNumber: failure.attemptNumber, error: cleanError(failure.error) });
    await this.writeEvents({ workflowSlug, runId, stepId }, { kind: "none" }, [ev]);
  }

  /** The latest saved checkpoint per name across all attempts of a step, in sequence order: what a retry replays. */
  async loadStepCheckpoints(workflowSlug: string, runId: string, stepId: string): Promise<SavedCheckpoint[]> {
    const events = await this.loadEvents(workflowSlug, runId, { category: "step", stepId });
    const byName = new Map<string, SavedCheckpoint>();
    for (const e of events) {
      if (e.type !== "StepCheckpoint") continue;
      byName.set(e.name, { name: e.name, sequenceNumber: e.sequenceNumber, attemptNumber: e.attemptNumber, data: e.data, timestampUs: e.timestampUs, ...(e.label ? { label: e.label } : {}) });
    }
    return [...byName.values()].sort((a, b) => a.sequenceNumber - b.sequenceNumber);
  }

  /** Path where a step attempt's output file goes; always a local path under the backend's directory. */
  getStepOutputPath(workflowSlug: string, runId: string, stepId: string, attemptNumber: number): string {
    assertIds({ workflowSlug, runId, stepId });
    if (!Number.isInteger(attemptNumber) || attemptNumber < 1) throw new InvalidArgumentError(`attemptNumber must be a positive integer, got ${attemptNumber}.`);
    return join(this.outputDir, workflowSlug, runId, ...stepId.split("/"), `attempt-${attemptNumber}.output.json`);
  }

  /** Every step's projected state. */
  async loadRun(workflowSlug: string, runId: string): Promise<StepRecord[]> {
    assertIds({ workflowSlug, runId });
    return this.readSteps(workflowSlug, runId);
  }

  /** One step's projected state, or null. */
  async getStepState(workflowSlug: string, runId: string, stepId: string): Promise<StepState | null> {
    assertIds({ workflowSlug, runId, stepId });
    return (await this.readSteps(workflowSlug, runId)).find((s) => s.stepId === stepId) ?? null;
  }

  /** Steps that failed terminally, with their last error. */
  async getFailedSteps(workflowSlug: string, runId: string): Promise<Array<{ stepId: string; error: StepError; attemptNumber: number }>> {
    const steps = await this.loadRun(workflowSlug, runId);
    return steps.filter((s) => s.status === "failed" && s.error).map((s) => ({ stepId: s.stepId, error: s.error as StepError, attemptNumber: s.attemptNumber }));
  }

  /** Running steps whose heartbeat is older than `staleThresholdMs`: each reclaimed exactly once and rescheduled, or failed as worker-crash when its retry budget is spent. */
  async reclaimStaleSteps(staleThresholdMs: number, reclaimedBy: string): Promise<StepRef[]> {
    if (!Number.isFinite(staleThresholdMs) || staleThresholdMs < 0) throw new InvalidArgumentError(`staleThresholdMs must be a non-negative number of milliseconds, got ${staleThresholdMs}.`);
    const nowUs = this.clock.nowUs();
    const cutoff = nowUs - Math.round(staleThresholdMs * 1000);
    const candidates = await this.queryStaleSteps(cutoff);
    const budgets = new Map<string, Map<string, number>>();
    const out: StepRef[] = [];
    for (const step of candidates) {
      const budget = await this.retryBudget(step.workflowSlug, step.stepId, budgets);
      const lastSeen = step.lastHeartbeatUs ?? step.startTimeUs ?? 0;
      const { workflowSlug, runId, stepId, attemptNumber } = step;
      const events: Event[] = [this.makeEvent("StepReclaimed", workflowSlug, runId, stepId, {
        originalWorkerId: step.claimedBy ?? "unknown", reclaimedBy, lastHeartbeatUs: lastSeen, staleThresholdUs: Math.round(staleThresholdMs * 1000),
        staleDurationUs: Math.max(0, nowUs - lastSeen), attemptNumber,
      })];
      if (attemptNumber <= budget) {
        events.push(this.makeEvent("StepScheduled", workflowSlug, runId, stepId, { availableAtUs: nowUs, reason: "retry", attemptNumber: attemptNumber + 1, priority: step.priority }));
      } else {
        const error = { name: "WorkerCrashError", message: `Worker ${step.claimedBy ?? "unknown"} stopped heartbeating attempt ${attemptNumber} and the retry budget (${budget}) is spent.` };
        events.push(this.failureEvent(workflowSlug, runId, stepId, error, { duration: Math.max(0, nowUs - (step.startTimeUs ?? nowUs)), attemptNumber, terminal: true, failureReason: "worker-crash" }));
      }
      const verdict = await this.writeEvents({ workflowSlug, runId, stepId }, { kind: "stale", attemptNumber, heartbeatBeforeUs: cutoff }, events);
      if (verdict.ok) out.push({ workflowSlug, runId, stepId });
    }
    return out;
  }

  /** The number of retries a step may still use: registered maxRetries, else DEFAULT_MAX_RETRIES. */
  private async retryBudget(slug: string, stepId: string, cache: Map<string, Map<string, number>>): Promise<number> {
    let perStep = cache.get(slug);
    if (!perStep) {
      perStep = new Map((await this.getWorkflowSteps(slug)).map((d) => [d.id, d.maxRetries ?? d.retry?.maxRetries ?? DEFAULT_MAX_RETRIES]));
      cache.set(slug, perStep);
    }
    return perStep.get(stepId) ?? DEFAULT_MAX_RETRIES;
  }

  /** Runs a fenced write and turns a refusal into StaleAttemptError or RunTerminalError. */
  protected async fenced(target: Required<WriteTarget>, guard: WriteGuard, events: Event[], attemptNumber: number): Promise<void> {
    const verdict = await this.writeEvents(target, guard, events);
    if (!verdict.ok) throw this.refusal(target, verdict, attemptNumber);
  }

  /** The error of a refused fenced write: RunTerminalError when the run ended, else StaleAttemptError. */
  private refusal(target: Required<WriteTarget>, verdict: GuardVerdict & { ok: false }, attemptNumber: number): CairnError {
    if (verdict.reason === "run-terminal") return new RunTerminalError({ ...target, status: verdict.runStatus ?? "ended" });
    return new StaleAttemptError({ ...target, attemptNumber, currentAttempt: verdict.stepAttempt, currentStatus: verdict.stepStatus });
  }

  private failureEvent(workflowSlug: string, runId: string, stepId: string, error: StepError, m: { duration: number; attemptNumber: number; terminal: boolean; nextRetryAt?: number; failureReason: EventOf<"StepFailed">["failureReason"]; resourceUsage?: EventOf<"StepFailed">["resourceUsage"] }): EventOf<"StepFailed"> {
    const err = cleanError(error);
    return this.makeEvent("StepFailed", workflowSlug, runId, stepId, {
      error: err, errorFingerprints: computeErrorFingerprints(err), durationUs: Math.max(0, Math.round(m.duration)), attemptNumber: m.attemptNumber,
      terminal: m.terminal, failureReason: m.failureReason,
      ...(m.nextRetryAt === undefined ? {} : { nextRetryAtUs: m.nextRetryAt }), ...(m.resourceUsage ? { resourceUsage: m.resourceUsage } : {}),
    });
  }

  // ─── Runs ──────────────────────────────────────────────────────────────────────────────────────
  /** Submits a run. Validates and serialises first (a failed submit leaves no trace); an idempotency key (scoped to the workflow) returns the existing run, or throws IdempotencyConflictError for a different input. */
  async submitRun(submission: RunSubmissionInput): Promise<{ runId: string; isNew: boolean }> {
    const prepared = prepareSubmission(submission, this.clock.nowUs());
    return this.finishSubmission(prepared.event, [], prepared.input);
  }

  /** Seed API: records a RunSubmitted event for a given run id (idempotency keys honoured as in submitRun). */
  async saveRunSubmitted(workflowSlug: string, runId: string, metadata: { availableAt: number; priority: number; input?: string; hasInputSchema: boolean; timeout?: number; idempotencyKey?: string; metadata?: Record<string, unknown>; tags?: string[]; versionId?: string }): Promise<void> {
    assertIds({ workflowSlug, runId });
    const ev = this.makeEvent("RunSubmitted", workflowSlug, runId, undefined, {
      availableAtUs: metadata.availableAt, priority: metadata.priority, hasInputSchema: metadata.hasInputSchema,
      ...(metadata.input === undefined ? {} : { input: metadata.input }), ...(metadata.timeout === undefined ? {} : { timeoutUs: metadata.timeout }),
      ...(metadata.idempotencyKey === undefined ? {} : { idempotencyKey: metadata.idempotencyKey }), ...(metadata.metadata ? { metadata: metadata.metadata } : {}),
      ...(metadata.tags ? { tags: metadata.tags } : {}), ...(metadata.versionId ? { versionId: metadata.versionId } : {}),
    });
    await this.finishSubmission(ev, [], metadata.input);
  }

  protected async finishSubmission(event: EventOf<"RunSubmitted">, extra: Event[], input: string | undefined): Promise<{ runId: string; isNew: boolean }> {
    const result = await this.writeSubmission(event, extra);
    if (result.created) return { runId: result.runId, isNew: true };
    if (result.existingInput !== input) {
      throw new IdempotencyConflictError({ workflowSlug: event.workflowSlug, idempotencyKey: event.idempotencyKey ?? "", existingRunId: result.runId });
    }
    return { runId: result.runId, isNew: false };
  }

  /** A new run that keeps the parent's results outside `{fromStepId} ∪ its transitive dependents` and re-executes the rest. */
  async rerunFrom(options: RerunOptions): Promise<{ runId: string; rerunStepIds: string[] }> {
    assertRunId(options.parentRunId);
    const parent = await this.readRun(options.parentRunId);
    if (!parent) throw new RunNotFoundError(options.parentRunId);
    const [steps, definitions] = await Promise.all([this.readSteps(parent.workflowSlug, parent.runId), this.getWorkflowSteps(parent.workflowSlug)]);
    const plan = planRerun(parent, steps, definitions, options, this.clock.nowUs(), (type, runId, stepId, body) => this.makeEvent(type, parent.workflowSlug, runId, stepId, body as never));
    await this.writeSubmission(plan.submitted, plan.extra);
    return { runId: plan.submitted.runId, rerunStepIds: plan.rerunStepIds };
  }

  /** True when the run exists in this workflow. */
  async runExists(workflowSlug: string, runId: string): Promise<boolean> {
    assertIds({ workflowSlug, runId });
    const run = await this.readRun(runId);
    return run !== null && run.workflowSlug === workflowSlug;
  }

  /** The run's state, or null. */
  async getRun(runId: string): Promise<RunState | null> {
    assertRunId(runId);
    return this.readRun(runId);
  }

  /** Runs, newest first; status filters are OR, tag filters AND; at most `limit`. */
  async listRuns(options: ListRunsOptions = {}): Promise<RunState[]> {
    if (options.workflowSlug !== undefined) assertWorkflowSlug(options.workflowSlug);
    if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 0)) throw new InvalidArgumentError(`limit must be a non-negative integer, got ${options.limit}.`);
    if (options.limit === 0) return [];
    const allowed: RunStatus[] = ["pending", "running", "completed", "failed", "cancelled"];
    for (const s of options.status ?? []) if (!allowed.includes(s)) throw new InvalidArgumentError(`Unknown run status ${JSON.stringify(s)}; use one of ${allowed.join(", ")}.`);
    return this.queryRuns(options);
  }

  /** Every run id of a workflow. */
  async listRunIds(workflowSlug: string): Promise<string[]> {
    assertWorkflowSlug(workflowSlug);
    return this.queryRunIds(workflowSlug);
  }

  /** Workflows with at least one non-terminal run. */
  async listActiveWorkflows(): Promise<string[]> {
    return this.queryActiveWorkflows();
  }

  /** Scheduled, available steps of live runs: priority desc, then availableAt asc; at most `limit`. */
  async listScheduledSteps(options: ListScheduledOptions = {}): Promise<StepRef[]> {
    if (options.workflowSlug !== undefined) assertWorkflowSlug(options.workflowSlug);
    if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 0)) throw new InvalidArgumentError(`limit must be a non-negative integer, got ${options.limit}.`);
    if (options.limit === 0) return [];
    return this.queryScheduledSteps({ ...options, availableBefore: options.availableBefore ?? this.clock.nowUs() });
  }

  /** Starts a pending, available run exactly once; returns false if another worker started it or it is not startable. */
  async startRun(workflowSlug: string, runId: string, metadata: { workflowAttemptNumber: number; hasInputSchema: boolean; hasInput: boolean; versionId?: string }): Promise<boolean> {
    assertIds({ workflowSlug, runId });
    const ev = this.makeEvent("WorkflowStarted", workflowSlug, runId, undefined, metadata);
    return (await this.writeEvents({ workflowSlug, runId }, { kind: "run-start", nowUs: this.clock.nowUs() }, [ev])).ok;
  }

  /** Seed API: records that a run started (only a pending, available run starts; see startRun). */
  async saveWorkflowStart(workflowSlug: string, runId: string, metadata: { workflowAttemptNumber: number; hasInputSchema: boolean; hasInput: boolean; versionId?: string }): Promise<void> {
    await this.startRun(workflowSlug, runId, metadata);
  }

  /** Records the input validation result. */
  async saveWorkflowInputValidation(workflowSlug: string, runId: string, result: { workflowAttemptNumber: number; hasSchema: boolean; success: boolean; error?: StepError; validationErrors?: Array<{ path: string; message: string }> }): Promise<void> {
    assertIds({ workflowSlug, runId });
    const ev = this.makeEvent("WorkflowInputValidation", workflowSlug, runId, undefined, { ...result, ...(result.error ? { error: cleanError(result.error) } : {}) });
    await this.writeEvents({ workflowSlug, runId }, { kind: "none" }, [ev]);
  }

  /** Completes a live run with its output; a run that already ended is left as it is. Returns whether it was written. */
  async saveWorkflowComplete(workflowSlug: string, runId: string, output: unknown, metadata: { workflowAttemptNumber: number; timestamp: number; duration: number; totalSteps: number }): Promise<void> {
    assertIds({ workflowSlug, runId });
    const ev = this.makeEvent("WorkflowCompleted", workflowSlug, runId, undefined, {
      workflowAttemptNumber: metadata.workflowAttemptNumber, output: serializeValue(output), durationUs: Math.max(0, Math.round(metadata.duration)), totalSteps: metadata.totalSteps,
    });
    await this.writeEvents({ workflowSlug, runId }, { kind: "run-open" }, [ev]);
  }

  /** Fails a live run; a run that already ended is left as it is. */
  async saveWorkflowFailed(workflowSlug: string, runId: string, error: StepError, metadata: { workflowAttemptNumber: number; duration: number; completedSteps: number; failedStep?: string }, failureReason: "step-failed" | "worker-crash" | "timeout" | "cancelled"): Promise<void> {
    assertIds({ workflowSlug, runId });
    const ev = this.makeEvent("WorkflowFailed", workflowSlug, runId, undefined, {
      workflowAttemptNumber: metadata.workflowAttemptNumber, error: cleanError(error), durationUs: Math.max(0, Math.round(metadata.duration)), completedSteps: metadata.completedSteps,
      failureReason, ...(metadata.failedStep ? { failedStep: metadata.failedStep } : {}),
    });
    await this.writeEvents({ workflowSlug, runId }, { kind: "run-open" }, [ev]);
  }

  /** Records that a run resumes the work of an earlier run. */
  async saveWorkflowResumed(workflowSlug: string, runId: string, metadata: { originalRunId: string; resumedSteps: number; pendingSteps: number }): Promise<void> {
    assertIds({ workflowSlug, runId });
    assertRunId(metadata.originalRunId);
    await this.writeEvents({ workflowSlug, runId }, { kind: "none" }, [this.makeEvent("WorkflowResumed", workflowSlug, runId, undefined, metadata)]);
  }

  /** Cancels a live run; a run that already ended is left as it is. */
  async saveWorkflowCancelled(workflowSlug: string, runId: string, metadata: { workflowAttemptNumber: number; reason?: string; duration: number; completedSteps: number }): Promise<void> {
    assertIds({ workflowSlug, runId });
    const ev = this.makeEvent("WorkflowCancelled", workflowSlug, runId, undefined, {
      workflowAttemptNumber: metadata.workflowAttemptNumber, durationUs: Math.max(0, Math.round(metadata.duration)), completedSteps: metadata.completedSteps,
      ...(metadata.reason === undefined ? {} : { reason: metadata.reason }),
    });
    await this.writeEvents({ workflowSlug, runId }, { kind: "run-open" }, [ev]);
  }

  /** Starts a new workflow attempt of a failed or live run. */
  async saveWorkflowRetryStarted(workflowSlug: string, runId: string, metadata: { workflowAttemptNumber: number; previousAttemptNumber: number; retriedSteps: string[]; reason?: string }): Promise<void> {
    assertIds({ workflowSlug, runId });
    await this.writeEvents({ workflowSlug, runId }, { kind: "none" }, [this.makeEvent("WorkflowRetryStarted", workflowSlug, runId, undefined, metadata)]);
  }

  /** Cancels a run: RunNotFoundError if unknown, no change if it already ended; afterwards none of its steps is listed or claimable. */
  async cancelRun(runId: string, reason?: string): Promise<void> {
    assertRunId(runId);
    const run = await this.readRun(runId);
    if (!run) throw new RunNotFoundError(runId);
    if (run.status === "completed" || run.status === "failed" || run.status === "cancelled") return;
    const steps = await this.readSteps(run.workflowSlug, runId);
    const nowUs = this.clock.nowUs();
    const ev = this.makeEvent("WorkflowCancelled", run.workflowSlug, runId, undefined, {
      workflowAttemptNumber: run.workflowAttemptNumber, durationUs: Math.max(0, nowUs - (run.startedAtUs ?? run.createdAtUs)),
      completedSteps: steps.filter((s) => s.status === "completed").length, ...(reason === undefined ? {} : { reason }),
    });
    await this.writeEvents({ workflowSlug: run.workflowSlug, runId }, { kind: "run-open" }, [ev]);
  }

  // ─── Workflows and versions ────────────────────────────────────────────────────────────────────
  /** Stores a workflow's metadata, input JSON Schema and step definitions (replacing an earlier registration). */
  async registerWorkflow(registration: WorkflowRegistrationInput): Promise<void> {
    assertWorkflowSlug(registration?.slug);
    const parsed = WorkflowRegistrationSchema.safeParse(registration);
    if (!parsed.success) throw new InvalidEventError(`Invalid registration of workflow ${registration.slug}`, parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })));
    for (const s of parsed.data.steps) assertIds({ stepId: s.id });
    await this.putWorkflow({ ...parsed.data, registeredAtUs: parsed.data.registeredAtUs ?? this.clock.nowUs() });
  }

  /** A workflow's metadata, or null. */
  async getWorkflowMetadata(slug: string): Promise<WorkflowMetadata | null> {
    assertWorkflowSlug(slug);
    const reg = await this.readWorkflow(slug);
    if (!reg) return null;
    const { steps: _steps, ...meta } = reg;
    return meta;
  }

  /** Every registered workflow's metadata, by slug. */
  async listWorkflowMetadata(): Promise<WorkflowMetadata[]> {
    return (await this.readWorkflows()).map(({ steps: _steps, ...meta }) => meta).sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0));
  }

  /** A workflow's step definitions, or [] when it is not registered. */
  async getWorkflowSteps(slug: string): Promise<StepDefinition[]> {
    assertWorkflowSlug(slug);
    return (await this.readWorkflow(slug))?.steps ?? [];
  }

  /** Creates an immutable workflow version; idempotent per versionId, VersionConflictError if the id exists with other content. */
  async createWorkflowVersion(version: WorkflowVersionInput): Promise<WorkflowVersion> {
    assertWorkflowSlug(version?.workflowSlug);
    assertIds({ runId: version.versionId });
    const parsed = WorkflowVersionSchema.safeParse({ ...version, createdAtUs: version.createdAtUs ?? this.clock.nowUs() });
    if (!parsed.success) throw new InvalidEventError(`Invalid version of workflow ${version.workflowSlug}`, parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })));
    const result = await this.putVersion(parsed.data);
    if (result.status === "conflict") throw new VersionConflictError({ workflowSlug: version.workflowSlug, versionId: version.versionId });
    return result.version;
  }

  /** One version, or null. */
  async getWorkflowVersion(workflowSlug: string, versionId: string): Promise<WorkflowVersion | null> {
    assertWorkflowSlug(workflowSlug);
    assertIds({ runId: versionId });
    return (await this.readVersions(workflowSlug, versionId))[0] ?? null;
  }

  /** The version named by the current registration, else the newest; null when there is none. */
  async getCurrentWorkflowVersion(workflowSlug: string): Promise<WorkflowVersion | null> {
    assertWorkflowSlug(workflowSlug);
    const reg = await this.readWorkflow(workflowSlug);
    if (reg?.versionId) {
      const named = (await this.readVersions(workflowSlug, reg.versionId))[0];
      if (named) return named;
    }
    return (await this.readVersions(workflowSlug))[0] ?? null;
  }

  /** Versions of a workflow, newest first. */
  async listWorkflowVersions(workflowSlug: string, options: { limit?: number } = {}): Promise<WorkflowVersion[]> {
    assertWorkflowSlug(workflowSlug);
    const all = await this.readVersions(workflowSlug);
    return options.limit === undefined ? all : all.slice(0, options.limit);
  }

  // ─── Wake-ups ──────────────────────────────────────────────────────────────────────────────────
  /** Calls `listener` when steps may have become ready. Only drivers with `capabilities.notifications` ever call it. Returns an unsubscribe function. */
  subscribe(_listener: () => void): () => void {
    return () => {};
  }
}

/** Keeps only the documented fields of an error (no extra enumerable properties of the caller's Error). */
function cleanError(error: StepError): StepError {
  if (error === null || typeof error !== "object") return { message: String(error) };
  const message = typeof error.message === "string" ? error.message : String(error.message);
  return {
    message,
    ...(typeof error.name === "string" ? { name: error.name } : {}),
    ...(typeof error.stack === "string" ? { stack: error.stack } : {}),
  };
}

export { serializeValue };
