import { FsGates } from "./fs-gates.js";
import {
  type GateRunsQuery,
  type DriverFeedEntry,
  type DriverFeedQuery,
  BackendClosedError,
  type BackendDriver,
  type EndedRunsQuery,
  type Mark,
  type Cursor,
  type ClaimRequest,
  type ClaimedStep,
  type AnalyticsWindow,
  type BackendCapabilities,
  type BackendOptions,
  type CorruptRecordError,
  type Event,
  type EventFilter,
  type EventOf,
  type FollowUp,
  type GuardVerdict,
  type ListRunsOptions,
  type ListScheduledOptions,
  type LiveState,
  type PutVersionResult,
  type RunState,
  type StepRef,
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
import { AtomicFs, type Durability, type MetadataCalls } from "./fs-atomic.js";
import { FsCatalog } from "./fs-catalog.js";
import { claimSteps } from "./fs-claims.js";
import { FsPresence } from "./fs-presence.js";
import { FsRetention } from "./fs-retention.js";
import { FsMarks } from "./fs-marks.js";
import { FsCursors } from "./fs-cursors.js";
import { CorruptionReporter, type CorruptionListener } from "./fs-corruption.js";
import { FsDoorbell, ringsDoorbell } from "./fs-doorbell.js";
import { translateFsError } from "./fs-errors.js";
import { EventLog } from "./fs-event-log.js";
import { FsFeed } from "./fs-feed.js";
import { FsIndexes } from "./fs-indexes.js";
import { FsLayout } from "./fs-layout.js";
import { FsQueries } from "./fs-queries.js";
import { openStore } from "./fs-store.js";
import { FsSubmissions } from "./fs-submission.js";
import { writeGuarded, writeSubmitted, type FsWriteContext } from "./fs-writes.js";

/** Options of FileSystemBackend (and its driver). */
export interface FileSystemBackendOptions extends BackendOptions {
  /** `fsync` (default): every write is on disk when the call returns. `none`: faster, for tests and benchmarks. */
  durability?: Durability;
  /**
   * Where the write path's metadata calls (create, link, symlink, mkdir, unlink) run: `sync` (default) on the main
   * thread, cheapest on a quick disk; `threadpool` on libuv's pool, which lets concurrent calls overlap when a disk
   * makes each create wait milliseconds for its journal. See the README for measurements.
   */
  metadataCalls?: MetadataCalls;
  /** Called once per damaged file found (also collected in `corruptRecords`). */
  onCorrupt?: CorruptionListener;
  /** Warn on the console once per damaged file (default true). */
  warnOnCorrupt?: boolean;
  /** Runs whose projection is kept in memory (LRU; default 10,000). */
  projectionCacheSize?: number;
  /** Index entries of runs that never committed are removed once older than this (ms, default 60,000). */
  orphanGraceMs?: number;
}

/**
 * The filesystem driver: one JSON file per atomic batch of events, inspectable with `ls` and `cat`, safe for many
 * processes at once without locks a crash could leave held. See the package README for the layout and the guarantees.
 */
export class FileSystemDriver implements BackendDriver {
  /** Wake-ups through the doorbell file; several processes may share the store. */
  readonly capabilities: BackendCapabilities = {
    notifications: true,
    multiProcess: true,
    batchClaim: false,
    flowControl: true,
  };
  /** Where step output files go: inside the store. */
  readonly outputDir: string;
  /** The store's absolute base directory. */
  readonly baseDir: string;
  /** How writes are made durable. */
  readonly durability: Durability;
  private readonly layout: FsLayout;
  private readonly reporter: CorruptionReporter;
  private readonly log: EventLog;
  private readonly indexes: FsIndexes;
  private readonly gates: FsGates;
  private readonly submissions: FsSubmissions;
  private readonly queries: FsQueries;
  private readonly catalog: FsCatalog;
  private readonly presence: FsPresence;
  private readonly retention: FsRetention;
  private readonly marks: FsMarks;
  private readonly cursors: FsCursors;
  private readonly atomic: AtomicFs;
  private readonly doorbell: FsDoorbell;
  private readonly feed: FsFeed;
  private readonly writes: FsWriteContext;
  private opened: Promise<void> | undefined;
  private closed = false;

  constructor(baseDir: string, options: FileSystemBackendOptions = {}) {
    const layout = new FsLayout(baseDir);
    this.outputDir = layout.outputsDir();
    this.layout = layout;
    this.baseDir = layout.root;
    this.durability = options.durability ?? "fsync";
    const grace = options.orphanGraceMs ?? 60_000;
    this.atomic = new AtomicFs(layout.tmpDir(), this.durability, options.metadataCalls ?? "sync");
    this.reporter = new CorruptionReporter(options.onCorrupt, options.warnOnCorrupt ?? true);
    this.feed = new FsFeed(layout, this.atomic, this.reporter);
    this.log = new EventLog(layout, this.atomic, this.reporter, options.projectionCacheSize ?? 10_000, this.feed);
    this.indexes = new FsIndexes(layout, this.atomic, this.log, this.reporter, grace);
    this.submissions = new FsSubmissions(layout, this.atomic, this.log, this.indexes, grace);
    this.gates = new FsGates(layout.root, this.indexes);
    this.writes = { log: this.log, indexes: this.indexes, submissions: this.submissions, gates: this.gates };
    this.queries = new FsQueries(layout, this.log, this.indexes, grace);
    this.catalog = new FsCatalog(layout, this.atomic, this.reporter);
    this.presence = new FsPresence(layout, this.atomic, this.reporter);
    this.retention = new FsRetention(layout, this.log, this.queries);
    this.marks = new FsMarks(layout, this.atomic, this.reporter);
    this.cursors = new FsCursors(layout, this.atomic, this.reporter);
    this.doorbell = new FsDoorbell(layout.doorbellFile());
  }

  /** Damaged records found so far (truncated files, invalid JSON, wrong schema), one per path. Each was skipped. */
  get corruptRecords(): readonly CorruptRecordError[] {
    return this.reporter.records;
  }

  /** Creates or opens the store (idempotent). */
  async initialize(): Promise<void> {
    if (this.closed) throw new BackendClosedError();
    this.opened ??= openStore(this.layout, this.atomic).catch((err: unknown) => {
      this.opened = undefined;
      throw translateFsError(err, "opening", this.layout.root);
    });
    await this.opened;
  }

  /** Marks the backend closed and stops its doorbell watcher; nothing else is held open between calls. */
  async close(): Promise<void> {
    this.closed = true;
    this.doorbell.close();
  }

  /** Calls `listener` after events that may make work ready are published: at once for this process's writes, through the doorbell for other processes'. */
  subscribe(listener: () => void): () => void {
    return this.doorbell.subscribe(listener);
  }

  /** Runs a write primitive like `run`, then rings the doorbell when what it published may have made work ready. */
  private async publish<T>(action: string, fn: () => Promise<T>, ring: boolean): Promise<T> {
    const result = await this.run(action, fn);
    if (ring) this.doorbell.ring();
    return result;
  }

  /** Runs a primitive once the store is open, translating native errors. */
  private async run<T>(action: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new BackendClosedError();
    if (!this.opened) await this.initialize();
    else await this.opened;
    try {
      return await fn();
    } catch (err) {
      throw translateFsError(err, action, this.layout.root);
    }
  }

  writeEvents(target: WriteTarget, guard: WriteGuard, events: Event[], follow?: FollowUp): Promise<GuardVerdict> {
    // A follow-up may schedule dependents or start the run: ring as for a schedule.
    return this.publish(
      "appending to",
      () => writeGuarded(this.writes, target, guard, events, follow),
      follow !== undefined || ringsDoorbell(events),
    );
  }

  writeSubmission(submitted: EventOf<"RunSubmitted">, extra: Event[], follow?: FollowUp): Promise<SubmissionResult> {
    return this.publish("submitting to", () => writeSubmitted(this.writes, submitted, extra, follow), true);
  }

  /** Claims one step after the other, each attempt decided inside its guarded append (see fs-claims.ts). */
  claimSteps(request: ClaimRequest): Promise<ClaimedStep[]> {
    return this.run("claiming steps in", () => claimSteps(this.log, this.indexes, this.queries, request));
  }

  readEvents(workflowSlug: string, runId: string, filter: EventFilter): Promise<Event[]> {
    return this.run("reading", async () =>
      (await this.log.readEvents({ workflowSlug, runId })).filter(
        (e) =>
          (filter.category === undefined || e.category === filter.category) &&
          (filter.stepId === undefined || (e.category === "step" && e.stepId === filter.stepId)),
      ),
    );
  }

  readRun(runId: string): Promise<RunState | null> {
    return this.run("reading", async () => {
      const at = await this.indexes.locate(runId);
      if (!at) return null;
      const view = await this.log.view(at);
      // Indexed but without events: a submission in flight, or a keyed one whose process died after claiming its key.
      const run =
        view.lastSeq === -1
          ? ((await this.indexes.recoverOrphan(at, this.layout.liveFile(at)))?.run ?? null)
          : view.run;
      return run ? structuredClone(run) : null;
    });
  }

  readSteps(workflowSlug: string, runId: string): Promise<StepState[]> {
    return this.run("reading", async () =>
      [...(await this.log.view({ workflowSlug, runId })).steps.values()].map((s) => structuredClone(s)),
    );
  }

  queryRuns(options: ListRunsOptions): Promise<RunState[]> {
    return this.run("listing runs in", () => this.queries.runs(options));
  }

  queryScheduledSteps(
    options: Required<Pick<ListScheduledOptions, "availableBefore">> & ListScheduledOptions,
  ): Promise<StepRef[]> {
    return this.run("listing scheduled steps in", () => this.queries.scheduledSteps(options));
  }

  queryStaleSteps(heartbeatBeforeUs: number): Promise<StepState[]> {
    return this.run("listing stale steps in", () => this.queries.staleSteps(heartbeatBeforeUs));
  }

  queryGateRuns(query: GateRunsQuery): Promise<Array<{ workflowSlug: string; runId: string }>> {
    return this.run("listing the runs of a gate in", () => this.gates.gateRuns(query));
  }

  queryWaitingGates(nowUs: number, limit: number, among?: readonly Gate[]): Promise<Gate[]> {
    return this.run("listing waiting gates in", () => this.gates.waitingGates(nowUs, limit, among));
  }

  queryDueRuns(nowUs: number, limit: number): Promise<Array<{ workflowSlug: string; runId: string }>> {
    return this.run("listing due runs in", () => this.queries.dueRuns(nowUs, limit));
  }

  queryOverdueRuns(nowUs: number, limit: number): Promise<Array<{ workflowSlug: string; runId: string }>> {
    return this.run("listing overdue runs in", () => this.queries.overdueRuns(nowUs, limit));
  }

  queryActiveWorkflows(): Promise<string[]> {
    return this.run("listing workflows in", () => this.queries.activeWorkflows());
  }

  /** The feed from the chain of feed slots (FsFeed): every batch in the order it was published. */
  readFeed(query: DriverFeedQuery): Promise<DriverFeedEntry[]> {
    return this.feed.read(query);
  }

  queryRunIds(workflowSlug: string): Promise<string[]> {
    return this.run("listing runs in", () => this.queries.runIds(workflowSlug));
  }

  queryEndedRuns(query: EndedRunsQuery): Promise<Array<{ workflowSlug: string; runId: string }>> {
    return this.run("listing ended runs in", () => this.retention.endedRuns(query));
  }

  async deleteRuns(runs: ReadonlyArray<{ workflowSlug: string; runId: string }>): Promise<string[]> {
    const out: string[] = [];
    for (const r of runs)
      if (await this.run("deleting a run in", () => this.retention.deleteEnded(r))) out.push(r.runId);
    return out;
  }

  putMarkIfAbsent(mark: Mark): Promise<Mark> {
    return this.run("writing a mark in", () => this.marks.putIfAbsent(mark));
  }

  deleteMarks(prefix: string, beforeUs: number): Promise<number> {
    return this.run("deleting marks in", () => this.marks.deleteBefore(prefix, beforeUs));
  }

  readCursors(keys: readonly string[]): Promise<Cursor[]> {
    return this.run("reading cursors in", () => this.cursors.read(keys));
  }

  compareAndSetCursor(expected: string | null, next: Cursor): Promise<boolean> {
    return this.run("writing a cursor in", () => this.cursors.compareAndSet(expected, next));
  }

  putWorkflow(registration: WorkflowRegistration): Promise<void> {
    return this.run("registering a workflow in", () => this.catalog.putWorkflow(registration));
  }

  setWorkflowPause(slug: string, paused: WorkflowPause | null): Promise<boolean> {
    return this.run("registering a workflow in", () => this.catalog.setWorkflowPause(slug, paused));
  }

  readWorkflow(slug: string): Promise<WorkflowRegistration | null> {
    return this.run("reading", () => this.catalog.readWorkflow(slug));
  }

  readWorkflows(): Promise<WorkflowRegistration[]> {
    return this.run("reading", () => this.catalog.readWorkflows());
  }

  putVersion(version: WorkflowVersion): Promise<PutVersionResult> {
    return this.run("creating a version in", () => this.catalog.putVersion(version));
  }

  readVersions(workflowSlug: string, versionId?: string): Promise<WorkflowVersion[]> {
    return this.run("reading", () => this.catalog.readVersions(workflowSlug, versionId));
  }

  putWorkerPresence(presence: WorkerPresence): Promise<void> {
    return this.run("recording worker presence in", () => this.presence.put(presence));
  }

  readWorkerPresences(filter: PresenceFilter): Promise<WorkerPresence[]> {
    return this.run("reading worker presence in", () => this.presence.read(filter));
  }

  loadAnalyticsEvents(window: AnalyticsWindow): Promise<Event[]> {
    return this.run("reading analytics from", () => this.queries.analyticsEvents(window));
  }

  loadLiveState(filter: { workflowSlug?: string }): Promise<LiveState> {
    return this.run("reading live state from", () => this.queries.liveState(filter.workflowSlug));
  }
}
