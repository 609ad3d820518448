/**
 * Worker workloads (the worker issue), with the real `cairn worker` CLI in separate OS processes:
 *  - throughput: N runs of a 1-step or a 5-step (chain) no-op workflow are submitted first; then 1 or 2
 *    `cairn worker --once --concurrency 4` processes drain the queue. Runs/s and steps/s are computed from the runs'
 *    own timestamps (first step start → last WorkflowCompleted), so process start-up (tsx, discovery) is excluded.
 *  - enqueue-to-start latency with an idle worker: one `cairn worker` process waits for a wake-up (LISTEN/NOTIFY on
 *    Postgres, PRAGMA data_version on SQLite, the doorbell file on fs; a 1000 ms fallback poll); we submit a 1-step
 *    run and take StepStarted.timestampUs minus the submit time (both processes use the same wall-clock-based µs
 *    clock), one run at a time.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { systemClock, type Backend } from "@cairn/backend-interface";
import { createDriver, type BenchInstance, type DriverName } from "./drivers.js";
import { emit, emitError, progress, type BenchContext } from "./report.js";
import { max, median, min, percentile, pool, sleep } from "./stats.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CAIRN = join(ROOT, "packages/worker/bin/cairn.js");
const WORKFLOWS = join(ROOT, "bench/workflows");
const CONCURRENCY = 4;

const RUNS_1STEP: Record<DriverName, number> = { fs: 150, "fs-none": 300, sqlite: 300, postgres: 250 };

function spawnWorker(
  url: string,
  extra: string[],
): { child: ChildProcess; exited: Promise<number>; output: () => string; started: Promise<void> } {
  const child = spawn(
    process.execPath,
    [
      "--conditions=@cairn/source",
      CAIRN,
      "worker",
      "--workflows",
      WORKFLOWS,
      "--backend",
      url,
      "--concurrency",
      String(CONCURRENCY),
      "--json",
      ...extra,
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env } },
  );
  let out = "";
  let markStarted: () => void = () => {};
  const started = new Promise<void>((r) => {
    markStarted = r;
  });
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    if (out.includes('"worker:started"')) markStarted();
  });
  child.stderr!.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number>((r) => child.on("exit", (code) => r(code ?? -1)));
  return { child, exited, output: () => out, started };
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_, rej) => {
        t = setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(t);
  }
}

/** Registers the bench workflows (as a deploy or a worker's start would) so runs can be submitted before a worker runs. */
async function registerBenchWorkflows(b: Backend): Promise<void> {
  const { discoverWorkflows, registerWorkflows } = await import("@cairn/worker");
  await registerWorkflows(b, (await discoverWorkflows(WORKFLOWS)).workflows);
}

async function submitMany(b: Backend, slug: string, n: number): Promise<string[]> {
  if (!(await b.getWorkflowMetadata(slug))) await registerBenchWorkflows(b);
  const ids: string[] = [];
  await pool(
    Array.from({ length: n }, (_, i) => i),
    8,
    async (i) => {
      ids.push((await b.submitRun({ workflowSlug: slug, input: { i } })).runId);
    },
  );
  return ids;
}

export async function workerThroughputOnce(
  inst: BenchInstance,
  slug: string,
  steps: number,
  runs: number,
  processes: number,
): Promise<{ runsPerSecond: number; stepsPerSecond: number; wallMs: number }> {
  const ids = await submitMany(inst.backend, slug, runs);
  const t0 = performance.now();
  const workers = Array.from({ length: processes }, () => spawnWorker(inst.url, ["--once"]));
  const codes = await withTimeout(Promise.all(workers.map((w) => w.exited)), 300_000, "cairn worker --once");
  const wallMs = performance.now() - t0;
  codes.forEach((c, i) => {
    if (c !== 0) throw new Error(`cairn worker exited ${c}: ${workers[i]!.output().slice(-600)}`);
  });
  let first = Infinity;
  let last = 0;
  let done = 0;
  for (const id of ids) {
    const r = await inst.backend.getRun(id);
    if (!r || r.status !== "completed") continue;
    done++;
    // The store starts a run when it is submitted, before any worker runs: the window opens at the first step start.
    const started = (await inst.backend.loadRun(r.workflowSlug, id)).map(
      (s) => s.stateChanges.find((c) => c.status === "running")?.timestampUs ?? Infinity,
    );
    first = Math.min(first, ...started);
    last = Math.max(last, r.endedAtUs ?? 0);
  }
  if (done !== runs)
    throw new Error(`only ${done}/${runs} runs completed; worker output: ${workers[0]!.output().slice(-600)}`);
  const seconds = (last - first) / 1e6;
  return { runsPerSecond: runs / seconds, stepsPerSecond: (runs * steps) / seconds, wallMs };
}

export async function benchWorkerThroughput(ctx: BenchContext): Promise<void> {
  const drivers = ctx.drivers.filter((d) => d !== "fs-none" || !ctx.drivers.includes("fs"));
  for (const driver of drivers) {
    for (const wf of [
      { slug: "noop-1", steps: 1 },
      { slug: "noop-5", steps: 5 },
    ]) {
      for (const processes of [1, 2]) {
        const runs = ctx.quick ? 10 : Math.round(RUNS_1STEP[driver] / (wf.steps === 1 ? 1 : 2.5));
        const params = {
          workflow: wf.slug,
          stepsPerRun: wf.steps,
          processes,
          concurrencyPerProcess: CONCURRENCY,
          queuedRuns: runs,
        };
        progress(`worker ${driver} ${JSON.stringify(params)}`);
        try {
          const rates: number[] = [];
          const stepRates: number[] = [];
          const walls: number[] = [];
          for (let r = 0; r < ctx.runs(); r++) {
            const inst = await createDriver(driver);
            try {
              const res = await workerThroughputOnce(inst, wf.slug, wf.steps, runs, processes);
              rates.push(res.runsPerSecond);
              stepRates.push(res.stepsPerSecond);
              walls.push(res.wallMs);
            } finally {
              await inst.destroy();
            }
          }
          emit(ctx, {
            workload: "worker-throughput",
            driver,
            params,
            runs: rates.length,
            median: median(rates),
            unit: "runs/s",
            min: min(rates),
            max: max(rates),
            peakRssBytes: process.memoryUsage().rss,
            stepsPerSecondMedian: median(stepRates),
            wallMsMedian: median(walls),
          });
        } catch (err) {
          emitError(ctx, "worker-throughput", driver, params, err);
        }
      }
    }
  }
}

export async function benchWorkerLatency(ctx: BenchContext): Promise<void> {
  const drivers = ctx.drivers.filter((d) => d !== "fs-none" || !ctx.drivers.includes("fs"));
  for (const driver of drivers) {
    const samples = ctx.quick ? 5 : driver === "postgres" ? 60 : 30;
    const params = {
      workflow: "noop-1",
      samples,
      wakeups:
        driver === "postgres"
          ? "LISTEN/NOTIFY (poll 2000 ms)"
          : driver === "sqlite"
            ? "data_version every 3 ms (poll 1000 ms)"
            : "doorbell fs.watch (poll 1000 ms)",
    };
    progress(`worker latency ${driver} ${JSON.stringify(params)}`);
    const inst = await createDriver(driver);
    let w: ReturnType<typeof spawnWorker> | undefined;
    try {
      w = spawnWorker(inst.url, []);
      await withTimeout(w.started, 60_000, "cairn worker start");
      await sleep(1000);
      const startLat: number[] = [];
      const b = inst.backend;
      for (let i = 0; i < samples; i++) {
        const t0 = systemClock.nowUs();
        const { runId } = await b.submitRun({ workflowSlug: "noop-1", input: { i } });
        const deadline = performance.now() + 15_000;
        let run = await b.getRun(runId);
        while (run?.status !== "completed") {
          if (performance.now() > deadline)
            throw new Error(
              `run ${runId} not completed after 15 s (status ${run?.status}); worker output: ${w.output().slice(-400)}`,
            );
          await sleep(5);
          run = await b.getRun(runId);
        }
        const events = await b.loadEvents("noop-1", runId, { category: "step" });
        const started = events.find((e) => e.type === "StepStarted");
        if (!started) throw new Error(`no StepStarted in ${runId}`);
        startLat.push((started.timestampUs - t0) / 1000);
        await sleep(20 + Math.random() * 200);
      }
      emit(ctx, {
        workload: "worker-enqueue-to-start",
        driver,
        params,
        runs: startLat.length,
        median: median(startLat),
        unit: "ms",
        min: min(startLat),
        max: max(startLat),
        p50: percentile(startLat, 50),
        p99: percentile(startLat, 99),
        peakRssBytes: process.memoryUsage().rss,
        ...(driver === "postgres" ? { target: "p50 < 10 ms", targetMet: percentile(startLat, 50) < 10 } : {}),
      });
    } catch (err) {
      emitError(ctx, "worker-enqueue-to-start", driver, params, err);
    } finally {
      if (w) {
        w.child.kill("SIGTERM");
        await withTimeout(w.exited, 20_000, "worker stop").catch(() => w!.child.kill("SIGKILL"));
      }
      await inst.destroy();
    }
  }
}
