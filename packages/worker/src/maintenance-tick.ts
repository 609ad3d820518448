import { hostname } from "node:os";
import type { Backend, MaintenanceResult, RetentionPolicy } from "@cairn/backend-interface";
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
  /**
   * Retention: also apply the workflows' registered retention (else `defaults`) once per `everyMs` slot (default
   * 60000) across all hosts (Backend.applyRetention, under the store's retention lease).
   */
  retention?: { defaults?: RetentionPolicy; everyMs?: number };
  /** Recorded as the reclaimer (default `maintenance-<host>-<pid>`). */
  workerId?: string;
  /**
   * With the workflows, their `onFail` hooks run for the runs this tick failed (timeout, spent reclaim budget), and
   * only their schedules are ticked (without them, every registered schedule is).
   */
  workflows?: LoadedWorkflow[];
  /** Start the runs of the schedule ticks due (Backend.tickSchedules, at the backend's clock; default true). */
  schedules?: boolean;
  services?: ServiceFactories;
  env?: Record<string, string | undefined>;
  onEvent?: WorkerEventListener;
}

/** What one maintenanceTick changed: Backend.maintain's result, the runs retention deleted and the runs schedule ticks started. */
export interface MaintenanceTickResult extends MaintenanceResult {
  deleted: string[];
  /** Runs started by schedule ticks in this tick (new ones only). */
  scheduled: string[];
}

/**
 * One bounded round of upkeep for a cron-triggered host (Backend.maintain): reclaims steps whose host stopped
 * heartbeating, starts delayed runs that became due, fails runs past their timeout and, with `retention`, applies the
 * retention policies (one host per slot), and starts the runs of schedule ticks due (each tick once, whatever the
 * number of hosts). Safe from any number of hosts at once: each change is one guarded write
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
  const pass = o.retention ? await o.backend.applyRetention({ holder: workerId, ...o.retention }) : undefined;
  const deleted = pass?.deleted.flatMap((d) => d.runIds) ?? [];
  const ticks =
    o.schedules === false
      ? undefined
      : await o.backend.tickSchedules(o.workflows ? { workflowSlugs: o.workflows.map((w) => w.slug) } : {});
  const scheduled = ticks?.runs.filter((r) => r.isNew).map((r) => r.runId) ?? [];
  return { ...result, deleted, scheduled };
}
