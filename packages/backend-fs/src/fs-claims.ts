import type { ClaimedStep, ClaimRequest, FollowUp, StepRef } from "@cairn/backend-interface";
import type { EventLog } from "./fs-event-log.js";
import type { FsIndexes } from "./fs-indexes.js";
import type { FsQueries } from "./fs-queries.js";

/**
 * The filesystem claim: candidates from the live-run indexes in listing order, then one guarded append per step
 * whose StepStarted is built from the attempt found at publish time (a follow-up of the claim guard), so a claim
 * needs no read of the step beforehand and a lost race is a refused guard, never a stale attempt. Steps are claimed
 * one after the other: the store has no multi-run transaction, so this is not a batch claim in one round trip.
 */
export async function claimSteps(log: EventLog, indexes: FsIndexes, queries: FsQueries, request: ClaimRequest): Promise<ClaimedStep[]> {
  if (request.step) {
    const one = await claimOne(log, indexes, request.step, request);
    return one ? [one] : [];
  }
  const out: ClaimedStep[] = [];
  const slugs: Array<string | undefined> = request.scope ? Object.keys(request.scope) : [request.workflowSlug];
  for (const slug of slugs) {
    // Twice the wanted number of candidates: some are lost to other claimers between the listing and the append.
    const want = request.limit - out.length;
    if (want <= 0) break;
    for (const ref of await queries.scheduledSteps({ availableBefore: request.nowUs, limit: want * 2, ...(slug ? { workflowSlug: slug } : {}) })) {
      if (out.length >= request.limit) break;
      const claimed = await claimOne(log, indexes, ref, request);
      if (claimed) out.push(claimed);
    }
  }
  return out;
}

async function claimOne(log: EventLog, indexes: FsIndexes, ref: StepRef, request: ClaimRequest): Promise<ClaimedStep | null> {
  let attemptNumber = 0;
  const start: FollowUp = (_run, steps) => {
    attemptNumber = steps.get(ref.stepId)?.attemptNumber ?? 0;
    return [request.started(ref, attemptNumber)];
  };
  const verdict = await log.append(ref, ref.stepId, { kind: "claim", nowUs: request.nowUs }, [], indexes, start);
  return verdict.ok ? { ...ref, attemptNumber } : null;
}
