import {
  claimWorkflows,
  type ClaimedStep,
  type ClaimRequest,
  type FollowUp,
  type StepRef,
} from "@cairn/backend-interface";
import type { EventLog } from "./fs-event-log.js";
import type { FsIndexes } from "./fs-indexes.js";
import type { FsQueries } from "./fs-queries.js";

/**
 * The filesystem claim: candidates of the claim's workflows from the live-run indexes in listing order, then one guarded append per step
 * whose StepStarted is built from the attempt found at publish time (a follow-up of the claim guard), so a claim
 * needs no read of the step beforehand and a lost race is a refused guard, never a stale attempt. Steps are claimed
 * one after the other: the store has no multi-run transaction, so this is not a batch claim in one round trip.
 */
export async function claimSteps(
  log: EventLog,
  indexes: FsIndexes,
  queries: FsQueries,
  request: ClaimRequest,
): Promise<ClaimedStep[]> {
  if (request.step) {
    const one = await claimOne(log, indexes, request.step, request);
    return one ? [one] : [];
  }
  const out: ClaimedStep[] = [];
  // Twice the wanted number of candidates: some are lost to other claimers between the listing and the append.
  for (const ref of await queries.scheduledSteps({
    availableBefore: request.nowUs,
    limit: request.limit * 2,
    workflowSlugs: claimWorkflows(request),
  })) {
    if (out.length >= request.limit) break;
    const claimed = await claimOne(log, indexes, ref, request);
    if (claimed) out.push(claimed);
  }
  return out;
}

async function claimOne(
  log: EventLog,
  indexes: FsIndexes,
  ref: StepRef,
  request: ClaimRequest,
): Promise<ClaimedStep | null> {
  let attemptNumber = 0;
  const start: FollowUp = (_run, steps) => {
    attemptNumber = steps.get(ref.stepId)?.attemptNumber ?? 0;
    return [request.started(ref, attemptNumber)];
  };
  const verdict = await log.append(ref, ref.stepId, { kind: "claim", nowUs: request.nowUs }, [], indexes, start);
  return verdict.ok ? { ...ref, attemptNumber } : null;
}
