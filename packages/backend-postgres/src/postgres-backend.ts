import pg from "pg";
import { CorruptRecordError, InvalidArgumentError, assertIds, assertWorkflowSlug } from "@cairn/backend-interface";
import type {
  AnalyticsWindow, BackendCapabilities, ClaimOptions, EventType, BackendOptions, Event, EventFilter, EventOf, FollowUp, GuardVerdict, GuardedWrite, ListRunsOptions, ListScheduledOptions,
  LiveState, PutVersionResult, RunState, StepRef, StepStartMetadata, StepState, SubmissionResult, WorkflowRegistration, WorkflowVersion, WriteGuard, WriteTarget,
  PresenceFilter, WorkerPresence,
} from "@cairn/backend-interface";
import { PostgresAnalyticsLayer } from "./postgres-analytics-layer.js";
import { PostgresAnalyticsSql } from "./postgres-analytics-sql.js";
import { PostgresAttemptAnalytics } from "./postgres-analytics-attempts.js";
import { intactEvents, loadAnalyticsEvents, loadLiveState, type EventRow } from "./postgres-analytics.js";
import { claimMany, claimOne, claimQueries, type ClaimQueries, type MakeStarted } from "./postgres-claims.js";
import { PostgresConnection } from "./postgres-connection.js";
import { migrate } from "./postgres-migrations.js";
import { PostgresNotifier } from "./postgres-notify.js";
import { buildQueries, listRunsQuery, type Queries } from "./postgres-queries.js";
import { DEFAULT_SCHEMA, channelName, quoteSchema } from "./postgres-schema-name.js";
import { sameVersionContent } from "./postgres-versions.js";
import { claimNextSql, claimRefsSql, claimScopeSql, claimSqlQueries, startedExtras, type ClaimSqlQueries } from "./postgres-claim-sql.js";
import { stepWriteQueries, writeStepOptimistic, type StepWriteQueries } from "./postgres-step-writes.js";
import { writeGuarded, writeGuardedBatch, writeSubmission, type WriteContext } from "./postgres-writes.js";
import { writeGuardedMany, writeSubmissionsMany } from "./postgres-many.js";
import { manySqlQueries, type ManySqlQueries } from "./postgres-many-sql.js";
import { translatePgError } from "./postgres-errors.js";
import { PostgresPresence } from "./postgres-presence.js";

/** Options of PostgresBackend. Give either `connectionString` or an existing `pool` (which close() leaves open). */
export interface PostgresBackendOptions extends BackendOptions {
  connectionString?: string;
  pool?: pg.Pool;
  /** Postgres schema holding this deployment's tables; default `cairn`. */
  schema?: string;
  /** Maximum pool size when the backend creates the pool; default 10. */
  poolSize?: number;
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
export class PostgresBackend extends PostgresAnalyticsLayer {
  override readonly capabilities: BackendCapabilities;
  /** The Postgres schema of this deployment. */
  readonly schema: string;
  private readonly conn: PostgresConnection;
  private readonly q: Queries;
  private readonly cq: ClaimQueries;
  private readonly sq: StepWriteQueries;
  private readonly csq: ClaimSqlQueries;
  private readonly ctx: WriteContext;
  private readonly mq: ManySqlQueries;
  private readonly notifier: PostgresNotifier | null;
  private readonly pollIntervalMs: number;
  private readonly pollers = new Set<NodeJS.Timeout>();
  private readonly reportCorrupt: (row: EventRow) => void;
  private readonly presence: PostgresPresence;
  protected readonly analyticsSql: PostgresAnalyticsSql;
  protected readonly attemptAnalytics: PostgresAttemptAnalytics;

  constructor(options: PostgresBackendOptions) {
    super(options);
    this.schema = options.schema ?? DEFAULT_SCHEMA;
    const quoted = quoteSchema(this.schema);
    if (!options.pool && !options.connectionString) throw new InvalidArgumentError("PostgresBackend needs a connectionString or a pool.");
    const pool = options.pool ?? new pg.Pool({
      connectionString: options.connectionString, max: options.poolSize ?? 10, connectionTimeoutMillis: 10_000, application_name: options.applicationName ?? "cairn",
    });
    const location = `${redact(options.connectionString ?? "pool")} schema ${this.schema}`;
    this.conn = new PostgresConnection(pool, location, !options.pool);
    this.q = buildQueries(quoted);
    this.cq = claimQueries(quoted);
    this.sq = stepWriteQueries(quoted);
    this.csq = claimSqlQueries(quoted);
    this.mq = manySqlQueries(quoted);
    this.analyticsSql = new PostgresAnalyticsSql(this.conn, quoted, options.analyticsWorkMem ?? "64MB");
    this.attemptAnalytics = new PostgresAttemptAnalytics(this.conn, quoted, this.analyticsSql);
    this.ctx = { conn: this.conn, q: this.q, schema: this.schema, channel: channelName(this.schema) };
    const listen = options.listen ?? true;
    this.notifier = listen ? new PostgresNotifier(listenerConfig(pool, options.applicationName), channelName(this.schema)) : null;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.capabilities = { notifications: listen, multiProcess: true, batchClaim: true };
    const onCorrupt = options.onCorruptRecord;
    this.reportCorrupt = (row) => onCorrupt?.(new CorruptRecordError(`${location} table events seq ${row.seq}`, "the stored body does not match its row (event id, type or run)", {}));
    this.presence = new PostgresPresence(this.conn, quoted, (e) => onCorrupt?.(e));
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
    await this.conn.close();
  }

  /** Calls `listener` when steps may have become ready: on NOTIFY, or every pollIntervalMs when `listen` is false. */
  override subscribe(listener: () => void): () => void {
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
  protected async writeEvents(target: WriteTarget, guard: WriteGuard, events: Event[], follow?: FollowUp): Promise<GuardVerdict> {
    if (follow) return writeGuarded(this.ctx, target, guard, events, follow);
    return (await writeStepOptimistic(this.ctx, this.sq, target, guard, events)) ?? writeGuarded(this.ctx, target, guard, events);
  }

  /** A batch of guarded writes (saveStepCompletes) in one transaction of four round trips (see writeGuardedMany). */
  protected override async writeEventBatch(writes: GuardedWrite[]): Promise<GuardVerdict[]> {
    return (await writeGuardedMany(this.ctx, this.mq, writes)) ?? writeGuardedBatch(this.ctx, writes);
  }

  /** Many submissions in one statement (see writeSubmissionsMany). */
  protected override writeSubmissions(events: Array<EventOf<"RunSubmitted">>, follow: FollowUp): Promise<SubmissionResult[]> {
    return writeSubmissionsMany(this.ctx, this.mq, events, follow, (e) => writeSubmission(this.ctx, e, [], follow));
  }

  /** A plain submission is one statement (submitMany); one with extra events (a rerun) or earlier step rows, one transaction. */
  protected async writeSubmission(submitted: EventOf<"RunSubmitted">, extra: Event[], follow?: FollowUp): Promise<SubmissionResult> {
    if (extra.length > 0) return writeSubmission(this.ctx, submitted, extra, follow);
    return (await writeSubmissionsMany(this.ctx, this.mq, [submitted], follow, (e) => writeSubmission(this.ctx, e, [], follow)))[0]!;
  }

  /** One statement: lock the step with SKIP LOCKED, check it is claimable, append StepStarted and update the row. */
  override async claimScheduledStep(workflowSlug: string, runId: string, stepId: string, workerId: string, metadata: StepStartMetadata): Promise<{ attemptNumber: number } | null> {
    assertIds({ workflowSlug, runId, stepId });
    const nowUs = this.clock.nowUs();
    const ref = { workflowSlug, runId, stepId };
    const extras = startedExtras(workerId, [metadata.dependencies], metadata);
    const fast = extras === null ? null : await claimRefsSql(this.ctx, this.csq, this.clock, nowUs, workerId, [{ ...ref, deps: metadata.dependencies }], extras, 1);
    if (fast !== null) return fast[0] ? { attemptNumber: fast[0].attemptNumber } : null;
    return claimOne(this.ctx, this.cq, ref, workerId, nowUs, this.startedMaker(workerId, () => metadata.dependencies, metadata));
  }

  /** Claims up to `limit` ready steps in one statement (with a dependencies callback: one peek, then one statement). */
  override async claimScheduledSteps(workerId: string, options: ClaimOptions): Promise<Array<StepRef & { attemptNumber: number }>> {
    if (!Number.isInteger(options.limit) || options.limit < 0) throw new InvalidArgumentError(`limit must be a non-negative integer, got ${options.limit}.`);
    if (options.workflowSlug !== undefined) assertWorkflowSlug(options.workflowSlug);
    for (const slug of Object.keys(options.workflows ?? {})) assertWorkflowSlug(slug);
    if (options.limit === 0) return [];
    const nowUs = this.clock.nowUs();
    const deps = options.dependencies;
    let fast: Array<StepRef & { attemptNumber: number }> | null = null;
    if (options.workflows !== undefined) {
      // One statement for every workflow of the scope, each step's dependencies looked up in it.
      const scope = options.workflows;
      if (startedExtras(workerId, Object.values(scope).flatMap((steps) => Object.values(steps)), {}) !== null) fast = await claimScopeSql(this.ctx, this.csq, this.clock, nowUs, workerId, options.limit, scope);
      if (fast === null) return this.claimPerWorkflow(workerId, { limit: options.limit }, scope);
    } else if (deps === undefined) {
      if (startedExtras(workerId, [], {}) !== null) fast = await claimNextSql(this.ctx, this.csq, this.clock, nowUs, workerId, options.limit, options.workflowSlug);
    } else {
      const peek = await this.queryScheduledSteps({ availableBefore: nowUs, limit: options.limit * 2, ...(options.workflowSlug ? { workflowSlug: options.workflowSlug } : {}) });
      const refs = peek.map((r) => ({ ...r, deps: deps(r) }));
      if (startedExtras(workerId, refs.map((r) => r.deps), {}) !== null) fast = await claimRefsSql(this.ctx, this.csq, this.clock, nowUs, workerId, refs, "{}", options.limit);
    }
    if (fast !== null) return fast;
    return claimMany(this.ctx, this.cq, workerId, nowUs, options.limit, options.workflowSlug, this.startedMaker(workerId, (ref) => deps?.(ref) ?? [], {}));
  }

  private startedMaker(workerId: string, deps: (ref: StepRef) => string[], m: { slotIndex?: number; workerConcurrency?: number }): MakeStarted {
    return (ref, attemptNumber) => this.makeEvent("StepStarted", ref.workflowSlug, ref.runId, ref.stepId, {
      workerId, dependencies: deps(ref), attemptNumber,
      ...(m.slotIndex === undefined ? {} : { slotIndex: m.slotIndex }), ...(m.workerConcurrency === undefined ? {} : { workerConcurrency: m.workerConcurrency }),
    });
  }

  protected async readEvents(workflowSlug: string, runId: string, filter: EventFilter): Promise<Event[]> {
    const r = await this.conn.query<EventRow>({ name: `${this.schema}:readEvents`, text: this.q.readEvents, values: [runId, workflowSlug, filter.category ?? null, filter.stepId ?? null] });
    return intactEvents(r.rows, this.reportCorrupt);
  }

  protected override async readSteps(workflowSlug: string, runId: string): Promise<StepState[]> {
    const r = await this.conn.query<{ state: StepState }>({ name: `${this.schema}:readSteps`, text: this.q.readSteps, values: [runId, workflowSlug] });
    return r.rows.map((x) => x.state);
  }

  protected async readRun(runId: string): Promise<RunState | null> {
    const r = await this.conn.query<{ state: RunState }>({ name: `${this.schema}:readRun`, text: this.q.readRun, values: [runId] });
    return r.rows[0]?.state ?? null;
  }

  protected async queryRuns(o: ListRunsOptions): Promise<RunState[]> {
    return (await this.conn.query<{ state: RunState }>(listRunsQuery(quoteSchema(this.schema), o))).rows.map((x) => x.state);
  }

  protected async queryScheduledSteps(o: Required<Pick<ListScheduledOptions, "availableBefore">> & ListScheduledOptions): Promise<StepRef[]> {
    const r = await this.conn.query<{ workflow_slug: string; run_id: string; step_id: string }>({ text: this.q.scheduled, values: [o.availableBefore, o.workflowSlug ?? null, o.limit ?? null] });
    return r.rows.map((x) => ({ workflowSlug: x.workflow_slug, runId: x.run_id, stepId: x.step_id }));
  }

  protected async queryStaleSteps(heartbeatBeforeUs: number): Promise<StepState[]> {
    return (await this.conn.query<{ state: StepState }>({ text: this.q.stale, values: [heartbeatBeforeUs] })).rows.map((x) => x.state);
  }

  protected async queryDueRuns(nowUs: number, limit: number): Promise<Array<{ workflowSlug: string; runId: string }>> {
    return refsOf(await this.conn.query<RunRefRow>({ name: `${this.schema}:dueRuns`, text: this.q.dueRuns, values: [nowUs, limit] }));
  }

  protected async queryOverdueRuns(nowUs: number, limit: number): Promise<Array<{ workflowSlug: string; runId: string }>> {
    return refsOf(await this.conn.query<RunRefRow>({ name: `${this.schema}:overdueRuns`, text: this.q.overdueRuns, values: [nowUs, limit] }));
  }

  /** Runs and all their steps in one statement. */
  protected override async readRunContexts(runIds: readonly string[]): Promise<Map<string, { run: RunState; steps: StepState[] }>> {
    const r = await this.conn.query<{ run_id: string; step_id: string | null; state: unknown }>({ name: `${this.schema}:runContexts`, text: this.q.runContexts, values: [runIds] });
    const out = new Map<string, { run: RunState; steps: StepState[] }>();
    for (const row of r.rows) if (row.step_id === null) out.set(row.run_id, { run: row.state as RunState, steps: [] });
    for (const row of r.rows) if (row.step_id !== null) out.get(row.run_id)?.steps.push(row.state as StepState);
    return out;
  }

  protected async queryActiveWorkflows(): Promise<string[]> {
    return (await this.conn.query<{ workflow_slug: string }>({ text: this.q.activeWorkflows, values: [] })).rows.map((x) => x.workflow_slug);
  }

  protected async queryRunIds(workflowSlug: string): Promise<string[]> {
    return (await this.conn.query<{ run_id: string }>({ text: this.q.runIds, values: [workflowSlug] })).rows.map((x) => x.run_id);
  }

  protected putWorkerPresence(presence: WorkerPresence): Promise<void> {
    return this.presence.put(presence);
  }

  protected readWorkerPresences(filter: PresenceFilter): Promise<WorkerPresence[]> {
    return this.presence.read(filter);
  }

  protected async putWorkflow(registration: WorkflowRegistration): Promise<void> {
    await this.conn.query({ text: this.q.putWorkflow, values: [registration.slug, JSON.stringify(registration)] });
  }

  protected async readWorkflow(slug: string): Promise<WorkflowRegistration | null> {
    return (await this.conn.query<{ registration: WorkflowRegistration }>({ text: this.q.readWorkflow, values: [slug] })).rows[0]?.registration ?? null;
  }

  protected async readWorkflows(): Promise<WorkflowRegistration[]> {
    return (await this.conn.query<{ registration: WorkflowRegistration }>({ text: this.q.readWorkflows, values: [] })).rows.map((x) => x.registration);
  }

  protected async putVersion(version: WorkflowVersion): Promise<PutVersionResult> {
    const ins = await this.conn.query({ text: this.q.insertVersion, values: [version.workflowSlug, version.versionId, version.createdAtUs, JSON.stringify(version)] });
    if (ins.rowCount === 1) return { status: "created", version };
    const existing = (await this.readVersions(version.workflowSlug, version.versionId))[0] ?? version;
    return { status: sameVersionContent(existing, version) ? "exists" : "conflict", version: existing };
  }

  protected async readVersions(workflowSlug: string, versionId?: string): Promise<WorkflowVersion[]> {
    return (await this.conn.query<{ version: WorkflowVersion }>({ text: this.q.readVersions, values: [workflowSlug, versionId ?? null] })).rows.map((x) => x.version);
  }

  protected loadAnalyticsEvents(window: AnalyticsWindow): Promise<Event[]> {
    return loadAnalyticsEvents(this.conn, this.q, window, this.reportCorrupt);
  }

  protected intactRows(rows: EventRow[]): Event[] {
    return intactEvents(rows, this.reportCorrupt);
  }

  protected loadEventsOfTypes(window: AnalyticsWindow, types: EventType[]): Promise<Event[]> {
    return loadAnalyticsEvents(this.conn, this.q, window, this.reportCorrupt, types);
  }

  protected loadLiveState(filter: { workflowSlug?: string }): Promise<LiveState> {
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
