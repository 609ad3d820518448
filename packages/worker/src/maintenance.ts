import type { Backend } from "@cairn/backend-interface";
import type { LoadedWorkflow } from "./discovery.js";
import { advanceRun, startRun } from "./scheduler.js";
import type { WorkerEvents } from "./worker-events.js";

/** Starts every pending, available run of the loaded workflows (each exactly once across workers). Returns how many this worker started. */
export async function startPendingRuns(backend: Backend, workflows: ReadonlyMap<string, LoadedWorkflow>, events: WorkerEvents, limit = 50): Promise<number> {
  let started = 0;
  const nowUs = backend.clock.nowUs();
  for (const wf of workflows.values()) {
    const pending = await backend.listRuns({ workflowSlug: wf.slug, status: ["pending"], limit });
    for (const run of pending) {
      if (run.availableAtUs > nowUs) continue;
      try {
        if (await startRun(backend, wf, run, events)) started++;
      } catch (err) {
        events.emit({ type: "error", where: `start run ${run.runId}`, error: err });
      }
    }
  }
  return started;
}

/**
 * Periodic upkeep: reclaims steps whose worker stopped heartbeating (crashed), then advances every running run of
 * the loaded workflows, which enforces run timeouts and repairs runs whose worker died between two writes.
 * Returns the number of steps reclaimed.
 */
export async function runMaintenance(backend: Backend, workflows: ReadonlyMap<string, LoadedWorkflow>, events: WorkerEvents, o: { workerId: string; staleMs: number; limit?: number }): Promise<number> {
  let reclaimed = 0;
  try {
    const refs = await backend.reclaimStaleSteps(o.staleMs, o.workerId);
    reclaimed = refs.length;
    if (refs.length) events.emit({ type: "steps:reclaimed", steps: refs });
  } catch (err) {
    events.emit({ type: "error", where: "reclaim stale steps", error: err });
  }
  for (const wf of workflows.values()) {
    try {
      const running = await backend.listRuns({ workflowSlug: wf.slug, status: ["running"], limit: o.limit ?? 200 });
      for (const run of running) await advanceRun(backend, wf, run.runId, events).catch((error: unknown) => events.emit({ type: "error", where: `advance run ${run.runId}`, error }));
    } catch (err) {
      events.emit({ type: "error", where: `sweep ${wf.slug}`, error: err });
    }
  }
  return reclaimed;
}

/** True when no run of the loaded workflows is pending or running (what `--once` waits for). */
export async function isDrained(backend: Backend, workflows: ReadonlyMap<string, LoadedWorkflow>): Promise<boolean> {
  for (const wf of workflows.values()) {
    if ((await backend.listRuns({ workflowSlug: wf.slug, status: ["pending", "running"], limit: 1 })).length) return false;
  }
  return true;
}
