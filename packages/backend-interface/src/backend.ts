import { BackendPresence } from "./backend-presence.js";

/**
 * The abstract Cairn backend: append-only events, projections, atomic claims, reclamation, submission and analytics.
 *
 * Built in layers, each in its own file, each extending the one before:
 * - `BackendAnalytics` (backend-analytics.ts): the fifteen analytics queries over the reference implementation.
 * - `BackendCore` (backend-core.ts): the protected abstract primitives every driver implements (guarded append,
 *   submission, reads and the few indexed queries), event append/load, fencing and wake-ups.
 * - `BackendStepData`, `BackendWorkflows`, `BackendSteps`, `BackendRuns`: every public method of the seed interface as
 *   a concrete template method built on the primitives, which a driver may override for speed but never change in
 *   meaning. Capability flags (`capabilities`) say what else a driver offers.
 * - `BackendPresence` (backend-presence.ts): workers' own presence records, combined into the active-workers view.
 *
 * A driver extends this class and implements the primitives; nothing else is required.
 */
export abstract class Backend extends BackendPresence {}

export type { ClaimedWork, MaintenanceResult } from "./backend-work.js";
export type { SubmitOutcome } from "./backend-runs.js";
export type { ClaimOptions, ClaimScope } from "./backend-steps.js";
export type { PresenceFilter } from "./backend-presence.js";
export type { StepStartMetadata, StepCompleteMetadata, StepCompleteItem, StepCompleteOutcome, GuardedWrite, WorkflowDetails, SavedCheckpoint } from "./backend-core.js";
export { serializeValue } from "./serialize.js";
