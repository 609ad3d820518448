import { PostgresBackend } from "../src/index.js";
const b = new PostgresBackend({ connectionString: "postgres://root@127.0.0.1:5432/test", schema: process.env.SCHEMA ?? "scale_keep", poolSize: 4 });
await b.initialize();
for (const [k, f] of Object.entries({ activeWorkers: () => b.getActiveWorkers(), errorsList: () => b.getErrorsList(), summary: () => b.getAnalyticsSummary() })) {
  const t = performance.now(); await f(); console.log(k.padEnd(18), (performance.now() - t).toFixed(0), "ms");
}
await b.close();
