import pg from "pg";
import { CorruptRecordError, InvalidArgumentError, systemClock, type Gate } from "@cairn/backend-interface";
import type {
  GateRunsQuery,
  AnalyticsWindow,
  BackendCapabilities,
  BackendDriver,
  ClaimRequest,
  ClaimedStep,
  Clock,
  EndedRunsQuery,
  Mark,
  Cursor,
  BackendOptions,
  Event,
  EventFilter,
  EventOf,
  FollowUp,
  GuardVerdict,
  GuardedWrite,
  ListRunsOptions,
  ListScheduledOptions,
  LiveState,
  PutVersionResult,
  RunState,
  StepRef,
  StepState,
  SubmissionResult,
  WorkflowPause,
  WorkflowRegistration,
  WorkflowVersion,
  WriteGuard,
  WriteTarget,
  PresenceFilter,
  WorkerPresence,
  DriverFeedEntry,
  DriverFeedQuery,
} from "@cairn/backend-interface";
import { PostgresAnalyticsPaths } from "./postgres-analytics-paths.js";
import { PostgresAnalyticsSql } from "./postgres-analytics-sql.js";
import { PostgresFeed } from "./postgres-feed.js";
import { intactEvents, loadAnalyticsEvents, loadLiveState, type EventRow } from "./postgres-analytics.js";
import { claimMany, claimOne, claimQueries, type ClaimQueries } from "./postgres-claims.js";
import { PostgresConnection } from "./postgres-connection.js";
import { claimPool } from "./postgres-claim-pool.js";
import { migrate } from "./postgres-migrations.js";
import { PostgresNotifier } from "./postgres-notify.js";
import { buildQueries, listRunsQuery, pauseLockPrefix, runContextsOf, type Queries } from "./postgres-queries.js";
import { DEFAULT_SCHEMA, channelName, quoteSchema } from "./postgres-schema-name.js";
import {
  claimNextSql,
  claimRefsSql,
  claimScopeSql,
  claimSqlQueries,
  startedExtras,
  type ClaimSqlQueries,
} from "./postgres-claim-sql.js";
import { stepWriteQueries, writeStepOptimistic, type StepWriteQueries } from "./postgres-step-writes.js";
import { writeGuarded, writeGuardedBatch, writeSubmission, type WriteContext } from "./postgres-writes.js";
import { writeGuardedMany, writeSubmissionsMany } from "./postgres-many.js";
import { buildGateQueries, gateRuns, type GateQueries } from "./postgres-gates.js";
import { manySqlQueries, type ManySqlQueries } from "./postgres-many-sql.js";
import { translatePgError } from "./postgres-errors.js";
import { PostgresPresence } from "./postgres-presence.js";
import { PostgresRetention } from "./postgres-retention.js";
import { PostgresCursors } from "./postgres-cursors.js";

/** Options of PostgresBackend (and its driver). Give either `connectionString` or an existing `pool` (which close() leaves open). */
export interface PostgresBackendOptions extends BackendOptions {
  connectionString?: string;
  pool?: pg.Pool;
  /** Postgres schema holding this deployment's tables; default `cairn`. */
  schema?: string;
  /** Maximum pool size when the backend creates the pool; default 10. */
  poolSize?: number;
  /**
   * Connections of the claim pool, which runs the claims that walk the ready queue with plans made once (see
   * postgres-claim-pool.ts); default 2, opened on first use. 0 runs those claims on the main pool instead (no extra
   * connections, for servers that count them; the claims are then planned as Postgres decides).
   */
  claimPoolSize?: number;
  /** LISTEN/NOTIFY wake-ups (default true). Set false behind poolers that break LISTEN: subscribers are then woken by polling. */
  listen?: boolean;
  /** Interval of the polling wake-up when `listen` is false; default 1000 ms. */
  pollIntervalMs?: number;
  /** work_mem of the analytics aggregates (set per transaction); default `64MB`. */
  analyticsWorkMem?: string;
  /** Called with each damaged record found (and skipped) while reading; default: ignore. */
  onCorruptRecord?: (error: CorruptRecordError) => void;
  /** application_name of the connections (the listener appends `-listen`); default `cairn`. */
  applicationName?: string;
}

/**
 * The Postgres driver of Cairn: many workers on many machines share one database. Events go to an append-only
 * table; runs and steps are projection rows updated by the pure reducers in the same transaction; claims lock
 * with FOR UPDATE SKIP LOCKED; LISTEN/NOTIFY wakes idle workers; migrations run once under an advisory lock.
 */
export class PostgresDriver implements BackendDriver {
  readonly capabilities: BackendCapabilities;
  /** Analytics aggregated in SQL. */
  readonly analytics: PostgresAnalyticsPaths;
  /** The Postgres schema of this deployment. */
  readonly schema: string;
  private readonly conn: PostgresConnection;
  /** The connections of the claims that scan the ready queue (see postgres-claim-pool.ts). */
  private readonly claimConn: PostgresConnection;
  private readonly claimCtx: WriteContext;
  private readonly q: Queries;
  private readonly cq: ClaimQueries;
  private readonly sq: StepWriteQueries;
  private readonly csq: ClaimSqlQueries;
  private readonly ctx: WriteContext;
  private readonly mq: ManySqlQueries;
  private readonly gq: GateQueries;
  private readonly notifier: PostgresNotifier | null;
  private readonly pollIntervalMs: number;
  private readonly pollers = new Set<NodeJS.Timeout>();
  private readonly reportCorrupt: (row: EventRow) => void;
  private readonly presence: PostgresPresence;
  private readonly retention: PostgresRetention;
  private readonly cursors: PostgresCursors;
  private readonly feed: PostgresFeed;

  private readonly clock: Clock;

  constructor(options: PostgresBackendOptions) {
    this.clock = options.clock ?? systemClock;
    this.schema = options.schema ?? DEFAULT_SCHEMA;
    const quoted = quoteSchema(this.schema);
    if (!options.pool && !options.connectionString)
      throw new InvalidArgumentError("PostgresBackend needs a connectionString or a pool.");
    const pool =
      options.pool ??
      new pg.Pool({
        connectionString: options.connectionString,
        max: options.poolSize ?? 10,
        connectionTimeoutMillis: 10_000,
        application_name: options.applicationName ?? "cairn",
      });
    const location = `${redact(options.connectionString ?? "pool")} schema ${this.schema}`;
    this.conn = new PostgresConnection(pool, location, !options.pool);
    this.q = buildQueries(quoted);
    this.cq = claimQueries(quoted);
    this.sq = stepWriteQueries(quoted);
    this.csq = claimSqlQueries(quoted);
    this.mq = manySqlQueries(quoted);
    this.gq = buildGateQueries(quoted);
    this.ctx = { conn: this.conn, q: this.q, schema: this.schema, channel: channelName(this.schema), g: this.gq };
    const claimPoolSize = options.claimPoolSize ?? 2;
    if (!Number.isInteger(claimPoolSize) || claimPoolSize < 0) {
      throw new InvalidArgumentError(
        `claimPoolSize must be a non-negative integer (0: claims on the main pool), got ${String(options.claimPoolSize)}.`,
      );
    }
    this.claimConn =
      claimPoolSize === 0
        ? this.conn
        : new PostgresConnection(claimPool(pool, options.applicationName, claimPoolSize), location, true);
    this.claimCtx = { ...this.ctx, conn: this.claimConn };
    const listen = options.listen ?? true;
    this.notifier = listen
      ? new PostgresNotifier(listenerConfig(pool, options.applicationName), channelName(this.schema))
      : null;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.capabilities = { notifications: listen, multiProcess: true, batchClaim: true, flowControl: true };
    const onCorrupt = options.onCorruptRecord;
    this.reportCorrupt = (row) =>
      onCorrupt?.(
        new CorruptRecordError(
          `${location} table events seq ${row.seq}`,
          "the stored body does not match its row (event id, type or run)",
          {},
        ),
      );
    this.presence = new PostgresPresence(this.conn, quoted, (e) => onCorrupt?.(e));
    this.retention = new PostgresRetention(this.conn, this.schema, quoted);
    this.cursors = new PostgresCursors(this.conn, this.schema, quoted);
    this.feed = new PostgresFeed(this.conn, this.schema, quoted);
    const analyticsSql = new PostgresAnalyticsSql(this.conn, quoted, options.analyticsWorkMem ?? "64MB");
    this.analytics = new PostgresAnalyticsPaths(analyticsSql, this.conn, quoted, (rows) =>
      intactEvents(rows, this.reportCorrupt),
    );
  }

  /** Creates or migrates the schema (once, under an advisory lock, however many workers start together). */
  async initialize(): Promise<void> {
    const client = await this.conn.checkout();
    try {
      await migrate(client, this.schema, quoteSchema(this.schema), this.conn.location);
      this.conn.release(client);
    } catch (err) {
      this.conn.release(client, err);
      throw translatePgError(err, this.conn.location);
    }
  }

  /** Stops wake-ups and closes the pool (unless it was given). */
  async close(): Promise<void> {
    for (const t of this.pollers) clearInterval(t);
    this.pollers.clear();
    await this.notifier?.close();
    if (this.claimConn !== this.conn) await this.claimConn.close();
    await this.conn.close();
  }

  /** Calls `listener` when steps may have become ready: on NOTIFY, or every pollIntervalMs when `listen` is false. */
  subscribe(listener: () => void): () => void {
    if (this.notifier) return this.notifier.subscribe(listener);
    const t = setInterval(listener, this.pollIntervalMs);
    t.unref();
    this.pollers.add(t);
    return () => {
      clearInterval(t);
      this.pollers.delete(t);
    };
  }

  /** Engine transitions (a follow-up): the locking transaction over the whole run; a write of one existing step row (heartbeats, logs): the optimistic two-round-trip path; anything else: the locking transaction. Every row comes from the pure reducers. */
  async writeEvents(target: WriteTarget, guard: WriteGuard, events: Event[], follow?: FollowUp): Promise<GuardVerdict> {
    if (follow) return writeGuarded(this.ctx, target, guard, events, follow);
    return (
      (await writeStepOptimistic(this.ctx, this.sq, target, guard, events)) ??
      writeGuarded(this.ctx, target, guard, events)
    );
  }

  /** A batch of guarded writes (saveStepCompletes) in one transaction of four round trips (see writeGuardedMany). */
  async writeEventBatch(writes: GuardedWrite[]): Promise<GuardVerdict[]> {
    return (await writeGuardedMany(this.ctx, this.mq, writes)) ?? writeGuardedBatch(this.ctx, writes);
  }

  /** Many submissions in one statement (see writeSubmissionsMany). */
  writeSubmissions(events: Array<EventOf<"RunSubmitted">>, follow: FollowUp): Promise<SubmissionResult[]> {
    return writeSubmissionsMany(this.ctx, this.mq, events, follow, (e) => writeSubmission(this.ctx, e, [], follow));
  }

  /** A plain submission is one statement (submitMany); one with extra events (a rerun) or earlier step rows, one transaction. */
  async writeSubmission(
    submitted: EventOf<"RunSubmitted">,
    extra: Event[],
    follow?: FollowUp,
  ): Promise<SubmissionResult> {
    if (extra.length > 0) return writeSubmission(this.ctx, submitted, extra, follow);
    return (
      await writeSubmissionsMany(this.ctx, this.mq, [submitted], follow, (e) =>
        writeSubmission(this.ctx, e, [], follow),
      )
    )[0]!;
  }

  /**
   * Claims in one statement: lock with SKIP LOCKED, check claimability, append StepStarted and update the row (the
   * reducer's StepStarted case in SQL, see postgres-claim-sql.ts); the reducer path when the SQL cannot take the
   * request (see startedExtras). A scope it cannot take is left to the Backend (null).
   */
  async claimSteps(r: ClaimRequest): Promise<ClaimedStep[] | null> {
    const extra = {
      ...(r.slotIndex === undefined ? {} : { slotIndex: r.slotIndex }),
      ...(r.workerConcurrency === undefined ? {} : { workerConcurrency: r.workerConcurrency }),
    };
    const deps = (ref: StepRef) => r.dependencies?.(ref) ?? [];
    if (r.step) {
      const ref = r.step;
      const extras = startedExtras(r.workerId, [deps(ref)], extra);
      const fast =
        extras === null
          ? null
          : await claimRefsSql(
              this.ctx,
              this.csq,
              this.clock,
              r.nowUs,
              r.workerId,
              [{ ...ref, deps: deps(ref) }],
              extras,
              1,
            );
      if (fast !== null) return fast;
      const one = await claimOne(this.ctx, this.cq, ref, r.workerId, r.nowUs, r.started);
      return one ? [{ ...ref, attemptNumber: one.attemptNumber }] : [];
    }
    if (r.scope !== undefined) {
      // One statement for every workflow of the scope, each step's dependencies looked up in it.
      if (
        startedExtras(
          r.workerId,
          Object.values(r.scope).flatMap((steps) => Object.values(steps)),
          {},
        ) === null
      )
        return null;
      return claimScopeSql(
        this.claimCtx,
        this.csq,
        this.clock,
        r.nowUs,
        r.workerId,
        r.limit,
        r.scope,
        r.contexts === true,
      );
    }
    let fast: ClaimedStep[] | null = null;
    if (r.dependencies === undefined) {
      if (startedExtras(r.workerId, [], {}) !== null)
        fast = await claimNextSql(this.claimCtx, this.csq, this.clock, r.nowUs, r.workerId, r.limit, r.workflowSlug);
    } else {
      const peek = await this.queryScheduledSteps({
        availableBefore: r.nowUs,
        limit: r.limit * 2,
        ...(r.workflowSlug ? { workflowSlug: r.workflowSlug } : {}),
      });
      const refs = peek.map((ref) => ({ ...ref, deps: deps(ref) }));
      if (
        startedExtras(
          r.workerId,
          refs.map((x) => x.deps),
          {},
        ) !== null
      )
        fast = await claimRefsSql(this.ctx, this.csq, this.clock, r.nowUs, r.workerId, refs, "{}", r.limit);
    }
    if (fast !== null) return fast;
    return claimMany(this.ctx, this.cq, r.workerId, r.nowUs, r.limit, r.workflowSlug, r.started);
  }

  /** StepLinked events of one entity, newest first, through events_links_by_entity_idx (migration 0017). */
  async queryEntityLinks(query: {
    entityType: string;
    entityId: string;
    limit: number;
  }): Promise<Array<EventOf<"StepLinked">>> {
    const text = `SELECT seq, event_id, type, run_id, body FROM ${quoteSchema(this.schema)}.events
      WHERE type = 'StepLinked' AND (body ->> 'entityType') = $1 AND (body ->> 'entityId') = $2 ORDER BY timestamp_us DESC, event_id COLLATE "C" DESC LIMIT $3`;
    const r = await this.conn.query<EventRow>({
      name: `${this.schema}:entityLinks`,
      text,
      values: [query.entityType, query.entityId, query.limit],
    });
    return intactEvents(r.rows, this.reportCorrupt).filter((e): e is EventOf<"StepLinked"> => e.type === "StepLinked");
  }

  async readEvents(workflowSlug: string, runId: string, filter: EventFilter): Promise<Event[]> {
    const r = await this.conn.query<EventRow>({
      name: `${this.schema}:readEvents`,
      text: this.q.readEvents,
      values: [runId, workflowSlug, filter.category ?? null, filter.stepId ?? null],
    });
    return intactEvents(r.rows, this.reportCorrupt);
  }

  /** The feed in commit order (see PostgresFeed and migration 0014). */
  readFeed(query: DriverFeedQuery): Promise<DriverFeedEntry[]> {
    return this.feed.read(query, this.reportCorrupt);
  }

  async readSteps(workflowSlug: string, runId: string): Promise<StepState[]> {
    const r = await this.conn.query<{ state: StepState }>({
      name: `${this.schema}:readSteps`,
      text: this.q.readSteps,
      values: [runId, workflowSlug],
    });
    return r.rows.map((x) => x.state);
  }

  async readRun(runId: string): Promise<RunState | null> {
    const r = await this.conn.query<{ state: RunState }>({
      name: `${this.schema}:readRun`,
      text: this.q.readRun,
      values: [runId],
    });
    return r.rows[0]?.state ?? null;
  }

  async queryRuns(o: ListRunsOptions): Promise<RunState[]> {
    return (await this.conn.query<{ state: RunState }>(listRunsQuery(quoteSchema(this.schema), o))).rows.map(
      (x) => x.state,
    );
  }

  async queryScheduledSteps(
    o: Required<Pick<ListScheduledOptions, "availableBefore">> & ListScheduledOptions,
  ): Promise<StepRef[]> {
    const r = await this.conn.query<{ workflow_slug: string; run_id: string; step_id: string }>({
      text: this.q.scheduled,
      values: [o.availableBefore, o.workflowSlug ?? null, o.limit ?? null],
    });
    return r.rows.map((x) => ({ workflowSlug: x.workflow_slug, runId: x.run_id, stepId: x.step_id }));
  }

  async queryWaitingSteps(name: string): Promise<StepState[]> {
    return (await this.conn.query<{ state: StepState }>({ text: this.q.waiting, values: [name] })).rows.map(
      (x) => x.state,
    );
  }

  async queryStaleSteps(heartbeatBeforeUs: number): Promise<StepState[]> {
    return (await this.conn.query<{ state: StepState }>({ text: this.q.stale, values: [heartbeatBeforeUs] })).rows.map(
      (x) => x.state,
    );
  }

  async queryDueRuns(nowUs: number, limit: number): Promise<Array<{ workflowSlug: string; runId: string }>> {
    return refsOf(
      await this.conn.query<RunRefRow>({
        name: `${this.schema}:dueRuns`,
        text: this.q.dueRuns,
        values: [nowUs, limit],
      }),
    );
  }

  queryGateRuns(query: GateRunsQuery): Promise<Array<{ workflowSlug: string; runId: string }>> {
    return gateRuns((stmt) => this.conn.query(stmt), this.gq, this.schema, query);
  }

  async queryWaitingGates(nowUs: number, limit: number, among?: readonly Gate[]): Promise<Gate[]> {
    const stmt = among
      ? {
          name: `${this.schema}:waitingAmong`,
          text: this.gq.waitingAmong,
          values: [nowUs, limit, among.map((g) => g.workflowSlug), among.map((g) => g.flowKey)],
        }
      : { name: `${this.schema}:waitingGates`, text: this.gq.waitingGates, values: [nowUs, limit] };
    const rows = (await this.conn.query<{ workflow_slug: string; flow_key: string }>(stmt)).rows;
    return rows.map((r) => ({ workflowSlug: r.workflow_slug, flowKey: r.flow_key }));
  }

  async queryOverdueRuns(nowUs: number, limit: number): Promise<Array<{ workflowSlug: string; runId: string }>> {
    return refsOf(
      await this.conn.query<RunRefRow>({
        name: `${this.schema}:overdueRuns`,
        text: this.q.overdueRuns,
        values: [nowUs, limit],
      }),
    );
  }

  /** Runs and all their steps in one statement. */
  async readRunContexts(runIds: readonly string[]): Promise<Map<string, { run: RunState; steps: StepState[] }>> {
    const r = await this.conn.query<{ run_id: string; step_id: string | null; state: unknown }>({
      name: `${this.schema}:runContexts`,
      text: this.q.runContexts,
      values: [runIds],
    });
    return runContextsOf(r.rows);
  }

  async queryActiveWorkflows(): Promise<string[]> {
    return (await this.conn.query<{ workflow_slug: string }>({ text: this.q.activeWorkflows, values: [] })).rows.map(
      (x) => x.workflow_slug,
    );
  }

  /** A tenant's run ids (an index-only range of runs_tenant_created_idx). */
  async queryTenantRunIds(tenantId: string, createdUpToUs: number): Promise<string[]> {
    return (
      await this.conn.query<{ run_id: string }>({
        name: `${this.schema}:tenantRunIds`,
        text: this.q.tenantRunIds,
        values: [tenantId, createdUpToUs],
      })
    ).rows.map((x) => x.run_id);
  }

  async queryRunIds(workflowSlug: string): Promise<string[]> {
    return (await this.conn.query<{ run_id: string }>({ text: this.q.runIds, values: [workflowSlug] })).rows.map(
      (x) => x.run_id,
    );
  }

  queryEndedRuns(query: EndedRunsQuery): Promise<Array<{ workflowSlug: string; runId: string }>> {
    return this.retention.endedRuns(query);
  }

  deleteRuns(runs: ReadonlyArray<{ workflowSlug: string; runId: string }>): Promise<string[]> {
    return this.retention.deleteEnded(runs);
  }

  putMarkIfAbsent(mark: Mark): Promise<Mark> {
    return this.retention.putMark(mark);
  }

  deleteMarks(prefix: string, beforeUs: number): Promise<number> {
    return this.retention.deleteMarks(prefix, beforeUs);
  }

  readCursors(keys: readonly string[]): Promise<Cursor[]> {
    return this.cursors.read(keys);
  }

  compareAndSetCursor(expected: string | null, next: Cursor): Promise<boolean> {
    return this.cursors.compareAndSet(expected, next);
  }

  putWorkerPresence(presence: WorkerPresence): Promise<void> {
    return this.presence.put(presence);
  }

  readWorkerPresences(filter: PresenceFilter): Promise<WorkerPresence[]> {
    return this.presence.read(filter);
  }

  async putWorkflow(registration: WorkflowRegistration): Promise<void> {
    await this.conn.query({
      text: this.q.putWorkflow,
      values: [registration.slug, JSON.stringify(registration), pauseLockPrefix(this.schema) + registration.slug],
    });
  }

  async setWorkflowPause(slug: string, paused: WorkflowPause | null): Promise<boolean> {
    const values = [slug, paused === null ? null : JSON.stringify(paused), pauseLockPrefix(this.schema) + slug];
    return ((await this.conn.query({ text: this.q.setWorkflowPause, values })).rowCount ?? 0) > 0;
  }

  async readWorkflow(slug: string): Promise<WorkflowRegistration | null> {
    return (
      (await this.conn.query<{ registration: WorkflowRegistration }>({ text: this.q.readWorkflow, values: [slug] }))
        .rows[0]?.registration ?? null
    );
  }

  async readWorkflows(): Promise<WorkflowRegistration[]> {
    return (
      await this.conn.query<{ registration: WorkflowRegistration }>({ text: this.q.readWorkflows, values: [] })
    ).rows.map((x) => x.registration);
  }

  async putVersion(version: WorkflowVersion): Promise<PutVersionResult> {
    const ins = await this.conn.query({
      text: this.q.insertVersion,
      values: [version.workflowSlug, version.versionId, version.createdAtUs, JSON.stringify(version)],
    });
    if (ins.rowCount === 1) return { status: "created", version };
    const existing = (await this.readVersions(version.workflowSlug, version.versionId))[0] ?? version;
    return { status: "exists", version: existing };
  }

  async readVersions(workflowSlug: string, versionId?: string): Promise<WorkflowVersion[]> {
    return (
      await this.conn.query<{ version: WorkflowVersion }>({
        text: this.q.readVersions,
        values: [workflowSlug, versionId ?? null],
      })
    ).rows.map((x) => x.version);
  }

  loadAnalyticsEvents(window: AnalyticsWindow): Promise<Event[]> {
    return loadAnalyticsEvents(this.conn, this.q, window, this.reportCorrupt);
  }

  loadLiveState(filter: { workflowSlug?: string }): Promise<LiveState> {
    return loadLiveState(this.conn, this.q, filter);
  }
}

type RunRefRow = { workflow_slug: string; run_id: string };

function refsOf(r: { rows: RunRefRow[] }): Array<{ workflowSlug: string; runId: string }> {
  return r.rows.map((x) => ({ workflowSlug: x.workflow_slug, runId: x.run_id }));
}

/** The listener's connection settings: the pool's, under its own application_name. */
function listenerConfig(pool: pg.Pool, applicationName: string | undefined): pg.ClientConfig {
  const base = (pool as unknown as { options: pg.ClientConfig }).options;
  return { ...base, application_name: `${applicationName ?? base.application_name ?? "cairn"}-listen` };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}
