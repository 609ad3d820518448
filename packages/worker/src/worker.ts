import type { RetentionPolicy } from "@cairn/backend-interface";
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Backend } from "@cairn/backend-interface";
import { claimReadySteps } from "./claim.js";
import { CompletionBatcher } from "./completions.js";
import { discoverWorkflows, type DiscoveryProblem, type LoadedWorkflow } from "./discovery.js";
import { executeStep, type ExecuteEnv } from "./execute-step.js";
import { isDrained, runAlerts, runMaintenance, runRetention, runSchedules } from "./maintenance.js";
import type { AlertRule } from "./alert-rules.js";
import { registerWorkflows } from "./registration.js";
import { drainSlots, onShutdownSignals } from "./shutdown.js";
import { Slots, Wakeup } from "./slots.js";
import { runInProcess, type StepRunner } from "./step-runner.js";
import { workerLoop } from "./worker-loop.js";
import { WorkerEvents, type WorkerEventListener } from "./worker-events.js";
import { startPresence } from "./worker-presence.js";
import { startTracing } from "./tracing.js";
import { every, realTimers, type WorkerTimers } from "./worker-timers.js";
import { HookRunner } from "./lifecycle-hooks.js";
import { definedEnv } from "./worker-env.js";
import { WorkerServices, type ServiceFactories } from "./worker-services.js";

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
  /** How often to reclaim stale steps and fail runs past their timeout (default staleMs / 2, at most 5000). */
  maintenanceMs?: number;
  /** Deleting old ended runs: each workflow's `retention`, else `defaults`; a pass every `everyMs` (default 60 s) under a store-side lease. */
  retention?: { defaults?: RetentionPolicy; everyMs?: number };
  /** Alert rules (cairn.config `alerts`), evaluated every `everyMs` (default 60 s) by one worker per slot. */
  alerts?: { rules: readonly AlertRule[]; everyMs?: number };
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
  /** Interval of the worker's presence record, written whether or not it runs steps (default 5000). */
  presenceMs?: number;
  /** Label of the backend for the start event. */
  backendLabel?: string;
  /** Timer source of polls, heartbeats, maintenance, presence, step timeouts and write back-off (default real time). */
  timers?: WorkerTimers;
  /** Global services (`ctx.services`, under each workflow's own): created lazily, disposed when the worker stops. */
  services?: ServiceFactories;
  /** Environment variables of every step (`ctx.env`), under each workflow's `env`. Default none: pass what steps may read. */
  env?: Record<string, string | undefined>;
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
  /** Resolves once no attempt is running or being recorded (its lifecycle hooks included). */
  idle(): Promise<void>;
}

/** Starts a worker: discovers and registers workflows, then runs the loop, upkeep and wake-ups until stopped. */
export async function startWorker(o: WorkerOptions): Promise<WorkerHandle> {
  const { backend } = o;
  const timers = o.timers ?? realTimers;
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
  const baseRunner: StepRunner =
    o.isolation === "process"
      ? (await import("./run-in-child.js")).runInChild({ abortGraceMs: o.abortGraceMs ?? 2000 })
      : runInProcess;
  const tracing = await startTracing({ backend, events, workerId }); // undefined unless @opentelemetry/api is installed
  const runner = tracing ? tracing.wrap(baseRunner) : baseRunner;

  const stopClaiming = new AbortController();
  const release = new AbortController();
  let urgentResolve: () => void = () => {};
  const urgent = new Promise<void>((r) => {
    urgentResolve = r;
  });
  const wakeup = new Wakeup(timers);
  const slots = new Slots(concurrency, () => wakeup.wake());
  const unsubscribe = backend.capabilities.notifications ? backend.subscribe(() => wakeup.wake()) : () => {};
  const completions = new CompletionBatcher(backend);
  const services = new WorkerServices(o.services);
  const workerEnv = definedEnv(o.env);
  const hooks = new HookRunner({ backend, events, services, env: workerEnv, workerId });
  const env: ExecuteEnv = {
    backend,
    workerId,
    concurrency,
    events,
    runner,
    heartbeatMs,
    timers,
    abortGraceMs: o.abortGraceMs ?? 2000,
    releaseSignal: release.signal,
    random: o.random ?? Math.random,
    complete: (c) => completions.complete(c),
    hooks,
    services,
    env: workerEnv,
    // An outage shorter than the stale threshold costs no re-execution: the result is written once the store is back.
    writeRetry: {
      maxMs: staleMs,
      timers,
      onRetry: (error, attempt, delayMs) =>
        events.emit({
          type: "error",
          where: `writing a step result (attempt ${attempt}, next in ${delayMs} ms)`,
          error,
        }),
    },
  };

  let maintaining = false;
  const retentionState = { lastAt: 0 };
  const alertState = { lastAt: 0 };
  const stopMaintenance = every(
    timers,
    maintenanceMs,
    () => {
      if (maintaining) return; // a slow sweep must not pile up behind itself
      maintaining = true;
      void runMaintenance(backend, events, { workerId, staleMs, hooks, workflows: byslug })
        .then((n) => {
          if (n) wakeup.wake();
        })
        .then(() => runSchedules(backend, events, { workflowSlugs: [...byslug.keys()] }))
        .then((n) => {
          if (n) wakeup.wake();
        })
        .then(() =>
          runRetention(backend, events, {
            workerId,
            everyMs: o.retention?.everyMs ?? 60_000,
            state: retentionState,
            ...(o.retention?.defaults ? { defaults: o.retention.defaults } : {}),
          }),
        )
        .then(() =>
          runAlerts(backend, events, {
            workerId,
            rules: o.alerts?.rules ?? [],
            everyMs: o.alerts?.everyMs ?? 60_000,
            state: alertState,
          }),
        )
        .finally(() => {
          maintaining = false;
        });
    },
    { unref: true },
  );
  const stop = (opts: { urgent?: boolean } = {}): Promise<void> => {
    if (!stopClaiming.signal.aborted) {
      events.emit({ type: "worker:stopping", workerId, running: slots.size() });
      stopClaiming.abort();
    }
    if (opts.urgent) urgentResolve();
    return done;
  };
  if (o.signal) o.signal.aborted ? void stop() : o.signal.addEventListener("abort", () => void stop(), { once: true });
  const removeSignals = o.handleSignals
    ? onShutdownSignals((_sig, isUrgent) => void stop({ urgent: isUrgent }))
    : () => {};

  events.emit({
    type: "worker:started",
    workerId,
    concurrency,
    workflows: workflows.map((w) => w.slug),
    backend: o.backendLabel ?? backend.constructor.name,
  });
  const presence = startPresence({
    backend,
    workerId,
    concurrency,
    workflows: workflows.map((w) => w.slug),
    events,
    timers,
    ...(o.presenceMs ? { intervalMs: o.presenceMs } : {}),
  });
  const done = (async () => {
    try {
      await workerLoop({
        slots,
        wakeup,
        events,
        pollMs,
        signal: stopClaiming.signal,
        nowMs: () => timers.nowMs(),
        claim: (limit) => claimReadySteps(backend, workerId, byslug, limit),
        startDue: async () => (byslug.size ? (await backend.startDueRuns()).length : 0),
        execute: async (step, released) => {
          await executeStep(step, { ...env, released }); // never throws; the store advances the run in the write that records the outcome
          wakeup.wake();
        },
        ...(o.once ? { drained: () => isDrained(backend, byslug) } : {}),
      });
      await drainSlots(slots, o.shutdownGraceMs ?? 10_000, () => release.abort(), urgent);
    } finally {
      stopMaintenance();
      unsubscribe();
      removeSignals();
      await presence.stop();
      await services.dispose((error, name) =>
        events.emit({ type: "error", where: `disposing service ${name}`, error }),
      );
      tracing?.stop();
      events.emit({ type: "worker:stopped", workerId });
    }
  })();
  return { workerId, events, workflows, problems, stop, done, idle: () => slots.idle() };
}

/** Runs a worker until it stops (see startWorker). */
export async function runWorker(o: WorkerOptions): Promise<void> {
  await (
    await startWorker(o)
  ).done;
}
