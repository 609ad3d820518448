// Step throughput of single-step runs with concurrent in-process loops, SQLite.
// Usage: node --import tsx step-throughput.ts [steps=4000] [loops=4] [mode=e2e|unbatched|batched|batched-each] [batch=32]
//   e2e:          each loop: submitRun → scheduleStep → claimScheduledStep → saveStepComplete (nothing prepared)
//   unbatched:    steps prepared; claimScheduledStep(ref) + saveStepComplete per step (like bench/claims.ts)
//   batched:      steps prepared; claimScheduledSteps({limit}) + saveStepCompletes (one transaction each)
//   batched-each: steps prepared; claimScheduledSteps({limit}) + concurrent saveStepComplete per step
// Prints steps/s of wall time and of this process's CPU time.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteBackend } from "../src/index.js";

const [N, LOOPS, MODE, BATCH] = [Number(process.argv[2] ?? 4000), Number(process.argv[3] ?? 4), process.argv[4] ?? "e2e", Number(process.argv[5] ?? 32)];
const dir = mkdtempSync(join(tmpdir(), "cairn-tput-"));
const b = new SqliteBackend(join(dir, "t.db"));
await b.initialize();
const SLUG = "wf";
const meta = (attemptNumber: number) => ({ timestamp: 0, duration: 100, attemptNumber, output: { ok: true } });
const ids: string[] = [];
if (MODE !== "e2e") {
  await Promise.all(Array.from({ length: 8 }, async (_, w) => {
    for (let i = w; i < N; i += 8) {
      const { runId } = await b.submitRun({ workflowSlug: SLUG, input: { i } });
      await b.scheduleStep(SLUG, runId, "s", { availableAt: b.clock.nowUs(), reason: "initial", attemptNumber: 1 });
      ids.push(runId);
    }
  }));
}
let next = 0;
let done = 0;
const t0 = performance.now();
const c0 = process.cpuUsage();
await Promise.all(Array.from({ length: LOOPS }, async (_, w) => {
  const workerId = `w${w}`;
  for (;;) {
    if (MODE === "e2e" || MODE === "unbatched") {
      let runId: string | undefined;
      if (MODE === "e2e") {
        if (next++ >= N) return;
        runId = (await b.submitRun({ workflowSlug: SLUG, input: { i: next } })).runId;
        await b.scheduleStep(SLUG, runId, "s", { availableAt: b.clock.nowUs(), reason: "initial", attemptNumber: 1 });
      } else if (!(runId = ids[next++])) return;
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
      for (const r of res) if (!r.ok) throw r.error;
    } else await Promise.all(got.map((c) => b.saveStepComplete(c.workflowSlug, c.runId, c.stepId, { ok: true }, meta(c.attemptNumber), true)));
    done += got.length;
  }
}));
const secs = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(c0);
console.log(`${MODE} loops=${LOOPS}${MODE.startsWith("batched") ? ` batch=${BATCH}` : ""}: ${done} steps in ${secs.toFixed(2)} s = ${(done / secs).toFixed(0)} steps/s wall, ${(done / ((cpu.user + cpu.system) / 1e6)).toFixed(0)} steps/s of CPU`);
await b.close();
rmSync(dir, { recursive: true, force: true });
