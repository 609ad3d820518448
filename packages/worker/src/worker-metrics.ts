import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { isTerminalRunStatus, type Backend, type StepRef } from "@cairn/backend-interface";
import { registerStoreMetrics } from "@cairn/dashboard";
import type { WorkerEvent, WorkerEvents } from "./worker-events.js";

/** Histogram buckets in seconds, from 5 ms to 10 min. */
const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Runs remembered as already observed ended, so each is observed once. */
const SEEN_RUNS = 10_000;

/** Options of workerMetrics. */
export interface WorkerMetricsOptions {
  backend: Backend;
  events: WorkerEvents;
  concurrency: number;
  /** Registry to register on (default a new one). */
  registry?: Registry;
  /** Also register the store's gauges (runs by status, queue depth, oldest pending age; default true). */
  store?: boolean;
}

/** A worker's metrics: the registry to scrape, and stop() to detach from the worker's events. */
export interface WorkerMetrics {
  registry: Registry;
  stop(): void;
}

const keyOf = (e: StepRef & { attempt: number }): string => `${e.runId}\u0000${e.stepId}\u0000${e.attempt}`;

/**
 * Prometheus metrics of one worker, fed by its events (labels: workflow, step id as registered, outcome, status, state;
 * never run or worker ids): `cairn_step_duration_seconds`, `cairn_step_retries_total`, `cairn_steps_total`,
 * `cairn_step_schedule_to_start_seconds`, `cairn_run_duration_seconds` (runs whose end this worker recorded) and
 * `cairn_worker_slots{state="busy"|"free"}`, plus the store's gauges (registerStoreMetrics).
 */
export function workerMetrics(o: WorkerMetricsOptions): WorkerMetrics {
  const registry = o.registry ?? new Registry();
  const registers = [registry];
  const stepDuration = new Histogram({
    name: "cairn_step_duration_seconds",
    help: "Step attempts run by this worker, from claim to recorded outcome.",
    labelNames: ["workflow", "step", "outcome"],
    buckets: SECONDS,
    registers,
  });
  const runDuration = new Histogram({
    name: "cairn_run_duration_seconds",
    help: "Runs whose end this worker recorded, from start to end.",
    labelNames: ["workflow", "status"],
    buckets: SECONDS,
    registers,
  });
  const scheduleToStart = new Histogram({
    name: "cairn_step_schedule_to_start_seconds",
    help: "Time from a step attempt becoming ready to this worker claiming it.",
    labelNames: ["workflow"],
    buckets: SECONDS,
    registers,
  });
  const retries = new Counter({
    name: "cairn_step_retries_total",
    help: "Step attempts that failed and were scheduled again.",
    labelNames: ["workflow", "step"],
    registers,
  });
  const steps = new Counter({
    name: "cairn_steps_total",
    help: "Step attempts this worker ended, by outcome.",
    labelNames: ["workflow", "outcome"],
    registers,
  });
  const running = new Map<string, number>();
  new Gauge({
    name: "cairn_worker_slots",
    help: "This worker's step slots: busy (an attempt claimed and not yet recorded) and free.",
    labelNames: ["state"],
    registers,
    collect() {
      this.set({ state: "busy" }, Math.min(o.concurrency, running.size));
      this.set({ state: "free" }, Math.max(0, o.concurrency - running.size));
    },
  });
  if (o.store !== false) registerStoreMetrics(registry, o.backend);
  const seen = new Set<string>();
  const observeRunEnd = async (workflowSlug: string, runId: string): Promise<void> => {
    if (seen.has(runId)) return;
    const run = await o.backend.getRun(runId);
    if (!run || !isTerminalRunStatus(run.status) || run.durationUs === undefined || seen.has(runId)) return;
    seen.add(runId);
    if (seen.size > SEEN_RUNS) seen.delete(seen.values().next().value!);
    runDuration.observe({ workflow: workflowSlug, status: run.status }, run.durationUs / 1e6);
  };
  const observeLatency = async (e: StepRef & { attempt: number }): Promise<void> => {
    let ready: number | undefined;
    let started: number | undefined;
    for (const ev of await o.backend.loadEvents(e.workflowSlug, e.runId, { category: "step", stepId: e.stepId })) {
      if (ev.type === "StepScheduled" && ev.attemptNumber === e.attempt)
        ready = Math.max(ev.availableAtUs, ev.timestampUs);
      if (ev.type === "StepStarted" && ev.attemptNumber === e.attempt) started = ev.timestampUs;
    }
    if (ready !== undefined && started !== undefined)
      scheduleToStart.observe({ workflow: e.workflowSlug }, Math.max(0, started - ready) / 1e6);
  };
  const ended = (e: StepRef & { attempt: number }, outcome: string): void => {
    const t0 = running.get(keyOf(e));
    running.delete(keyOf(e));
    steps.inc({ workflow: e.workflowSlug, outcome });
    if (t0 !== undefined)
      stepDuration.observe({ workflow: e.workflowSlug, step: e.stepId, outcome }, (performance.now() - t0) / 1000);
    if (outcome !== "retried" && outcome !== "released" && outcome !== "stale")
      void observeRunEnd(e.workflowSlug, e.runId).catch(() => {});
  };
  const listener = (e: WorkerEvent): void => {
    switch (e.type) {
      case "step:claimed":
        running.set(keyOf(e), performance.now());
        void observeLatency(e).catch(() => {});
        break;
      case "step:completed":
        ended(e, "completed");
        break;
      case "step:skipped":
        ended(e, "skipped");
        break;
      case "step:retry":
        retries.inc({ workflow: e.workflowSlug, step: e.stepId });
        ended(e, "retried");
        break;
      case "step:failed":
        ended(e, e.reason === "cancelled" ? "cancelled" : "failed");
        break;
      case "step:released":
        ended(e, "released");
        break;
      case "step:stale":
        ended(e, "stale");
        break;
      default:
        break;
    }
  };
  const off = o.events.on(listener);
  return { registry, stop: off };
}
