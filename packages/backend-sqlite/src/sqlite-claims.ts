import {
  claimWorkflows,
  type ClaimedStep,
  type ClaimRequest,
  type RunContext,
  type StepRef,
} from "@cairn/backend-interface";
import type { SqliteWrites } from "./sqlite-writes.js";
import type { SqliteQueries } from "./sqlite-queries.js";

/**
 * The SQLite claim, run inside one write transaction: the ready steps of the claim's workflows in listScheduledSteps
 * order, each moved to running by a guarded write whose StepStarted is built from the attempt the
 * transaction finds. Exactly one concurrent claimer wins a step: the write lock serialises them.
 */
export function claimInTransaction(
  projector: SqliteWrites,
  queries: SqliteQueries,
  request: ClaimRequest,
): ClaimedStep[] {
  if (request.step) {
    const one = claimOne(projector, request.step, request);
    return withContexts(queries, one ? [one] : [], request);
  }
  const out: ClaimedStep[] = [];
  for (const ref of queries.ready({
    availableBefore: request.nowUs,
    limit: request.limit,
    workflowSlugs: claimWorkflows(request),
  })) {
    const claimed = claimOne(projector, ref, request);
    if (claimed) out.push(claimed);
  }
  return withContexts(queries, out, request);
}

/** With `request.contexts`: each claimed step with its run and the run's steps, read in the claim's transaction (no read after it). */
function withContexts(queries: SqliteQueries, claimed: ClaimedStep[], request: ClaimRequest): ClaimedStep[] {
  if (!request.contexts) return claimed;
  const byRun = new Map<string, RunContext | null>();
  return claimed.map((c) => {
    if (!byRun.has(c.runId)) {
      const run = queries.run(c.runId);
      byRun.set(
        c.runId,
        run && run.workflowSlug === c.workflowSlug ? { run, steps: queries.steps(c.workflowSlug, c.runId) } : null,
      );
    }
    const context = byRun.get(c.runId);
    return context ? { ...c, context } : c;
  });
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
