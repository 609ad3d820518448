import type { Backend, RetentionPolicy } from "@cairn/backend-interface";
import type { AlertRule } from "./alert-rules.js";
import { runAlertPass } from "./alerts.js";
import type { LoadedWorkflow } from "./discovery.js";
import type { WorkerEvents } from "./worker-events.js";
import type { HookRunner } from "./lifecycle-hooks.js";

/**
 * Periodic upkeep, one bounded round (Backend.maintain): reclaims steps whose worker stopped heartbeating, starts runs
 * that became available and fails runs past their timeout. Returns the number of changes (a reason to claim at once).
 */
export async function runMaintenance(
  backend: Backend,
  events: WorkerEvents,
  o: {
    workerId: string;
    staleMs: number;
    limit?: number;
    hooks?: HookRunner;
    workflows?: ReadonlyMap<string, LoadedWorkflow>;
  },
): Promise<number> {
  try {
    const r = await backend.maintain({
      workerId: o.workerId,
      staleMs: o.staleMs,
      ...(o.limit ? { limit: o.limit } : {}),
    });
    if (r.reclaimed.length) events.emit({ type: "steps:reclaimed", steps: r.reclaimed });
    for (const runId of r.timedOut) events.emit({ type: "run:timed-out", runId });
    if (o.hooks && o.workflows) await o.hooks.afterMaintenance(o.workflows, r.reclaimed, r.timedOut);
    return r.reclaimed.length + r.started.length + r.timedOut.length;
  } catch (err) {
    events.emit({ type: "error", where: "maintenance", error: err });
    return 0;
  }
}

/**
 * One retention pass (Backend.applyRetention) when `everyMs` has passed since the last one this worker ran: deletes
 * ended runs older than their workflow's retention (else `defaults`), done by one host per slot whatever the number
 * of workers. Returns how many runs it deleted.
 */
export async function runRetention(
  backend: Backend,
  events: WorkerEvents,
  o: { workerId: string; defaults?: RetentionPolicy; everyMs: number; state: { lastAt: number } },
): Promise<number> {
  const now = Date.now();
  if (now - o.state.lastAt < o.everyMs) return 0;
  o.state.lastAt = now;
  try {
    const r = await backend.applyRetention({
      holder: o.workerId,
      everyMs: o.everyMs,
      ...(o.defaults ? { defaults: o.defaults } : {}),
    });
    const n = r.deleted.reduce((sum, d) => sum + d.runIds.length, 0);
    if (n) events.emit({ type: "runs:deleted", runs: n });
    return n;
  } catch (err) {
    events.emit({ type: "error", where: "retention", error: err });
    return 0;
  }
}

/** One alert pass (see runAlertPass) when `everyMs` has passed since this worker's last one; reports what it sent. */
export async function runAlerts(
  backend: Backend,
  events: WorkerEvents,
  o: { workerId: string; rules: readonly AlertRule[]; everyMs: number; state: { lastAt: number } },
): Promise<void> {
  const now = Date.now();
  if (o.rules.length === 0 || now - o.state.lastAt < o.everyMs) return;
  o.state.lastAt = now;
  try {
    const { sent } = await runAlertPass(backend, o.rules, { holder: o.workerId, everyMs: o.everyMs, events });
    for (const a of sent) events.emit({ type: "alert:sent", on: a.on, key: a.key, ok: a.ok });
  } catch (err) {
    events.emit({ type: "error", where: "alerts", error: err });
  }
}

/**
 * One schedule pass (Backend.tickSchedules) over the workflows `workflowSlugs`, at the backend's clock: starts the run
 * of each tick due, exactly once whatever the number of workers (the store decides). Returns how many runs it started.
 */
export async function runSchedules(
  backend: Backend,
  events: WorkerEvents,
  o: { workflowSlugs: readonly string[] },
): Promise<number> {
  if (o.workflowSlugs.length === 0) return 0;
  try {
    const r = await backend.tickSchedules({ workflowSlugs: o.workflowSlugs });
    const started = r.runs.filter((x) => x.isNew);
    for (const x of started)
      events.emit({
        type: "run:scheduled",
        workflowSlug: x.workflowSlug,
        runId: x.runId,
        scheduledAt: new Date(x.scheduledAtUs / 1000).toISOString(),
      });
    for (const f of r.failed)
      events.emit({
        type: "error",
        where: `starting the ${new Date(f.scheduledAtUs / 1000).toISOString()} tick of ${f.workflowSlug}`,
        error: f.error,
      });
    return started.length;
  } catch (err) {
    events.emit({ type: "error", where: "schedules", error: err });
    return 0;
  }
}

/** True when no run of the loaded workflows is pending or running (what `--once` waits for). */
export async function isDrained(backend: Backend, workflows: ReadonlyMap<string, LoadedWorkflow>): Promise<boolean> {
  for (const wf of workflows.values()) {
    if ((await backend.listRuns({ workflowSlug: wf.slug, status: ["pending", "running"], limit: 1 })).length)
      return false;
  }
  return true;
}
