import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { InvalidArgumentError, type Backend } from "@cairn/backend-interface";
import { claimReadySteps } from "./claim.js";
import type { LoadedWorkflow } from "./discovery.js";
import { executeStep, type ExecuteEnv } from "./execute-step.js";
import { HookRunner } from "./lifecycle-hooks.js";
import type { Recorded } from "./record-outcome.js";
import { registerWorkflows } from "./registration.js";
import { runInProcess } from "./step-runner.js";
import { definedEnv } from "./worker-env.js";
import { WorkerEvents, type WorkerEventListener } from "./worker-events.js";
import { WorkerServices, type ServiceFactories } from "./worker-services.js";
import { realTimers, type WorkerTimers } from "./worker-timers.js";

/** What handleOne accepts. Durations are ms. */
export interface HandleOneOptions {
  backend: Backend;
  /** The workflows this host runs (discoverWorkflows once per process, outside the handler). */
  workflows: LoadedWorkflow[];
  /** How long this call may take: no claim after `deadlineMs - reserveMs`, and steps still running then are released. */
  deadlineMs: number;
  /** Time kept before the deadline to write the results of released steps (default a tenth of deadlineMs, at most 1000). */
  reserveMs?: number;
  /** Steps run at once (default 1). */
  concurrency?: number;
  workerId?: string;
  /** Heartbeat interval of a running step (default 5000); keep it well under the maintenance host's staleMs. */
  heartbeatMs?: number;
  /** How long an aborted step may take to settle before it is abandoned (default half of reserveMs, so its release fits). */
  abortGraceMs?: number;
  /** Register the workflows once per process and backend before the first claim (default true). */
  register?: boolean;
  /** Services of this call's steps and hooks (created lazily, disposed before it returns) and their environment. */
  services?: ServiceFactories;
  env?: Record<string, string | undefined>;
  onEvent?: WorkerEventListener;
  random?: () => number;
  timers?: WorkerTimers;
}

/** What one handleOne call did: attempts by how they were recorded, and why it stopped. */
export interface HandleOneResult {
  workerId: string;
  claimed: number;
  recorded: Partial<Record<Recorded | "error", number>>;
  /** `idle`: nothing was ready and nothing ran; `deadline`: the time was up (running steps were released). */
  stopped: "idle" | "deadline";
}

const registered = new WeakMap<Backend, Set<string>>();

/**
 * The serverless host's handler (a queue-triggered function, a cron job): claims ready steps of `workflows` and runs
 * them, claiming again as each ends, until nothing is ready and nothing runs, or the deadline. Every attempt it
 * claimed is completed, failed, retried or released (handed back at once, not counted as a retry) before it returns;
 * nothing keeps running after it. Runs advance inside the store's writes, so no other call is needed; a periodic
 * maintenanceTick reclaims the steps of a host that died mid-step and starts delayed runs.
 */
export async function handleOne(o: HandleOneOptions): Promise<HandleOneResult> {
  if (!Number.isFinite(o.deadlineMs) || o.deadlineMs <= 0)
    throw new InvalidArgumentError(
      `deadlineMs must be a positive number of ms (the time this call may take), got ${o.deadlineMs}.`,
    );
  const { backend } = o;
  const timers = o.timers ?? realTimers;
  const startedMs = timers.nowMs(); // registration counts against the deadline too
  const concurrency = Math.max(1, Math.floor(o.concurrency ?? 1));
  const workerId = o.workerId ?? `serverless-${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  const events = new WorkerEvents();
  if (o.onEvent) events.on(o.onEvent);
  if (o.register !== false) await registerOnce(backend, o.workflows);
  const byslug = new Map(o.workflows.map((w) => [w.slug, w]));
  const services = new WorkerServices(o.services);
  const env = definedEnv(o.env);
  const release = new AbortController();
  const reserveMs = o.reserveMs ?? Math.min(1000, o.deadlineMs / 10);
  const stopAt = startedMs + Math.max(0, o.deadlineMs - reserveMs);
  const cancelTimer = timers.setTimeout(() => release.abort(), Math.max(0, stopAt - timers.nowMs()), { unref: true });
  const exec: ExecuteEnv = {
    backend,
    workerId,
    concurrency,
    events,
    runner: runInProcess,
    heartbeatMs: o.heartbeatMs ?? 5000,
    abortGraceMs: o.abortGraceMs ?? reserveMs / 2,
    releaseSignal: release.signal,
    random: o.random ?? Math.random,
    timers,
    services,
    env,
    hooks: new HookRunner({ backend, events, services, env, workerId }),
  };
  const result: HandleOneResult = { workerId, claimed: 0, recorded: {}, stopped: "idle" };
  const running = new Set<Promise<void>>();
  let slot = 0;
  const timeUp = aborted(release.signal);
  try {
    for (;;) {
      if (release.signal.aborted || timers.nowMs() >= stopAt) {
        result.stopped = "deadline";
        break;
      }
      const free = concurrency - running.size;
      const claimed = free > 0 ? await claimReadySteps(backend, workerId, byslug, free) : [];
      for (const c of claimed) {
        result.claimed++;
        const run: Promise<void> = executeStep({ ...c, slot: slot++ % concurrency }, exec)
          .then((x) => {
            result.recorded[x.recorded] = (result.recorded[x.recorded] ?? 0) + 1;
          })
          .finally(() => running.delete(run));
        running.add(run);
      }
      if (running.size === 0) break; // nothing ready, nothing running
      await Promise.race([...running, timeUp]);
    }
  } finally {
    release.abort(); // steps still running now are released (their release is written before we return)
    await Promise.all(running);
    cancelTimer();
    await services.dispose((error, name) => events.emit({ type: "error", where: `disposing service ${name}`, error }));
  }
  return result;
}

async function registerOnce(backend: Backend, workflows: readonly LoadedWorkflow[]): Promise<void> {
  let done = registered.get(backend);
  if (!done) registered.set(backend, (done = new Set()));
  const missing = workflows.filter((w) => !done.has(`${w.slug}@${w.versionId}`));
  if (missing.length === 0) return;
  await registerWorkflows(backend, missing);
  for (const w of missing) done.add(`${w.slug}@${w.versionId}`);
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) =>
    signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true }),
  );
}
