/**
 * Soak: N one-step runs submitted in one `submitRuns` call, then drained by one in-process worker with 10 slots, with
 * the process's RSS sampled every second. Prints the drain rate and the highest RSS of the first, middle and last
 * tenths of the drain, so growth over the run shows (the enqueue's garbage is still in the first tenth).
 *
 *   node --import tsx bench/soak.ts [sqlite|postgres] [runs]     e.g. sqlite 100000 (default)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { discoverWorkflows, openBackend, registerWorkflows, startWorker } from "@cairn/worker";

const WORKFLOWS = join(dirname(fileURLToPath(import.meta.url)), "workflows");
const driver = process.argv[2] ?? "sqlite";
const runs = Number(process.argv[3] ?? 100_000);
const tmp = mkdtempSync(join(tmpdir(), "cairn-soak-"));
const url =
  driver === "postgres"
    ? `${process.env.DATABASE_URL ?? "postgres://root@127.0.0.1:5432/test"}?schema=soak_${process.pid}`
    : `sqlite:${join(tmp, "soak.db")}`;

const backend = await openBackend(url);
try {
  await registerWorkflows(backend, (await discoverWorkflows(WORKFLOWS)).workflows);
  let t = performance.now();
  const out = await backend.submitRuns(
    Array.from({ length: runs }, (_, i) => ({ workflowSlug: "noop-1", input: { i } })),
  );
  const failed = out.filter((o) => !o.ok).length;
  console.log(
    JSON.stringify({
      phase: "enqueue",
      driver,
      runs,
      failed,
      runsPerSecond: Math.round((runs / (performance.now() - t)) * 1000),
    }),
  );
  const rss: number[] = [];
  const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 1000);
  t = performance.now();
  const worker = await startWorker({ backend, workflowsDir: WORKFLOWS, concurrency: 10, once: true });
  await worker.done;
  clearInterval(sampler);
  const ms = performance.now() - t;
  const tenth = Math.max(1, Math.floor(rss.length / 10));
  const mb = (a: number[]) => (a.length ? Math.round(Math.max(...a) / 1e6) : null);
  console.log(
    JSON.stringify({
      phase: "drain",
      driver,
      runs,
      runsPerSecond: Math.round((runs / ms) * 1000),
      rssMaxMb: {
        firstTenth: mb(rss.slice(0, tenth)),
        middle: mb(rss.slice(tenth, -tenth)),
        lastTenth: mb(rss.slice(-tenth)),
      },
      samples: rss.length,
    }),
  );
} finally {
  await backend.close();
  rmSync(tmp, { recursive: true, force: true });
}
