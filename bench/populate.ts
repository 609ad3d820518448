/**
 * Datasets of finished runs, written through the public API (submitRun + batchAppendEvents) with realistic events:
 * RunSubmitted, WorkflowStarted, StepScheduled, StepStarted, StepCompleted / StepFailed (+ StepRetrying and a second
 * attempt), WorkflowCompleted / WorkflowFailed. Timestamps are spread over the last 48 h, so a 24 h window covers
 * about half. The RunSubmitted event comes from submitRun itself: a clock bound per async context (SimClock) gives it
 * the simulated submission time, so createdAt, run ids and event ids are what a real submission at that time makes.
 *
 * Filesystem and SQLite datasets are cached under /tmp (CAIRN_BENCH_CACHE) keyed by driver and size and reused while
 * younger than 6 h; Postgres datasets are written into a fresh schema each time (and dropped afterwards).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import {
  computeErrorFingerprints,
  newEventId,
  systemClock,
  type Backend,
  type Clock,
  type Event,
} from "@cairn/backend-interface";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";
import { createDriver, DATABASE_URL, dropSchema, sql, type BenchInstance, type DriverName } from "./drivers.js";

const execFileP = promisify(execFile);
import { pool } from "./stats.js";
import { progress } from "./report.js";

export const CACHE_DIR = process.env.CAIRN_BENCH_CACHE ?? join(tmpdir(), "cairn-bench-cache");
const CACHE_FORMAT = 2;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CACHE_MAX_AGE_MS = 6 * 3600_000;
const HOUR_US = 3600_000_000;

/** A clock whose time is set per async context (for simulated submissions), else the system clock. */
export class SimClock implements Clock {
  private readonly als = new AsyncLocalStorage<{ t: number }>();
  nowUs(): number {
    const s = this.als.getStore();
    return s ? s.t++ : systemClock.nowUs();
  }
  at<T>(tUs: number, fn: () => Promise<T>): Promise<T> {
    return this.als.run({ t: tUs }, fn);
  }
}

/** The workflows of the datasets: two single-step ones and a two-step one. */
export const WORKFLOWS = [
  { slug: "ingest-orders", steps: [{ id: "process", dependencies: [] as string[] }] },
  {
    slug: "sync-accounts",
    steps: [
      { id: "fetch", dependencies: [] as string[] },
      { id: "store", dependencies: ["fetch"] },
    ],
  },
  { slug: "send-emails", steps: [{ id: "send", dependencies: [] as string[] }] },
] as const;

export async function registerBenchWorkflows(backend: Backend): Promise<void> {
  for (const w of WORKFLOWS) {
    await backend.registerWorkflow({
      slug: w.slug,
      name: w.slug,
      steps: w.steps.map((s) => ({
        id: s.id,
        name: s.id,
        dependencies: [...s.dependencies],
        exportOutput: true,
        maxRetries: 2,
      })),
    });
  }
}

/** Deterministic pseudo-random numbers (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORKERS = ["worker-a-1201", "worker-b-1202", "worker-c-1203", "worker-d-1204"];
const ERRORS = [
  {
    name: "TimeoutError",
    message: "Request to https://api.example.com/orders/4411 timed out after 30000 ms",
    stack:
      "TimeoutError: Request timed out\n    at fetchOrder (/srv/app/steps/process.ts:41:11)\n    at async run (/srv/app/node_modules/@cairn/worker/src/execute-step.ts:88:5)",
  },
  {
    name: "TypeError",
    message: "Cannot read properties of undefined (reading 'email')",
    stack:
      "TypeError: Cannot read properties of undefined (reading 'email')\n    at send (/srv/app/steps/send.ts:17:30)\n    at async run (/srv/app/node_modules/@cairn/worker/src/execute-step.ts:88:5)",
  },
  {
    name: "Error",
    message: "ECONNRESET while writing to upstream",
    stack: "Error: ECONNRESET while writing to upstream\n    at store (/srv/app/steps/store.ts:9:13)",
  },
];

/** The events after RunSubmitted of one finished run, starting at `t0` (µs). */
export function finishedRunEvents(
  slug: string,
  runId: string,
  steps: ReadonlyArray<{ id: string; dependencies: readonly string[] }>,
  t0: number,
  r: () => number,
): Event[] {
  let t = t0 + Math.round(1000 + r() * 50_000);
  const ev: Event[] = [];
  const env = (type: string, stepId?: string) => {
    t += Math.round(50 + r() * 3000);
    return {
      eventId: newEventId(t),
      timestampUs: t,
      workflowSlug: slug,
      runId,
      category: stepId ? "step" : "workflow",
      type,
      ...(stepId ? { stepId } : {}),
    };
  };
  const startedAt = t;
  ev.push({ ...env("WorkflowStarted"), workflowAttemptNumber: 1, hasInputSchema: false, hasInput: true } as Event);
  const fate = r();
  const failing = fate < 0.02 ? "terminal" : fate < 0.06 ? "retry" : "ok";
  const failIdx = Math.floor(r() * steps.length);
  let completed = 0;
  const worker = WORKERS[Math.floor(r() * WORKERS.length)]!;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    const sched = env("StepScheduled", s.id);
    ev.push({
      ...sched,
      availableAtUs: sched.timestampUs,
      reason: i === 0 ? "initial" : "dependency-satisfied",
      attemptNumber: 1,
      priority: 0,
    } as Event);
    ev.push({
      ...env("StepStarted", s.id),
      workerId: worker,
      dependencies: [...s.dependencies],
      attemptNumber: 1,
      slotIndex: 0,
      workerConcurrency: 4,
    } as Event);
    const dur = Math.round(5_000 + r() * 2_000_000);
    t += dur;
    if (i === failIdx && failing !== "ok") {
      const error = ERRORS[Math.floor(r() * ERRORS.length)]!;
      const failed = env("StepFailed", s.id);
      if (failing === "terminal") {
        ev.push({
          ...failed,
          error,
          errorFingerprints: computeErrorFingerprints(error),
          durationUs: dur,
          attemptNumber: 1,
          terminal: true,
          failureReason: "exhausted-retries",
        } as Event);
        ev.push({
          ...env("WorkflowFailed"),
          workflowAttemptNumber: 1,
          error,
          durationUs: t - startedAt,
          completedSteps: completed,
          failedStep: s.id,
          failureReason: "step-failed",
        } as Event);
        return ev;
      }
      const retryAt = failed.timestampUs + 1_000_000;
      ev.push({
        ...failed,
        error,
        errorFingerprints: computeErrorFingerprints(error),
        durationUs: dur,
        attemptNumber: 1,
        terminal: false,
        nextRetryAtUs: retryAt,
        failureReason: "execution-error",
      } as Event);
      ev.push({ ...env("StepRetrying", s.id), attemptNumber: 1, nextAttempt: 2, error, maxRetries: 2 } as Event);
      const re = env("StepScheduled", s.id);
      ev.push({
        ...re,
        availableAtUs: retryAt,
        reason: "retry",
        attemptNumber: 2,
        retryDelayMs: 1000,
        priority: 0,
      } as Event);
      t = Math.max(t, retryAt);
      ev.push({
        ...env("StepStarted", s.id),
        workerId: worker,
        dependencies: [...s.dependencies],
        attemptNumber: 2,
        slotIndex: 1,
        workerConcurrency: 4,
      } as Event);
      t += dur;
      ev.push({
        ...env("StepCompleted", s.id),
        output: JSON.stringify({ ok: true, attempt: 2, n: Math.floor(r() * 1000) }),
        durationUs: dur,
        attemptNumber: 2,
        exportOutput: true,
      } as Event);
    } else {
      ev.push({
        ...env("StepCompleted", s.id),
        output: JSON.stringify({ ok: true, n: Math.floor(r() * 1000) }),
        durationUs: dur,
        attemptNumber: 1,
        exportOutput: true,
      } as Event);
    }
    completed++;
  }
  ev.push({
    ...env("WorkflowCompleted"),
    workflowAttemptNumber: 1,
    output: JSON.stringify({ ok: true, steps: completed }),
    durationUs: t - startedAt,
    totalSteps: steps.length,
  } as Event);
  return ev;
}

/** Writes `count` finished runs; returns a sample of run ids (for getRun). */
export async function populateFinished(
  backend: Backend,
  clock: SimClock,
  count: number,
  options: { concurrency: number; seed?: number; chunk?: number },
): Promise<string[]> {
  const r = rng(options.seed ?? 42);
  const nowUs = systemClock.nowUs();
  const span = 48 * HOUR_US - 10 * 60_000_000;
  const sample: string[] = [];
  const chunk = options.chunk ?? 500;
  const sampleEvery = Math.max(1, Math.floor(count / 200));
  for (let start = 0; start < count; start += chunk) {
    const n = Math.min(chunk, count - start);
    const plans = Array.from({ length: n }, (_, k) => {
      const i = start + k;
      const w = WORKFLOWS[i % WORKFLOWS.length]!;
      const t0 = nowUs - 48 * HOUR_US + Math.round(((i + r()) / count) * span);
      return { i, w, t0, seed: Math.floor(r() * 2 ** 31) };
    });
    const items: Array<Array<{ workflowSlug: string; runId: string; event: Event }>> = [];
    await pool(plans, options.concurrency, async (p) => {
      const { runId } = await clock.at(p.t0, () =>
        backend.submitRun({
          workflowSlug: p.w.slug,
          input: { orderId: p.i, customer: `c-${p.i % 977}` },
          tags: [p.i % 10 === 0 ? "priority" : "standard"],
        }),
      );
      if (p.i % sampleEvery === 0) sample.push(runId);
      items.push(
        finishedRunEvents(p.w.slug, runId, p.w.steps, p.t0, rng(p.seed)).map((event) => ({
          workflowSlug: p.w.slug,
          runId,
          event,
        })),
      );
    });
    // batchAppendEvents: several batches in flight (each batch writes its runs' events run by run).
    const per = Math.ceil(items.length / options.concurrency);
    const batches = Array.from({ length: options.concurrency }, (_, k) =>
      items.slice(k * per, (k + 1) * per).flat(),
    ).filter((b) => b.length);
    await Promise.all(batches.map((b) => backend.batchAppendEvents(b)));
    if (count >= 20_000 && (start / chunk) % 20 === 19) progress(`    populated ${start + n}/${count}`);
  }
  return sample;
}

/** Live work on top of a dataset: `scheduled` runs with a ready step and `running` runs with a freshly claimed step. */
export async function addLiveWork(backend: Backend, scheduled: number, running: number): Promise<void> {
  const slug = "ingest-orders";
  for (let i = 0; i < scheduled + running; i++) {
    const { runId } = await backend.submitRun({ workflowSlug: slug, input: { live: i } });
    await backend.startRun(slug, runId, { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: true });
    await backend.scheduleStep(slug, runId, "process", {
      availableAt: backend.clock.nowUs(),
      reason: "initial",
      attemptNumber: 1,
    });
    if (i >= scheduled) {
      const claimed = await backend.claimScheduledStep(slug, runId, "process", "live-worker", {
        dependencies: [],
        timestamp: Date.now() * 1000,
        attemptNumber: 1,
      });
      if (!claimed) throw new Error("could not claim a live step while preparing the dataset");
    }
  }
}

export interface Dataset {
  instance: BenchInstance;
  sampleRunIds: string[];
  /** Time to populate (0-ish when cached). */
  populateMs: number;
  /** Time to make the working copy (copy, hard-link copy, or pg_restore). */
  restoreMs: number;
  fromCache: boolean;
}

/**
 * A store with `count` finished runs for `driver`, with the system clock.
 *  - fs: populated once (durability none; the files are the same) directly into the cache directory; each use works on
 *    a hard-linked copy (`cp -al`; the driver never modifies a file in place, it writes new files and renames). The
 *    driver's run index holds absolute symlinks, so the copy's index still points into the cache directory for the
 *    finished runs (identical, unchanged files) — the cache directory must not move.
 *  - sqlite: populated once, the database file copied per use.
 *  - postgres: populated once into schema `bench_ds_<count>` with synchronous_commit=off for the writer's sessions
 *    (same rows, no WAL flush wait per commit), dumped with pg_dump to the cache directory, and restored with
 *    pg_restore into that schema for each use (dropped afterwards).
 */
export async function finishedDataset(
  driver: DriverName,
  count: number,
  options: { concurrency?: number; useCache?: boolean } = {},
): Promise<Dataset> {
  const kind = driver === "fs-none" ? "fs" : driver;
  const key = `${kind}-${count}-v${CACHE_FORMAT}-${await storageVersion(kind)}`;
  const cachePath = join(CACHE_DIR, kind === "postgres" ? `${key}.dump` : key);
  const meta = join(CACHE_DIR, `${key}.json`);
  const schema = `bench_ds_${count}`;
  const t0 = performance.now();
  await mkdir(CACHE_DIR, { recursive: true });
  const cached = options.useCache === false ? null : await readMeta(meta);
  let sampleRunIds: string[];
  let fromCache = false;
  if (cached && Date.now() - cached.createdMs < CACHE_MAX_AGE_MS && (await exists(cachePath))) {
    sampleRunIds = cached.sampleRunIds;
    fromCache = true;
  } else {
    await rm(meta, { force: true });
    await rm(cachePath, { recursive: true, force: true });
    const clock = new SimClock();
    let writerPool: pg.Pool | undefined;
    if (kind === "postgres") {
      await dropSchema(schema);
      writerPool = new pg.Pool({ connectionString: DATABASE_URL, max: 10, options: "-c synchronous_commit=off" });
    }
    const writer = await createDriver(kind === "fs" ? "fs-none" : kind, {
      clock,
      location: kind === "postgres" ? schema : kind === "fs" ? cachePath : undefined,
      ...(writerPool ? { pool: writerPool } : {}),
    });
    await registerBenchWorkflows(writer.backend);
    sampleRunIds = await populateFinished(writer.backend, clock, count, {
      concurrency: options.concurrency ?? (kind === "postgres" ? 8 : 4),
    });
    await writer.backend.close();
    await writerPool?.end();
    if (kind === "sqlite") {
      await cp(writer.location, cachePath);
      await writer.destroy();
    } else if (kind === "postgres") {
      await execFileP("pg_dump", [
        "--format=custom",
        "--compress=1",
        `--schema=${schema}`,
        `--file=${cachePath}`,
        DATABASE_URL,
      ]);
      await dropSchema(schema);
    }
    await writeFile(meta, JSON.stringify({ createdMs: Date.now(), sampleRunIds, populateMs: performance.now() - t0 }));
  }
  const populatedMs = performance.now() - t0;
  let location: string;
  if (kind === "postgres") {
    await dropSchema(schema);
    await execFileP("pg_restore", ["--no-owner", `--dbname=${DATABASE_URL}`, cachePath]);
    // pg_restore leaves the tables without planner statistics (a live database has them from autovacuum): analyze,
    // and vacuum so the visibility map allows index-only scans, as on a database that has been running a while.
    await sql(`VACUUM ANALYZE "${schema}".events, "${schema}".runs, "${schema}".steps`);
    location = schema;
  } else {
    location = await copyOut(kind, cachePath);
  }
  const instance = await createDriver(kind, { location });
  return {
    instance,
    sampleRunIds,
    populateMs: populatedMs,
    restoreMs: performance.now() - t0 - populatedMs,
    fromCache,
  };
}

/** A short hash of what decides the stored format: the driver's migrations (sqlite, postgres) or its store version (fs). */
async function storageVersion(kind: DriverName): Promise<string> {
  const h = createHash("sha256");
  if (kind === "fs" || kind === "fs-none") {
    h.update(String((await import("@cairn/backend-fs")).FS_SCHEMA_VERSION));
  } else {
    const dir = join(ROOT, "packages", kind === "sqlite" ? "backend-sqlite" : "backend-postgres", "src", "migrations");
    for (const f of (await readdir(dir)).sort()) h.update(f).update(await readFile(join(dir, f)));
  }
  return h.digest("hex").slice(0, 10);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readMeta(path: string): Promise<{ createdMs: number; sampleRunIds: string[] } | null> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as { createdMs: number; sampleRunIds: string[] };
  } catch {
    return null;
  }
}

/** Copies a cached store to a fresh working location (queries and live work must not change the cache). */
async function copyOut(driver: DriverName, cachePath: string): Promise<string> {
  await stat(cachePath);
  const { freshDir } = await import("./drivers.js");
  const dir = await freshDir(`${driver}-cached`);
  if (driver === "sqlite") {
    const file = join(dir, "cairn.db");
    await cp(cachePath, file);
    return file;
  }
  await rm(dir, { recursive: true, force: true });
  await execFileP("cp", ["-al", cachePath, dir]);
  return dir;
}
