import type { Database, Statement } from "better-sqlite3";
import type { Event } from "@cairn/backend-interface";
import { decodeEventRow, type CorruptionReporter, type EventRow } from "./sqlite-codec.js";
import type { SqliteQueries } from "./sqlite-queries.js";
import { windowConditions } from "./sqlite-window-sql.js";

/** The event types event_facts keeps: every type a windowed analytics query counts. */
export const FACT_TYPES: ReadonlySet<string> = new Set([
  "StepScheduled",
  "StepStarted",
  "StepHeartbeat",
  "StepCompleted",
  "StepFailed",
  "StepSkipped",
  "StepReclaimed",
  "WorkflowCompleted",
  "WorkflowFailed",
  "WorkflowCancelled",
]);

/** What a windowed analytics query selects (the reference's `selectEvents`, minus copies, which facts never hold). */
export interface FactSelection {
  startUs: number;
  endUs: number;
  workflowSlug?: string;
  runIds?: string[];
  /** Only step facts of this step; workflow facts pass. */
  stepId?: string;
}

/** One fact as read back: `[type, workflowSlug, runId, stepId, attemptNumber, timestampUs, durationUs, availableAtUs, workerId, flag, failureReason, eventId, seq]`. */
export type FactRow = [
  string,
  string,
  string,
  string | null,
  number | null,
  number,
  number | null,
  number | null,
  string | null,
  number,
  string | null,
  string,
  number,
];

/** Column positions of FactRow. */
export const F = {
  type: 0,
  slug: 1,
  run: 2,
  step: 3,
  attempt: 4,
  ts: 5,
  duration: 6,
  available: 7,
  worker: 8,
  flag: 9,
  reason: 10,
  eventId: 11,
  seq: 12,
} as const;

/** The facts row of an event, or null when no analytics query counts it (other types, results copied by rerunFrom). */
export function factOf(ev: Event, seq: number): unknown[] | null {
  if (!FACT_TYPES.has(ev.type)) return null;
  if ((ev.type === "StepCompleted" || ev.type === "StepSkipped") && ev.copiedFromRunId !== undefined) return null;
  const e = ev as Partial<Record<string, unknown>>;
  const flag =
    ev.type === "StepFailed"
      ? ev.terminal
        ? 1
        : 0
      : ev.type === "StepScheduled"
        ? ev.reason === "retry"
          ? 1
          : 0
        : 0;
  const worker =
    ev.type === "StepReclaimed"
      ? ev.originalWorkerId
      : ev.type === "StepStarted" || ev.type === "StepHeartbeat"
        ? ev.workerId
        : null;
  return [
    ev.timestampUs,
    seq,
    ev.type,
    ev.workflowSlug,
    ev.runId,
    ev.category === "step" ? ev.stepId : null,
    e.attemptNumber ?? null,
    e.durationUs ?? null,
    ev.type === "StepScheduled" ? ev.availableAtUs : null,
    worker,
    flag,
    e.failureReason ?? null,
    ev.eventId,
  ];
}

/** SQL to insert one facts row (parameters in factOf's order). */
export const INSERT_FACT = `INSERT OR IGNORE INTO event_facts (timestamp_us, seq, type, workflow_slug, run_id, step_id, attempt_number, duration_us,
  available_at_us, worker_id, flag, failure_reason, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

const COLUMNS =
  "type, workflow_slug, run_id, step_id, attempt_number, timestamp_us, duration_us, available_at_us, worker_id, flag, failure_reason, event_id, seq";

/**
 * Reads event_facts for a selection: one range scan of its time-clustered primary key, filtered by workflow, runs,
 * step and type. Statements are generated per filter shape and prepared once.
 */
export class SqliteFacts {
  private readonly failedEvents: Statement;

  constructor(
    db: Database,
    private readonly queries: SqliteQueries,
    private readonly filename: string,
    private readonly report: CorruptionReporter,
  ) {
    this.failedEvents = db.prepare(
      "SELECT seq, run_id, workflow_slug, type, body FROM events WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq",
    );
  }

  /** Facts of the given types in the selection (and matching `extra`, an SQL condition with `extraParams`), as raw rows. */
  rows(sel: FactSelection, types: readonly string[], extra?: string, extraParams: unknown[] = []): FactRow[] {
    const { where, params } = this.where(sel, types);
    return this.queries
      .statement(`SELECT ${COLUMNS} FROM event_facts WHERE ${where}${extra ? ` AND ${extra}` : ""}`)
      .raw(true)
      .all(...params, ...extraParams) as FactRow[];
  }

  /** Counts per (workflowSlug, type, flag) of the given types in the selection. */
  counts(sel: FactSelection, types: readonly string[]): Array<{ slug: string; type: string; flag: number; n: number }> {
    const { where, params } = this.where(sel, types);
    return this.queries
      .statement(
        `SELECT workflow_slug AS slug, type, flag, count(*) AS n FROM event_facts WHERE ${where} GROUP BY workflow_slug, type, flag`,
      )
      .raw(false)
      .all(...params) as Array<{ slug: string; type: string; flag: number; n: number }>;
  }

  /** The full events behind some facts (for queries that need fields facts do not keep, e.g. error messages); damaged rows are reported and skipped. */
  eventsOf(rows: readonly FactRow[]): Event[] {
    if (rows.length === 0) return [];
    const out: Event[] = [];
    for (const row of this.failedEvents.all(JSON.stringify(rows.map((r) => r[F.seq]))) as EventRow[]) {
      const ev = decodeEventRow(row, this.filename, this.report);
      if (ev) out.push(ev);
    }
    return out;
  }

  /** Runs generated SQL whose CTEs each select some columns of some types of the selection; `ctes` lists [name, types, columns]; names starting `m_` are materialized. */
  aggregate<T>(
    ctes: Array<[string, readonly string[], string]>,
    body: string,
    sel: FactSelection,
    extraParams: unknown[] = [],
  ): T[] {
    const params: unknown[] = [];
    const parts = ctes.map(([name, types, columns]) => {
      const w = this.where(sel, types);
      params.push(...w.params);
      return `${name} AS ${name.startsWith("m_") ? "MATERIALIZED " : ""}(SELECT ${columns} FROM event_facts WHERE ${w.where})`;
    });
    return this.queries
      .statement(`WITH ${parts.join(", ")} ${body}`)
      .raw(false)
      .all(...params, ...extraParams) as T[];
  }

  private where(sel: FactSelection, types: readonly string[]): { where: string; params: unknown[] } {
    // Types come from this driver's own constant lists (checked against FACT_TYPES), so they are inlined as literals:
    // a literal IN list is cheaper per row than a json_each subquery.
    for (const t of types) if (!FACT_TYPES.has(t)) throw new Error(`not a fact type: ${t}`);
    const { where, params } = windowConditions(sel, "timestamp_us");
    where.splice(1, 0, `type IN (${types.map((t) => `'${t}'`).join(", ")})`);
    if (sel.stepId !== undefined) {
      where.push("(step_id IS NULL OR step_id = ?)");
      params.push(sel.stepId);
    }
    return { where: where.join(" AND "), params };
  }
}
