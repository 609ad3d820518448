// Claim → complete of pre-scheduled single-step runs with 4 concurrent in-process claimers (like bench/claims.ts).
// Usage: node --import tsx claims-smoke.ts [steps] [batch]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteBackend } from "../src/index.js";

const N = Number(process.argv[2] ?? 4000);
const BATCH = Number(process.argv[3] ?? 0);
const dir = mkdtempSync(join(tmpdir(), "cairn-claims-"));
const b = new SqliteBackend(join(dir, "c.db"));
await b.initialize();
const ids: string[] = [];
await Promise.all(Array.from({ length: 8 }, async (_, w) => {
  for (let i = w; i < N; i += 8) {
    const { runId } = await b.submitRun({ workflowSlug: "wf", input: { i } });
    await b.startRun("wf", runId, { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: true });
    await b.scheduleStep("wf", runId, "process", { availableAt: b.clock.nowUs(), reason: "initial", attemptNumber: 1 });
    ids.push(runId);
  }
}));
let next = 0;
let done = 0;
const t0 = performance.now();
const c0 = process.cpuUsage();
await Promise.all(Array.from({ length: 4 }, async (_, w) => {
  for (;;) {
    if (BATCH) {
      const got = await b.claimScheduledSteps(`w${w}`, { limit: BATCH });
      if (!got.length) return;
      await Promise.all(got.map((c) => b.saveStepComplete("wf", c.runId, c.stepId, { ok: true }, { timestamp: 0, duration: 100, attemptNumber: c.attemptNumber, output: null }, true)));
      done += got.length;
    } else {
      const runId = ids[next++];
      if (!runId) return;
      const c = await b.claimScheduledStep("wf", runId, "process", `w${w}`, { dependencies: [], timestamp: 0, attemptNumber: 1 });
      await b.saveStepComplete("wf", runId, "process", { ok: true }, { timestamp: 0, duration: 100, attemptNumber: c!.attemptNumber, output: null }, true);
      done++;
    }
  }
}));
const secs = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(c0);
console.log(`${done} claim+complete in ${secs.toFixed(2)} s: ${(done / secs).toFixed(0)} steps/s wall, ${(done / ((cpu.user + cpu.system) / 1e6)).toFixed(0)} steps/s of CPU`);
await b.close();
rmSync(dir, { recursive: true, force: true });
