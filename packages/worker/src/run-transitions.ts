import type { Event, EventOf } from "@cairn/backend-interface";

/** A run's end as one write recorded it. */
export type RunEnd = EventOf<"WorkflowCompleted"> | EventOf<"WorkflowFailed">;

/** Which write: the first event it appended (a step's end or reclaim, for one attempt). */
export interface WriteAnchor {
  type: "StepCompleted" | "StepFailed" | "StepSkipped" | "StepReclaimed";
  stepId: string;
  attemptNumber: number;
  /** For a reclaim: the worker that wrote it. */
  reclaimedBy?: string;
}

/**
 * The run's end, when the write that begins with `anchor` appended it. A write's events are contiguous in the run's
 * log, and what the store appends after a step's end in the same write is only ever schedules, cascade skips, a
 * terminal failure of the reclaimed step and the run's end: so the end belongs to this write exactly when nothing
 * else stands between them. Pure; no I/O.
 */
export function runEndedBy(events: readonly Event[], anchor: WriteAnchor): RunEnd | null {
  let i = lastIndex(events, (e) => matches(e, anchor));
  if (i < 0) return null;
  for (i++; i < events.length; i++) {
    const e = events[i]!;
    if (e.type === "WorkflowCompleted" || e.type === "WorkflowFailed") return e;
    const followUp =
      e.type === "StepScheduled" ||
      (e.type === "StepSkipped" && e.skipType === "cascade") ||
      (anchor.type === "StepReclaimed" && e.type === "StepFailed" && e.stepId === anchor.stepId);
    if (!followUp) return null;
  }
  return null;
}

function matches(e: Event, a: WriteAnchor): boolean {
  if (e.type !== a.type || e.stepId !== a.stepId || e.attemptNumber !== a.attemptNumber) return false;
  return a.type !== "StepReclaimed" || (e.type === "StepReclaimed" && e.reclaimedBy === a.reclaimedBy);
}

/**
 * True when the attempt (`stepId`, `attemptNumber`) is the first step started since the run's latest start: the
 * worker that claimed it calls the run's `onStart`, once per workflow attempt, whoever wrote WorkflowStarted.
 */
export function isFirstStart(events: readonly Event[], stepId: string, attemptNumber: number): boolean {
  const started = lastIndex(events, (e) => e.type === "WorkflowStarted");
  if (started < 0) return false;
  const first = events.slice(started + 1).find((e) => e.type === "StepStarted");
  return first?.type === "StepStarted" && first.stepId === stepId && first.attemptNumber === attemptNumber;
}

/**
 * The attempt that calls `onCancel`: of the steps running when the run was cancelled, the one with the lowest step
 * id (each of them learns of the cancel from its next heartbeat or write; only this one calls the hook). Null when
 * the run is not cancelled or none ran then.
 */
export function cancelOwner(events: readonly Event[]): { stepId: string; attemptNumber: number } | null {
  const cancelled = lastIndex(events, (e) => e.type === "WorkflowCancelled");
  if (cancelled < 0) return null;
  const running = new Map<string, number>();
  for (const e of events.slice(0, cancelled)) {
    if (e.type === "StepStarted") running.set(e.stepId, e.attemptNumber);
    else if (
      (e.type === "StepCompleted" ||
        e.type === "StepFailed" ||
        e.type === "StepSkipped" ||
        e.type === "StepReclaimed") &&
      running.get(e.stepId) === e.attemptNumber
    )
      running.delete(e.stepId);
  }
  const [stepId] = [...running.keys()].sort();
  return stepId === undefined ? null : { stepId, attemptNumber: running.get(stepId)! };
}

function lastIndex(events: readonly Event[], test: (e: Event) => boolean): number {
  for (let i = events.length - 1; i >= 0; i--) if (test(events[i]!)) return i;
  return -1;
}
