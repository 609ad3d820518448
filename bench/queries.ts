/**
 * Workload 3: the queries a worker and a dashboard poll, on stores of N finished runs (plus 10 runs with a scheduled
 * step and 5 with a freshly claimed running step): listScheduledSteps, reclaimStaleSteps (60 s threshold: finds
 * nothing stale, measures the scan), listRuns({limit:20}), listRuns({workflowSlug, status: ["pending"], limit: 50}) (what the
 * worker polls), getQueueDepth(), getRun(id), getAnalyticsSummary() (24 h).
 * Median latency (ms) over repetitions after one warm-up call, and memory seen while they ran.
 */
import type { Backend } from "@cairn/backend-interface";
import type { DriverName } from "./drivers.js";
import { addLiveWork, finishedDataset } from "./populate.js";
import { emit, emitError, progress, type BenchContext } from "./report.js";
import { max, median, MemSampler, min, nowMs } from "./stats.js";

const SLOW_MS = 5000;
/** A query whose last size's median, scaled linearly to this size, exceeds this is not run (recorded as an error line). */
const SKIP_IF_LINEAR_ABOVE_MS = 60_000;
/** An asynchronous call that has not answered by then is recorded as an error (a synchronous one cannot be interrupted). */
const CALL_TIMEOUT_MS = 120_000;

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_, reject) => {
        t = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s (not measured)`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(t);
  }
}

interface Query {
  name: string;
  fast: boolean;
  run(b: Backend, i: number, ids: string[]): Promise<unknown>;
}

const QUERIES: Query[] = [
  { name: "listScheduledSteps", fast: true, run: (b) => b.listScheduledSteps() },
  { name: "reclaimStaleSteps", fast: true, run: (b) => b.reclaimStaleSteps(60_000, "bench-reaper") },
  { name: "listRuns(20)", fast: true, run: (b) => b.listRuns({ limit: 20 }) },
  // What the worker polls on every loop iteration, per loaded workflow (startPendingRuns).
  {
    name: "listRuns(pending,50)",
    fast: true,
    run: (b) => b.listRuns({ workflowSlug: "ingest-orders", status: ["pending"], limit: 50 }),
  },
  { name: "getQueueDepth", fast: true, run: (b) => b.getQueueDepth() },
  { name: "getRun", fast: true, run: (b, i, ids) => b.getRun(ids[(i * 7919) % ids.length]!) },
  { name: "getAnalyticsSummary", fast: false, run: (b) => b.getAnalyticsSummary() },
];

/** Targets (ms) by driver and size; only where an issue sets one. */
function target(driver: DriverName, size: number, query: string): number | undefined {
  if (driver === "fs" && size === 10_000)
    return { listScheduledSteps: 20, reclaimStaleSteps: 20, "listRuns(20)": 50, getQueueDepth: 50 }[query];
  if ((driver === "sqlite" || driver === "postgres") && size === 100_000)
    return { listScheduledSteps: 5, getQueueDepth: 5, "listRuns(20)": 5, getRun: 5, getAnalyticsSummary: 1000 }[query];
  return undefined;
}

export function querySizes(driver: DriverName, quick: boolean): number[] {
  if (quick) return [200, 1000];
  return driver === "fs" || driver === "fs-none" ? [1000, 10_000] : [1000, 10_000, 100_000];
}

export async function benchQueries(ctx: BenchContext, sizesOverride?: number[]): Promise<void> {
  // The filesystem store is the same whatever the durability; queries do not write (reclaim finds nothing), so fs only.
  const drivers = [...new Set(ctx.drivers.map((d) => (d === "fs-none" ? "fs" : d)))] as DriverName[];
  for (const driver of drivers) {
    // Latency of each query at the previous size: a query that would take over a minute here even if it scaled
    // linearly is not run (a synchronous driver call cannot be interrupted). Recorded as an error line instead.
    const slow = new Map<string, { ms: number; size: number }>();
    for (const size of sizesOverride ?? querySizes(driver, ctx.quick)) {
      progress(`queries ${driver} ${size} finished runs: preparing`);
      let ds;
      try {
        ds = await finishedDataset(driver, size);
        if (!ds.fromCache) {
          emit(ctx, {
            workload: "populate",
            driver,
            params: { finishedRuns: size },
            runs: 1,
            median: (size * 1000) / ds.populateMs,
            unit: "runs/s",
            min: Number.NaN,
            max: Number.NaN,
            peakRssBytes: process.memoryUsage().rss,
            elapsedMs: ds.populateMs,
          });
        }
        progress(
          `  dataset ${ds.fromCache ? "from cache" : `populated in ${(ds.populateMs / 1000).toFixed(1)} s`}; working copy in ${(ds.restoreMs / 1000).toFixed(1)} s`,
        );
        await addLiveWork(ds.instance.backend, 10, 5);
        const b = ds.instance.backend;
        progress(`queries ${driver} ${size} finished runs: measuring`);
        for (const q of QUERIES) {
          const params = { finishedRuns: size, liveScheduled: 10, liveRunning: 5 };
          try {
            const before = slow.get(q.name);
            if (before && before.ms * (size / before.size) > SKIP_IF_LINEAR_ABOVE_MS) {
              throw new Error(
                `not measured: took ${Math.round(before.ms)} ms at ${before.size.toLocaleString("en-US")} finished runs already (> ${SKIP_IF_LINEAR_ABOVE_MS / 1000} s here even if linear)`,
              );
            }
            const sampler = new MemSampler();
            const tw = nowMs();
            await withTimeout(q.run(b, 0, ds.sampleRunIds), CALL_TIMEOUT_MS).catch((err: unknown) => {
              slow.set(q.name, { ms: CALL_TIMEOUT_MS, size });
              throw err;
            }); // warm-up
            const warmMs = nowMs() - tw;
            const values: number[] = [];
            // A call slower than SLOW_MS is measured once: the warm-up call is the measurement.
            const runs = warmMs > SLOW_MS ? 0 : ctx.runs(q.fast);
            if (runs === 0) values.push(warmMs);
            let resultSize = 0;
            for (let i = 1; i <= runs; i++) {
              const t0 = nowMs();
              const out = await q.run(b, i, ds.sampleRunIds);
              values.push(nowMs() - t0);
              resultSize = Array.isArray(out) ? out.length : out === null ? 0 : 1;
            }
            const mem = sampler.stop();
            slow.set(q.name, { ms: median(values), size });
            const t = target(driver, size, q.name);
            emit(ctx, {
              workload: "query",
              driver,
              params: { query: q.name, ...params },
              runs: values.length,
              median: median(values),
              unit: "ms",
              min: min(values),
              max: max(values),
              peakRssBytes: mem.peakRssBytes,
              peakHeapBytes: mem.peakHeapBytes,
              heapGrowthBytes: mem.heapGrowthBytes,
              resultSize,
              ...(runs === 0 ? { note: "single cold call (slower than 5 s)" } : {}),
              ...(t !== undefined ? { target: `< ${t} ms`, targetMet: median(values) < t } : {}),
            });
          } catch (err) {
            emitError(ctx, "query", driver, { query: q.name, ...params }, err);
          }
        }
      } catch (err) {
        emitError(ctx, "query", driver, { finishedRuns: size }, err);
      } finally {
        await ds?.instance.destroy().catch(() => {});
      }
    }
  }
}
