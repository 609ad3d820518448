import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { serializeValue, type Backend } from "@cairn/backend-interface";
import { claimReadySteps } from "./claim.js";
import { CompletionBatcher } from "./completions.js";
import { discoverWorkflows, type DiscoveryProblem, type LoadedWorkflow } from "./discovery.js";
import { executeStep, type ClaimedStep, type ExecuteEnv } from "./execute-step.js";
import { isDrained, runMaintenance, startPendingRuns } from "./maintenance.js";
import { registerWorkflows } from "./registration.js";
import { RunCache, dependentsOf } from "./run-cache.js";
import { advanceAfterStep, advanceRun } from "./scheduler.js";
import { drainSlots, onShutdownSignals } from "./shutdown.js";
import { Slots, Wakeup } from "./slots.js";
import { runInProcess, type StepRunner } from "./step-runner.js";
import { workerLoop } from "./worker-loop.js";
import { WorkerEvents, type WorkerEventListener } from "./worker-events.js";

/** Options of startWorker / runWorker. Durations are ms. */
export interface WorkerOptions {
  backend: Backend;
  /** Workflows to run; or `workflowsDir` to discover them. */
  workflows?: LoadedWorkflow[];
  workflowsDir?: string;
  /** Steps run at once (default 4). */
  concurrency?: number;
  workerId?: string;
  /** Poll interval when nothing wakes the worker (default 500; 1000 when the backend sends notifications). */
  pollMs?: number;
  /** Heartbeat interval of a running step (default 5000). A cancel reaches a running step within one interval. */
  heartbeatMs?: number;
  /** A running step whose heartbeat is older than this is reclaimed (default 30000; keep it ≥ 3 × heartbeatMs). */
  staleMs?: number;
  /** How often to reclaim stale steps and sweep running runs (default staleMs / 2, at most 5000). */
  maintenanceMs?: number;
  /** On shutdown, how long running steps may take to finish before they are released (default 10000). */
  shutdownGraceMs?: number;
  /** How long an aborted step may take to settle before it is abandoned (default 2000). */
  abortGraceMs?: number;
  /** `process`: each attempt in a child process, so a crashing step cannot take the worker down. Default `in-process`. */
  isolation?: "in-process" | "process";
  /** Drain and exit: stop once no run of the loaded workflows is pending or running. */
  once?: boolean;
  /** Register the workflows (metadata, schema, steps, version) on start (default true). */
  register?: boolean;
  /** Stop on SIGINT/SIGTERM (default false for library use; the CLI turns it on). */
  handleSignals?: boolean;
  /** Stops the worker gracefully when aborted. */
  signal?: AbortSignal;
  onEvent?: WorkerEventListener;
  /** Jitter source (injected so tests control it). */
  random?: () => number;
  /** Label of the backend for the start event. */
  backendLabel?: string;
}

/** A running worker. */
export interface WorkerHandle {
  workerId: string;
  events: WorkerEvents;
  workflows: LoadedWorkflow[];
  /** Workflows that failed discovery, with their file and what was expected. */
  problems: DiscoveryProblem[];
  /** Stops claiming, lets running steps finish within the grace period, releases the rest; resolves when stopped. */
  stop(options?: { urgent?: boolean }): Promise<void>;
  /** Resolves when the worker has stopped (after `once` drained, or stop()). */
  done: Promise<void>;
}

/** Starts a worker: discovers and registers workflows, then runs the loop, upkeep and wake-ups until stopped. */
export async function startWorker(o: WorkerOptions): Promise<WorkerHandle> {
  const { backend } = o;
  const events = new WorkerEvents();
  if (o.onEvent) events.on(o.onEvent);
  let workflows = o.workflows ?? [];
  let problems: DiscoveryProblem[] = [];
  if (!o.workflows && o.workflowsDir) ({ workflows, problems } = await discoverWorkflows(o.workflowsDir));
  if (o.register !== false) await registerWorkflows(backend, workflows);
  const byslug = new Map(workflows.map((w) => [w.slug, w]));
  const workerId = o.workerId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  const concurrency = Math.max(1, o.concurrency ?? 4);
  const staleMs = o.staleMs ?? 30_000;
  const heartbeatMs = o.heartbeatMs ?? 5000;
  const pollMs = o.pollMs ?? (backend.capabilities.notifications ? 1000 : 500);
  const maintenanceMs = o.maintenanceMs ?? Math.min(5000, Math.max(100, Math.floor(staleMs / 2)));
  const runner: StepRunner = o.isolation === "process" ? (await import("./run-in-child.js")).runInChild({ abortGraceMs: o.abortGraceMs ?? 2000 }) : runInProcess;

  const stopClaiming = new AbortController();
  const release = new AbortController();
  let urgentResolve: () => void = () => {};
  const urgent = new Promise<void>((r) => { urgentResolve = r; });
  const wakeup = new Wakeup();
  const slots = new Slots(concurrency, () => wakeup.wake());
  const unsubscribe = backend.capabilities.notifications ? backend.subscribe(() => wakeup.notify()) : () => {};
  const cache = new RunCache();
  const completions = new CompletionBatcher(backend);
  const env: ExecuteEnv = {
    backend, workerId, concurrency, events, runner, heartbeatMs, abortGraceMs: o.abortGraceMs ?? 2000, releaseSignal: release.signal, random: o.random ?? Math.random,
    cache, complete: (c) => completions.complete(c),
  };

  let maintaining = false;
  const maintenance = setInterval(() => {
    if (maintaining) return; // a slow sweep must not pile up behind itself
    maintaining = true;
    void runMaintenance(backend, byslug, events, { workerId, staleMs, cache }).then((n) => { if (n) wakeup.wake(); }).finally(() => { maintaining = false; });
  }, maintenanceMs);
  maintenance.unref?.();
  const stop = (opts: { urgent?: boolean } = {}): Promise<void> => {
    if (!stopClaiming.signal.aborted) { events.emit({ type: "worker:stopping", workerId, running: slots.size() }); stopClaiming.abort(); }
    if (opts.urgent) urgentResolve();
    return done;
  };
  if (o.signal) o.signal.aborted ? void stop() : o.signal.addEventListener("abort", () => void stop(), { once: true });
  const removeSignals = o.handleSignals ? onShutdownSignals((_sig, isUrgent) => void stop({ urgent: isUrgent })) : () => {};

  events.emit({ type: "worker:started", workerId, concurrency, workflows: workflows.map((w) => w.slug), backend: o.backendLabel ?? backend.constructor.name });
  const done = (async () => {
    try {
      await workerLoop({
        slots, wakeup, events, pollMs, signal: stopClaiming.signal,
        startPendingRuns: (onStarted) => startPendingRuns(backend, byslug, events, cache, onStarted),
        claim: (limit) => claimReadySteps(backend, workerId, byslug, limit, concurrency),
        execute: async (step) => {
          cache.startExecuting(step.runId, step.stepId);
          try {
            const executed = await executeStep(step, env);
            cache.stopExecuting(step.runId, step.stepId);
            await afterStep(backend, step, executed, cache, events).catch((error: unknown) => events.emit({ type: "error", where: `advance run ${step.runId}`, error }));
          } finally {
            cache.stopExecuting(step.runId, step.stepId);
          }
          wakeup.wake();
        },
        ...(o.once ? { drained: () => isDrained(backend, byslug) } : {}),
      });
      await drainSlots(slots, o.shutdownGraceMs ?? 10_000, () => release.abort(), urgent);
    } finally {
      clearInterval(maintenance);
      unsubscribe();
      removeSignals();
      events.emit({ type: "worker:stopped", workerId });
    }
  })();
  return { workerId, events, workflows, problems, stop, done };
}

/**
 * Moves the run on after an attempt, from what this worker knows: its own result is a fact (a completion's output is
 * kept for the dependents and the run output), and the run is advanced from it (see advanceAfterStep). A retry or a
 * release changes nothing for the other steps; a refused (stale) write means the step is someone else's; when
 * recording failed, the run is advanced from a fresh read as a repair.
 */
async function afterStep(backend: Backend, step: ClaimedStep, executed: Awaited<ReturnType<typeof executeStep>>, cache: RunCache, events: WorkerEvents): Promise<void> {
  const { workflow: wf, runId, stepId } = step;
  const known = cache.get(runId);
  switch (executed.recorded) {
    case "completed": {
      if (known) {
        const output = executed.outcome?.kind === "completed" ? executed.outcome.output : undefined;
        const exportOutput = step.step.definition.exportOutput === true;
        const keep = exportOutput || dependentsOf(wf, stepId).length > 0;
        cache.setStep(known, stepId, { status: "completed", exportOutput, ...(keep ? { output: serializeValue(output) } : {}) });
      }
      return advanceAfterStep(backend, wf, runId, stepId, events, cache);
    }
    case "skipped":
      if (known) cache.setStep(known, stepId, { status: "skipped" });
      return advanceAfterStep(backend, wf, runId, stepId, events, cache);
    case "failed":
      return advanceRun(backend, wf, runId, events, cache);
    case "retry":
    case "released":
      if (known) cache.setStep(known, stepId, { status: "scheduled" });
      return;
    case "cancelled":
      cache.forget(runId);
      return;
    case "stale": // the step is someone else's now: re-read, as its new owner may have ended it before our write
      if (known) cache.unsetStep(known, stepId);
      return advanceRun(backend, wf, runId, events, cache);
    case "error":
      return advanceRun(backend, wf, runId, events, cache);
  }
}

/** Runs a worker until it stops (see startWorker). */
export async function runWorker(o: WorkerOptions): Promise<void> {
  await (await startWorker(o)).done;
}
