import { averageOf, compareStrings, EMPTY_PERCENTILES, rateOf, type Percentiles, type SchedulingLatency, type StepDuration, type WorkerStability, type WorkflowDuration } from "@cairn/backend-interface";
import type { FactSelection, SqliteFacts } from "./sqlite-facts.js";

// Windowed analytics aggregated in SQL over event_facts, so only a handful of rows reach JS. Each equals its reference
// function: nearest-rank percentiles at 1-based rank (p*n + 99) / 100 in integers (= ceil(p*n/100)), average
// Math.round(sum / count) in JS, strings sorted again in JS with the reference's compareStrings.

/** Per-group distribution rows of PERCENTILES_OF. */
interface DistRow { k: string; s: string; st: string; n: number; total: number; lo: number; hi: number; p50: number; p95: number; p99: number }

/** SQL turning a CTE `g(k, s, st, v)` into one distribution row per (k, s, st). */
const PERCENTILES_OF = `, r AS (SELECT k, s, st, v, row_number() OVER (PARTITION BY k, s, st ORDER BY v) AS rn, count(*) OVER (PARTITION BY k, s, st) AS n FROM g)
  SELECT k, s, st, n, sum(v) AS total, min(v) AS lo, max(v) AS hi,
    max(CASE WHEN rn = (50 * n + 99) / 100 THEN v END) AS p50, max(CASE WHEN rn = (95 * n + 99) / 100 THEN v END) AS p95,
    max(CASE WHEN rn = (99 * n + 99) / 100 THEN v END) AS p99
  FROM r GROUP BY k, s, st`;

function dist(r: DistRow | undefined): Percentiles {
  if (!r || r.n === 0) return { ...EMPTY_PERCENTILES };
  return { count: r.n, averageUs: averageOf(r.total, r.n), medianUs: r.p50, p95Us: r.p95, p99Us: r.p99, minUs: r.lo, maxUs: r.hi };
}

const byStep = (rows: DistRow[], k: string) => rows.filter((r) => r.k === k).map((r) => ({ workflowSlug: r.s, stepId: r.st, ...dist(r) }))
  .sort((a, b) => compareStrings(a.workflowSlug, b.workflowSlug) || compareStrings(a.stepId, b.stepId));

/** StepDuration and WorkflowDuration (equal computeStepDuration / computeWorkflowDuration). */
export function durationsSql(f: SqliteFacts, sel: FactSelection): { stepDuration: StepDuration; workflowDuration: WorkflowDuration } {
  const rows = f.aggregate<DistRow>([["d", ["StepCompleted", "StepFailed", "WorkflowCompleted", "WorkflowFailed"]]], `, g AS (
      SELECT 'step' AS k, workflow_slug AS s, step_id AS st, duration_us AS v FROM d WHERE type = 'StepCompleted'
      UNION ALL SELECT 'stepAll', '', '', duration_us FROM d WHERE type = 'StepCompleted'
      UNION ALL SELECT 'stepFailed', '', '', duration_us FROM d WHERE type = 'StepFailed'
      UNION ALL SELECT 'run', workflow_slug, '', duration_us FROM d WHERE type = 'WorkflowCompleted'
      UNION ALL SELECT 'runAll', '', '', duration_us FROM d WHERE type = 'WorkflowCompleted'
      UNION ALL SELECT 'runFailed', '', '', duration_us FROM d WHERE type = 'WorkflowFailed')${PERCENTILES_OF}`, sel);
  const one = (k: string) => dist(rows.find((r) => r.k === k));
  return {
    stepDuration: { overall: one("stepAll"), failed: one("stepFailed"), byStep: byStep(rows, "step") },
    workflowDuration: {
      overall: one("runAll"), failed: one("runFailed"),
      byWorkflow: rows.filter((r) => r.k === "run").map((r) => ({ workflowSlug: r.s, ...dist(r) })).sort((a, b) => compareStrings(a.workflowSlug, b.workflowSlug)),
    },
  };
}

/** SchedulingLatency (equals computeSchedulingLatency): each StepStarted against its attempt's earlier StepScheduled facts. */
export function schedulingLatencySql(f: SqliteFacts, sel: FactSelection): SchedulingLatency {
  const rows = f.aggregate<DistRow>([["scheds", ["StepScheduled"]], ["starts", ["StepStarted"]]], `, lat AS (
      SELECT b.workflow_slug AS s, b.step_id AS st, max(0, b.timestamp_us - max(max(a.available_at_us, a.timestamp_us))) AS v
      FROM starts b JOIN scheds a ON a.run_id = b.run_id AND a.step_id = b.step_id AND a.attempt_number = b.attempt_number AND a.timestamp_us <= b.timestamp_us
      GROUP BY b.timestamp_us, b.seq),
    g AS (SELECT 'step' AS k, s, st, v FROM lat UNION ALL SELECT 'all', '', '', v FROM lat)${PERCENTILES_OF}`, sel);
  return { overall: dist(rows.find((r) => r.k === "all")), byStep: byStep(rows, "step") };
}

/** WorkerStability (equals computeWorkerStability), with per-attempt ownership decided in SQL. */
export function workerStabilitySql(f: SqliteFacts, sel: FactSelection): WorkerStability {
  type Tally = { worker: string; kind: string; n: number; last: number | null; crash: number };
  const rows = f.aggregate<Tally>([["w", ["StepStarted", "StepHeartbeat", "StepReclaimed", "StepFailed", "StepCompleted"]]], `,
    owner AS (SELECT run_id, step_id, attempt_number, worker_id FROM (
      SELECT run_id, step_id, attempt_number, worker_id, row_number() OVER (PARTITION BY run_id, step_id, attempt_number ORDER BY timestamp_us, event_id) AS rn
      FROM w WHERE type = 'StepStarted') WHERE rn = 1),
    reclaimed AS (SELECT run_id, step_id, attempt_number, min(timestamp_us) AS t FROM w WHERE type = 'StepReclaimed' GROUP BY run_id, step_id, attempt_number)
    SELECT worker_id AS worker, type AS kind, count(*) AS n, max(timestamp_us) AS last, 0 AS crash FROM w WHERE type IN ('StepStarted', 'StepHeartbeat', 'StepReclaimed') GROUP BY worker_id, type
    UNION ALL SELECT h.worker_id, 'zombie', count(*), NULL, 0 FROM w h JOIN reclaimed r ON r.run_id = h.run_id AND r.step_id = h.step_id AND r.attempt_number = h.attempt_number
      WHERE h.type = 'StepHeartbeat' AND h.timestamp_us > r.t GROUP BY h.worker_id
    UNION ALL SELECT o.worker_id, x.type, count(*), NULL, coalesce(sum(x.failure_reason = 'worker-crash'), 0) FROM w x JOIN owner o ON o.run_id = x.run_id AND o.step_id = x.step_id AND o.attempt_number = x.attempt_number
      WHERE x.type IN ('StepCompleted', 'StepFailed') GROUP BY o.worker_id, x.type
    UNION ALL SELECT '', 'totalCrash', count(*), NULL, 0 FROM w WHERE type = 'StepFailed' AND failure_reason = 'worker-crash'`, sel);
  const tally = (worker: string, kind: string) => rows.find((r) => r.worker === worker && r.kind === kind);
  const ids = [...new Set(rows.filter((r) => r.kind === "StepStarted" || r.kind === "StepHeartbeat" || r.kind === "StepReclaimed").map((r) => r.worker))].sort(compareStrings);
  const workers = ids.map((workerId) => {
    const started = tally(workerId, "StepStarted");
    const beats = tally(workerId, "StepHeartbeat");
    const seen = [started?.last, beats?.last].filter((v): v is number => typeof v === "number");
    const reclaimedFrom = tally(workerId, "StepReclaimed")?.n ?? 0;
    const stepsStarted = started?.n ?? 0;
    return {
      workerId, stepsStarted, stepsCompleted: tally(workerId, "StepCompleted")?.n ?? 0, stepsFailed: tally(workerId, "StepFailed")?.n ?? 0,
      crashFailures: tally(workerId, "StepFailed")?.crash ?? 0, reclaimedFrom, heartbeats: beats?.n ?? 0, zombieHeartbeats: tally(workerId, "zombie")?.n ?? 0,
      reclaimRate: rateOf(reclaimedFrom, stepsStarted), lastSeenUs: seen.length ? Math.max(...seen) : null,
    };
  });
  const total = (kind: string) => rows.filter((r) => r.kind === kind).reduce((a, r) => a + r.n, 0);
  return {
    workers,
    totals: { workers: workers.length, stepsStarted: total("StepStarted"), reclaims: total("StepReclaimed"), crashFailures: total("totalCrash"), zombieHeartbeats: total("zombie") },
  };
}
