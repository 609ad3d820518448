/**
 * Postgres only:
 *  - enqueue-to-claim latency with LISTEN/NOTIFY: one backend subscribes; a second backend (own pool, as another
 *    process would) schedules a step of a started run; we time from the scheduleStep call to the listener firing, and
 *    to the listener's claimScheduledStep succeeding. Samples are sequential, with a short random gap.
 *  - row writes and round trips per step: round trips by wrapping client.query of the backend's pool (every pg
 *    client.query is one round trip; BEGIN/COMMIT included); row writes from pg_stat_user_tables deltas (inserts +
 *    updates + deletes) of the benchmark schema, read after the pool is closed (a backend flushes its statistics when
 *    its connection ends). pg_stat_statements is not loaded on this server (shared_preload_libraries is empty).
 * Claim → complete throughput (unbatched / batched) is in claims.ts.
 */
import pg from "pg";
import { PostgresBackend } from "@cairn/backend-postgres";
import { createDriver, DATABASE_URL, sql } from "./drivers.js";
import { prepareScheduled, claimCompleteRate } from "./claims.js";
import { oneLife } from "./lifecycle.js";
import { emit, emitError, progress, type BenchContext } from "./report.js";
import { max, median, MemSampler, min, nowMs, percentile, sleep } from "./stats.js";
import { registerManual } from "../test-support/register.js";

const SLUG = "ingest-orders";

export async function benchNotifyLatency(ctx: BenchContext): Promise<void> {
  const params = { samples: ctx.quick ? 10 : 200 };
  progress(`postgres notify latency ${JSON.stringify(params)}`);
  const inst = await createDriver("postgres");
  await registerManual(inst.backend, SLUG);
  let scheduler: Awaited<ReturnType<typeof inst.reopen>> | undefined;
  try {
    const listener = inst.backend;
    scheduler = await inst.reopen();
    const ids: string[] = [];
    for (let i = 0; i < params.samples; i++) {
      const { runId } = await scheduler.submitRun({ workflowSlug: SLUG, input: { i } });
      await scheduler.startRun(SLUG, runId, { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: true });
      ids.push(runId);
    }
    let wake: (() => void) | null = null;
    const unsubscribe = listener.subscribe(() => wake?.());
    await sleep(500); // the LISTEN connection is up (it fires once on connect)
    const wakeMs: number[] = [];
    const claimMs: number[] = [];
    const commitMs: number[] = [];
    const sampler = new MemSampler();
    for (const runId of ids) {
      const fired = new Promise<number>((resolve) => {
        wake = () => {
          wake = null;
          resolve(nowMs());
        };
      });
      const t0 = nowMs();
      await scheduler.scheduleStep(SLUG, runId, "process", {
        availableAt: scheduler.clock.nowUs(),
        reason: "initial",
        attemptNumber: 1,
      });
      const tCommit = nowMs();
      const tWake = await Promise.race([fired, sleep(5000).then(() => Number.NaN)]);
      if (Number.isNaN(tWake)) throw new Error("no notification within 5 s of scheduling a step");
      const claimed = await listener.claimScheduledStep(SLUG, runId, "process", "listener", {
        dependencies: [],
        timestamp: Date.now() * 1000,
        attemptNumber: 1,
      });
      if (!claimed) throw new Error(`claim after wake-up returned null (${runId})`);
      const tClaim = nowMs();
      wakeMs.push(tWake - t0);
      claimMs.push(tClaim - t0);
      commitMs.push(tCommit - t0);
      await sleep(2 + Math.random() * 8);
    }
    unsubscribe();
    const mem = sampler.stop();
    const base = {
      workload: "pg-notify-latency",
      driver: "postgres",
      runs: wakeMs.length,
      unit: "ms",
      peakRssBytes: mem.peakRssBytes,
    };
    for (const [what, v] of [
      ["schedule→listener fired", wakeMs],
      ["schedule→claim succeeded", claimMs],
      ["scheduleStep call (commit) alone", commitMs],
    ] as const) {
      emit(ctx, {
        ...base,
        params: { ...params, measure: what },
        median: median([...v]),
        min: min([...v]),
        max: max([...v]),
        p50: percentile([...v], 50),
        p99: percentile([...v], 99),
        ...(what === "schedule→listener fired" ? { target: "p50 < 5 ms", targetMet: percentile([...v], 50) < 5 } : {}),
      });
    }
  } catch (err) {
    emitError(ctx, "pg-notify-latency", "postgres", params, err);
  } finally {
    await scheduler?.close().catch(() => {});
    await inst.destroy();
  }
}

interface TableStats {
  relname: string;
  ins: number;
  upd: number;
  del: number;
  hot: number;
}

async function tableStats(schema: string): Promise<Map<string, TableStats>> {
  const rows = await sql<{ relname: string; ins: string; upd: string; del: string; hot: string }>(
    "SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_del AS del, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE schemaname = $1",
    [schema],
  );
  return new Map(
    rows.map((r) => [
      r.relname,
      { relname: r.relname, ins: Number(r.ins), upd: Number(r.upd), del: Number(r.del), hot: Number(r.hot) },
    ]),
  );
}

async function settledStats(schema: string): Promise<Map<string, TableStats>> {
  // Statistics of ended connections arrive shortly after they end: read until two reads agree.
  let prev = JSON.stringify([...(await tableStats(schema)).entries()]);
  for (let i = 0; i < 20; i++) {
    await sleep(250);
    const cur = await tableStats(schema);
    const s = JSON.stringify([...cur.entries()]);
    if (s === prev) return cur;
    prev = s;
  }
  return tableStats(schema);
}

/** A backend on its own pool whose round trips are counted. */
async function countingBackend(
  schema: string,
): Promise<{ backend: PostgresBackend; pool: pg.Pool; trips: () => number; reset: () => void }> {
  let trips = 0;
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
  pool.on("connect", (client) => {
    const q = client.query.bind(client) as (...a: unknown[]) => unknown;
    (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
      trips++;
      return q(...a);
    };
  });
  const backend = new PostgresBackend({ pool, schema, listen: false });
  await backend.initialize();
  return {
    backend,
    pool,
    trips: () => trips,
    reset: () => {
      trips = 0;
    },
  };
}

export async function benchRoundTrips(ctx: BenchContext): Promise<void> {
  const steps = ctx.quick ? 50 : 300;
  const scenarios = [
    { name: "claim+complete (unbatched)", perUnit: "step" },
    { name: "claim+complete (batch claim, limit 32)", perUnit: "step" },
    { name: "claim+complete (batch claim + saveStepCompletes, 32)", perUnit: "step" },
    { name: "full single-step run life (6 calls)", perUnit: "run" },
    { name: "submitRun", perUnit: "run" },
  ];
  for (const sc of scenarios) {
    const params = { scenario: sc.name, units: steps };
    progress(`postgres round trips ${JSON.stringify(params)}`);
    const inst = await createDriver("postgres");
    try {
      await registerManual(inst.backend, SLUG);
      const schema = inst.location;
      const refs = sc.name.startsWith("claim") ? await prepareScheduled(inst.backend, steps) : [];
      await inst.backend.close();
      const before = await settledStats(schema);
      const c = await countingBackend(schema);
      c.reset();
      const t0 = nowMs();
      if (sc.name.startsWith("claim+complete (unbatched)")) await claimCompleteRate(c.backend, refs, 1, 1e9, 0);
      else if (sc.name.includes("saveStepCompletes")) await claimCompleteRate(c.backend, refs, 1, 1e9, 32, true);
      else if (sc.name.startsWith("claim+complete (batch")) await claimCompleteRate(c.backend, refs, 1, 1e9, 32);
      else if (sc.name.startsWith("full")) for (let i = 0; i < steps; i++) await oneLife(c.backend, i, "rt-worker");
      else for (let i = 0; i < steps; i++) await c.backend.submitRun({ workflowSlug: SLUG, input: { i } });
      const elapsed = nowMs() - t0;
      const trips = c.trips();
      await c.backend.close();
      await c.pool.end();
      const after = await settledStats(schema);
      const perTable: Record<string, { inserts: number; updates: number; deletes: number; hotUpdates: number }> = {};
      let writes = 0;
      for (const [name, a] of after) {
        const b = before.get(name) ?? { ins: 0, upd: 0, del: 0, hot: 0 };
        const d = {
          inserts: (a.ins - b.ins) / steps,
          updates: (a.upd - b.upd) / steps,
          deletes: (a.del - b.del) / steps,
          hotUpdates: (a.hot - b.hot) / steps,
        };
        if (d.inserts || d.updates || d.deletes) perTable[name] = d;
        writes += d.inserts + d.updates + d.deletes;
      }
      emit(ctx, {
        workload: "pg-cost-per-step",
        driver: "postgres",
        params,
        runs: 1,
        median: trips / steps,
        unit: `round trips per ${sc.perUnit}`,
        min: Number.NaN,
        max: Number.NaN,
        peakRssBytes: process.memoryUsage().rss,
        rowWritesPerUnit: writes,
        rowWritesByTable: perTable,
        sequentialRatePerSecond: (steps * 1000) / elapsed,
      });
    } catch (err) {
      emitError(ctx, "pg-cost-per-step", "postgres", params, err);
    } finally {
      await inst.destroy().catch(() => {});
    }
  }
}
