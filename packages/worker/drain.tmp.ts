import { SqliteBackend } from "@cairn/backend-sqlite";
import { PostgresBackend } from "@cairn/backend-postgres";
import { startWorker } from "./src/index.js";
import { rmSync } from "node:fs";
const which = process.argv[2] ?? "sqlite";
const slug = process.argv[3] ?? "noop-1";
const N = Number(process.argv[4] ?? 5000);
let b;
if (which === "sqlite") {
  for (const f of ["", "-wal", "-shm"]) rmSync("/tmp/cairn-scratch/drain.db" + f, { force: true });
  b = new SqliteBackend("/tmp/cairn-scratch/drain.db");
} else b = new PostgresBackend({ connectionString: "postgres://root@127.0.0.1:5432/test", schema: "drain_" + Date.now() });
await b.initialize();
// register by starting a worker first (it registers), then stop
const w0 = await startWorker({ backend: b, workflowsDir: "../../bench/workflows", concurrency: 10 });
await w0.stop();
let t = performance.now();
const out = await b.submitRuns(Array.from({ length: N }, (_, i) => ({ workflowSlug: slug, input: { i } })));
const subMs = performance.now() - t;
console.log("enqueue", N, Math.round(N / subMs * 1000), "/s", out.filter((o) => o.ok).length, (await b.getRun((out[0] as any).runId))?.status);
t = performance.now();
const w = await startWorker({ backend: b, workflowsDir: "../../bench/workflows", concurrency: 10, once: true });
await w.done;
const ms = performance.now() - t;
const steps = slug === "noop-5" ? 5 : 1;
console.log(which, slug, "drain", N, Math.round(ms), "ms", Math.round(N / ms * 1000), "runs/s", Math.round(N * steps / ms * 1000), "steps/s");
const done = await b.listRuns({ status: ["completed"], limit: N + 1 });
console.log("completed", done.length);
await b.close();
