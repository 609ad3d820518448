// Seeds N finished runs (3 steps each, spread over the last 24 h) directly in SQL, plus a few live ones through the
// API, then times the polled queries and the 24 h analytics summary. Usage: node --import tsx scripts/scale-bench.ts [N]
import pg from "pg";
import { PostgresBackend } from "../src/index.js";

const url = process.env.BENCH_URL ?? "postgres://root@127.0.0.1:5432/test";
const N = Number(process.argv[2] ?? 100_000);
const schema = process.env.KEEP_SCHEMA ?? `scale_${process.pid}`;
const b = new PostgresBackend({ connectionString: url, schema, poolSize: 4 });
await b.initialize();
const c = new pg.Client(url);
await c.connect();
const s = `"${schema}"`;
const now = b.clock.nowUs();
const t0 = performance.now();
await c.query(`SET synchronous_commit = off`);
await c.query(
  `
  WITH r AS (SELECT i, 'run_' || i AS run_id, ('wf' || (i % 5)) AS slug, $1::bigint - (i::bigint * 86400000000 / $2) AS t0 FROM generate_series(1, $2) i)
  INSERT INTO ${s}.runs (run_id, workflow_slug, status, live, available_at_us, priority, created_at_us, idempotency_key, tags, state)
  SELECT run_id, slug, 'completed', false, t0, 0, t0, NULL, '{}', json_build_object('runId', run_id, 'workflowSlug', slug, 'status', 'completed', 'createdAtUs', t0,
    'availableAtUs', t0, 'priority', 0, 'hasInputSchema', false, 'tags', '[]'::json, 'workflowAttemptNumber', 1, 'startedAtUs', t0 + 10, 'endedAtUs', t0 + 5000,
    'durationUs', 4990, 'output', '{}', 'totalSteps', 3, 'updatedAtUs', t0 + 5000, 'stateChanges', '[]'::json)
  FROM r`,
  [now, N],
);
await c.query(
  `
  WITH r AS (SELECT i, 'run_' || i AS run_id, ('wf' || (i % 5)) AS slug, $1::bigint - (i::bigint * 86400000000 / $2) AS t0 FROM generate_series(1, $2) i),
  st AS (SELECT r.*, k, 'step' || k AS step_id FROM r, generate_series(1, 3) k)
  INSERT INTO ${s}.steps (run_id, workflow_slug, step_id, status, run_live, available_at_us, priority, attempt_number, last_seen_us, created_at_us, first_seq, state)
  SELECT run_id, slug, step_id, 'completed', false, t0 + k * 100, 0, 1, t0 + k * 100 + 5, t0 + k * 100, k,
    json_build_object('workflowSlug', slug, 'runId', run_id, 'stepId', step_id, 'status', 'completed', 'attemptNumber', 1, 'priority', 0, 'dependencies', '[]'::json,
      'wasReclaimed', false, 'createdAtUs', t0 + k * 100, 'updatedAtUs', t0 + k * 100 + 50, 'stateChanges', '[]'::json)
  FROM st`,
  [now, N],
);
// Events: RunSubmitted, WorkflowStarted, 3 x (StepScheduled, StepStarted, StepHeartbeat, StepCompleted), WorkflowCompleted.
await c.query(
  `
  WITH r AS (SELECT i, 'run_' || i AS run_id, ('wf' || (i % 5)) AS slug, $1::bigint - (i::bigint * 86400000000 / $2) AS t0 FROM generate_series(1, $2) i),
  ev AS (
    SELECT run_id, slug, NULL::text AS step_id, 'RunSubmitted' AS type, t0 AS ts, NULL::bigint AS d, 0 AS o FROM r
    UNION ALL SELECT run_id, slug, NULL, 'WorkflowStarted', t0 + 10, NULL, 1 FROM r
    UNION ALL SELECT run_id, slug, 'step' || k, x.type, t0 + k * 100 + x.off, CASE WHEN x.type = 'StepCompleted' THEN 40 + (i % 97) END, 1 + k * 4 + x.o
      FROM r, generate_series(1, 3) k, (VALUES ('StepScheduled', 0, 0), ('StepStarted', 5, 1), ('StepHeartbeat', 20, 2), ('StepCompleted', 50, 3)) AS x(type, off, o)
    UNION ALL SELECT run_id, slug, NULL, 'WorkflowCompleted', t0 + 5000, 4990, 99 FROM r)
  INSERT INTO ${s}.events (event_id, workflow_slug, run_id, step_id, type, timestamp_us, body, duration_us, attempt_number, available_at_us, worker_id, reason)
  SELECT run_id || ':' || o, slug, run_id, step_id, type, ts,
    json_strip_nulls(json_build_object('eventId', run_id || ':' || o, 'timestampUs', ts, 'workflowSlug', slug, 'runId', run_id, 'category', CASE WHEN step_id IS NULL THEN 'workflow' ELSE 'step' END,
      'type', type, 'stepId', step_id, 'durationUs', d, 'workerId', CASE WHEN type IN ('StepStarted', 'StepHeartbeat') THEN 'w' || (o % 7) END,
      'attemptNumber', CASE WHEN step_id IS NOT NULL THEN 1 END, 'dependencies', CASE WHEN type = 'StepStarted' THEN '[]'::json END,
      'availableAtUs', CASE WHEN type IN ('StepScheduled', 'RunSubmitted') THEN ts END, 'reason', CASE WHEN type = 'StepScheduled' THEN 'initial' END,
      'output', CASE WHEN type IN ('StepCompleted', 'WorkflowCompleted') THEN '{}' END, 'exportOutput', CASE WHEN type = 'StepCompleted' THEN false END,
      'workflowAttemptNumber', CASE WHEN step_id IS NULL AND type <> 'RunSubmitted' THEN 1 END, 'totalSteps', CASE WHEN type = 'WorkflowCompleted' THEN 3 END,
      'priority', CASE WHEN type = 'RunSubmitted' THEN 0 END, 'hasInputSchema', CASE WHEN type IN ('RunSubmitted', 'WorkflowStarted') THEN false END,
      'hasInput', CASE WHEN type = 'WorkflowStarted' THEN false END)), d,
    CASE WHEN step_id IS NOT NULL THEN 1 END, CASE WHEN type = 'StepScheduled' THEN ts END,
    CASE WHEN type IN ('StepStarted', 'StepHeartbeat') THEN 'w' || (o % 7) END, CASE WHEN type = 'StepScheduled' THEN 'initial' END
  FROM ev ORDER BY run_id, o`,
  [now, N],
);
await c.query(`VACUUM ANALYZE ${s}.events`);
await c.query(`VACUUM ANALYZE ${s}.runs`);
await c.query(`VACUUM ANALYZE ${s}.steps`);
console.log(`seeded ${N} finished runs (${N * 15} events) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
for (let i = 0; i < 50; i++) {
  const { runId } = await b.submitRun({ workflowSlug: "wf-live" });
  await b.scheduleStep("wf-live", runId, "a", { availableAt: 0, reason: "initial", attemptNumber: 1 });
}
async function time(label: string, fn: () => Promise<unknown>, n = 50): Promise<void> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  xs.sort((a, x) => a - x);
  console.log(
    `${label.padEnd(34)} median ${xs[Math.floor(n / 2)]!.toFixed(2)} ms  p95 ${xs[Math.floor(n * 0.95)]!.toFixed(2)} ms`,
  );
}
if (process.env.SKIP_TIMING) {
  await b.close();
  await c.end();
  process.exit(0);
}
await time("listScheduledSteps({limit: 10})", () => b.listScheduledSteps({ limit: 10 }));
await time("getQueueDepth()", () => b.getQueueDepth());
await time("listRuns({limit: 20})", () => b.listRuns({ limit: 20 }));
await time("listRuns({workflowSlug, limit: 20})", () => b.listRuns({ workflowSlug: "wf3", limit: 20 }));
await time("getRun", () => b.getRun(`run_${1 + Math.floor(Math.random() * N)}`));
await time("listActiveWorkflows", () => b.listActiveWorkflows());
await time("reclaimStaleSteps (nothing stale)", () => b.reclaimStaleSteps(60_000, "reaper"));
await time("getSuccessRate (24 h)", () => b.getSuccessRate(), 5);
await time("getStepDuration (24 h)", () => b.getStepDuration(), 5);
await time("getAnalyticsSummary (24 h)", () => b.getAnalyticsSummary(), 3);
await b.close();
if (!process.env.KEEP_SCHEMA) await c.query(`DROP SCHEMA ${s} CASCADE`);
await c.end();
