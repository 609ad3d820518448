import type { Event, StepError } from "@cairn/backend-interface";

/** How one attempt of a step ended (or that it has not yet). */
export type AttemptOutcome =
  "waiting" | "running" | "completed" | "failed" | "retried" | "skipped" | "reclaimed" | "copied";

/** One attempt of one step, as its events tell it: when it became ready, ran and ended. */
export interface StepAttempt {
  stepId: string;
  attempt: number;
  /** When the attempt was scheduled to be ready (after a retry back-off: the end of the wait). */
  availableAtUs?: number;
  scheduledAtUs?: number;
  startUs?: number;
  endUs?: number;
  workerId?: string;
  outcome: AttemptOutcome;
  error?: StepError;
}

/** Pure: the attempts of every step of a run from its step events, in first-seen order of steps then attempt number. */
export function stepAttempts(events: readonly Event[]): StepAttempt[] {
  const byKey = new Map<string, StepAttempt>();
  const get = (stepId: string, attempt: number): StepAttempt => {
    const key = `${stepId}\u0000${attempt}`;
    let a = byKey.get(key);
    if (!a) {
      a = { stepId, attempt, outcome: "waiting" };
      byKey.set(key, a);
    }
    return a;
  };
  for (const e of events) {
    if (e.category !== "step") continue;
    switch (e.type) {
      case "StepScheduled": {
        const a = get(e.stepId, e.attemptNumber);
        a.scheduledAtUs = e.timestampUs;
        a.availableAtUs = e.availableAtUs;
        break;
      }
      case "StepStarted": {
        const a = get(e.stepId, e.attemptNumber);
        a.startUs = e.timestampUs;
        a.workerId = e.workerId;
        a.outcome = "running";
        break;
      }
      case "StepCompleted": {
        const a = get(e.stepId, e.attemptNumber);
        a.endUs = e.timestampUs;
        a.outcome = e.copiedFromRunId ? "copied" : "completed";
        a.startUs ??= e.timestampUs - e.durationUs;
        break;
      }
      case "StepFailed": {
        const a = get(e.stepId, e.attemptNumber);
        a.endUs = e.timestampUs;
        a.outcome = e.terminal ? "failed" : "retried";
        a.error = e.error;
        a.startUs ??= e.timestampUs - e.durationUs;
        break;
      }
      case "StepSkipped": {
        const a = get(e.stepId, Math.max(1, e.attemptNumber));
        a.endUs = e.timestampUs;
        a.outcome = "skipped";
        a.startUs ??= e.timestampUs - e.durationUs;
        break;
      }
      case "StepReclaimed": {
        const a = get(e.stepId, e.attemptNumber);
        a.endUs = e.timestampUs;
        a.outcome = "reclaimed";
        break;
      }
      default:
        break;
    }
  }
  return [...byKey.values()];
}
