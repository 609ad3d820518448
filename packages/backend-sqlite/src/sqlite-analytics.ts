import type { Database, Statement } from "better-sqlite3";
import type { AnalyticsWindow, Event, LiveState, RunState } from "@cairn/backend-interface";
import { decodeEventRow, type CorruptionReporter, type EventRow } from "./sqlite-codec.js";
import type { RunRow, SqliteQueries, StepRow } from "./sqlite-queries.js";

/**
 * The analytics inputs of the SQLite driver, each read from an index: the window's events (by timestamp, so
 * memory grows with the window, never with history) and the live state (partial indexes on live runs and
 * their steps, so cost follows live work).
 */
export class SqliteAnalytics {
  private readonly s: Record<"liveRuns" | "liveRunsOf" | "liveSteps" | "liveStepsOf", Statement>;

  constructor(private readonly db: Database, private readonly filename: string, private readonly report: CorruptionReporter, private readonly reader: SqliteQueries) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      liveRuns: p("SELECT run_id, workflow_slug, state FROM runs INDEXED BY runs_live WHERE live = 1 ORDER BY workflow_slug, run_id"),
      liveRunsOf: p("SELECT run_id, workflow_slug, state FROM runs INDEXED BY runs_live WHERE live = 1 AND workflow_slug = ? ORDER BY run_id"),
      liveSteps: p("SELECT run_id, step_id, workflow_slug, first_seq, state FROM steps INDEXED BY steps_live WHERE run_live = 1 ORDER BY workflow_slug, run_id, first_seq"),
      liveStepsOf: p("SELECT run_id, step_id, workflow_slug, first_seq, state FROM steps INDEXED BY steps_live WHERE run_live = 1 AND workflow_slug = ? ORDER BY run_id, first_seq"),
    };
  }

  /** Events with timestamps in [startUs, endUs] (optionally of one workflow and some runs), in append order. */
  windowEvents(window: AnalyticsWindow): Event[] {
    const where = ["timestamp_us BETWEEN ? AND ?"];
    const params: unknown[] = [window.startUs, window.endUs];
    if (window.workflowSlug !== undefined) {
      where.push("workflow_slug = ?");
      params.push(window.workflowSlug);
    }
    if (window.runIds !== undefined) {
      where.push("run_id IN (SELECT value FROM json_each(?))");
      params.push(JSON.stringify(window.runIds));
    }
    const sql = `SELECT seq, run_id, workflow_slug, type, body FROM events WHERE ${where.join(" AND ")} ORDER BY seq`;
    const out: Event[] = [];
    for (const row of this.reader.statement(sql).iterate(...params) as IterableIterator<EventRow>) {
      const ev = decodeEventRow(row, this.filename, this.report);
      if (ev) out.push(ev);
    }
    return out;
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
