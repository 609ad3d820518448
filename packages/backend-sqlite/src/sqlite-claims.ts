import { claimWorkflows, type ClaimedStep, type ClaimRequest, type StepRef } from "@cairn/backend-interface";
import type { SqliteWrites } from "./sqlite-writes.js";
import type { SqliteQueries } from "./sqlite-queries.js";

/**
 * The SQLite claim, run inside one write transaction: the ready steps of the claim's workflows in listScheduledSteps
 * order, each moved to running by a guarded write whose StepStarted is built from the attempt the
 * transaction finds. Exactly one concurrent claimer wins a step: the write lock serialises them.
 */
export function claimInTransaction(projector: SqliteWrites, queries: SqliteQueries, request: ClaimRequest): ClaimedStep[] {
  if (request.step) {
    const one = claimOne(projector, request.step, request);
    return one ? [one] : [];
  }
  const out: ClaimedStep[] = [];
  for (const ref of queries.ready({ availableBefore: request.nowUs, limit: request.limit, workflowSlugs: claimWorkflows(request) })) {
    const claimed = claimOne(projector, ref, request);
    if (claimed) out.push(claimed);
  }
  return out;
}

/** One step's claim: the claim guard (scheduled, available, live run) checked and StepStarted appended, or null. */
function claimOne(projector: SqliteWrites, ref: StepRef, request: ClaimRequest): ClaimedStep | null {
  let attemptNumber = 0;
  const verdict = projector.guardedWrite(ref, { kind: "claim", nowUs: request.nowUs }, (step) => {
    attemptNumber = step?.attemptNumber ?? 0;
    return [request.started(ref, attemptNumber)];
  });
  return verdict.ok ? { ...ref, attemptNumber } : null;
}
