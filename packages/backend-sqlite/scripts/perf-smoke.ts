// Quick driver-local performance smoke (the real benchmarks live in bench/): throughput of single-step runs with
// 4 in-process claimers, then the polling queries over N finished runs. Usage: node --import tsx perf-smoke.ts [runs]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteBackend } from "../src/index.js";

const N = Number(process.argv[2] ?? 20_000);
const dir = mkdtempSync(join(tmpdir(), "cairn-sqlite-perf-"));
const b = new SqliteBackend(process.env.MEM ? ":memory:" : join(dir, "perf.db"));
await b.initialize();
const meta = { dependencies: [], timestamp: 0, attemptNumber: 0 };

const t0 = performance.now();
let submitted = 0;
let done = 0;
async function producer(): Promise<void> {
  while (submitted < N) {
    const slug = `wf-${submitted % 3}`;
    submitted++;
    const { runId } = await b.submitRun({ workflowSlug: slug, input: { i: submitted }, tags: ["perf"] });
    await b.scheduleStep(slug, runId, "only", { availableAt: b.clock.nowUs(), reason: "initial", attemptNumber: 1 });
  }
}
async function claimer(id: number): Promise<void> {
  while (done < N) {
    const got = await b.claimScheduledSteps(`w${id}`, { limit: 4 });
    if (got.length === 0) { await new Promise((r) => setTimeout(r, 1)); continue; }
    await Promise.all(got.map(async (s) => {
      await b.saveStepComplete(s.workflowSlug, s.runId, s.stepId, { ok: true }, { timestamp: 0, duration: 10, attemptNumber: s.attemptNumber, output: null });
      done++;
    }));
  }
}
await Promise.all([producer(), producer(), producer(), producer(), claimer(1), claimer(2), claimer(3), claimer(4)]);
if (process.env.ONLY) { console.log(`${N} in ${((performance.now() - t0) / 1000).toFixed(2)} s: ${(N / ((performance.now() - t0) / 1000)).toFixed(0)} steps/s`); process.exit(0); }
const secs = (performance.now() - t0) / 1000;
console.log(`${N} single-step runs submitted+scheduled, claimed, completed in ${secs.toFixed(2)} s: ${(N / secs).toFixed(0)} steps/s`);

async function median(label: string, fn: () => Promise<unknown>, reps = 50): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const s = performance.now();
    await fn();
    times.push(performance.now() - s);
  }
  times.sort((x, y) => x - y);
  console.log(`${label}: median ${times[Math.floor(reps / 2)]!.toFixed(3)} ms`);
}
const { runId } = (await b.listRuns({ limit: 1 }))[0]!;
await median("listScheduledSteps", () => b.listScheduledSteps({ limit: 20 }));
await median("loadLiveState (queue depth input)", () => (b as unknown as { loadLiveState: (f: object) => Promise<unknown> }).loadLiveState({}));
await median("listRuns({limit: 20})", () => b.listRuns({ limit: 20 }));
await median("listRuns({status: ['completed'], limit: 20})", () => b.listRuns({ status: ["completed"], limit: 20 }));
await median("listRuns({workflowSlug, tags, limit: 20})", () => b.listRuns({ workflowSlug: "wf-1", tags: ["perf"], limit: 20 }));
await median("getRun", () => b.getRun(runId));
await median("reclaimStaleSteps", () => b.reclaimStaleSteps(60_000, "r"));
await median("listActiveWorkflows", () => b.listActiveWorkflows());
await median("loadAnalyticsEvents 24h", () => (b as unknown as { loadAnalyticsEvents: (w: object) => Promise<unknown[]> }).loadAnalyticsEvents({ startUs: b.clock.nowUs() - 86_400_000_000, endUs: b.clock.nowUs() }), 3);
const mem = process.memoryUsage();
console.log(`rss ${(mem.rss / 1e6).toFixed(0)} MB`);
await b.close();
rmSync(dir, { recursive: true, force: true });
