import { BackendTracking } from "./backend-tracking.js";
import type { BackendDriver } from "./backend-driver.js";
import { TenantView } from "./tenant-view.js";

/**
 * The Cairn backend: append-only events, projections, atomic claims, reclamation, submission and analytics, over
 * any storage driver (`new Backend(driver)`; the driver packages' `SqliteBackend`, `PostgresBackend` and
 * `FileSystemBackend` are named constructors of it and add nothing else).
 *
 * Everything a driver implements is the `BackendDriver` interface (backend-driver.ts). This class owns the rest,
 * built in layers, each in its own file, each extending the one before:
 * - `BackendBase` (backend-base.ts): the driver, the clock and the lifecycle (initialize/close, the same errors
 *   before initialize and after close on every driver).
 * - `BackendAnalytics` (backend-analytics.ts): the fifteen analytics queries: the driver's fast paths, else the
 *   reference implementation.
 * - `BackendCore`, `BackendEngine` (backend-engine.ts: the store advances runs inside the driver's atomic writes),
 *   `BackendStepData`, `BackendWorkflows`, `BackendSteps`, `BackendWaits` (backend-waits.ts: pause, resume, signals,
 *   durable waits; below the runs, whose flow control and triggers deliver signals), `BackendRuns`, `BackendWork`,
 *   `BackendPresence`, `BackendRetention`, `BackendMarks`, `BackendRetentionPolicies`: every public method of the
 *   seed interface as a template method over the driver's primitives.
 * - `BackendTriggers` (backend-triggers.ts: `emit` starts the workflows listening to an event) and `BackendSchedules`
 *   (backend-schedules.ts: `tickSchedules` starts each cron tick's run once, `listSchedules`).
 * - `BackendFeed` (backend-feed.ts): the event feed, every run's events in commit order by cursor.
 * - `BackendTracking` (backend-tracking.ts): calls, AI usage, run counters, entity links.
 */
export class Backend<D extends BackendDriver = BackendDriver> extends BackendTracking<D> {
  /**
   * One tenant's view (tenant-view.ts): submits stamp the tenant id, and every read, list and change is scoped to
   * the tenant's runs (a run of another tenant reads as not found). InvalidArgumentError for a bad tenant id.
   */
  forTenant(tenantId: string): TenantView {
    return new TenantView(this as Backend, tenantId);
  }
}

export type { ClaimedWork, MaintenanceResult } from "./backend-work.js";
export type { SubmitOutcome } from "./backend-runs.js";
export type { ClaimOptions, ClaimScope } from "./backend-steps.js";
export type { PresenceFilter } from "./backend-presence.js";
export type {
  StepStartMetadata,
  StepCompleteMetadata,
  StepCompleteItem,
  StepCompleteOutcome,
  GuardedWrite,
  WorkflowDetails,
  SavedCheckpoint,
} from "./backend-core.js";
export { runWaitingOn, type WaitingStep } from "./backend-waits.js";
export { serializeValue } from "./serialize.js";
