import {
  compareStrings,
  percentiles,
  rateOf,
  type SchedulingLatency,
  type StepDuration,
  type WorkerStability,
  type WorkflowDuration,
} from "@cairn/backend-interface";
import type { FactSelection, SqliteFacts } from "./sqlite-facts.js";
import type { FactCounts } from "./sqlite-facts-compute.js";

// Windowed analytics aggregated in SQL over event_facts, so only a handful of rows reach JS. Each equals its reference
// function: distributions come back as one comma-separated list of integers per group (group_concat) and are finished
// with the reference's own percentiles(); strings are sorted again in JS with the reference's compareStrings.

/** One group of values: kind, workflowSlug, stepId and the values, as `SELECT k, s, st, group_concat(v) FROM g` returns them. */
interface GroupRow {
  k: string;
  s: string;
  st: string;
  vs: string;
}

/** SQL turning a CTE `g(k, s, st, v)` into one row per group with its values. */
const VALUES_OF = " SELECT k, s, st, group_concat(v) AS vs FROM g GROUP BY k, s, st";

const ATTEMPT_COLUMNS = "run_id, step_id, attempt_number, timestamp_us";
const valuesOf = (r: GroupRow): number[] => r.vs.split(",").map(Number);
const concat = (rows: GroupRow[], k: string): number[] => rows.filter((r) => r.k === k).flatMap(valuesOf);

const byStep = (rows: GroupRow[], k: string) =>
  rows
    .filter((r) => r.k === k)
    .map((r) => ({ workflowSlug: r.s, stepId: r.st, ...percentiles(valuesOf(r)) }))
    .sort((a, b) => compareStrings(a.workflowSlug, b.workflowSlug) || compareStrings(a.stepId, b.stepId));

/** Outcome counts, step and run durations from one grouped pass (equal computeSuccessRate / computeThroughput / computeStepDuration / computeWorkflowDuration). */
export function outcomesSql(
  f: SqliteFacts,
  sel: FactSelection,
): { counts: FactCounts; stepDuration: StepDuration; workflowDuration: WorkflowDuration } {
  type Row = { type: string; flag: number; s: string; st: string; n: number; vs: string | null };
  const rows = f.aggregate<Row>(
    [
      [
        "d",
        ["StepCompleted", "StepFailed", "StepSkipped", "WorkflowCompleted", "WorkflowFailed", "WorkflowCancelled"],
        "type, flag, workflow_slug, step_id, duration_us",
      ],
    ],
    ` SELECT type, flag, workflow_slug AS s, coalesce(step_id, '') AS st, count(*) AS n,
        CASE WHEN type IN ('StepSkipped', 'WorkflowCancelled') THEN NULL ELSE group_concat(duration_us) END AS vs
      FROM d GROUP BY type, flag, workflow_slug, step_id`,
    sel,
  );
  const counts: FactCounts = [];
  for (const r of rows) {
    const c = counts.find((x) => x.slug === r.s && x.type === r.type && x.flag === r.flag);
    if (c) c.n += r.n;
    else counts.push({ slug: r.s, type: r.type, flag: r.flag, n: r.n });
  }
  const groups = (type: string, key: (r: Row) => string) => {
    const out = new Map<string, { s: string; st: string; values: number[] }>();
    for (const r of rows) {
      if (r.type !== type || r.vs === null) continue;
      const g = out.get(key(r)) ?? { s: r.s, st: r.st, values: [] };
      for (const v of r.vs.split(",")) g.values.push(Number(v));
      out.set(key(r), g);
    }
    return [...out.values()];
  };
  const all = (type: string) => groups(type, () => "").flatMap((g) => g.values);
  const sortBy = <T extends { workflowSlug: string; stepId?: string }>(list: T[]) =>
    list.sort(
      (a, b) => compareStrings(a.workflowSlug, b.workflowSlug) || compareStrings(a.stepId ?? "", b.stepId ?? ""),
    );
  return {
    counts,
    stepDuration: {
      overall: percentiles(all("StepCompleted")),
      failed: percentiles(all("StepFailed")),
      byStep: sortBy(
        groups("StepCompleted", (r) => `${r.s}\u0000${r.st}`).map((g) => ({
          workflowSlug: g.s,
          stepId: g.st,
          ...percentiles(g.values),
        })),
      ),
    },
    workflowDuration: {
      overall: percentiles(all("WorkflowCompleted")),
      failed: percentiles(all("WorkflowFailed")),
      byWorkflow: sortBy(
        groups("WorkflowCompleted", (r) => r.s).map((g) => ({ workflowSlug: g.s, ...percentiles(g.values) })),
      ),
    },
  };
}

/** SchedulingLatency (equals computeSchedulingLatency): each StepStarted against its attempt's earlier StepScheduled facts. */
export function schedulingLatencySql(f: SqliteFacts, sel: FactSelection): SchedulingLatency {
  // No join (whose plan SQLite may get wrong): starts and schedules of an attempt are sorted together, schedules
  // before starts at equal times, and a running max over the schedules so far gives each start its readyAt.
  const rows = f.aggregate<GroupRow>(
    [["x", ["StepScheduled", "StepStarted"], `${ATTEMPT_COLUMNS}, type, workflow_slug, available_at_us`]],
    `,
    ready AS (SELECT type, workflow_slug, step_id, timestamp_us,
      max(CASE WHEN type = 'StepScheduled' THEN max(available_at_us, timestamp_us) END) OVER (
        PARTITION BY run_id, step_id, attempt_number ORDER BY timestamp_us, type = 'StepStarted' ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS ready_at
      FROM x),
    g AS (SELECT 'step' AS k, workflow_slug AS s, step_id AS st, max(0, timestamp_us - ready_at) AS v FROM ready WHERE type = 'StepStarted' AND ready_at IS NOT NULL)${VALUES_OF}`,
    sel,
  );
  return { overall: percentiles(concat(rows, "step")), byStep: byStep(rows, "step") };
}

/** WorkerStability (equals computeWorkerStability), with per-attempt ownership decided in SQL. */
export function workerStabilitySql(f: SqliteFacts, sel: FactSelection): WorkerStability {
  // `crash`: the worker-crash count of an owner's failures.
  type Tally = { worker: string; kind: string; n: number; last: number | null; crash: number };
  // No joins (whose plans SQLite may get wrong): a window per attempt over its starts and outcomes gives each outcome
  // its owner (first start by time, then eventId); zombies are counted only among heartbeats of reclaimed attempts.
  const rows = f.aggregate<Tally>(
    [
      [
        "x",
        ["StepStarted", "StepFailed", "StepCompleted"],
        `${ATTEMPT_COLUMNS}, type, worker_id, failure_reason, event_id`,
      ],
      ["signs", ["StepStarted", "StepHeartbeat", "StepReclaimed"], `${ATTEMPT_COLUMNS}, type, worker_id`],
      ["m_reclaims", ["StepReclaimed"], ATTEMPT_COLUMNS],
    ],
    `,
    y AS (SELECT type, failure_reason,
      first_value(CASE WHEN type = 'StepStarted' THEN worker_id END) OVER (
        PARTITION BY run_id, step_id, attempt_number ORDER BY type <> 'StepStarted', timestamp_us, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS owner
      FROM x),
    suspects AS (SELECT type, worker_id, timestamp_us, min(CASE WHEN type = 'StepReclaimed' THEN timestamp_us END) OVER (PARTITION BY run_id, step_id, attempt_number) AS reclaimed_at
      FROM signs WHERE type IN ('StepHeartbeat', 'StepReclaimed') AND (run_id, step_id, attempt_number) IN (SELECT run_id, step_id, attempt_number FROM m_reclaims))
    SELECT worker_id AS worker, type AS kind, count(*) AS n, max(timestamp_us) AS last, 0 AS crash FROM signs GROUP BY worker_id, type
    UNION ALL SELECT worker_id, 'zombie', count(*), NULL, 0 FROM suspects WHERE type = 'StepHeartbeat' AND timestamp_us > reclaimed_at GROUP BY worker_id
    UNION ALL SELECT owner, type, count(*), NULL, coalesce(sum(failure_reason = 'worker-crash'), 0) FROM y
      WHERE type IN ('StepCompleted', 'StepFailed') AND owner IS NOT NULL GROUP BY owner, type
    UNION ALL SELECT '', 'totalCrash', count(*), NULL, 0 FROM x WHERE type = 'StepFailed' AND failure_reason = 'worker-crash'`,
    sel,
  );
  const tally = (worker: string, kind: string) => rows.find((r) => r.worker === worker && r.kind === kind);
  const ids = [
    ...new Set(
      rows
        .filter((r) => r.kind === "StepStarted" || r.kind === "StepHeartbeat" || r.kind === "StepReclaimed")
        .map((r) => r.worker),
    ),
  ].sort(compareStrings);
  const workers = ids.map((workerId) => {
    const started = tally(workerId, "StepStarted");
    const beats = tally(workerId, "StepHeartbeat");
    const seen = [started?.last, beats?.last].filter((v): v is number => typeof v === "number");
    const reclaimedFrom = tally(workerId, "StepReclaimed")?.n ?? 0;
    const stepsStarted = started?.n ?? 0;
    return {
      workerId,
      stepsStarted,
      stepsCompleted: tally(workerId, "StepCompleted")?.n ?? 0,
      stepsFailed: tally(workerId, "StepFailed")?.n ?? 0,
      crashFailures: tally(workerId, "StepFailed")?.crash ?? 0,
      reclaimedFrom,
      heartbeats: beats?.n ?? 0,
      zombieHeartbeats: tally(workerId, "zombie")?.n ?? 0,
      reclaimRate: rateOf(reclaimedFrom, stepsStarted),
      lastSeenUs: seen.length ? Math.max(...seen) : null,
    };
  });
  const total = (kind: string) => rows.filter((r) => r.kind === kind).reduce((a, r) => a + r.n, 0);
  return {
    workers,
    totals: {
      workers: workers.length,
      stepsStarted: total("StepStarted"),
      reclaims: total("StepReclaimed"),
      crashFailures: total("totalCrash"),
      zombieHeartbeats: total("zombie"),
    },
  };
}
