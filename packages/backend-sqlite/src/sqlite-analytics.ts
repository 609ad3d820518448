import type { Database, Statement } from "better-sqlite3";
import type {
  AnalyticsWindow,
  Event,
  LiveState,
  QueueDepth,
  QueueDepthByWorkflow,
  RunState,
} from "@cairn/backend-interface";
import { decodeEventRow, type CorruptionReporter, type EventRow } from "./sqlite-codec.js";
import type { RunRow, SqliteQueries, StepRow } from "./sqlite-queries.js";
import { windowConditions } from "./sqlite-window-sql.js";

// Parameters: nowUs. Live runs are pending or running by construction (live = 1 only for non-terminal runs).
const RUN_COUNTS = `coalesce(sum(status = 'pending'), 0) AS pending, coalesce(sum(status = 'pending' AND available_at_us <= ?), 0) AS readyRuns,
  coalesce(sum(status = 'running'), 0) AS running, min(CASE WHEN status = 'pending' THEN created_at_us END) AS oldestPending`;
// Parameters: nowUs, nowUs.
const STEP_COUNTS = `coalesce(sum(status = 'scheduled'), 0) AS scheduled, coalesce(sum(status = 'scheduled' AND available_at_us <= ?), 0) AS readySteps,
  coalesce(sum(status = 'running'), 0) AS running, min(CASE WHEN status = 'scheduled' AND available_at_us <= ? THEN available_at_us END) AS oldestReady,
  coalesce(sum(status = 'scheduled' AND available_at_us > ? AND (CASE WHEN json_valid(state) THEN json_extract(state, '$.waiting') END) IS NOT NULL), 0) AS waiting`;

interface RunCounts {
  slug: string;
  pending: number;
  readyRuns: number;
  running: number;
  oldestPending: number | null;
}
interface StepCounts {
  slug: string;
  scheduled: number;
  readySteps: number;
  running: number;
  oldestReady: number | null;
  waiting: number;
}

function snapshot(r: RunCounts | undefined, s: StepCounts | undefined, nowUs: number): QueueDepth {
  const pending = r?.pending ?? 0;
  const scheduled = s?.scheduled ?? 0;
  const oldestStep = s?.oldestReady ?? null;
  const oldestRun = r?.oldestPending ?? null;
  return {
    pendingRuns: pending,
    readyRuns: r?.readyRuns ?? 0,
    delayedRuns: pending - (r?.readyRuns ?? 0),
    runningRuns: r?.running ?? 0,
    scheduledSteps: scheduled,
    readySteps: s?.readySteps ?? 0,
    delayedSteps: scheduled - (s?.readySteps ?? 0),
    waitingSteps: s?.waiting ?? 0,
    runningSteps: s?.running ?? 0,
    oldestReadyStepAvailableAtUs: oldestStep,
    oldestReadyStepAgeUs: oldestStep === null ? 0 : Math.max(0, nowUs - oldestStep),
    oldestPendingRunCreatedAtUs: oldestRun,
    oldestPendingRunAgeUs: oldestRun === null ? 0 : Math.max(0, nowUs - oldestRun),
  };
}

/**
 * The analytics inputs of the SQLite driver, each read from an index: the window's events (by timestamp, so
 * memory grows with the window, never with history) and the live state (partial indexes on live runs and
 * their steps, so cost follows live work).
 */
export class SqliteAnalytics {
  private readonly s: Record<
    | "liveRuns"
    | "liveRunsOf"
    | "liveSteps"
    | "liveStepsOf"
    | "runCounts"
    | "runCountsOf"
    | "runCountsBySlug"
    | "stepCounts"
    | "stepCountsOf"
    | "stepCountsBySlug",
    Statement
  >;

  constructor(
    private readonly db: Database,
    private readonly filename: string,
    private readonly report: CorruptionReporter,
    private readonly reader: SqliteQueries,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      liveRuns: p(
        "SELECT run_id, workflow_slug, state FROM runs INDEXED BY runs_live WHERE live = 1 ORDER BY workflow_slug, run_id",
      ),
      liveRunsOf: p(
        "SELECT run_id, workflow_slug, state FROM runs INDEXED BY runs_live WHERE live = 1 AND workflow_slug = ? ORDER BY run_id",
      ),
      liveSteps: p(
        "SELECT run_id, step_id, workflow_slug, first_seq, state FROM steps INDEXED BY steps_live WHERE run_live = 1 ORDER BY workflow_slug, run_id, first_seq",
      ),
      liveStepsOf: p(
        "SELECT run_id, step_id, workflow_slug, first_seq, state FROM steps INDEXED BY steps_live WHERE run_live = 1 AND workflow_slug = ? ORDER BY run_id, first_seq",
      ),
      runCounts: p(`SELECT ${RUN_COUNTS} FROM runs INDEXED BY runs_live WHERE live = 1`),
      runCountsOf: p(`SELECT ${RUN_COUNTS} FROM runs INDEXED BY runs_live WHERE live = 1 AND workflow_slug = ?`),
      runCountsBySlug: p(
        `SELECT workflow_slug AS slug, ${RUN_COUNTS} FROM runs INDEXED BY runs_live WHERE live = 1 GROUP BY workflow_slug ORDER BY workflow_slug`,
      ),
      stepCounts: p(`SELECT ${STEP_COUNTS} FROM steps INDEXED BY steps_live WHERE run_live = 1`),
      stepCountsOf: p(
        `SELECT ${STEP_COUNTS} FROM steps INDEXED BY steps_live WHERE run_live = 1 AND workflow_slug = ?`,
      ),
      stepCountsBySlug: p(
        `SELECT workflow_slug AS slug, ${STEP_COUNTS} FROM steps INDEXED BY steps_live WHERE run_live = 1 GROUP BY workflow_slug`,
      ),
    };
  }

  /**
   * Events with timestamps in [startUs, endUs] (optionally of one workflow and some runs). Without `types`: every
   * event, in append order. With `types` (a reference analytics query saying what it reads): only those types, in
   * timestamp order straight from the index (the reference does not depend on order), and StepCompleted without its
   * `output`, which no analytics query reads.
   */
  windowEvents(window: AnalyticsWindow, types?: readonly string[]): Event[] {
    const { where, params } = windowConditions(window, "timestamp_us");
    if (types !== undefined) {
      where.push("type IN (SELECT value FROM json_each(?))");
      params.push(JSON.stringify(types));
    }
    const body =
      types === undefined
        ? "body"
        : "CASE WHEN type = 'StepCompleted' AND json_valid(body) THEN json_remove(body, '$.output') ELSE body END AS body";
    const sql = `SELECT seq, run_id, workflow_slug, type, ${body} FROM events WHERE ${where.join(" AND ")} ORDER BY ${types === undefined ? "seq" : "timestamp_us, seq"}`;
    const out: Event[] = [];
    for (const row of this.reader.statement(sql).iterate(...params) as IterableIterator<EventRow>) {
      const ev = decodeEventRow(row, this.filename, this.report);
      if (ev) out.push(ev);
    }
    return out;
  }

  /** The queue snapshot of live runs (of one workflow) at `nowUs`, counted in SQL; equals computeQueueDepth over liveState. */
  queueDepth(workflowSlug: string | undefined, nowUs: number): QueueDepth {
    const runs = (
      workflowSlug === undefined ? this.s.runCounts.all(nowUs) : this.s.runCountsOf.all(nowUs, workflowSlug)
    ) as RunCounts[];
    const steps = (
      workflowSlug === undefined
        ? this.s.stepCounts.all(nowUs, nowUs, nowUs)
        : this.s.stepCountsOf.all(nowUs, nowUs, nowUs, workflowSlug)
    ) as StepCounts[];
    return snapshot(runs[0], steps[0], nowUs);
  }

  /** The queue snapshot per workflow with a live run, workflowSlug ascending. */
  queueDepthByWorkflow(nowUs: number): QueueDepthByWorkflow {
    const steps = new Map((this.s.stepCountsBySlug.all(nowUs, nowUs, nowUs) as StepCounts[]).map((r) => [r.slug, r]));
    return (this.s.runCountsBySlug.all(nowUs) as RunCounts[]).map((r) => ({
      workflowSlug: r.slug,
      ...snapshot(r, steps.get(r.slug), nowUs),
    }));
  }

  /** Non-terminal runs (of one workflow, if given) and all their steps. */
  liveState(filter: { workflowSlug?: string }): LiveState {
    const slug = filter.workflowSlug;
    const runRows = (slug === undefined ? this.s.liveRuns.all() : this.s.liveRunsOf.all(slug)) as RunRow[];
    const stepRows = (slug === undefined ? this.s.liveSteps.all() : this.s.liveStepsOf.all(slug)) as StepRow[];
    const runs = runRows.map((r) => this.reader.decodeRun(r)).filter((r): r is RunState => r !== null);
    return { runs, steps: this.reader.decodeSteps(stepRows) };
  }
}
