import type { Event, LogProgress, StepError } from "@cairn/backend-interface";

/** How an attempt ended (or that it has not). */
export type AttemptOutcome =
  | "running"
  | "completed"
  | "copied"
  | "failed"
  | "retried"
  | "released"
  | "reclaimed"
  | "cancelled"
  | "skipped"
  | "waited";

/** One attempt of a step, as its events tell it. */
export interface Attempt {
  stepId: string;
  attemptNumber: number;
  workerId?: string;
  startedAtUs?: number;
  endedAtUs?: number;
  durationUs?: number;
  outcome: AttemptOutcome;
  failureReason?: string;
  error?: StepError;
  /** When the next attempt may start (a retried attempt). */
  nextRetryAtUs?: number;
  /** Why it was skipped, or from which run a copied result came. */
  note?: string;
  /** The last progress it reported, and when. */
  progress?: LogProgress & { atUs: number };
}

const RELEASE_ERROR_NAME = "WorkerShutdownRelease";

/**
 * The attempts of each step of a run from its step events (in append order), by step id, each list by attempt
 * number. Pure: the CLI's `run`, `logs` and live views read attempts through it.
 */
export function foldAttempts(events: readonly Event[]): Map<string, Attempt[]> {
  const byStep = new Map<string, Map<number, Attempt>>();
  const at = (stepId: string, n: number): Attempt => {
    const m = byStep.get(stepId) ?? new Map<number, Attempt>();
    byStep.set(stepId, m);
    const a = m.get(n) ?? { stepId, attemptNumber: n, outcome: "running" };
    m.set(n, a);
    return a;
  };
  for (const e of events) {
    if (e.category !== "step") continue;
    switch (e.type) {
      case "StepStarted": {
        const a = at(e.stepId, e.attemptNumber);
        a.workerId = e.workerId;
        a.startedAtUs = e.timestampUs;
        break;
      }
      case "StepCompleted": {
        const a = at(e.stepId, e.attemptNumber);
        Object.assign(a, {
          outcome: e.copiedFromRunId ? "copied" : "completed",
          durationUs: e.durationUs,
          endedAtUs: e.timestampUs,
        });
        if (e.copiedFromRunId) a.note = `result kept from run ${e.copiedFromRunId}`;
        break;
      }
      case "StepFailed": {
        const a = at(e.stepId, e.attemptNumber);
        const outcome =
          e.error.name === RELEASE_ERROR_NAME
            ? "released"
            : e.failureReason === "cancelled"
              ? "cancelled"
              : e.terminal
                ? "failed"
                : "retried";
        Object.assign(a, {
          outcome,
          error: e.error,
          failureReason: e.failureReason,
          durationUs: e.durationUs,
          endedAtUs: e.timestampUs,
        });
        if (e.nextRetryAtUs !== undefined) a.nextRetryAtUs = e.nextRetryAtUs;
        break;
      }
      case "StepReclaimed": {
        const a = at(e.stepId, e.attemptNumber);
        if (a.outcome !== "running") break;
        Object.assign(a, {
          outcome: "reclaimed",
          endedAtUs: e.timestampUs,
          durationUs: a.startedAtUs === undefined ? undefined : Math.max(0, e.timestampUs - a.startedAtUs),
        });
        a.error = {
          name: "WorkerLost",
          message: `worker ${e.originalWorkerId} stopped heartbeating (last seen ${Math.round(e.staleDurationUs / 1000)} ms before); reclaimed by ${e.reclaimedBy}`,
        };
        break;
      }
      case "StepSkipped": {
        if (e.attemptNumber < 1) break; // a cascade skip: the step never ran
        const a = at(e.stepId, e.attemptNumber);
        Object.assign(a, { outcome: "skipped", durationUs: e.durationUs, endedAtUs: e.timestampUs, note: e.reason });
        break;
      }
      case "StepWaiting": {
        const a = at(e.stepId, e.attemptNumber);
        const w = e.wait;
        const what = w.kind === "event" ? `signal ${w.name}` : `${w.kind} ${w.name}`;
        Object.assign(a, {
          outcome: "waited",
          durationUs: e.durationUs,
          endedAtUs: e.timestampUs,
          note: `waited for ${what}${w.untilUs === undefined ? "" : ` until ${new Date(w.untilUs / 1000).toISOString()}`}`,
        });
        break;
      }
      case "LogEntry":
        if (e.progress)
          at(e.stepId, e.attemptNumber).progress = { ...e.progress, atUs: e.emittedAtUs ?? e.timestampUs };
        break;
      default:
        break;
    }
  }
  return new Map([...byStep].map(([id, m]) => [id, [...m.values()].sort((a, b) => a.attemptNumber - b.attemptNumber)]));
}
