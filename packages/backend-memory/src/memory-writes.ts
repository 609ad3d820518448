import {
  checkGuard,
  withFollowUp,
  type Event,
  type EventOf,
  type FollowUp,
  type GateQuery,
  type GateView,
  type GuardVerdict,
  type SubmissionResult,
  type WriteGuard,
  type WriteTarget,
} from "@cairn/backend-interface";
import type { MemoryStore } from "./memory-store.js";

/**
 * A guarded write: the guard checked against the run's projection, the events and the follow-up's computed, then
 * applied. Synchronous from check to apply, so no other write interleaves (atomic in one process); a follow-up
 * that throws leaves the store unchanged.
 */
export function guardedWrite(
  store: MemoryStore,
  target: WriteTarget,
  guard: WriteGuard,
  events: readonly Event[],
  follow: FollowUp | undefined,
  readGate: (q: GateQuery) => GateView,
): GuardVerdict {
  const rec = store.record(target.workflowSlug, target.runId, false);
  const run = rec?.run ?? null;
  const step = target.stepId === undefined ? null : (rec?.steps.get(target.stepId) ?? null);
  const verdict = checkGuard(guard, run, step);
  if (!verdict.ok) return verdict;
  const all = follow ? withFollowUp(run, rec?.steps ?? new Map(), events, follow, readGate) : events;
  if (all.length > 0) store.apply(rec ?? store.record(target.workflowSlug, target.runId, true)!, all);
  return verdict;
}

/** Creates a run from its RunSubmitted (plus `extra`, plus the follow-up), unless its id or idempotency key exists. */
export function submission(
  store: MemoryStore,
  submitted: EventOf<"RunSubmitted">,
  extra: readonly Event[],
  follow: FollowUp | undefined,
  readGate: (q: GateQuery) => GateView,
): SubmissionResult {
  const byKey =
    submitted.idempotencyKey === undefined
      ? undefined
      : store.keys.get(`${submitted.workflowSlug}\0${submitted.idempotencyKey}`);
  const existing = store.byRunId(byKey ?? submitted.runId);
  if (existing?.run) return { created: false, runId: existing.run.runId, existingInput: existing.run.input };
  const events = [submitted, ...extra];
  const all = follow ? withFollowUp(null, new Map(), events, follow, readGate) : events;
  store.apply(store.record(submitted.workflowSlug, submitted.runId, true)!, all);
  return { created: true, runId: submitted.runId };
}
