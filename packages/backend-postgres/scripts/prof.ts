import { PostgresBackend } from "../src/index.js";
import pg from "pg";
const url = process.env.BENCH_URL!;
const schema = "prof_" + process.pid;
const b = new PostgresBackend({ connectionString: url, schema, poolSize: 2 });
await b.initialize();
for (let i = 0; i < 500; i++) { await b.submitRun({ workflowSlug: "wf", runId: `r${i}` }); await b.scheduleStep("wf", `r${i}`, "s", { availableAt: 0, reason: "initial", attemptNumber: 1 }); }
const t = { claim: 0, complete: 0, list: 0, claimOne: 0 };
for (let i = 0; i < 200; i++) {
  let t0 = performance.now(); const l = await b.listScheduledSteps({ limit: 1 }); t.list += performance.now() - t0;
  t0 = performance.now(); const got = await b.claimScheduledSteps("w", { limit: 1 }); t.claim += performance.now() - t0;
  const g = got[0]!;
  t0 = performance.now(); await b.saveStepComplete(g.workflowSlug, g.runId, g.stepId, 1, { timestamp: 0, duration: 1, attemptNumber: g.attemptNumber, output: 1 }); t.complete += performance.now() - t0;
}
for (let i = 0; i < 100; i++) { const l = (await b.listScheduledSteps({ limit: 1 }))[0]!; const t0 = performance.now(); await b.claimScheduledStep(l.workflowSlug, l.runId, l.stepId, "w", { dependencies: [], timestamp: 0, attemptNumber: 0 }); t.claimOne += performance.now() - t0; }
console.log(Object.fromEntries(Object.entries(t).map(([k, v]) => [k, (v / (k === "claimOne" ? 100 : 200)).toFixed(2) + " ms"])));
await b.close();
const c = new pg.Client(url); await c.connect(); await c.query(`DROP SCHEMA "${schema}" CASCADE`); await c.end();
