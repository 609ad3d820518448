// Claim → complete of already-scheduled single-step runs (like bench/claims.ts), Postgres.
// Usage: node --import tsx step-throughput.ts [steps=2000] [claimers=1] [mode=unbatched|batched|batched-each] [worker=distinct|shared] [batch=32]
//   unbatched:    claimScheduledStep(ref) + saveStepComplete per step (claimers take refs from one shared list)
//   batched:      claimScheduledSteps({limit}) + saveStepCompletes(claimed) (one round trip each)
//   batched-each: claimScheduledSteps({limit}) + concurrent saveStepComplete per claimed step (what bench/claims.ts does today)
//   worker=shared: every claimer uses one worker id (a worker process's slots do), distinct: one id per claimer.
import pg from "pg";
import { newEventId, type Event } from "@cairn/backend-interface";
import { PostgresBackend } from "../src/index.js";

const url = process.env.DATABASE_URL ?? "postgres://root@127.0.0.1:5432/test";
const [N, CLAIMERS, MODE, WORKER, BATCH] = [Number(process.argv[2] ?? 2000), Number(process.argv[3] ?? 1), process.argv[4] ?? "unbatched", process.argv[5] ?? "distinct", Number(process.argv[6] ?? 32)];
const schema = `tput_${process.pid}`;
const b = new PostgresBackend({ connectionString: url, schema, poolSize: Math.max(4, CLAIMERS * 2), listen: false });
await b.initialize();
const SLUG = "wf";
const runIds: string[] = [];
for (let i = 0; i < N; i += 200) {
  const items: Array<{ workflowSlug: string; runId: string; event: Event }> = [];
  await Promise.all(Array.from({ length: Math.min(200, N - i) }, async (_, k) => {
    const { runId } = await b.submitRun({ workflowSlug: SLUG, input: { i: i + k } });
    runIds.push(runId);
    const t = b.clock.nowUs();
    items.push(
      { workflowSlug: SLUG, runId, event: { eventId: newEventId(t), timestampUs: t, workflowSlug: SLUG, runId, category: "workflow", type: "WorkflowStarted", workflowAttemptNumber: 1, hasInputSchema: false, hasInput: true } as Event },
      { workflowSlug: SLUG, runId, event: { eventId: newEventId(t + 1), timestampUs: t + 1, workflowSlug: SLUG, runId, category: "step", stepId: "s", type: "StepScheduled", availableAtUs: t, reason: "initial", attemptNumber: 1, priority: 0 } as Event },
    );
  }));
  await b.batchAppendEvents(items);
}
const admin = new pg.Client(url);
await admin.connect();
// No VACUUM ANALYZE: like bench/claims.ts, the queue is claimed with the statistics autovacuum left (stale ones included).
const meta = (attemptNumber: number) => ({ timestamp: Date.now() * 1000, duration: 100, attemptNumber, output: { ok: true } });
let next = 0;
let done = 0;
const t0 = performance.now();
await Promise.all(Array.from({ length: CLAIMERS }, async (_, loop) => {
  const workerId = WORKER === "shared" ? "w" : `w${loop}`;
  for (;;) {
    if (MODE === "unbatched") {
      const runId = runIds[next++];
      if (!runId) return;
      const c = await b.claimScheduledStep(SLUG, runId, "s", workerId, { dependencies: [], timestamp: 0, attemptNumber: 1 });
      if (!c) throw new Error(`claim of ${runId} returned null`);
      await b.saveStepComplete(SLUG, runId, "s", { ok: true }, meta(c.attemptNumber), true);
      done++;
      continue;
    }
    const got = await b.claimScheduledSteps(workerId, { limit: BATCH, workflowSlug: SLUG });
    if (got.length === 0) return;
    if (MODE === "batched") {
      const res = await b.saveStepCompletes(got.map((c) => ({ ...c, output: { ok: true }, metadata: meta(c.attemptNumber), exportOutput: true })));
      const bad = res.find((r) => !r.ok);
      if (bad && !bad.ok) throw bad.error;
    } else await Promise.all(got.map((c) => b.saveStepComplete(c.workflowSlug, c.runId, c.stepId, { ok: true }, meta(c.attemptNumber), true)));
    done += got.length;
  }
}));
const s = (performance.now() - t0) / 1000;
console.log(`${MODE} claimers=${CLAIMERS} worker=${WORKER}${MODE === "unbatched" ? "" : ` batch=${BATCH}`}: ${done} in ${s.toFixed(2)} s = ${(done / s).toFixed(0)} steps/s`);
await b.close();
await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
await admin.end();
