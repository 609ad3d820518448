import {
  DEFAULT_WORKER_STALE_THRESHOLD_US,
  InvalidArgumentError,
  compareStrings,
  rateOf,
} from "@cairn/backend-interface";
import type {
  ActiveWorkersOptions,
  AnalyticsOptions,
  Event,
  SchedulingLatency,
  StepPercentiles,
  WorkerInfo,
  WorkerStability,
  WorkerStep,
} from "@cairn/backend-interface";
import type { EventRow } from "./postgres-analytics.js";
import type { PostgresAnalyticsSql } from "./postgres-analytics-sql.js";
import type { PostgresConnection } from "./postgres-connection.js";

type Window = { startUs: number; endUs: number };

/**
 * The analytics that follow an attempt through several events, in SQL over the figure columns (migration 0004),
 * with the reference's definitions: scheduling latency (StepStarted against the StepScheduled of the same attempt at
 * or before it), worker stability (attempt owner = earliest StepStarted by timestamp then event id; zombie heartbeat
 * = after the attempt's first reclaim), and the retried steps' events for the retry analysis.
 */
export class PostgresAttemptAnalytics {
  constructor(
    private readonly conn: PostgresConnection,
    private readonly s: string,
    private readonly agg: PostgresAnalyticsSql,
  ) {}

  /** Scheduling latency percentiles, overall and per step. */
  async schedulingLatency(w: Window, o: AnalyticsOptions): Promise<SchedulingLatency> {
    const values = this.agg.selectionValues(w, o);
    // Per attempt, a running max over its StepScheduled rows in time order; the RANGE frame includes rows of equal
    // timestamp, so each StepStarted sees exactly the StepScheduled at or before it.
    const samples = `WITH x AS (
        SELECT type, workflow_slug, step_id, timestamp_us,
          max(CASE WHEN type = 'StepScheduled' THEN greatest(available_at_us, timestamp_us) END)
            OVER (PARTITION BY run_id COLLATE "C", step_id COLLATE "C", attempt_number ORDER BY timestamp_us) AS ready
        FROM ${this.s}.events WHERE type IN ('StepScheduled', 'StepStarted') AND ${this.agg.selection(1)}),
      lat AS (SELECT workflow_slug, step_id, greatest(0, timestamp_us - ready) AS v FROM x WHERE type = 'StepStarted' AND ready IS NOT NULL)
      SELECT 'all'::text AS k, ''::text AS g1, ''::text AS g2, v FROM lat UNION ALL SELECT 'step', workflow_slug, step_id, v FROM lat`;
    const d = await this.agg.percentilesOf(samples, values);
    const overall = d.get("all")?.[0];
    const byStep: StepPercentiles[] = (d.get("step") ?? [])
      .map(({ g1, g2, ...p }) => ({ workflowSlug: g1, stepId: g2, ...p }))
      .sort((a, b) => compareStrings(a.workflowSlug, b.workflowSlug) || compareStrings(a.stepId, b.stepId));
    const {
      g1: _g1,
      g2: _g2,
      ...p
    } = overall ?? { g1: "", g2: "", count: 0, averageUs: 0, medianUs: 0, p95Us: 0, p99Us: 0, minUs: 0, maxUs: 0 };
    return { overall: p, byStep };
  }

  /** Per-worker stability and totals. */
  async workerStability(w: Window, o: AnalyticsOptions): Promise<WorkerStability> {
    // One index-only scan per event type; owners by the earliest StepStarted (timestamp, then event id) of each attempt.
    const text = `WITH started AS MATERIALIZED (SELECT run_id, step_id, attempt_number, timestamp_us AS ts, event_id, worker_id FROM ${this.s}.events WHERE type = 'StepStarted' AND ${this.agg.selection(1)}),
      beats AS (SELECT run_id, step_id, attempt_number, timestamp_us AS ts, worker_id FROM ${this.s}.events WHERE type = 'StepHeartbeat' AND ${this.agg.selection(1)}),
      reclaims AS MATERIALIZED (SELECT run_id, step_id, attempt_number, timestamp_us AS ts, worker_id FROM ${this.s}.events WHERE type = 'StepReclaimed' AND ${this.agg.selection(1)}),
      ends AS MATERIALIZED (SELECT type, run_id, step_id, attempt_number, reason FROM ${this.s}.events WHERE type IN ('StepCompleted', 'StepFailed') AND ${this.agg.selection(1)}),
      owner AS (
        SELECT DISTINCT ON (run_id COLLATE "C", step_id COLLATE "C", attempt_number) run_id, step_id, attempt_number, worker_id FROM started
        ORDER BY run_id COLLATE "C", step_id COLLATE "C", attempt_number, ts, event_id COLLATE "C"),
      first_reclaim AS (SELECT run_id, step_id, attempt_number, min(ts) AS at FROM reclaims GROUP BY 1, 2, 3),
      ps AS (SELECT worker_id AS w, count(*)::int AS started, max(ts) AS last FROM started GROUP BY 1),
      pb AS (
        SELECT b.worker_id AS w, count(*)::int AS beats, count(*) FILTER (WHERE r.at IS NOT NULL AND b.ts > r.at)::int AS zombies, max(b.ts) AS last
        FROM beats b LEFT JOIN first_reclaim r ON r.run_id = b.run_id AND r.step_id = b.step_id AND r.attempt_number = b.attempt_number GROUP BY 1),
      pr AS (SELECT worker_id AS w, count(*)::int AS n FROM reclaims GROUP BY 1),
      pe AS (
        SELECT o.worker_id AS w, count(*) FILTER (WHERE e.type = 'StepCompleted')::int AS completed, count(*) FILTER (WHERE e.type = 'StepFailed')::int AS failed,
          count(*) FILTER (WHERE e.type = 'StepFailed' AND e.reason = 'worker-crash')::int AS crash
        FROM ends e JOIN owner o ON o.run_id = e.run_id AND o.step_id = e.step_id AND o.attempt_number = e.attempt_number GROUP BY 1),
      ids AS (SELECT w FROM ps UNION SELECT w FROM pb UNION SELECT w FROM pr)
      SELECT ids.w, coalesce(ps.started, 0) AS started, coalesce(pb.beats, 0) AS beats, coalesce(pr.n, 0) AS reclaimed_from, coalesce(pb.zombies, 0) AS zombies,
        greatest(ps.last, pb.last)::float8 AS last_seen, coalesce(pe.completed, 0) AS completed, coalesce(pe.failed, 0) AS failed, coalesce(pe.crash, 0) AS crash,
        (SELECT count(*) FROM ends WHERE type = 'StepFailed' AND reason = 'worker-crash')::int AS total_crash
      FROM ids LEFT JOIN ps ON ps.w = ids.w LEFT JOIN pb ON pb.w = ids.w LEFT JOIN pr ON pr.w = ids.w LEFT JOIN pe ON pe.w = ids.w`;
    type Row = {
      w: string;
      started: number;
      beats: number;
      reclaimed_from: number;
      zombies: number;
      last_seen: number | null;
      completed: number;
      failed: number;
      crash: number;
      total_crash: number;
    };
    const rows = (await this.conn.aggregate<Row>({ text, values: this.agg.selectionValues(w, o) }, this.agg.workMem))
      .rows;
    const workers = rows
      .map((r) => ({
        workerId: r.w,
        stepsStarted: r.started,
        stepsCompleted: r.completed,
        stepsFailed: r.failed,
        crashFailures: r.crash,
        reclaimedFrom: r.reclaimed_from,
        heartbeats: r.beats,
        zombieHeartbeats: r.zombies,
        reclaimRate: rateOf(r.reclaimed_from, r.started),
        lastSeenUs: r.last_seen,
      }))
      .sort((a, b) => compareStrings(a.workerId, b.workerId));
    const crashTotal = rows[0]?.total_crash ?? (await this.crashFailures(w, o));
    const sum = (f: (x: (typeof workers)[number]) => number) => workers.reduce((a, x) => a + f(x), 0);
    return {
      workers,
      totals: {
        workers: workers.length,
        stepsStarted: sum((x) => x.stepsStarted),
        reclaims: sum((x) => x.reclaimedFrom),
        crashFailures: crashTotal,
        zombieHeartbeats: sum((x) => x.zombieHeartbeats),
      },
    };
  }

  private async crashFailures(w: Window, o: AnalyticsOptions): Promise<number> {
    const text = `SELECT count(*)::int AS n FROM ${this.s}.events WHERE type = 'StepFailed' AND reason = 'worker-crash' AND ${this.agg.selection(1)}`;
    return (
      (await this.conn.aggregate<{ n: number }>({ text, values: this.agg.selectionValues(w, o) }, this.agg.workMem))
        .rows[0]?.n ?? 0
    );
  }

  /** The events the retry analysis reads, of retried steps only: their StepScheduled, StepCompleted and StepFailed in the selection. */
  async retryEvents(w: Window, o: AnalyticsOptions, intact: (rows: EventRow[]) => Event[]): Promise<Event[]> {
    const text = `WITH rs AS (SELECT DISTINCT run_id, step_id FROM ${this.s}.events WHERE type = 'StepScheduled' AND reason = 'retry' AND ${this.agg.selection(1)})
      SELECT e.seq, e.event_id, e.type, e.run_id, e.body FROM ${this.s}.events e JOIN rs ON rs.run_id = e.run_id AND rs.step_id = e.step_id
      WHERE e.type IN ('StepScheduled', 'StepCompleted', 'StepFailed') AND ${this.agg.selection(1, "e")} ORDER BY e.seq`;
    return intact(
      (await this.conn.aggregate<EventRow>({ text, values: this.agg.selectionValues(w, o) }, this.agg.workMem)).rows,
    );
  }

  /**
   * Workers seen through StepStarted/StepHeartbeat in [startUs, endUs] (the reference's last 24 h, all workflows): first
   * and last sign of life, the latest declared concurrency, and the attempts they started that no attempt end or run end
   * in the window closes. Sorted by workerId; inactive ones only with includeInactive; `onlyWorker` narrows to one.
   */
  async activeWorkers(
    w: Window,
    nowUs: number,
    options: ActiveWorkersOptions,
    onlyWorker?: string,
  ): Promise<WorkerInfo[]> {
    const threshold = options.staleThresholdUs ?? DEFAULT_WORKER_STALE_THRESHOLD_US;
    if (!Number.isFinite(threshold) || threshold < 0)
      throw new InvalidArgumentError(`staleThresholdUs must be a non-negative number of µs, got ${threshold}.`);
    const text = `WITH sel AS (
        SELECT type, worker_id, worker_concurrency, event_id, run_id, step_id, workflow_slug, attempt_number, timestamp_us AS ts FROM ${this.s}.events
        WHERE type IN ('StepStarted', 'StepHeartbeat', 'StepCompleted', 'StepFailed', 'StepSkipped', 'StepReclaimed', 'WorkflowCompleted', 'WorkflowFailed', 'WorkflowCancelled')
          AND timestamp_us BETWEEN $1 AND $2 AND NOT copied),
      ended AS (SELECT DISTINCT run_id, step_id, attempt_number FROM sel WHERE type IN ('StepCompleted', 'StepFailed', 'StepSkipped', 'StepReclaimed')),
      runs_ended AS (SELECT DISTINCT run_id FROM sel WHERE type IN ('WorkflowCompleted', 'WorkflowFailed', 'WorkflowCancelled')),
      signs AS (SELECT * FROM sel WHERE type IN ('StepStarted', 'StepHeartbeat') AND ($3::text IS NULL OR worker_id = $3)),
      w AS (SELECT worker_id, min(ts)::float8 AS first_seen, max(ts)::float8 AS last_seen, count(*) FILTER (WHERE type = 'StepStarted')::int AS started FROM signs GROUP BY worker_id),
      conc AS (SELECT DISTINCT ON (worker_id) worker_id, worker_concurrency FROM signs WHERE worker_concurrency IS NOT NULL ORDER BY worker_id, ts DESC, event_id COLLATE "C" DESC),
      cur AS (
        SELECT s.worker_id, json_agg(json_build_object('workflowSlug', s.workflow_slug, 'runId', s.run_id, 'stepId', s.step_id, 'attemptNumber', s.attempt_number, 'startedAtUs', s.ts)
          ORDER BY s.ts, s.run_id COLLATE "C", s.step_id COLLATE "C") AS steps
        FROM signs s WHERE s.type = 'StepStarted'
          AND NOT EXISTS (SELECT 1 FROM ended e WHERE e.run_id = s.run_id AND e.step_id = s.step_id AND e.attempt_number = s.attempt_number)
          AND NOT EXISTS (SELECT 1 FROM runs_ended r WHERE r.run_id = s.run_id)
        GROUP BY s.worker_id)
      SELECT w.worker_id, w.first_seen, w.last_seen, w.started, conc.worker_concurrency, coalesce(cur.steps, '[]'::json) AS steps
      FROM w LEFT JOIN conc ON conc.worker_id = w.worker_id LEFT JOIN cur ON cur.worker_id = w.worker_id`;
    type Row = {
      worker_id: string;
      first_seen: number;
      last_seen: number;
      started: number;
      worker_concurrency: number | null;
      steps: WorkerStep[];
    };
    const rows = (
      await this.conn.aggregate<Row>({ text, values: [w.startUs, w.endUs, onlyWorker ?? null] }, this.agg.workMem)
    ).rows;
    const infos: WorkerInfo[] = rows
      .map((r) => ({
        workerId: r.worker_id,
        firstSeenUs: r.first_seen,
        lastSeenUs: r.last_seen,
        isActive: nowUs - r.last_seen <= threshold,
        concurrency: r.worker_concurrency,
        stepsStarted: r.started,
        runningSteps: r.steps.length,
        currentSteps: r.steps,
      }))
      .sort((a, b) => compareStrings(a.workerId, b.workerId));
    return options.includeInactive ? infos : infos.filter((x) => x.isActive);
  }
}
