import { PostgresBackend } from "../src/index.js";
import pg from "pg";
const url = process.env.BENCH_URL ?? "postgres://root@127.0.0.1:5432/test";
const schema = "bench_" + process.pid;
const N = Number(process.argv[2] ?? 3000);
const mode = process.argv[3] ?? "unbatched";
const conc = Number(process.argv[4] ?? 16);
const b = new PostgresBackend({ connectionString: url, schema, poolSize: conc });
await b.initialize();
// seed: N runs x 1 step via batchAppendEvents-like path: submit + schedule
const t0 = performance.now();
const seedConc = 16; let next = 0;
await Promise.all(Array.from({ length: seedConc }, async () => {
  for (;;) { const i = next++; if (i >= N) return;
    await b.submitRun({ workflowSlug: "wf", runId: `r${i}` });
    await b.scheduleStep("wf", `r${i}`, "s", { availableAt: 0, reason: "initial", attemptNumber: 1 });
  }
}));
console.log(`seed ${N} runs: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
const t1 = performance.now();
let done = 0;
await Promise.all(Array.from({ length: conc }, async () => {
  for (;;) {
    const got = await b.claimScheduledSteps("w", { limit: mode === "batched" ? 50 : 1 });
    if (got.length === 0) return;
    if (mode === "batched" && (b as any).completeSteps) await (b as any).completeSteps(got.map((g: any) => ({ ...g, output: 1, durationUs: 1 })));
    else for (const g of got) await b.saveStepComplete(g.workflowSlug, g.runId, g.stepId, 1, { timestamp: 0, duration: 1, attemptNumber: g.attemptNumber, output: 1 });
    done += got.length;
  }
}));
const s = (performance.now() - t1) / 1000;
console.log(`${mode} conc=${conc}: ${done} claim+complete in ${s.toFixed(2)} s = ${(done / s).toFixed(0)} steps/s`);
const t2 = performance.now(); for (let i = 0; i < 200; i++) await b.listScheduledSteps({ limit: 10 }); console.log(`listScheduled ${( (performance.now()-t2)/200).toFixed(3)} ms`);
await b.close();
const c = new pg.Client(url); await c.connect(); await c.query(`DROP SCHEMA "${schema}" CASCADE`); await c.end();
