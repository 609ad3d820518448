import { resolve } from "node:path";
import {
  InvalidArgumentError,
  feedPosition,
  parseFeedPosition,
  type AnalyticsWindow,
  type BackendCapabilities,
  type BackendDriver,
  type ClaimedStep,
  type ClaimRequest,
  type DriverFeedEntry,
  type DriverFeedQuery,
  type EndedRunsQuery,
  type Event,
  type EventFilter,
  type Mark,
  type Cursor,
  type EventOf,
  type GateQuery,
  type GateRunsQuery,
  type GateView,
  type FollowUp,
  type GuardVerdict,
  type ListRunsOptions,
  type ListScheduledOptions,
  type LiveState,
  type PresenceFilter,
  type PutVersionResult,
  type RunState,
  type StepRef,
  type StepState,
  type SubmissionResult,
  type WorkerPresence,
  type WorkflowPause,
  type WorkflowRegistration,
  withPauseMark,
  type WorkflowVersion,
  type WriteGuard,
  type WriteTarget,
  type Gate,
} from "@cairn/backend-interface";
import { claimInStore } from "./memory-claims.js";
import { MemoryQueries } from "./memory-queries.js";
import { loadSnapshot, saveSnapshot } from "./memory-snapshot.js";
import { MemoryStore } from "./memory-store.js";
import { guardedWrite, submission } from "./memory-writes.js";

/** Options of MemoryBackend (and its driver). */
export interface MemoryBackendOptions {
  /** A JSON file: loaded on initialize() when it exists, written on close(). Without it nothing outlives the process. */
  snapshotFile?: string;
  /** Several backends in one process given the same name share one store (as several connections share a database). */
  name?: string;
}

/** Stores shared by name within the process (MemoryBackendOptions.name). */
const shared = new Map<string, { store: MemoryStore; listeners: Set<() => void>; open: number }>();

/**
 * Cairn's in-memory driver: the whole store in this process's memory, every write synchronous from guard to
 * apply (so atomic without locks), projections folded with the pure reducers. For tests and for trying Cairn with
 * no files; one process only (`capabilities.multiProcess` is false).
 */
export class MemoryDriver implements BackendDriver {
  readonly capabilities: BackendCapabilities = {
    notifications: true,
    multiProcess: false,
    batchClaim: true,
    flowControl: true,
  };
  /** The snapshot file, absolute, when there is one. */
  readonly snapshotFile: string | undefined;
  private store = new MemoryStore();
  private queries = new MemoryQueries(this.store);
  private listeners = new Set<() => void>();
  private readonly name: string | undefined;

  constructor(options: MemoryBackendOptions = {}) {
    if (
      options.snapshotFile !== undefined &&
      (typeof options.snapshotFile !== "string" || options.snapshotFile.length === 0)
    ) {
      throw new InvalidArgumentError("snapshotFile must be a non-empty path.");
    }
    this.snapshotFile = options.snapshotFile === undefined ? undefined : resolve(options.snapshotFile);
    this.name = options.name;
  }

  async initialize(): Promise<void> {
    const named = this.name === undefined ? undefined : shared.get(this.name);
    const entry = named ?? {
      store: this.snapshotFile ? await loadSnapshot(this.snapshotFile) : new MemoryStore(),
      listeners: new Set<() => void>(),
      open: 0,
    };
    entry.open += 1;
    if (this.name !== undefined) shared.set(this.name, entry);
    this.store = entry.store;
    this.listeners = entry.listeners;
    this.queries = new MemoryQueries(this.store);
  }

  /** Writes the snapshot when there is a file. A named store lives while a backend on it is open, then is dropped. */
  async close(): Promise<void> {
    const entry = this.name === undefined ? undefined : shared.get(this.name);
    if (entry && entry.store === this.store && --entry.open <= 0) shared.delete(this.name!);
    if (this.snapshotFile) await saveSnapshot(this.store, this.snapshotFile);
  }

  /** Calls `listener` (soon, never inside the write) after every write in this process. */
  subscribe(listener: () => void): () => void {
    const own = () => listener();
    this.listeners.add(own);
    return () => this.listeners.delete(own);
  }

  async writeEvents(target: WriteTarget, guard: WriteGuard, events: Event[], follow?: FollowUp): Promise<GuardVerdict> {
    const verdict = guardedWrite(this.store, target, guard, events, follow, this.readGate);
    if (verdict.ok) this.ring();
    return verdict;
  }

  async writeSubmission(
    submitted: EventOf<"RunSubmitted">,
    extra: Event[],
    follow?: FollowUp,
  ): Promise<SubmissionResult> {
    const result = submission(this.store, submitted, extra, follow, this.readGate);
    if (result.created) this.ring();
    return result;
  }

  async writeSubmissions(events: Array<EventOf<"RunSubmitted">>, follow: FollowUp): Promise<SubmissionResult[]> {
    const out = events.map((e) => submission(this.store, e, [], follow, this.readGate));
    if (out.some((r) => r.created)) this.ring();
    return out;
  }

  /** Counts a flow-control gate; inside a write, which nothing interleaves in one process. */
  private readonly readGate = (q: GateQuery): GateView => this.queries.gate(q);

  async claimSteps(request: ClaimRequest): Promise<ClaimedStep[]> {
    return claimInStore(this.store, this.queries, request);
  }

  async readEvents(workflowSlug: string, runId: string, filter: EventFilter): Promise<Event[]> {
    return this.queries.events(workflowSlug, runId, filter);
  }

  async readRun(runId: string): Promise<RunState | null> {
    return this.queries.run(runId);
  }

  async readSteps(workflowSlug: string, runId: string): Promise<StepState[]> {
    return this.queries.steps(workflowSlug, runId);
  }

  async queryRuns(options: ListRunsOptions): Promise<RunState[]> {
    return this.queries.runs(options);
  }

  async queryScheduledSteps(options: ListScheduledOptions & { availableBefore: number }): Promise<StepRef[]> {
    return this.queries.scheduled(options);
  }

  async queryStaleSteps(heartbeatBeforeUs: number): Promise<StepState[]> {
    return this.queries.stale(heartbeatBeforeUs);
  }

  async queryDueRuns(nowUs: number, limit: number): Promise<Array<Pick<RunState, "workflowSlug" | "runId">>> {
    return this.queries.dueRuns(nowUs, limit);
  }

  async queryGateRuns(query: GateRunsQuery): Promise<Array<Pick<RunState, "workflowSlug" | "runId">>> {
    return this.queries.gateRuns(query);
  }

  async queryWaitingGates(nowUs: number, limit: number, among?: readonly Gate[]): Promise<Gate[]> {
    return this.queries.waitingGates(nowUs, limit, among);
  }

  async queryOverdueRuns(nowUs: number, limit: number): Promise<Array<Pick<RunState, "workflowSlug" | "runId">>> {
    return this.queries.overdueRuns(nowUs, limit);
  }

  async queryActiveWorkflows(): Promise<string[]> {
    return this.queries.activeWorkflows();
  }

  async queryRunIds(workflowSlug: string): Promise<string[]> {
    return this.queries.runIdsOf(workflowSlug);
  }

  /** Feed positions are the store's feed sequence numbers (`m:<seq>`); writes are serial, so this is commit order. */
  async readFeed(query: DriverFeedQuery): Promise<DriverFeedEntry[]> {
    const after = query.after === null ? 0 : parseFeedPosition(query.after, "m", 1)[0]!;
    return this.store
      .feedAfter(after, query.types, query.limit)
      .map((f) => ({ position: feedPosition("m", [f.seq]), event: f.event }));
  }

  async queryEndedRuns(query: EndedRunsQuery): Promise<Array<Pick<RunState, "workflowSlug" | "runId">>> {
    return this.queries.endedRuns(query);
  }

  async deleteRuns(runs: ReadonlyArray<Pick<RunState, "workflowSlug" | "runId">>): Promise<string[]> {
    return runs.filter((r) => this.store.deleteEnded(r.workflowSlug, r.runId)).map((r) => r.runId);
  }

  async putMarkIfAbsent(mark: Mark): Promise<Mark> {
    if (!this.store.marks.has(mark.key)) this.store.marks.set(mark.key, { ...mark });
    return { ...this.store.marks.get(mark.key)! };
  }

  async deleteMarks(prefix: string, beforeUs: number): Promise<number> {
    let n = 0;
    for (const [key, m] of this.store.marks)
      if (key.startsWith(prefix) && m.atUs < beforeUs && this.store.marks.delete(key)) n++;
    return n;
  }

  async readCursors(keys: readonly string[]): Promise<Cursor[]> {
    return keys.flatMap((k) => {
      const c = this.store.cursors.get(k);
      return c ? [{ ...c }] : [];
    });
  }

  async compareAndSetCursor(expected: string | null, next: Cursor): Promise<boolean> {
    if ((this.store.cursors.get(next.key)?.value ?? null) !== expected) return false;
    this.store.cursors.set(next.key, { ...next });
    return true;
  }

  async putWorkflow(registration: WorkflowRegistration): Promise<void> {
    const paused = registration.paused ?? this.store.workflows.get(registration.slug)?.paused;
    this.store.workflows.set(registration.slug, structuredClone(withPauseMark(registration, paused)));
  }

  async setWorkflowPause(slug: string, paused: WorkflowPause | null): Promise<boolean> {
    const stored = this.store.workflows.get(slug);
    if (!stored) return false;
    this.store.workflows.set(slug, structuredClone(withPauseMark(stored, paused)));
    return true;
  }

  async readWorkflow(slug: string): Promise<WorkflowRegistration | null> {
    const reg = this.store.workflows.get(slug);
    return reg ? structuredClone(reg) : null;
  }

  async readWorkflows(): Promise<WorkflowRegistration[]> {
    return structuredClone([...this.store.workflows.values()]);
  }

  async putVersion(version: WorkflowVersion): Promise<PutVersionResult> {
    const key = `${version.workflowSlug}\0${version.versionId}`;
    const existing = this.store.versions.get(key);
    if (!existing) {
      this.store.versions.set(key, structuredClone(version));
      return { status: "created", version };
    }
    return { status: "exists", version: structuredClone(existing) };
  }

  async readVersions(workflowSlug: string, versionId?: string): Promise<WorkflowVersion[]> {
    const all = [...this.store.versions.values()].filter(
      (v) => v.workflowSlug === workflowSlug && (versionId === undefined || v.versionId === versionId),
    );
    all.sort(
      (a, b) => b.createdAtUs - a.createdAtUs || (a.versionId < b.versionId ? 1 : a.versionId > b.versionId ? -1 : 0),
    );
    return structuredClone(all);
  }

  async putWorkerPresence(presence: WorkerPresence): Promise<void> {
    this.store.presences.set(presence.workerId, structuredClone(presence));
  }

  async readWorkerPresences(filter: PresenceFilter): Promise<WorkerPresence[]> {
    const all = [...this.store.presences.values()].filter(
      (p) => p.lastSeenUs >= filter.seenSinceUs && (filter.workerId === undefined || p.workerId === filter.workerId),
    );
    return structuredClone(all);
  }

  async loadAnalyticsEvents(window: AnalyticsWindow): Promise<Event[]> {
    return this.queries.windowEvents(window);
  }

  async loadLiveState(filter: { workflowSlug?: string }): Promise<LiveState> {
    return this.queries.liveState(filter.workflowSlug);
  }

  /** Wakes subscribers after the current write has returned. */
  private ring(): void {
    if (this.listeners.size === 0) return;
    setImmediate(() => {
      for (const l of this.listeners) l();
    });
  }
}
