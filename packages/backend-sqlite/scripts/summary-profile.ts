// Times getAnalyticsSummary (and its parts) on a copy of a database: node --import tsx summary-profile.ts <db>
import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteBackend } from "../src/index.js";

const src = process.argv[2]!;
const file = join(mkdtempSync(join(tmpdir(), "cairn-sum-")), "db.sqlite");
copyFileSync(src, file);
const b = new SqliteBackend(file);
const t0 = performance.now();
await b.initialize();
console.log(`open+migrate: ${(performance.now() - t0).toFixed(0)} ms`);
const time = async (label: string, fn: () => Promise<unknown>) => {
  const t = performance.now();
  const c = process.cpuUsage();
  await fn();
  const cpu = process.cpuUsage(c);
  console.log(
    `${label}: ${(performance.now() - t).toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms cpu`,
  );
};
await time("summary (cold)", () => b.getAnalyticsSummary());
await time("summary", () => b.getAnalyticsSummary());
for (const q of [
  "getSuccessRate",
  "getThroughput",
  "getStepDuration",
  "getWorkflowDuration",
  "getSchedulingLatency",
  "getRetryAnalysis",
  "getErrorAnalysis",
  "getWorkerStability",
] as const) {
  await time(q, () => b[q]());
}
const raw = b as unknown as { loadAnalyticsEvents: (w: object) => Promise<unknown[]> };
console.log(`rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
await b.close();
