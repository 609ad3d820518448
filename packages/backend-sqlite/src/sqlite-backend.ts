import { resolve } from "node:path";
import type { Database, Transaction } from "better-sqlite3";
import {
  assertIds, assertWorkflowSlug, BackendClosedError, InvalidArgumentError,
  type AnalyticsWindow, type BackendCapabilities, type ClaimOptions, type FollowUp, type BackendOptions, type CorruptRecordError, type Event, type EventFilter, type EventOf, type EventType,
  type GuardVerdict, type GuardedWrite, type ListRunsOptions, type ListScheduledOptions, type LiveState, type PutVersionResult, type QueueDepth, type QueueDepthByWorkflow, type RunState, type StepRef,
  type StepStartMetadata, type StepState, type SubmissionResult, type WorkflowRegistration, type WorkflowVersion, type WriteGuard, type WriteTarget,
  type PresenceFilter, type WorkerPresence,
} from "@cairn/backend-interface";
import { isMemoryFilename, openConnection } from "./sqlite-connection.js";
import { DEFAULT_BUSY_RETRY, withBusyRetry, type BusyRetryPolicy } from "./sqlite-errors.js";
import { SqliteQueries } from "./sqlite-queries.js";
import { SqliteProjector, type EventSource } from "./sqlite-projections.js";
import { SqliteCatalog } from "./sqlite-catalog.js";
import { SqliteAnalytics } from "./sqlite-analytics.js";
import { SqliteWriteQueue } from "./sqlite-write-queue.js";
import { SqliteAnalyticsLayer } from "./sqlite-analytics-layer.js";
import { SqliteFacts } from "./sqlite-facts.js";
import { SqliteWakeups } from "./sqlite-wakeups.js";
import { SqlitePresence } from "./sqlite-presence.js";

/** Options of SqliteBackend. */
export interface SqliteBackendOptions extends BackendOptions {
  /** How long one statement waits for another connection's lock before SQLITE_BUSY; default 5000 ms. */
  busyTimeoutMs?: number;
  /** Retries of whole transactions after SQLITE_BUSY, on top of the busy timeout; default up to 30 s. */
  busyRetry?: Partial<BusyRetryPolicy>;
  /** Called once per damaged record found (it is skipped, or rebuilt from events, and reading goes on). */
  onCorrupt?: (error: CorruptRecordError) => void;
}

/** The open database and the role objects built on its prepared statements. */
interface Connection {
  db: Database;
  tx: Transaction<(fn: () => unknown) => unknown>;
  writes: SqliteWriteQueue;
  queries: SqliteQueries;
  projector: SqliteProjector;
  catalog: SqliteCatalog;
  analytics: SqliteAnalytics;
  facts: SqliteFacts;
  presence: SqlitePresence;
}

/**
 * Cairn's SQLite driver (better-sqlite3): an append-only events table plus projection tables updated in the same
 * `BEGIN IMMEDIATE` transaction, WAL mode, safe for several OS processes sharing one database file.
 * `new SqliteBackend(":memory:")` gives a private in-memory database for unit tests.
 */
export class SqliteBackend extends SqliteAnalyticsLayer {
  override readonly capabilities: BackendCapabilities;
  /** The database file (or ":memory:"). */
  readonly filename: string;
  /** Damaged records found so far, once each: skipped (events) or rebuilt from events (projection rows). */
  readonly corruptRecords: CorruptRecordError[] = [];
  /** The schema version of the open database; 0 before initialize(). */
  schemaVersion = 0;
  private conn: Connection | null = null;
  private closed = false;
  private readonly seenCorrupt = new Set<string>();
  private readonly busyTimeoutMs: number;
  private readonly busyRetry: BusyRetryPolicy;
  private readonly onCorrupt: ((error: CorruptRecordError) => void) | undefined;
  private readonly wakeups: SqliteWakeups;

  constructor(filename: string, options: SqliteBackendOptions = {}) {
    if (typeof filename !== "string") throw new InvalidArgumentError("SqliteBackend needs a database filename (or \":memory:\").");
    const memory = isMemoryFilename(filename);
    super({ ...options, ...(options.outputDir === undefined && !memory ? { outputDir: `${resolve(filename)}.outputs` } : {}) });
    this.filename = memory ? filename : resolve(filename);
    this.capabilities = { notifications: true, multiProcess: !memory, batchClaim: true };
    this.wakeups = new SqliteWakeups(this.filename, { crossProcess: !memory });
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.busyRetry = { ...DEFAULT_BUSY_RETRY, ...options.busyRetry };
    this.onCorrupt = options.onCorrupt;
  }

  /** Opens the database, switches it to WAL and applies pending migrations. Idempotent. */
  async initialize(): Promise<void> {
    if (this.closed) throw new BackendClosedError();
    if (this.conn) return;
    const { db, migration } = await openConnection(this.filename, { busyTimeoutMs: this.busyTimeoutMs, busyRetry: this.busyRetry });
    const report = (e: CorruptRecordError) => this.reportCorrupt(e);
    const queries = new SqliteQueries(db, this.filename, report);
    this.conn = {
      db, tx: db.transaction((fn: () => unknown) => fn()), writes: new SqliteWriteQueue(db, this.filename, this.busyRetry), queries, projector: new SqliteProjector(db, queries),
      catalog: new SqliteCatalog(db, this.filename, report), analytics: new SqliteAnalytics(db, this.filename, report, queries),
      facts: new SqliteFacts(db, queries, this.filename, report), presence: new SqlitePresence(db, this.filename, report),
    };
    this.schemaVersion = migration.schemaVersion;
  }

  /** Closes the database; later calls fail with BackendClosedError. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wakeups.close();
    const conn = this.conn;
    if (!conn) return;
    await conn.writes.drain();
    this.conn = null;
    conn.db.close();
  }

  /** Calls `listener` after commits (any may have made work ready): at once for this process's, within a few ms for other processes'. */
  override subscribe(listener: () => void): () => void {
    return this.wakeups.subscribe(listener);
  }

  // ─── Primitives ───────────────────────────────────────────────────────────────────────────────
  protected writeEvents(target: WriteTarget, guard: WriteGuard, events: Event[], follow?: FollowUp): Promise<GuardVerdict> {
    return this.write((c) => c.projector.guardedWrite(target, guard, events, follow));
  }

  /** A batch of guarded writes (saveStepCompletes) as one write of the group-commit queue: one transaction, each write checked on its own. */
  protected override writeEventBatch(writes: GuardedWrite[]): Promise<GuardVerdict[]> {
    return this.write((c) => writes.map((w) => c.projector.guardedWrite(w.target, w.guard, w.events, w.follow)));
  }

  protected writeSubmission(submitted: EventOf<"RunSubmitted">, extra: Event[], follow?: FollowUp): Promise<SubmissionResult> {
    return this.write((c) => c.projector.submit(submitted, extra, follow));
  }

  /** Many submissions in one write of the group-commit queue (one transaction). */
  protected override writeSubmissions(events: Array<EventOf<"RunSubmitted">>, follow: FollowUp): Promise<SubmissionResult[]> {
    return this.write((c) => events.map((e) => c.projector.submit(e, [], follow)));
  }

  protected readEvents(workflowSlug: string, runId: string, filter: EventFilter): Promise<Event[]> {
    return this.read((c) => c.queries.events(workflowSlug, runId, filter));
  }

  protected readRun(runId: string): Promise<RunState | null> {
    return this.read((c) => c.queries.run(runId));
  }

  protected override readSteps(workflowSlug: string, runId: string): Promise<StepState[]> {
    return this.read((c) => c.queries.steps(workflowSlug, runId));
  }

  protected queryRuns(options: ListRunsOptions): Promise<RunState[]> {
    return this.read((c) => c.queries.runs(options));
  }

  protected queryScheduledSteps(options: ListScheduledOptions & { availableBefore: number }): Promise<StepRef[]> {
    return this.read((c) => c.queries.ready(options));
  }

  protected queryStaleSteps(heartbeatBeforeUs: number): Promise<StepState[]> {
    return this.read((c) => c.queries.stale(heartbeatBeforeUs));
  }

  protected queryDueRuns(nowUs: number, limit: number): Promise<Array<{ workflowSlug: string; runId: string }>> {
    return this.read((c) => c.queries.dueRuns(nowUs, limit));
  }

  protected queryOverdueRuns(nowUs: number, limit: number): Promise<Array<{ workflowSlug: string; runId: string }>> {
    return this.read((c) => c.queries.overdueRuns(nowUs, limit));
  }

  /** Runs and their steps in one read transaction. */
  protected override readRunContexts(runIds: readonly string[]): Promise<Map<string, { run: RunState; steps: StepState[] }>> {
    return this.read((c) => {
      const out = new Map<string, { run: RunState; steps: StepState[] }>();
      for (const id of runIds) {
        const run = c.queries.run(id);
        if (run) out.set(id, { run, steps: c.queries.steps(run.workflowSlug, id) });
      }
      return out;
    });
  }

  protected queryActiveWorkflows(): Promise<string[]> {
    return this.read((c) => c.queries.activeWorkflows());
  }

  protected queryRunIds(workflowSlug: string): Promise<string[]> {
    return this.read((c) => c.queries.runIds(workflowSlug));
  }

  protected putWorkflow(registration: WorkflowRegistration): Promise<void> {
    return this.write((c) => c.catalog.putWorkflow(registration));
  }

  protected readWorkflow(slug: string): Promise<WorkflowRegistration | null> {
    return this.read((c) => c.catalog.workflow(slug));
  }

  protected readWorkflows(): Promise<WorkflowRegistration[]> {
    return this.read((c) => c.catalog.workflows());
  }

  protected putVersion(version: WorkflowVersion): Promise<PutVersionResult> {
    return this.write((c) => c.catalog.putVersion(version));
  }

  protected readVersions(workflowSlug: string, versionId?: string): Promise<WorkflowVersion[]> {
    return this.read((c) => c.catalog.versions(workflowSlug, versionId));
  }

  protected putWorkerPresence(presence: WorkerPresence): Promise<void> {
    return this.write((c) => c.presence.put(presence));
  }

  protected readWorkerPresences(filter: PresenceFilter): Promise<WorkerPresence[]> {
    return this.read((c) => c.presence.read(filter));
  }

  protected readWindowEvents(window: AnalyticsWindow, types: readonly EventType[] | undefined): Promise<Event[]> {
    return this.read((c) => c.analytics.windowEvents(window, types));
  }

  protected readFacts<T>(fn: (facts: SqliteFacts) => T): Promise<T> {
    return this.read((c) => fn(c.facts));
  }

  protected queryQueueDepth(workflowSlug: string | undefined, nowUs: number): Promise<QueueDepth> {
    return this.read((c) => c.analytics.queueDepth(workflowSlug, nowUs));
  }

  protected queryQueueDepthByWorkflow(nowUs: number): Promise<QueueDepthByWorkflow> {
    return this.read((c) => c.analytics.queueDepthByWorkflow(nowUs));
  }

  protected loadLiveState(filter: { workflowSlug?: string }): Promise<LiveState> {
    return this.read((c) => c.analytics.liveState(filter));
  }

  // ─── Faster claims ────────────────────────────────────────────────────────────────────────────
  /** One transaction that reads only the step row and the run's status columns; exactly one concurrent claimer wins. */
  override async claimScheduledStep(workflowSlug: string, runId: string, stepId: string, workerId: string, metadata: StepStartMetadata): Promise<{ attemptNumber: number } | null> {
    assertIds({ workflowSlug, runId, stepId });
    let attemptNumber = 0;
    const verdict = await this.write((c) =>
      c.projector.guardedWrite({ workflowSlug, runId, stepId }, { kind: "claim", nowUs: this.clock.nowUs() }, this.started({ workflowSlug, runId, stepId }, workerId, metadata, (a) => (attemptNumber = a))),
    );
    return verdict.ok ? { attemptNumber } : null;
  }

  /** Claims up to `limit` ready steps in one transaction, in listScheduledSteps order. */
  override async claimScheduledSteps(workerId: string, options: ClaimOptions): Promise<Array<StepRef & { attemptNumber: number }>> {
    if (!Number.isInteger(options.limit) || options.limit < 0) throw new InvalidArgumentError(`limit must be a non-negative integer, got ${options.limit}.`);
    if (options.workflowSlug !== undefined) assertWorkflowSlug(options.workflowSlug);
    for (const slug of Object.keys(options.workflows ?? {})) assertWorkflowSlug(slug);
    if (options.limit === 0) return [];
    const scope = options.workflows;
    const slugs: Array<string | undefined> = scope ? Object.keys(scope) : [options.workflowSlug];
    const dependencies = (ref: StepRef): string[] => scope ? [...(scope[ref.workflowSlug]?.[ref.stepId] ?? [])] : options.dependencies?.(ref) ?? [];
    // An idle poll costs one indexed read, never the write lock.
    const any = { limit: 1, ...(slugs.length === 1 && slugs[0] ? { workflowSlug: slugs[0] } : {}) };
    if ((await this.read((c) => c.queries.ready({ ...any, availableBefore: this.clock.nowUs() }))).length === 0) return [];
    return this.write((c) => {
      const nowUs = this.clock.nowUs();
      const out: Array<StepRef & { attemptNumber: number }> = [];
      for (const slug of slugs) {
        if (out.length >= options.limit) break;
        for (const ref of c.queries.ready({ availableBefore: nowUs, limit: options.limit - out.length, ...(slug ? { workflowSlug: slug } : {}) })) {
          let attemptNumber = 0;
          const meta = { dependencies: dependencies(ref), timestamp: nowUs, attemptNumber: 0 };
          const verdict = c.projector.guardedWrite(ref, { kind: "claim", nowUs }, this.started(ref, workerId, meta, (a) => (attemptNumber = a)));
          if (verdict.ok) out.push({ ...ref, attemptNumber });
        }
      }
      return out;
    });
  }

  /** The StepStarted event of a claim, built from the step's current attempt inside the claiming transaction. */
  private started(ref: StepRef, workerId: string, metadata: StepStartMetadata, onAttempt: (attempt: number) => void): EventSource {
    return (step) => {
      const attemptNumber = step?.attemptNumber ?? 0;
      onAttempt(attemptNumber);
      return [this.makeEvent("StepStarted", ref.workflowSlug, ref.runId, ref.stepId, {
        workerId, dependencies: metadata.dependencies, attemptNumber,
        ...(metadata.slotIndex === undefined ? {} : { slotIndex: metadata.slotIndex }),
        ...(metadata.workerConcurrency === undefined ? {} : { workerConcurrency: metadata.workerConcurrency }),
      })];
    };
  }

  // ─── Plumbing ─────────────────────────────────────────────────────────────────────────────────
  private connection(): Connection {
    if (this.closed) throw new BackendClosedError();
    if (this.conn) return this.conn;
    throw new InvalidArgumentError(`SqliteBackend(${this.filename}) is not initialized; call initialize() first.`);
  }

  /** Runs `fn` inside a `BEGIN IMMEDIATE` transaction (shared with concurrent writes: group commit), retried while the database is busy. */
  private async write<T>(fn: (c: Connection) => T): Promise<T> {
    const c = this.connection();
    const result = await c.writes.run(() => fn(c));
    this.wakeups.afterCommit();
    return result;
  }

  /** Runs `fn` as one read transaction (one consistent snapshot), retried while the database is busy. */
  private async read<T>(fn: (c: Connection) => T): Promise<T> {
    const c = this.connection();
    return withBusyRetry(() => c.tx.deferred(() => fn(c)) as T, this.filename, this.busyRetry);
  }

  private reportCorrupt(error: CorruptRecordError): void {
    const where = String(error.context.path ?? error.message);
    if (this.seenCorrupt.has(where)) return;
    this.seenCorrupt.add(where);
    this.corruptRecords.push(error);
    this.onCorrupt?.(error);
  }
}
