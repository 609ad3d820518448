import type { Database, Statement } from "better-sqlite3";
import {
  projectRunState,
  projectStepState,
  type Event,
  type EventFilter,
  type ListRunsOptions,
  type ListScheduledOptions,
  type RunState,
  type StepEvent,
  type StepRef,
  type StepState,
  type WorkflowEvent,
} from "@cairn/backend-interface";
import { decodeEventRow, decodeState, type CorruptionReporter, type EventRow } from "./sqlite-codec.js";

/** A runs row with its state, as the read statements select it. */
export interface RunRow {
  run_id: string;
  workflow_slug: string;
  state: string;
}

/** A steps row with its state, as the read statements select it. */
export interface StepRow {
  run_id: string;
  step_id: string;
  workflow_slug: string;
  first_seq: number;
  state: string;
}

const EVENT_COLUMNS = "seq, run_id, workflow_slug, type, body";

/** One workflow's ready steps in claim order: a walk of its range of the ready index (migration 0015). */
export const READY_OF_WORKFLOW_SQL = `SELECT workflow_slug AS workflowSlug, run_id AS runId, step_id AS stepId, priority, available_at_us AS availableAtUs
  FROM steps INDEXED BY steps_ready_by_workflow
  WHERE workflow_slug = ? AND status = 'scheduled' AND run_live = 1 AND available_at_us <= ?
  ORDER BY priority DESC, available_at_us, run_id, step_id LIMIT ?`;

/** The workflows with ready steps, by a loose scan of the ready index: one probe per workflow. */
export const READY_WORKFLOWS_SQL = `WITH RECURSIVE k(slug) AS (
    SELECT (SELECT workflow_slug FROM steps INDEXED BY steps_ready_by_workflow WHERE status = 'scheduled' AND run_live = 1 ORDER BY workflow_slug LIMIT 1)
    UNION ALL
    SELECT (SELECT workflow_slug FROM steps INDEXED BY steps_ready_by_workflow WHERE status = 'scheduled' AND run_live = 1 AND workflow_slug > k.slug
      ORDER BY workflow_slug LIMIT 1) FROM k WHERE k.slug IS NOT NULL)
  SELECT slug FROM k WHERE slug IS NOT NULL`;

/** A ready step as its workflow's walk of the ready index returns it. */
interface ReadyRow extends StepRef {
  priority: number;
  availableAtUs: number;
}

/** Claim order, as the ready index orders a workflow's steps (ids compared as SQLite's BINARY collation does: bytes). */
function claimOrder(a: ReadyRow, b: ReadyRow): number {
  return (
    b.priority - a.priority ||
    a.availableAtUs - b.availableAtUs ||
    binary(a.runId, b.runId) ||
    binary(a.stepId, b.stepId)
  );
}

function binary(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * The read side of the SQLite driver: prepared once, every query served from an index. Runs and steps come
 * from their projection rows (equal to the projection of the events, as the writer maintains them in the
 * same transaction); damaged rows are reported and rebuilt from the events.
 */
export class SqliteQueries {
  private readonly s: Record<
    | "events"
    | "eventsByCategory"
    | "eventsByStep"
    | "run"
    | "steps"
    | "step"
    | "readyOfWorkflow"
    | "readyWorkflows"
    | "stale"
    | "waiting"
    | "activeWorkflows"
    | "runIds"
    | "tenantRunIds"
    | "dueRuns"
    | "overdueRuns",
    Statement
  >;
  private readonly dynamic = new Map<string, Statement>();

  constructor(
    private readonly db: Database,
    private readonly filename: string,
    private readonly report: CorruptionReporter,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      events: p(`SELECT ${EVENT_COLUMNS} FROM events WHERE run_id = ? AND workflow_slug = ? ORDER BY seq`),
      eventsByCategory: p(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE run_id = ? AND workflow_slug = ? AND category = ? ORDER BY seq`,
      ),
      eventsByStep: p(
        `SELECT ${EVENT_COLUMNS} FROM events INDEXED BY events_by_step WHERE run_id = ? AND step_id = ? AND workflow_slug = ? ORDER BY seq`,
      ),
      run: p("SELECT run_id, workflow_slug, state FROM runs WHERE run_id = ?"),
      dueRuns: p(`SELECT workflow_slug, run_id FROM runs INDEXED BY runs_due_ungated
        WHERE status = 'pending' AND json_extract(state, '$.versionId') IS NOT NULL AND flow_key IS NULL AND available_at_us <= ? ORDER BY available_at_us, run_id LIMIT ?`),
      overdueRuns: p(`SELECT workflow_slug, run_id FROM runs INDEXED BY runs_deadline
        WHERE status = 'running' AND json_extract(state, '$.timeoutUs') IS NOT NULL
          AND json_extract(state, '$.startedAtUs') + json_extract(state, '$.timeoutUs') < ?
        ORDER BY json_extract(state, '$.startedAtUs') + json_extract(state, '$.timeoutUs') LIMIT ?`),
      steps: p(
        "SELECT run_id, step_id, workflow_slug, first_seq, state FROM steps WHERE run_id = ? AND workflow_slug = ? ORDER BY first_seq",
      ),
      step: p("SELECT run_id, step_id, workflow_slug, first_seq, state FROM steps WHERE run_id = ? AND step_id = ?"),
      readyOfWorkflow: p(READY_OF_WORKFLOW_SQL),
      readyWorkflows: p(READY_WORKFLOWS_SQL).pluck(),
      stale: p(`SELECT run_id, step_id, workflow_slug, first_seq, state FROM steps INDEXED BY steps_running
                WHERE status = 'running' AND run_live = 1 AND last_seen_us < ? ORDER BY last_seen_us, run_id, step_id`),
      waiting: p(`SELECT run_id, step_id, workflow_slug, first_seq, state FROM steps INDEXED BY steps_waiting
                WHERE (CASE WHEN json_valid(state) THEN json_extract(state, '$.waiting.name') END) = ? AND status = 'scheduled' AND run_live = 1
                  AND (CASE WHEN json_valid(state) THEN json_extract(state, '$.waiting.kind') = 'event' ELSE 0 END)`),
      activeWorkflows: p(
        "SELECT DISTINCT workflow_slug AS slug FROM runs INDEXED BY runs_live WHERE live = 1 ORDER BY workflow_slug",
      ),
      runIds: p(
        "SELECT run_id AS runId FROM runs INDEXED BY runs_by_workflow WHERE workflow_slug = ? ORDER BY created_at_us, run_id",
      ),
      tenantRunIds: p(
        "SELECT run_id FROM runs INDEXED BY runs_by_tenant WHERE tenant_id = ? AND created_at_us <= ?",
      ).pluck(),
    };
  }

  /** Events of every run after `seq`, in seq order (of `types` when given), at most `limit`; damaged rows are reported and skipped. */
  feed(after: number, types: readonly string[] | undefined, limit: number): Array<{ seq: number; event: Event }> {
    const sql = types
      ? `SELECT ${EVENT_COLUMNS} FROM events WHERE seq > ? AND type IN (${types.map(() => "?").join(", ")}) ORDER BY seq LIMIT ?`
      : `SELECT ${EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?`;
    let stmt = this.dynamic.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.dynamic.set(sql, stmt);
    }
    const rows = stmt.all(after, ...(types ?? []), limit) as EventRow[];
    const out: Array<{ seq: number; event: Event }> = [];
    for (const row of rows) {
      const event = decodeEventRow(row, this.filename, this.report);
      if (event) out.push({ seq: row.seq, event });
    }
    return out;
  }

  /** A run's events in append order, filtered; damaged rows are reported and skipped. */
  events(workflowSlug: string, runId: string, filter: EventFilter = {}): Event[] {
    let rows: EventRow[];
    if (filter.stepId !== undefined) {
      if (filter.category === "workflow") return [];
      rows = this.s.eventsByStep.all(runId, filter.stepId, workflowSlug) as EventRow[];
    } else if (filter.category !== undefined) {
      rows = this.s.eventsByCategory.all(runId, workflowSlug, filter.category) as EventRow[];
    } else {
      rows = this.s.events.all(runId, workflowSlug) as EventRow[];
    }
    const out: Event[] = [];
    for (const row of rows) {
      const ev = decodeEventRow(row, this.filename, this.report);
      if (ev) out.push(ev);
    }
    return out;
  }

  /** Decodes a runs row, rebuilding it from the events if it is damaged. */
  decodeRun(row: RunRow): RunState | null {
    return decodeState<RunState>(
      row.state,
      `${this.filename} (table runs, run_id ${row.run_id})`,
      { runId: row.run_id },
      this.report,
      () => projectRunState(this.events(row.workflow_slug, row.run_id, { category: "workflow" }) as WorkflowEvent[]),
    );
  }

  /** Decodes a steps row, rebuilding it from the events if it is damaged. */
  decodeStep(row: StepRow): StepState | null {
    return decodeState<StepState>(
      row.state,
      `${this.filename} (table steps, run_id ${row.run_id}, step_id ${row.step_id})`,
      { runId: row.run_id, stepId: row.step_id },
      this.report,
      () =>
        projectStepState(
          this.events(row.workflow_slug, row.run_id, { category: "step", stepId: row.step_id }) as StepEvent[],
        ),
    );
  }

  /** A run by id alone: one primary-key lookup. */
  run(runId: string): RunState | null {
    const row = this.s.run.get(runId) as RunRow | undefined;
    return row ? this.decodeRun(row) : null;
  }

  /** Every step of a run, in the order their first events were appended (as projecting the events yields them). */
  steps(workflowSlug: string, runId: string): StepState[] {
    return this.decodeSteps(this.stepRows(workflowSlug, runId));
  }

  /** Pending runs of registered versions due by `nowUs`, longest due first. */
  dueRuns(nowUs: number, limit: number): Array<{ workflowSlug: string; runId: string }> {
    return (this.s.dueRuns.all(nowUs, limit) as Array<{ workflow_slug: string; run_id: string }>).map((r) => ({
      workflowSlug: r.workflow_slug,
      runId: r.run_id,
    }));
  }

  /** Running runs past their timeout at `nowUs`, longest overdue first. */
  overdueRuns(nowUs: number, limit: number): Array<{ workflowSlug: string; runId: string }> {
    return (this.s.overdueRuns.all(nowUs, limit) as Array<{ workflow_slug: string; run_id: string }>).map((r) => ({
      workflowSlug: r.workflow_slug,
      runId: r.run_id,
    }));
  }

  /** Every step row of a run, undecoded. */
  stepRows(workflowSlug: string, runId: string): StepRow[] {
    return this.s.steps.all(runId, workflowSlug) as StepRow[];
  }

  /** One step's row, or undefined. */
  stepRow(runId: string, stepId: string): StepRow | undefined {
    return this.s.step.get(runId, stepId) as StepRow | undefined;
  }

  /**
   * Runs newest first (created_at_us DESC, run_id DESC), filtered, reading about as many rows as the page needs:
   * each status is one index range already in page order — runs_by_workflow_status (slug, status, …) or
   * runs_by_status (status, …) — and several statuses are one arm each of a UNION ALL that SQLite merges in order
   * (an IN over the index would come out ordered by status, then be sorted whole). Without a status the walk is
   * runs_by_workflow or runs_newest. Tags are checked per row on that ordered walk (run_tags primary key).
   */
  runs(options: ListRunsOptions): RunState[] {
    const rows = this.statement(runsSql(options)).all(...runsParams(options)) as RunRow[];
    return rows.map((r) => this.decodeRun(r)).filter((r): r is RunState => r !== null);
  }

  /**
   * Ready steps of live runs (of the given workflows, else of every workflow with ready steps), in claim order: priority
   * desc, then availableAt, run id and step id. Each workflow's first `limit` come from its own walk of the ready index
   * (steps_ready_by_workflow), then the walks are merged: the cost is that of those workflows' first rows, however
   * many ready steps other workflows have.
   */
  ready(
    options: ListScheduledOptions & { availableBefore: number; workflowSlugs?: readonly string[] | undefined },
  ): StepRef[] {
    const limit = options.limit ?? -1;
    const given = options.workflowSlugs ?? (options.workflowSlug === undefined ? undefined : [options.workflowSlug]);
    const slugs = given === undefined ? (this.s.readyWorkflows.all() as string[]) : [...new Set(given)];
    const walks = slugs.map((slug) => this.s.readyOfWorkflow.all(slug, options.availableBefore, limit) as ReadyRow[]);
    const rows = walks.length === 1 ? walks[0]! : walks.flat().sort(claimOrder);
    return (limit >= 0 ? rows.slice(0, limit) : rows).map((r) => ({
      workflowSlug: r.workflowSlug,
      runId: r.runId,
      stepId: r.stepId,
    }));
  }

  /** Running steps of live runs last seen before `beforeUs`, from the partial index of running steps. */
  stale(beforeUs: number): StepState[] {
    return this.decodeSteps(this.s.stale.all(beforeUs) as StepRow[]);
  }

  /** Steps of live runs waiting for the signal `name`, from the partial index of waiting steps. */
  waiting(name: string): StepState[] {
    return this.decodeSteps(this.s.waiting.all(name) as StepRow[]);
  }

  /** Slugs with at least one live run, from the partial index of live runs. */
  activeWorkflows(): string[] {
    return (this.s.activeWorkflows.all() as Array<{ slug: string }>).map((r) => r.slug);
  }

  /** Every run id of a workflow, oldest first. */
  /** A tenant's run ids created at or before `createdUpToUs`, from the runs_by_tenant index alone. */
  tenantRunIds(tenantId: string, createdUpToUs: number): string[] {
    return this.s.tenantRunIds.all(tenantId, createdUpToUs) as string[];
  }

  runIds(workflowSlug: string): string[] {
    return (this.s.runIds.all(workflowSlug) as Array<{ runId: string }>).map((r) => r.runId);
  }

  /** Decodes step rows, dropping none: a damaged row is rebuilt from its events. */
  decodeSteps(rows: StepRow[]): StepState[] {
    return rows.map((r) => this.decodeStep(r)).filter((s): s is StepState => s !== null);
  }

  /** A prepared statement for generated SQL, prepared once per distinct text. */
  statement(sql: string): Statement {
    let st = this.dynamic.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.dynamic.set(sql, st);
    }
    return st;
  }
}

const RUN_COLUMNS = "r.run_id, r.workflow_slug, r.state, r.created_at_us";
const TAGS_FILTER =
  "NOT EXISTS (SELECT 1 FROM json_each(?) j WHERE NOT EXISTS (SELECT 1 FROM run_tags t WHERE t.tag = j.value AND t.run_id = r.run_id))";

function distinctStatuses(options: ListRunsOptions): string[] {
  return [...new Set(options.status ?? [])];
}

/**
 * The statement for listRuns: its text depends only on which filters are set and how many statuses (so the
 * prepared statements stay few); {@link runsParams} gives the values in the same order. Indexes are named
 * (INDEXED BY) so a page never degrades to a scan and sort of the table: preparing fails instead.
 */
export function runsSql(options: ListRunsOptions): string {
  const slug = options.workflowSlug !== undefined;
  const tags = options.tags !== undefined && options.tags.length > 0;
  const statuses = distinctStatuses(options);
  const tenant = options.tenantId !== undefined;
  const arm = (status: boolean): string => {
    // One tenant's runs are walked on runs_by_tenant (already newest first); the other filters apply to that range.
    const index = tenant
      ? "runs_by_tenant"
      : slug
        ? status
          ? "runs_by_workflow_status"
          : "runs_by_workflow"
        : status
          ? "runs_by_status"
          : "runs_newest";
    const where = [
      ...(tenant ? ["r.tenant_id = ?"] : []),
      ...(slug ? ["r.workflow_slug = ?"] : []),
      ...(status ? ["r.status = ?"] : []),
      ...(tags ? [TAGS_FILTER] : []),
      // Both are ranges of the index's (created_at_us DESC, run_id DESC) order: the walk starts at the cursor.
      ...(options.before ? ["(r.created_at_us < ? OR (r.created_at_us = ? AND r.run_id < ?))"] : []),
      ...(options.createdAfterUs !== undefined ? ["r.created_at_us >= ?"] : []),
    ];
    return `SELECT ${RUN_COLUMNS} FROM runs r INDEXED BY ${index}${where.length ? ` WHERE ${where.join(" AND ")}` : ""}`;
  };
  const body = statuses.length === 0 ? arm(false) : statuses.map(() => arm(true)).join(" UNION ALL ");
  return `${body} ORDER BY created_at_us DESC, run_id DESC LIMIT ?`;
}

/** The values of {@link runsSql}'s statement, in order. */
export function runsParams(options: ListRunsOptions): unknown[] {
  const tags = options.tags !== undefined && options.tags.length > 0 ? [JSON.stringify(options.tags)] : [];
  const slug = [
    ...(options.tenantId !== undefined ? [options.tenantId] : []),
    ...(options.workflowSlug !== undefined ? [options.workflowSlug] : []),
  ];
  const statuses = distinctStatuses(options);
  const b = options.before;
  const range = [
    ...(b ? [b.createdAtUs, b.createdAtUs, b.runId] : []),
    ...(options.createdAfterUs !== undefined ? [options.createdAfterUs] : []),
  ];
  const params: unknown[] =
    statuses.length === 0 ? [...slug, ...tags, ...range] : statuses.flatMap((s) => [...slug, s, ...tags, ...range]);
  params.push(options.limit ?? -1);
  return params;
}
