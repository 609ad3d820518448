import type { Backend } from "@cairn/backend-interface";
import type { LoadedWorkflow } from "./discovery.js";
import type { RunCache } from "./run-cache.js";
import { advanceRun, startRun } from "./scheduler.js";
import type { PendingPass } from "./worker-loop.js";
import type { WorkerEvents } from "./worker-events.js";

/**
 * Starts the pending, available runs of the loaded workflows (each exactly once across workers), at most one page
 * (`limit`) of them. One listing for all workflows (per workflow only when a full page holds runs of workflows this
 * worker does not know, which could hide its own). `more` is true when a page came back full of available runs.
 */
export async function startPendingRuns(backend: Backend, workflows: ReadonlyMap<string, LoadedWorkflow>, events: WorkerEvents, cache?: RunCache, onStarted?: () => void, limit = 50): Promise<PendingPass> {
  const pass: PendingPass = { started: 0, more: false };
  if (workflows.size === 0) return pass;
  const nowUs = backend.clock.nowUs();
  const only = workflows.size === 1 ? [...workflows.keys()][0]! : undefined;
  let pages = [await backend.listRuns({ ...(only ? { workflowSlug: only } : {}), status: ["pending"], limit })];
  if (!only && pages[0]!.length >= limit && pages[0]!.some((r) => !workflows.has(r.workflowSlug))) {
    pages = [];
    for (const slug of workflows.keys()) pages.push(await backend.listRuns({ workflowSlug: slug, status: ["pending"], limit }));
  }
  for (const page of pages) {
    const available = page.filter((r) => r.availableAtUs <= nowUs && workflows.has(r.workflowSlug));
    if (page.length >= limit && available.length > 0) pass.more = true;
    for (const run of available) {
      try {
        if (await startRun(backend, workflows.get(run.workflowSlug)!, run, events, cache)) { pass.started++; onStarted?.(); }
      } catch (err) {
        events.emit({ type: "error", where: `start run ${run.runId}`, error: err });
      }
    }
  }
  return pass;
}

/**
 * Periodic upkeep: reclaims steps whose worker stopped heartbeating (crashed), then advances every running run of
 * the loaded workflows, which enforces run timeouts and repairs runs whose worker died between two writes.
 * Returns the number of steps reclaimed.
 */
export async function runMaintenance(backend: Backend, workflows: ReadonlyMap<string, LoadedWorkflow>, events: WorkerEvents, o: { workerId: string; staleMs: number; limit?: number; cache?: RunCache }): Promise<number> {
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
      for (const run of running) await advanceRun(backend, wf, run.runId, events, o.cache).catch((error: unknown) => events.emit({ type: "error", where: `advance run ${run.runId}`, error }));
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
