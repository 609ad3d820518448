import {
  gateQueryAfter,
  type Event,
  type EventOf,
  type FollowUp,
  type GuardVerdict,
  type SubmissionResult,
  type WriteGuard,
  type WriteTarget,
} from "@cairn/backend-interface";
import type { EventLog } from "./fs-event-log.js";
import type { FsGates } from "./fs-gates.js";
import type { FsIndexes } from "./fs-indexes.js";
import type { FsSubmissions } from "./fs-submission.js";

/** What the filesystem's writes need: the event logs with their indexes, the submissions, the gate locks. */
export interface FsWriteContext {
  log: EventLog;
  indexes: FsIndexes;
  submissions: FsSubmissions;
  gates: FsGates;
}

/**
 * The guarded append (writeEvents): one optimistic publication of a batch on the run's log (see EventLog). A
 * follow-up that counts a flow-control gate holds the gate's lock (taken before the run's own) from the count to the
 * publication.
 */
export async function writeGuarded(
  c: FsWriteContext,
  target: WriteTarget,
  guard: WriteGuard,
  events: Event[],
  follow?: FollowUp,
): Promise<GuardVerdict> {
  const append = (f: FollowUp | undefined) => c.log.append(target, target.stepId, guard, events, c.indexes, f);
  // Only a write of workflow events alone (a submit, start, retry or cancel; not a step's result) can leave a run pending.
  if (!follow?.gateQuery || events.some((e) => e.category === "step")) return append(follow);
  const view = await c.log.view(target);
  const query = gateQueryAfter(view.run, view.steps, events, follow);
  return query ? c.gates.withGate(query, follow, append) : append(follow);
}

/** A run's creation (writeSubmission, see FsSubmissions), under its gate's lock when its follow-up counts the gate. */
export function writeSubmitted(
  c: FsWriteContext,
  submitted: EventOf<"RunSubmitted">,
  extra: Event[],
  follow?: FollowUp,
): Promise<SubmissionResult> {
  const query = gateQueryAfter(null, new Map(), [submitted, ...extra], follow);
  if (!query || !follow) return c.submissions.submit(submitted, extra, follow);
  return c.gates.withGate(query, follow, (f) => c.submissions.submit(submitted, extra, f));
}
