import { resolve } from "node:path";
import type { Database, Transaction } from "better-sqlite3";
import {
  claimWorkflows,
  assertIds,
  assertWorkflowSlug,
  BackendClosedError,
  InvalidArgumentError,
  feedPosition,
  parseFeedPosition,
  type DriverFeedEntry,
  type DriverFeedQuery,
  type AnalyticsWindow,
  type BackendCapabilities,
  type ClaimOptions,
  type FollowUp,
  type BackendOptions,
  type CorruptRecordError,
  type Event,
  type EventFilter,
  type EventOf,
  type GateRunsQuery,
  type EventType,
  type BackendDriver,
  type EndedRunsQuery,
  type Mark,
  type Cursor,
  type ClaimRequest,
  type ClaimedStep,
  type GuardVerdict,
  type GuardedWrite,
  type ListRunsOptions,
  type ListScheduledOptions,
  type LiveState,
  type PutVersionResult,
  type QueueDepth,
  type QueueDepthByWorkflow,
  type RunState,
  type StepRef,
  type StepStartMetadata,
  type StepState,
  type SubmissionResult,
  type WorkflowPause,
  type WorkflowRegistration,
  type WorkflowVersion,
  type WriteGuard,
  type WriteTarget,
  type PresenceFilter,
  type WorkerPresence,
  type Gate,
} from "@cairn/backend-interface";
import { isMemoryFilename, openConnection } from "./sqlite-connection.js";
import { DEFAULT_BUSY_RETRY, withBusyRetry, type BusyRetryPolicy } from "./sqlite-errors.js";
import { SqliteQueries } from "./sqlite-queries.js";
import { SqliteWrites, type EventSource } from "./sqlite-writes.js";
import { SqliteGates } from "./sqlite-gates.js";
import { SqliteCatalog } from "./sqlite-catalog.js";
import { SqliteAnalytics } from "./sqlite-analytics.js";
import { SqliteWriteQueue } from "./sqlite-write-queue.js";
import { DEFAULT_CHECKPOINT_PAGES, SqliteCheckpointer } from "./sqlite-checkpoints.js";
import { SqliteAnalyticsPaths } from "./sqlite-analytics-paths.js";
import { SqliteCallAnalytics } from "./sqlite-call-analytics.js";
import { entityLinks } from "./sqlite-links.js";
import { claimInTransaction } from "./sqlite-claims.js";
import { SqliteFacts } from "./sqlite-facts.js";
import { SqliteWakeups } from "./sqlite-wakeups.js";
import { SqlitePresence } from "./sqlite-presence.js";
import { SqliteRetention } from "./sqlite-retention.js";
import { SqliteCursors } from "./sqlite-cursors.js";

/** Options of SqliteBackend (and its driver). */
export interface SqliteBackendOptions extends BackendOptions {
  /** How long one statement waits for another connection's lock before SQLITE_BUSY; default 5000 ms. */
  busyTimeoutMs?: number;
  /** Retries of whole transactions after SQLITE_BUSY, on top of the busy timeout; default up to 30 s. */
  busyRetry?: Partial<BusyRetryPolicy>;
  /** Called once per damaged record found (it is skipped, or rebuilt from events, and reading goes on). */
  onCorrupt?: (error: CorruptRecordError) => void;
  /**
   * WAL size (in 4 KiB pages) at which a checkpoint starts, on a worker thread so writes do not wait for it; default
   * 10,000 (~40 MiB). See SqliteCheckpointer.
   */
  walCheckpointPages?: number;
}

/** The open database and the role objects built on its prepared statements. */
interface Connection {
  db: Database;
  tx: Transaction<(fn: () => unknown) => unknown>;
  writes: SqliteWriteQueue;
  checkpoints: SqliteCheckpointer | null;
  queries: SqliteQueries;
  projector: SqliteWrites;
  catalog: SqliteCatalog;
  analytics: SqliteAnalytics;
  facts: SqliteFacts;
  presence: SqlitePresence;
  retention: SqliteRetention;
  gates: SqliteGates;
  cursors: SqliteCursors;
  calls: SqliteCallAnalytics;
}

/**
 * Cairn's SQLite driver (better-sqlite3): an append-only events table plus projection tables updated in the same
 * `BEGIN IMMEDIATE` transaction, WAL mode, safe for several OS processes sharing one database file.
 * `new SqliteBackend(":memory:")` (the Backend over this driver) gives a private in-memory database for unit tests.
 */
export class SqliteDriver implements BackendDriver {
  readonly capabilities: BackendCapabilities;
  /** Where step output files go: beside the database file. */
  readonly outputDir: string | undefined;
  /** Analytics computed from the facts table and in SQL. */
  readonly analytics: SqliteAnalyticsPaths;
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
  private readonly walCheckpointPages: number;
  private readonly busyRetry: BusyRetryPolicy;
  private readonly onCorrupt: ((error: CorruptRecordError) => void) | undefined;
  private readonly wakeups: SqliteWakeups;

  constructor(filename: string, options: SqliteBackendOptions = {}) {
    if (typeof filename !== "string")
      throw new InvalidArgumentError('SqliteBackend needs a database filename (or ":memory:").');
    const memory = isMemoryFilename(filename);
    this.outputDir = memory ? undefined : `${resolve(filename)}.outputs`;
    this.filename = memory ? filename : resolve(filename);
    this.capabilities = { notifications: true, multiProcess: !memory, batchClaim: true, flowControl: true };
    this.wakeups = new SqliteWakeups(this.filename, { crossProcess: !memory });
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    const pages = options.walCheckpointPages ?? DEFAULT_CHECKPOINT_PAGES;
    if (!Number.isSafeInteger(pages) || pages < 1)
      throw new InvalidArgumentError(
        `walCheckpointPages must be a whole number of pages ≥ 1 (got ${String(options.walCheckpointPages)}); leave it out for the default ${DEFAULT_CHECKPOINT_PAGES}.`,
      );
    this.walCheckpointPages = pages;
    this.busyRetry = { ...DEFAULT_BUSY_RETRY, ...options.busyRetry };
    this.onCorrupt = options.onCorrupt;
    this.analytics = new SqliteAnalyticsPaths(
      (fn) => this.read((c) => fn(c.facts)),
      (fn) => this.read((c) => fn(c.analytics)),
      (fn) => this.read((c) => fn(c.calls)),
    );
  }

  /** Opens the database, switches it to WAL and applies pending migrations. Idempotent. */
  async initialize(): Promise<void> {
    if (this.closed) throw new BackendClosedError();
    if (this.conn) return;
    const { db, migration } = await openConnection(this.filename, {
      busyTimeoutMs: this.busyTimeoutMs,
      busyRetry: this.busyRetry,
    });
    const report = (e: CorruptRecordError) => this.reportCorrupt(e);
    const queries = new SqliteQueries(db, this.filename, report);
    const gates = new SqliteGates(db);
    const checkpoints = isMemoryFilename(this.filename)
      ? null
      : new SqliteCheckpointer(db, this.filename, this.walCheckpointPages);
    this.conn = {
      db,
      tx: db.transaction((fn: () => unknown) => fn()),
      writes: new SqliteWriteQueue(
        db,
        this.filename,
        this.busyRetry,
        checkpoints ? () => checkpoints.afterCommit() : undefined,
      ),
      checkpoints,
      queries,
      projector: new SqliteWrites(db, queries, gates),
      catalog: new SqliteCatalog(db, this.filename, report),
      analytics: new SqliteAnalytics(db, this.filename, report, queries),
      facts: new SqliteFacts(db, queries, this.filename, report),
      presence: new SqlitePresence(db, this.filename, report),
      retention: new SqliteRetention(db),
      gates,
      cursors: new SqliteCursors(db),
      calls: new SqliteCallAnalytics(queries),
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
    await conn.checkpoints?.close();
    conn.db.close();
  }

  /** Calls `listener` after commits (any may have made work ready): at once for this process's, within a few ms for other processes'. */
  subscribe(listener: () => void): () => void {
    return this.wakeups.subscribe(listener);
  }

  // ─── Primitives ───────────────────────────────────────────────────────────────────────────────
  writeEvents(target: WriteTarget, guard: WriteGuard, events: Event[], follow?: FollowUp): Promise<GuardVerdict> {
    return this.write((c) => c.projector.guardedWrite(target, guard, events, follow));
  }

  /** A batch of guarded writes (saveStepCompletes) as one write of the group-commit queue: one transaction, each write checked on its own. */
  writeEventBatch(writes: GuardedWrite[]): Promise<GuardVerdict[]> {
    return this.write((c) => writes.map((w) => c.projector.guardedWrite(w.target, w.guard, w.events, w.follow)));
  }

  writeSubmission(submitted: EventOf<"RunSubmitted">, extra: Event[], follow?: FollowUp): Promise<SubmissionResult> {
    return this.write((c) => withPause(c.catalog, new Map(), c.projector.submit(submitted, extra, follow), submitted));
  }

  /** Many submissions in one write of the group-commit queue (one transaction). */
  writeSubmissions(events: Array<EventOf<"RunSubmitted">>, follow: FollowUp): Promise<SubmissionResult[]> {
    return this.write((c) => {
      const pauses = new Map<string, boolean | undefined>();
      return events.map((e) => withPause(c.catalog, pauses, c.projector.submit(e, [], follow), e));
    });
  }

  /** StepLinked events of one entity, newest first, through the events_links_by_entity index. */
  queryEntityLinks(query: {
    entityType: string;
    entityId: string;
    limit: number;
  }): Promise<Array<EventOf<"StepLinked">>> {
    return this.read((c) => entityLinks(c.queries, this.filename, (e) => this.reportCorrupt(e), query));
  }

  readEvents(workflowSlug: string, runId: string, filter: EventFilter): Promise<Event[]> {
    return this.read((c) => c.queries.events(workflowSlug, runId, filter));
  }

  readRun(runId: string): Promise<RunState | null> {
    return this.read((c) => c.queries.run(runId));
  }

  readSteps(workflowSlug: string, runId: string): Promise<StepState[]> {
    return this.read((c) => c.queries.steps(workflowSlug, runId));
  }

  queryRuns(options: ListRunsOptions): Promise<RunState[]> {
    return this.read((c) => c.queries.runs(options));
  }

  queryScheduledSteps(options: ListScheduledOptions & { availableBefore: number }): Promise<StepRef[]> {
    return this.read((c) => c.queries.ready(options));
  }

  queryStaleSteps(heartbeatBeforeUs: number): Promise<StepState[]> {
    return this.read((c) => c.queries.stale(heartbeatBeforeUs));
  }

  queryWaitingSteps(name: string): Promise<StepState[]> {
    return this.read((c) => c.queries.waiting(name));
  }

  queryDueRuns(nowUs: number, limit: number): Promise<Array<{ workflowSlug: string; runId: string }>> {
    return this.read((c) => c.queries.dueRuns(nowUs, limit));
  }

  queryGateRuns(query: GateRunsQuery): Promise<Array<{ workflowSlug: string; runId: string }>> {
    return this.read((c) => c.gates.runs(query));
  }

  queryWaitingGates(nowUs: number, limit: number, among?: readonly Gate[]): Promise<Gate[]> {
    return this.read((c) => c.gates.waitingGates(nowUs, limit, among));
  }

  queryOverdueRuns(nowUs: number, limit: number): Promise<Array<{ workflowSlug: string; runId: string }>> {
    return this.read((c) => c.queries.overdueRuns(nowUs, limit));
  }

  /** Runs and their steps in one read transaction. */
  readRunContexts(runIds: readonly string[]): Promise<Map<string, { run: RunState; steps: StepState[] }>> {
    return this.read((c) => {
      const out = new Map<string, { run: RunState; steps: StepState[] }>();
      for (const id of runIds) {
        const run = c.queries.run(id);
        if (run) out.set(id, { run, steps: c.queries.steps(run.workflowSlug, id) });
      }
      return out;
    });
  }

  queryActiveWorkflows(): Promise<string[]> {
    return this.read((c) => c.queries.activeWorkflows());
  }

  queryRunIds(workflowSlug: string): Promise<string[]> {
    return this.read((c) => c.queries.runIds(workflowSlug));
  }

  /** A tenant's run ids from the runs_by_tenant index alone (no state decoded). */
  queryTenantRunIds(tenantId: string, createdUpToUs: number): Promise<string[]> {
    return this.read((c) => c.queries.tenantRunIds(tenantId, createdUpToUs));
  }

  /**
   * The feed in `seq` order: every write holds SQLite's one write lock (BEGIN IMMEDIATE) from its inserts to its
   * commit, across connections and processes, and AUTOINCREMENT never reuses a seq, so seq order is commit order.
   */
  readFeed(query: DriverFeedQuery): Promise<DriverFeedEntry[]> {
    const after = query.after === null ? 0 : parseFeedPosition(query.after, "s", 1)[0]!;
    return this.read((c) =>
      c.queries
        .feed(after, query.types, query.limit)
        .map((r) => ({ position: feedPosition("s", [r.seq]), event: r.event })),
    );
  }

  queryEndedRuns(query: EndedRunsQuery): Promise<Array<{ workflowSlug: string; runId: string }>> {
    return this.read((c) => c.retention.endedRuns(query));
  }

  /** One write transaction (of the group-commit queue) for the whole batch; each run re-checked inside it. */
  deleteRuns(runs: ReadonlyArray<{ workflowSlug: string; runId: string }>): Promise<string[]> {
    return this.write((c) => runs.filter((r) => c.retention.deleteEnded(r)).map((r) => r.runId));
  }

  putMarkIfAbsent(mark: Mark): Promise<Mark> {
    return this.write((c) => c.retention.putMark(mark));
  }

  deleteMarks(prefix: string, beforeUs: number): Promise<number> {
    return this.write((c) => c.retention.deleteMarks(prefix, beforeUs));
  }

  readCursors(keys: readonly string[]): Promise<Cursor[]> {
    return this.read((c) => c.cursors.read(keys));
  }

  compareAndSetCursor(expected: string | null, next: Cursor): Promise<boolean> {
    return this.write((c) => c.cursors.compareAndSet(expected, next));
  }

  putWorkflow(registration: WorkflowRegistration): Promise<void> {
    return this.write((c) => c.catalog.putWorkflow(registration));
  }

  setWorkflowPause(slug: string, paused: WorkflowPause | null): Promise<boolean> {
    return this.write((c) => c.catalog.setWorkflowPause(slug, paused));
  }

  readWorkflow(slug: string): Promise<WorkflowRegistration | null> {
    return this.read((c) => c.catalog.workflow(slug));
  }

  readWorkflows(): Promise<WorkflowRegistration[]> {
    return this.read((c) => c.catalog.workflows());
  }

  putVersion(version: WorkflowVersion): Promise<PutVersionResult> {
    return this.write((c) => c.catalog.putVersion(version));
  }

  readVersions(workflowSlug: string, versionId?: string): Promise<WorkflowVersion[]> {
    return this.read((c) => c.catalog.versions(workflowSlug, versionId));
  }

  putWorkerPresence(presence: WorkerPresence): Promise<void> {
    return this.write((c) => c.presence.put(presence));
  }

  readWorkerPresences(filter: PresenceFilter): Promise<WorkerPresence[]> {
    return this.read((c) => c.presence.read(filter));
  }

  loadAnalyticsEvents(window: AnalyticsWindow): Promise<Event[]> {
    return this.read((c) => c.analytics.windowEvents(window, window.types));
  }

  loadLiveState(filter: { workflowSlug?: string }): Promise<LiveState> {
    return this.read((c) => c.analytics.liveState(filter));
  }

  /** Claims in one write transaction (see claimInTransaction); an idle poll costs one indexed read, never the write lock. */
  async claimSteps(request: ClaimRequest): Promise<ClaimedStep[]> {
    if (!request.step) {
      const probe = { limit: 1, availableBefore: request.nowUs, workflowSlugs: claimWorkflows(request) };
      if ((await this.read((c) => c.queries.ready(probe))).length === 0) return [];
    }
    return this.write((c) => claimInTransaction(c.projector, c.queries, request));
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

/** A created run's result with its workflow's pause as the write read it (SubmissionResult.workflowPaused). */
function withPause(
  catalog: SqliteCatalog,
  pauses: Map<string, boolean | undefined>,
  result: SubmissionResult,
  submitted: EventOf<"RunSubmitted">,
): SubmissionResult {
  if (!result.created) return result;
  const slug = submitted.workflowSlug;
  if (!pauses.has(slug)) pauses.set(slug, catalog.paused(slug));
  const paused = pauses.get(slug);
  return paused === undefined ? result : { ...result, workflowPaused: paused };
}
