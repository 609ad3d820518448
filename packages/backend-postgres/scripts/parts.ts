import { PostgresBackend } from "../src/index.js";
const b = new PostgresBackend({
  connectionString: "postgres://root@127.0.0.1:5432/test",
  schema: "scale_keep",
  poolSize: 4,
});
await b.initialize();
for (const [k, f] of Object.entries({
  successRate: () => b.getSuccessRate(),
  throughput: () => b.getThroughput(),
  stepDuration: () => b.getStepDuration(),
  workflowDuration: () => b.getWorkflowDuration(),
  latency: () => b.getSchedulingLatency(),
  retries: () => b.getRetryAnalysis(),
  errors: () => b.getErrorAnalysis(),
  stability: () => b.getWorkerStability(),
  summary: () => b.getAnalyticsSummary(),
})) {
  await f();
  const t = performance.now();
  await f();
  console.log(k.padEnd(18), (performance.now() - t).toFixed(0), "ms");
}
await b.close();
