import pg from "pg";
import { PostgresBackend } from "@cairn/backend-postgres";
const pool = new pg.Pool({ connectionString: "postgres://root@127.0.0.1:5432/test", max: 4 });
pool.on("connect", (client) => {
  const q = client.query.bind(client) as (...a: any[]) => any;
  (client as any).query = (...a: any[]) => { const t = performance.now(); const r = q(...a); const name = typeof a[0] === "string" ? a[0].slice(0, 30) : a[0]?.name ?? a[0]?.text?.slice(0, 40); if (r && r.then) r.then(() => { const ms = performance.now() - t; if (ms > 20) console.log("  ", name, ms.toFixed(0), "ms"); }); return r; };
});
const b = new PostgresBackend({ pool, schema: "sub_" + Date.now(), listen: false });
await b.initialize();
const steps = [{ id: "a", name: "a" }];
await b.createWorkflowVersion({ workflowSlug: "wf", versionId: "v1", contentHash: "h", steps });
await b.registerWorkflow({ slug: "wf", name: "wf", versionId: "v1", steps });
const N = Number(process.argv[2] ?? 5000);
const items = Array.from({ length: N }, (_, i) => ({ workflowSlug: "wf", input: { i } }));
let t = performance.now();
const out = await b.submitRuns(items);
const ms = performance.now() - t;
console.log("submitRuns", N, ms.toFixed(0), "ms", Math.round(N / ms * 1000), "/s", out.filter((o) => o.ok).length);
await b.close(); await pool.end();
