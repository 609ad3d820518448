import type {
  ActiveWorkersOptions,
  AnalyticsSummary,
  CallAnalytics,
  CounterAnalytics,
  UsageAnalytics,
  ErrorAnalysis,
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
import type { AnalyticsWindow, ResolvedAnalyticsQuery } from "./backend-analytics.js";
import type {
  BackendCapabilities,
  EventFilter,
  FollowUp,
  ListRunsOptions,
  ListScheduledOptions,
  PutVersionResult,
  StepRef,
  SubmissionResult,
  WriteTarget,
} from "./backend-primitives.js";
import type { Event, EventOf } from "./events.js";
import type { GuardVerdict, WriteGuard } from "./guards.js";
import type { RunState } from "./run-state.js";
import type { WorkflowPause, WorkflowRegistration, WorkflowVersion } from "./schemas.js";
import type { StepState } from "./step-state.js";
import type { WorkerPresence } from "./worker-presence.js";

/** A flow-control gate: the runs of one workflow with one flowKey. */
export type Gate = { workflowSlug: string; flowKey: string };

/** Workflows a claim may take steps of: slug → step id → that step's dependencies. */
export type ClaimScope = Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;

/** One guarded write of a batch (writeEventBatch): what writeEvents takes. */
export type GuardedWrite = { target: WriteTarget; guard: WriteGuard; events: Event[]; follow?: FollowUp };

/** Which presence records readWorkerPresences returns. */
export interface PresenceFilter {
  /** Only records whose lastSeenUs is at or after this µs instant. */
  seenSinceUs: number;
  /** Only this worker's record. */
  workerId?: string;
}

/** A record written once under its key (see putMarkIfAbsent). */
export interface Mark {
  key: string;
  holder: string;
  atUs: number;
}

/** A value kept under a key and replaced only by compare-and-set (see compareAndSetCursor): a schedule's last tick. */
export interface Cursor {
  key: string;
  value: string;
  /** When this value was written (µs, the writer's clock). */
  atUs: number;
}

/** What queryEndedRuns selects. */
export interface EndedRunsQuery {
  statuses: ReadonlyArray<"completed" | "failed" | "cancelled">;
  endedBeforeUs: number;
  workflowSlug?: string;
  limit: number;
}

/** What queryGateRuns selects. */
export interface GateRunsQuery {
  workflowSlug: string;
  flowKey: string;
  status: "pending" | "running";
  /** Only pending runs available by this µs instant. */
  availableByUs?: number;
  limit: number;
}

/** What readFeed asks a driver for: events after a position of its own making (feedPosition), in commit order. */
export interface DriverFeedQuery {
  /** A position this driver returned (parse it with parseFeedPosition, which refuses anything else); null: from the start. */
  after: string | null;
  /** Only events of these types (names the driver need not know). */
  types?: readonly string[];
  /** At least 1. */
  limit: number;
}

/** One event of the feed with the driver's position of it. */
export interface DriverFeedEntry {
  position: string;
  event: Event;
}

/** A claimed step: its address and the attempt it now runs. */
export type ClaimedStep = StepRef & { attemptNumber: number; context?: RunContext };

/** A run and all its steps, as readRunContexts returns them (what a claimed step needs besides its own record). */
export type RunContext = { run: RunState; steps: StepState[] };

/**
 * A validated claim as the Backend hands it to a driver's claim fast path. The driver claims up to `limit` ready
 * steps (scheduled, available by `nowUs`, of a live run; priority desc, then availableAt asc, runId, stepId),
 * atomically per step, each recorded by the StepStarted event `started` builds for the attempt it finds.
 */
export interface ClaimRequest {
  workerId: string;
  /** The instant of the claim (µs, the backend's clock). */
  nowUs: number;
  /** At least 1. */
  limit: number;
  /** Claim exactly this step, or nothing (claimScheduledStep). */
  step?: StepRef;
  /** Only steps of this workflow. */
  workflowSlug?: string;
  /**
   * Only steps of these workflows, each step's dependencies looked up in it. The claim still takes the first ready
   * steps in listing order across all of them (not one workflow after the other): see claimWorkflows.
   */
  scope?: ClaimScope;
  /**
   * Also return each claimed step's run context (`ClaimedStep.context`), read by the claim itself where the driver
   * can (one round trip for both); a step left without one has its context read by the Backend afterwards.
   */
  contexts?: boolean;
  /** The dependencies recorded on a claimed step's StepStarted (from `scope` when given); absent: none. */
  dependencies?: (ref: StepRef) => string[];
  /** Recorded on StepStarted when given. */
  slotIndex?: number;
  /** Recorded on StepStarted when given. */
  workerConcurrency?: number;
  /** The StepStarted event of a claimed step at the attempt the claim found (built by the Backend: ids, clock, validation). */
  started: (ref: StepRef, attemptNumber: number) => EventOf<"StepStarted">;
}

/**
 * Analytics a driver computes in its own query language. Each receives the query validated and resolved once by
 * the Backend, and must answer exactly as the pure reference does (the conformance suite compares); a missing one
 * falls back to the reference over `loadAnalyticsEvents` / `loadLiveState`.
 */
export interface AnalyticsFastPaths {
  errorAnalysis?(q: ResolvedAnalyticsQuery): Promise<ErrorAnalysis>;
  retryAnalysis?(q: ResolvedAnalyticsQuery): Promise<RetryAnalysis>;
  schedulingLatency?(q: ResolvedAnalyticsQuery): Promise<SchedulingLatency>;
  stepDuration?(q: ResolvedAnalyticsQuery): Promise<StepDuration>;
  workflowDuration?(q: ResolvedAnalyticsQuery): Promise<WorkflowDuration>;
  workerStability?(q: ResolvedAnalyticsQuery): Promise<WorkerStability>;
  throughput?(q: ResolvedAnalyticsQuery): Promise<Throughput>;
  successRate?(q: ResolvedAnalyticsQuery): Promise<SuccessRate>;
  queueDepth?(workflowSlug: string | undefined, nowUs: number): Promise<QueueDepth>;
  queueDepthByWorkflow?(nowUs: number): Promise<QueueDepthByWorkflow>;
  /** The whole summary (for example in one snapshot); without it the Backend composes the parts. */
  analyticsSummary?(q: ResolvedAnalyticsQuery): Promise<AnalyticsSummary>;
  /** Workers seen over `q`'s window (from step events; the Backend merges presence records in). */
  activeWorkers?(q: ResolvedAnalyticsQuery, options: ActiveWorkersOptions): Promise<WorkerInfo[]>;
  /** One worker's record over `q`'s window (from step events), or null. */
  workerById?(q: ResolvedAnalyticsQuery, workerId: string): Promise<WorkerInfo | null>;
  /** Calls per tool and operation (StepCall events of the window). */
  callAnalytics?(q: ResolvedAnalyticsQuery): Promise<CallAnalytics>;
  /** AI usage per workflow and model (StepCall events with usage of the window). */
  usageAnalytics?(q: ResolvedAnalyticsQuery): Promise<UsageAnalytics>;
  /** Counters per workflow over the runs created in the window (computeCounterAnalytics). */
  counterAnalytics?(q: ResolvedAnalyticsQuery): Promise<CounterAnalytics>;
}

/**
 * Everything a storage driver implements, in one place. The one `Backend` class wraps a driver and owns the rest:
 * validation, ids, event building, lifecycle, the seed's template methods and the reference analytics. A driver
 * stores and reads; it never decides what an event means (the pure reducers, guards and `FollowUp`s it is handed
 * do). The fast paths are optional and may only be faster: the conformance suite checks them against the
 * reference path.
 *
 * The Backend calls a driver only between a successful `initialize()` and `close()`.
 */
export interface BackendDriver {
  /** What this driver offers beyond the contract's minimum. */
  readonly capabilities: BackendCapabilities;
  /** The directory under which getStepOutputPath places step output files, when the driver has a home for them. */
  readonly outputDir?: string;

  // ─── Lifecycle ───────────────────────────────────────────────────────────────────────────────────
  /** Prepares storage (migrations, directories). Called once by Backend.initialize(). */
  initialize(): Promise<void>;
  /** Releases resources (after in-flight writes end). Called once by Backend.close(). */
  close(): Promise<void>;
  /** Calls `listener` when steps may have become ready; drivers with `capabilities.notifications` have it. */
  subscribe?(listener: () => void): () => void;

  // ─── Writes: each one atomic ─────────────────────────────────────────────────────────────────────
  /**
   * Atomically: evaluates `guard` (checkGuard) against the current projection of the run (and step) and, when it
   * holds, appends `events` in order, then the events `follow` returns for the state after them (see FollowUp), and
   * updates the projection with the pure reducers. A `follow` that throws aborts the whole write. When the follow-up
   * asks for a gate count (FollowUp.gateQuery), the driver counts the gate (countGate semantics) inside the write,
   * serialised with every other write that counts the same gate, and passes the view to the follow-up.
   */
  writeEvents(target: WriteTarget, guard: WriteGuard, events: Event[], follow?: FollowUp): Promise<GuardVerdict>;
  /** Atomically creates a run from its RunSubmitted event plus `extra` events, honouring the idempotency key; `follow` as in writeEvents, only when created. */
  writeSubmission(submitted: EventOf<"RunSubmitted">, extra: Event[], follow?: FollowUp): Promise<SubmissionResult>;

  // ─── Reads ───────────────────────────────────────────────────────────────────────────────────────
  /** A run's events in append order, filtered. */
  readEvents(workflowSlug: string, runId: string, filter: EventFilter): Promise<Event[]>;
  /** A run's state by id alone, at a cost independent of history. */
  readRun(runId: string): Promise<RunState | null>;
  /**
   * Runs, newest first (createdAt descending, runId descending on ties), filtered (workflow, statuses OR, tags AND,
   * `createdAfterUs`), starting after the `before` cursor; reads no more than needed for `limit`.
   */
  queryRuns(options: ListRunsOptions): Promise<RunState[]>;
  /** Scheduled steps available by `availableBefore` in non-terminal runs, priority desc then availableAt asc (then runId, stepId). */
  queryScheduledSteps(
    options: Required<Pick<ListScheduledOptions, "availableBefore">> & ListScheduledOptions,
  ): Promise<StepRef[]>;
  /** Running steps of non-terminal runs whose last heartbeat (or start) is before `heartbeatBeforeUs`. */
  queryStaleSteps(heartbeatBeforeUs: number): Promise<StepState[]>;
  /**
   * Pending runs of registered versions available by `nowUs`, longest due first (availableAt ascending); at most
   * `limit`. Runs with a flow-control gate (`flowKey`) are left out: queryGateRuns serves them.
   */
  queryDueRuns(nowUs: number, limit: number): Promise<Array<Pick<RunState, "workflowSlug" | "runId">>>;
  /**
   * Runs of one flow-control gate (workflow and flowKey) in `status`; pending ones in the order they start (priority
   * descending, createdAt ascending, runId ascending), only those available by `availableByUs` when given; at most `limit`.
   */
  queryGateRuns(query: GateRunsQuery): Promise<Array<Pick<RunState, "workflowSlug" | "runId">>>;
  /**
   * Gates (workflow and flowKey) with a pending run available by `nowUs`, at most `limit`, in any order; only gates of
   * `among` when given (the gates where runs just ended: one read for a whole batch of completions).
   */
  queryWaitingGates(nowUs: number, limit: number, among?: readonly Gate[]): Promise<Gate[]>;
  /** Running runs whose timeout (startedAt + timeout) is before `nowUs`, longest overdue first; at most `limit`. */
  queryOverdueRuns(nowUs: number, limit: number): Promise<Array<Pick<RunState, "workflowSlug" | "runId">>>;
  /** Slugs of workflows that have at least one non-terminal run. */
  queryActiveWorkflows(): Promise<string[]>;
  /** Every run id of a workflow. */
  queryRunIds(workflowSlug: string): Promise<string[]>;
  /**
   * The event feed: events of every run after `query.after`, in commit order (an event committed after another is
   * never listed before it, and no committed event is ever skipped: a reader that has passed a position never sees
   * a new event appear before it), each with a position that survives restarts. Events of deleted runs are gone.
   */
  readFeed(query: DriverFeedQuery): Promise<DriverFeedEntry[]>;

  // ─── Retention ───────────────────────────────────────────────────────────────────────────────────
  /** Ended runs (status in `statuses`) whose endedAtUs is before `endedBeforeUs`, of one workflow when given, oldest ended first (then runId); at most `limit`. */
  queryEndedRuns(query: EndedRunsQuery): Promise<Array<Pick<RunState, "workflowSlug" | "runId">>>;
  /**
   * Deletes each run with everything derived from it (events, projection rows, index entries, idempotency key,
   * analytics facts), atomically per run, and only when the run has ended (checked inside the delete: a run that
   * is pending or running is left as it is). Returns the ids it deleted.
   */
  deleteRuns(runs: ReadonlyArray<Pick<RunState, "workflowSlug" | "runId">>): Promise<string[]>;

  // ─── Marks: records written once ─────────────────────────────────────────────────────────────────
  /**
   * Atomically records `mark` unless a mark with its key exists; returns the mark stored under the key (this one, or
   * the earlier one, unchanged). The Backend builds leases and send-once decisions on it.
   */
  putMarkIfAbsent(mark: Mark): Promise<Mark>;
  /** Deletes the marks whose key starts with `prefix` and whose `atUs` is before `beforeUs`; returns how many. */
  deleteMarks(prefix: string, beforeUs: number): Promise<number>;

  // ─── Cursors: records advanced by compare-and-set ────────────────────────────────────────────────
  /** The cursors stored under `keys` (keys without one left out), in any order. */
  readCursors(keys: readonly string[]): Promise<Cursor[]>;
  /**
   * Atomically stores `next` under `next.key` when the value stored there is `expected` (null: no cursor under the
   * key yet); true when it did, false when another value was there (then nothing is written). Of any number of
   * concurrent calls with one `expected`, in one or many processes, at most one returns true.
   */
  compareAndSetCursor(expected: string | null, next: Cursor): Promise<boolean>;

  // ─── Catalog and presence ────────────────────────────────────────────────────────────────────────
  /**
   * Stores (or replaces) a workflow registration, atomically: a registration without `paused` keeps the pause mark
   * stored, so a worker registering the workflow again never ends a pause, however it interleaves with
   * setWorkflowPause in any process.
   */
  putWorkflow(registration: WorkflowRegistration): Promise<void>;
  /**
   * Sets (or, with null, clears) a registration's pause mark, atomically, leaving the rest of it as stored, so a
   * registration written meanwhile in any process is never lost. False when the workflow is not registered.
   */
  setWorkflowPause(slug: string, paused: WorkflowPause | null): Promise<boolean>;
  /** A registration, or null. */
  readWorkflow(slug: string): Promise<WorkflowRegistration | null>;
  /** Every registration. */
  readWorkflows(): Promise<WorkflowRegistration[]>;
  /** Stores a version unless one with its id exists (then returns the stored one as "exists"; the Backend compares content). */
  putVersion(version: WorkflowVersion): Promise<PutVersionResult>;
  /** Versions of a workflow, newest first (createdAt descending, versionId descending on ties). */
  readVersions(workflowSlug: string, versionId?: string): Promise<WorkflowVersion[]>;
  /** Stores (replaces) a worker's presence record. */
  putWorkerPresence(presence: WorkerPresence): Promise<void>;
  /** Presence records matching `filter`, in any order; a damaged one is reported and left out. */
  readWorkerPresences(filter: PresenceFilter): Promise<WorkerPresence[]>;

  // ─── Analytics inputs ────────────────────────────────────────────────────────────────────────────
  /** Events whose timestamp lies in the window (of `window.types` only, if the driver likes), each run's in order. */
  loadAnalyticsEvents(window: AnalyticsWindow): Promise<Event[]>;
  /** Non-terminal runs (of one workflow, if given) and all their steps; cost proportional to live work. */
  loadLiveState(filter: { workflowSlug?: string }): Promise<LiveState>;

  // ─── Optional fast paths (absent: the Backend's reference path over the primitives) ──────────────
  /** Ids of a tenant's runs created at or before `createdUpToUs`, any order (reference: listRuns pages of the tenant). */
  queryTenantRunIds?(tenantId: string, createdUpToUs: number): Promise<string[]>;
  /** All step states of a run (reference: project the run's step events). */
  readSteps?(workflowSlug: string, runId: string): Promise<StepState[]>;
  /** Runs and all their steps by run id, absent ids left out (reference: readRun and readSteps per run). */
  readRunContexts?(runIds: readonly string[]): Promise<Map<string, { run: RunState; steps: StepState[] }>>;
  /**
   * Batch write: the guarded writes each atomic and checked on its own (a refusal skips only that write), in order
   * (a later write sees the earlier ones), verdicts in the same order; all or nothing only when a follow-up throws.
   * Reference: writeEvents one after the other.
   */
  writeEventBatch?(writes: GuardedWrite[]): Promise<GuardVerdict[]>;
  /** Batch submit: many writeSubmission calls (a later item sees the earlier ones), results in item order. */
  writeSubmissions?(events: Array<EventOf<"RunSubmitted">>, follow: FollowUp): Promise<SubmissionResult[]>;
  /**
   * Batch claim (`capabilities.batchClaim`): claims as the request says, in one round trip or transaction. Returns
   * null when it cannot serve this request, and the Backend claims through the reference path instead.
   */
  claimSteps?(request: ClaimRequest): Promise<ClaimedStep[] | null>;
  /**
   * The StepLinked events naming one entity, newest first (timestampUs desc, then eventId desc), at most `limit`,
   * through an index (reference: every run's events read, so cost grows with history).
   */
  queryEntityLinks?(query: {
    entityType: string;
    entityId: string;
    limit: number;
  }): Promise<Array<EventOf<"StepLinked">>>;
  /** Analytics in the driver's query language. */
  readonly analytics?: AnalyticsFastPaths;
  /**
   * Steps of live runs that are scheduled and wait for a signal named `name` (StepState.waiting, kind `event`), from an
   * index (reference: the live state filtered). Any order.
   */
  queryWaitingSteps?(name: string): Promise<StepState[]>;
}

/**
 * The workflows a claim may take steps of: the scope's, else the one `workflowSlug`, else every workflow (undefined).
 * Every driver claims the first ready steps in listing order among them, so a worker running several workflows is
 * served in priority order whatever the order of its scope, and an idle workflow of the scope costs nothing.
 */
export function claimWorkflows(request: Pick<ClaimRequest, "scope" | "workflowSlug">): readonly string[] | undefined {
  if (request.scope) return Object.keys(request.scope);
  return request.workflowSlug === undefined ? undefined : [request.workflowSlug];
}
