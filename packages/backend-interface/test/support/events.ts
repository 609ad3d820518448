import { parseEvent, type EventOf, type StepEvent, type WorkflowEvent } from "../../src/index.js";

let seq = 0;

/** A validated step event of run `r1` of workflow `wf` (override anything through `body`). */
export function stepEv<T extends StepEvent["type"]>(
  type: T,
  timestampUs: number,
  body: Record<string, unknown>,
): EventOf<T> {
  seq++;
  return parseEvent({
    eventId: `e${String(seq).padStart(6, "0")}`,
    timestampUs,
    workflowSlug: "wf",
    runId: "r1",
    category: "step",
    stepId: "s1",
    type,
    ...body,
  }) as EventOf<T>;
}

/** A validated workflow event of run `r1` of workflow `wf`. */
export function runEv<T extends WorkflowEvent["type"]>(
  type: T,
  timestampUs: number,
  body: Record<string, unknown>,
): EventOf<T> {
  seq++;
  return parseEvent({
    eventId: `e${String(seq).padStart(6, "0")}`,
    timestampUs,
    workflowSlug: "wf",
    runId: "r1",
    category: "workflow",
    type,
    ...body,
  }) as EventOf<T>;
}

const fps = { nameHash: "n", messageHash: "m", stackExactHash: "a", stackNormalizedHash: "b", stackPortableHash: "c" };

/** Shorthands for the common step events. */
export const step = {
  scheduled: (t: number, attemptNumber: number, extra: Record<string, unknown> = {}) =>
    stepEv("StepScheduled", t, {
      availableAtUs: t,
      reason: attemptNumber === 1 ? "initial" : "retry",
      attemptNumber,
      ...extra,
    }),
  started: (t: number, attemptNumber: number, workerId: string, extra: Record<string, unknown> = {}) =>
    stepEv("StepStarted", t, { workerId, dependencies: [], attemptNumber, ...extra }),
  heartbeat: (t: number, attemptNumber: number, workerId: string) =>
    stepEv("StepHeartbeat", t, { workerId, attemptNumber }),
  completed: (t: number, attemptNumber: number, extra: Record<string, unknown> = {}) =>
    stepEv("StepCompleted", t, { output: '"ok"', durationUs: 10, attemptNumber, exportOutput: false, ...extra }),
  failed: (t: number, attemptNumber: number, terminal: boolean, extra: Record<string, unknown> = {}) =>
    stepEv("StepFailed", t, {
      error: { name: "Error", message: `boom ${attemptNumber}` },
      errorFingerprints: fps,
      durationUs: 10,
      attemptNumber,
      terminal,
      failureReason: terminal ? "exhausted-retries" : "execution-error",
      ...extra,
    }),
  reclaimed: (t: number, attemptNumber: number, originalWorkerId: string) =>
    stepEv("StepReclaimed", t, {
      originalWorkerId,
      reclaimedBy: "reaper",
      lastHeartbeatUs: Math.max(0, t - 100),
      staleThresholdUs: 50,
      staleDurationUs: 100,
      attemptNumber,
    }),
  skipped: (t: number, extra: Record<string, unknown> = {}) =>
    stepEv("StepSkipped", t, { skipType: "primary", reason: "not needed", durationUs: 0, attemptNumber: 1, ...extra }),
};

/** Shorthands for the common workflow events. */
export const run = {
  submitted: (t: number, extra: Record<string, unknown> = {}) =>
    runEv("RunSubmitted", t, { availableAtUs: t, priority: 0, hasInputSchema: false, ...extra }),
  started: (t: number, workflowAttemptNumber = 1) =>
    runEv("WorkflowStarted", t, { workflowAttemptNumber, hasInputSchema: false, hasInput: false }),
  completed: (t: number) =>
    runEv("WorkflowCompleted", t, { workflowAttemptNumber: 1, output: "{}", durationUs: 5, totalSteps: 1 }),
  failed: (t: number) =>
    runEv("WorkflowFailed", t, {
      workflowAttemptNumber: 1,
      error: { message: "step failed" },
      durationUs: 5,
      completedSteps: 0,
      failureReason: "step-failed",
    }),
  cancelled: (t: number) =>
    runEv("WorkflowCancelled", t, { workflowAttemptNumber: 1, reason: "user", durationUs: 5, completedSteps: 0 }),
  retryStarted: (t: number, workflowAttemptNumber: number) =>
    runEv("WorkflowRetryStarted", t, {
      workflowAttemptNumber,
      previousAttemptNumber: workflowAttemptNumber - 1,
      retriedSteps: ["s1"],
    }),
};
