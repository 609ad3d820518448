// Claim + complete time as the queue drains (dead index entries at the head of the ready index).
import pg from "pg";
import { PostgresBackend } from "../src/index.js";
const url = process.env.BENCH_URL ?? "postgres://root@127.0.0.1:5432/test";
const schema = `trend_${process.pid}`;
const N = Number(process.argv[2] ?? 2000);
const b = new PostgresBackend({ connectionString: url, schema, poolSize: 2 });
await b.initialize();
for (let i = 0; i < N; i++) { await b.submitRun({ workflowSlug: "wf", runId: `r${i}` }); await b.scheduleStep("wf", `r${i}`, "s", { availableAt: 0, reason: "initial", attemptNumber: 1 }); }
let claim = 0, complete = 0;
for (let i = 1; i <= N; i++) {
  let t = performance.now();
  const [g] = await b.claimScheduledSteps("w", { limit: 1 });
  claim += performance.now() - t;
  t = performance.now();
  await b.saveStepComplete(g!.workflowSlug, g!.runId, g!.stepId, 1, { timestamp: 0, duration: 1, attemptNumber: g!.attemptNumber, output: 1 });
  complete += performance.now() - t;
  if (i % (N / 5) === 0) { console.log(`${i}: claim ${(claim / (N / 5)).toFixed(2)} ms, complete ${(complete / (N / 5)).toFixed(2)} ms`); claim = complete = 0; }
}
await b.close();
const c = new pg.Client(url); await c.connect(); await c.query(`DROP SCHEMA "${schema}" CASCADE`); await c.end();
