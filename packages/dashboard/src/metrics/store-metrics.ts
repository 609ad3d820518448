import { Gauge, type Registry } from "prom-client";
import type { Backend, LiveWorkerInfo, QueueDepth, QueueDepthByWorkflow, SuccessRate } from "@cairn/backend-interface";

/** How long one read of the store serves every gauge of a scrape (one snapshot per scrape, not one per series). */
const SNAPSHOT_MS = 1000;

interface Snapshot {
  queue: QueueDepth;
  byWorkflow: QueueDepthByWorkflow;
  outcomes: SuccessRate;
  workers: LiveWorkerInfo[];
}

/**
 * Registers the store's gauges on `registry`, read through the public Backend API at scrape time. Labels are
 * low-cardinality only (workflow, status, state; never run or worker ids):
 * - `cairn_runs{workflow,status}`: pending and running runs now; completed, failed and cancelled runs that ended in the last 24 h
 * - `cairn_queue_depth{kind="runs"|"steps",state="ready"|"delayed"}`
 * - `cairn_oldest_pending_run_age_seconds`, `cairn_oldest_ready_step_age_seconds`
 * - `cairn_workers_active`, `cairn_active_worker_slots{state="busy"|"free"}` (all active workers together)
 */
export function registerStoreMetrics(registry: Registry, backend: Backend): void {
  let cached: { at: number; value: Promise<Snapshot> } | undefined;
  const snapshot = (): Promise<Snapshot> => {
    const now = Date.now();
    if (!cached || now - cached.at > SNAPSHOT_MS) {
      const value = (async () => {
        const [queue, byWorkflow, outcomes, workers] = await Promise.all([
          backend.getQueueDepth(),
          backend.getQueueDepthByWorkflow(),
          backend.getSuccessRate(),
          backend.getActiveWorkers() as Promise<LiveWorkerInfo[]>,
        ]);
        return { queue, byWorkflow, outcomes, workers };
      })();
      cached = { at: now, value };
      value.catch(() => {
        cached = undefined;
      });
    }
    return cached.value;
  };
  const gauge = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (g: Gauge<L>, s: Snapshot) => void,
  ): void => {
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        fill(this, await snapshot());
      },
    });
  };
  gauge(
    "cairn_runs",
    "Runs by workflow and status: pending and running now; completed, failed and cancelled that ended in the last 24 hours.",
    ["workflow", "status"],
    (g, s) => {
      for (const w of s.byWorkflow) {
        g.set({ workflow: w.workflowSlug, status: "pending" }, w.pendingRuns);
        g.set({ workflow: w.workflowSlug, status: "running" }, w.runningRuns);
      }
      for (const w of s.outcomes.byWorkflow)
        for (const status of ["completed", "failed", "cancelled"] as const)
          g.set({ workflow: w.workflowSlug, status }, w.runs[status]);
    },
  );
  gauge(
    "cairn_queue_depth",
    "Queued work now: ready (available) and delayed (retry back-off, future runs), of runs and of steps.",
    ["kind", "state"],
    (g, s) => {
      g.set({ kind: "runs", state: "ready" }, s.queue.readyRuns);
      g.set({ kind: "runs", state: "delayed" }, s.queue.delayedRuns);
      g.set({ kind: "steps", state: "ready" }, s.queue.readySteps);
      g.set({ kind: "steps", state: "delayed" }, s.queue.delayedSteps);
    },
  );
  gauge("cairn_oldest_pending_run_age_seconds", "Age of the oldest pending run (0 when none).", [], (g, s) =>
    g.set(s.queue.oldestPendingRunAgeUs / 1e6),
  );
  gauge(
    "cairn_oldest_ready_step_age_seconds",
    "How long the oldest ready step has waited to be claimed (0 when none).",
    [],
    (g, s) => g.set(s.queue.oldestReadyStepAgeUs / 1e6),
  );
  gauge("cairn_workers_active", "Workers alive now (a recent presence record or step event).", [], (g, s) =>
    g.set(s.workers.filter((w) => w.isActive).length),
  );
  gauge(
    "cairn_active_worker_slots",
    "Step slots of all active workers together: busy (running a step) and free.",
    ["state"],
    (g, s) => {
      const active = s.workers.filter((w) => w.isActive);
      const busy = active.reduce((n, w) => n + w.runningSteps, 0);
      const capacity = active.reduce((n, w) => n + (w.concurrency ?? w.runningSteps), 0);
      g.set({ state: "busy" }, busy);
      g.set({ state: "free" }, Math.max(0, capacity - busy));
    },
  );
}
