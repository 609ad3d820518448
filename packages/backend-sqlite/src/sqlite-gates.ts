import type { Database, Statement } from "better-sqlite3";
import type { Gate, GateQuery, GateRunsQuery, GateView } from "@cairn/backend-interface";

type RunRef = { workflowSlug: string; runId: string };

/**
 * Flow-control gates in SQL: the count a write takes before it starts a run (inside its transaction: SQLite has one
 * writer at a time, so the count cannot change before the write commits), and the gate queries of the maintenance
 * sweep. Served by the runs_by_gate, runs_gate_starts and runs_waiting_gates indexes (migration 0009).
 */
export class SqliteGates {
  private readonly s: Record<
    "running" | "counts" | "starts" | "pending" | "pendingAvailable" | "runningRuns" | "waitingGates" | "waitingAmong",
    Statement
  >;

  constructor(db: Database) {
    const p = (sql: string) => db.prepare(sql);
    const gate = "workflow_slug = @slug AND flow_key = @key AND run_id <> @runId";
    this.s = {
      running: p(
        `SELECT run_id FROM runs INDEXED BY runs_by_gate WHERE ${gate} AND status = 'running' ORDER BY run_id LIMIT @cap`,
      ),
      counts: p(`SELECT
          (SELECT count(*) FROM (SELECT 1 FROM runs INDEXED BY runs_by_gate WHERE ${gate} AND status = 'pending' AND available_at_us <= @now
            AND (priority > @priority OR (priority = @priority AND (created_at_us < @created OR (created_at_us = @created AND run_id < @runId)))) LIMIT @cap)) AS ahead,
          (SELECT count(*) FROM (SELECT 1 FROM runs INDEXED BY runs_by_gate WHERE ${gate} AND status = 'pending' LIMIT @cap)) AS waiting,
          EXISTS (SELECT 1 FROM runs INDEXED BY runs_by_gate WHERE ${gate} AND status = 'pending'
            AND (created_at_us > @created OR (created_at_us = @created AND run_id > @runId))) AS newer`),
      starts:
        p(`SELECT count(*) AS n, min(s) AS earliest FROM (SELECT started_at_us AS s FROM runs INDEXED BY runs_gate_starts
          WHERE ${gate} AND started_at_us >= @since ORDER BY started_at_us LIMIT @cap)`),
      pending:
        p(`SELECT workflow_slug, run_id FROM runs INDEXED BY runs_by_gate WHERE workflow_slug = ? AND flow_key = ? AND status = 'pending'
          ORDER BY priority DESC, created_at_us, run_id LIMIT ?`),
      pendingAvailable:
        p(`SELECT workflow_slug, run_id FROM runs INDEXED BY runs_by_gate WHERE workflow_slug = ? AND flow_key = ? AND status = 'pending'
          AND available_at_us <= ? ORDER BY priority DESC, created_at_us, run_id LIMIT ?`),
      runningRuns: p(
        `SELECT workflow_slug, run_id FROM runs INDEXED BY runs_by_gate WHERE workflow_slug = ? AND flow_key = ? AND status = 'running' ORDER BY run_id LIMIT ?`,
      ),
      waitingGates: p(`SELECT DISTINCT workflow_slug, flow_key FROM runs INDEXED BY runs_waiting_gates
          WHERE flow_key IS NOT NULL AND status = 'pending' AND available_at_us <= ? LIMIT ?`),
      waitingAmong:
        p(`SELECT g.value ->> '$[0]' AS workflow_slug, g.value ->> '$[1]' AS flow_key FROM json_each(@gates) g
          WHERE EXISTS (SELECT 1 FROM runs INDEXED BY runs_by_gate WHERE workflow_slug = g.value ->> '$[0]' AND flow_key = g.value ->> '$[1]'
            AND status = 'pending' AND available_at_us <= @now) LIMIT @limit`),
    };
  }

  /** The gate's count as countGate defines it (call inside the write transaction). */
  count(q: GateQuery): GateView {
    const params = {
      slug: q.workflowSlug,
      key: q.flowKey,
      runId: q.runId,
      cap: q.cap,
      now: q.nowUs,
      priority: q.priority,
      created: q.createdAtUs,
    };
    const running = (this.s.running.all(params) as Array<{ run_id: string }>).map((r) => r.run_id);
    const c = this.s.counts.get(params) as { ahead: number; waiting: number; newer: number };
    const view: GateView = { running, ahead: c.ahead, waiting: c.waiting, newer: c.newer === 1, startedSince: 0 };
    if (q.startedSinceUs !== undefined) {
      const st = this.s.starts.get({
        slug: q.workflowSlug,
        key: q.flowKey,
        runId: q.runId,
        cap: q.cap,
        since: q.startedSinceUs,
      }) as { n: number; earliest: number | null };
      view.startedSince = st.n;
      if (st.earliest !== null) view.earliestStartUs = st.earliest;
    }
    return view;
  }

  /** Runs of one gate in a status (pending ones in start order). */
  runs(q: GateRunsQuery): RunRef[] {
    const rows = (
      q.status === "running"
        ? this.s.runningRuns.all(q.workflowSlug, q.flowKey, q.limit)
        : q.availableByUs === undefined
          ? this.s.pending.all(q.workflowSlug, q.flowKey, q.limit)
          : this.s.pendingAvailable.all(q.workflowSlug, q.flowKey, q.availableByUs, q.limit)
    ) as Array<{ workflow_slug: string; run_id: string }>;
    return rows.map((r) => ({ workflowSlug: r.workflow_slug, runId: r.run_id }));
  }

  /** Gates with a pending run available by `nowUs`. */
  waitingGates(nowUs: number, limit: number, among?: readonly Gate[]): Gate[] {
    const rows = among
      ? this.s.waitingAmong.all({
          gates: JSON.stringify(among.map((g) => [g.workflowSlug, g.flowKey])),
          now: nowUs,
          limit,
        })
      : this.s.waitingGates.all(nowUs, limit);
    return (rows as Array<{ workflow_slug: string; flow_key: string }>).map((r) => ({
      workflowSlug: r.workflow_slug,
      flowKey: r.flow_key,
    }));
  }
}
