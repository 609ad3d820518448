import {
  checkGuard,
  claimWorkflows,
  type ClaimedStep,
  type ClaimRequest,
  type StepRef,
} from "@cairn/backend-interface";
import type { MemoryQueries } from "./memory-queries.js";
import type { MemoryStore } from "./memory-store.js";
import { guardedWrite } from "./memory-writes.js";

/**
 * The memory claim: the ready steps of the claim's workflows in listing order, each moved to running
 * by a guarded write whose StepStarted carries the attempt the write finds. Synchronous, so the whole batch is one
 * atomic step of the process: no other claimer can interleave.
 */
export function claimInStore(store: MemoryStore, queries: MemoryQueries, request: ClaimRequest): ClaimedStep[] {
  if (request.step) {
    const one = claimOne(store, request.step, request);
    return one ? [one] : [];
  }
  const out: ClaimedStep[] = [];
  for (const ref of queries.scheduled({
    availableBefore: request.nowUs,
    limit: request.limit,
    workflowSlugs: claimWorkflows(request),
  })) {
    const claimed = claimOne(store, ref, request);
    if (claimed) out.push(claimed);
  }
  return out;
}

function claimOne(store: MemoryStore, ref: StepRef, request: ClaimRequest): ClaimedStep | null {
  const rec = store.record(ref.workflowSlug, ref.runId, false);
  const step = rec?.steps.get(ref.stepId) ?? null;
  const guard = { kind: "claim", nowUs: request.nowUs } as const;
  // The event is built only for a claimable step (an unknown step has no attempt to start).
  if (!step || !checkGuard(guard, rec?.run ?? null, step).ok) return null;
  const verdict = guardedWrite(
    store,
    ref,
    { ...guard, attemptNumber: step.attemptNumber },
    [request.started(ref, step.attemptNumber)],
    undefined,
    () => {
      throw new Error("a claim counts no gate");
    },
  );
  return verdict.ok ? { ...ref, attemptNumber: step.attemptNumber } : null;
}
