import { hostname } from "node:os";
import type { Backend, DeleteEndedRunsOptions, MaintenanceResult } from "@cairn/backend-interface";
import type { LoadedWorkflow } from "./discovery.js";
import { HookRunner } from "./lifecycle-hooks.js";
import { definedEnv } from "./worker-env.js";
import { WorkerEvents, type WorkerEventListener } from "./worker-events.js";
import { WorkerServices, type ServiceFactories } from "./worker-services.js";

/** What maintenanceTick accepts. */
export interface MaintenanceTickOptions {
  backend: Backend;
  /** A running step whose heartbeat is older than this is reclaimed (ms, default 30000; ≥ 3 × the hosts' heartbeatMs). */
  staleMs?: number;
  /** At most this many runs started and this many timed out per tick (default 100). */
  limit?: number;
  /** Retention: also delete up to `limit` (default 500) runs that ended at least `olderThanMs` ago (deleteEndedRuns). */
  retention?: Omit<DeleteEndedRunsOptions, "dryRun">;
  /** Recorded as the reclaimer (default `maintenance-<host>-<pid>`). */
  workerId?: string;
  /** With the workflows, their `onFail` hooks run for the runs this tick failed (timeout, spent reclaim budget). */
  workflows?: LoadedWorkflow[];
  services?: ServiceFactories;
  env?: Record<string, string | undefined>;
  onEvent?: WorkerEventListener;
}

/** What one maintenanceTick changed: Backend.maintain's result and the runs retention deleted. */
export interface MaintenanceTickResult extends MaintenanceResult {
  deleted: string[];
}

/**
 * One bounded round of upkeep for a cron-triggered host (Backend.maintain): reclaims steps whose host stopped
 * heartbeating, starts delayed runs that became due, fails runs past their timeout and, with `retention`, deletes a
 * batch of runs that ended long enough ago. Safe from any number of hosts at once: each change is one guarded write
 * (a delete re-checks inside the store), so of two hosts one makes it and the other finds nothing to do.
 * Errors are thrown (the host's runtime reports them); returns what it changed.
 */
export async function maintenanceTick(o: MaintenanceTickOptions): Promise<MaintenanceTickResult> {
  const workerId = o.workerId ?? `maintenance-${hostname()}-${process.pid}`;
  const result = await o.backend.maintain({
    workerId,
    staleMs: o.staleMs ?? 30_000,
    ...(o.limit === undefined ? {} : { limit: o.limit }),
  });
  if (o.workflows?.some((w) => w.declaration.onFail)) {
    const events = new WorkerEvents();
    if (o.onEvent) events.on(o.onEvent);
    const services = new WorkerServices(o.services);
    const hooks = new HookRunner({ backend: o.backend, events, services, env: definedEnv(o.env), workerId });
    try {
      await hooks.afterMaintenance(new Map(o.workflows.map((w) => [w.slug, w])), result.reclaimed, result.timedOut);
    } finally {
      await services.dispose((error, name) =>
        events.emit({ type: "error", where: `disposing service ${name}`, error }),
      );
    }
  }
  const deleted = o.retention ? (await o.backend.deleteEndedRuns(o.retention)).runIds : [];
  return { ...result, deleted };
}
