import type { StepEvent } from "./events.js";
import type { StepState } from "./step-state.js";

/**
 * The availability of a held step (a paused run's) and of a wait with no end of its own: far enough ahead that no
 * claim or listing reaches it, small enough to stay an exact integer in every driver (year 2243, in µs).
 */
export const HELD_AVAILABLE_AT_US = 8_640_000_000_000_000;

function assertNever(x: never): never {
  throw new Error(`Unhandled event type ${(x as { type: string }).type}`);
}

function initialStep(ev: StepEvent): StepState {
  return {
    workflowSlug: ev.workflowSlug,
    runId: ev.runId,
    stepId: ev.stepId,
    status: "pending",
    attemptNumber: 0,
    priority: 0,
    dependencies: [],
    wasReclaimed: false,
    createdAtUs: ev.timestampUs,
    updatedAtUs: ev.timestampUs,
    stateChanges: [],
  };
}

function moveTo(s: StepState, status: StepState["status"], ts: number, message?: string): void {
  s.status = status;
  s.stateChanges.push(message === undefined ? { status, timestampUs: ts } : { status, timestampUs: ts, message });
}

/**
 * Folds one step event into a step's state. Pure: returns a new state, never mutates its inputs.
 * `projectStepState` is this reducer folded over a step's events in order; drivers that keep
 * projection tables apply it incrementally so their rows always equal the projection.
 */
export function reduceStepState(state: StepState | null, ev: StepEvent): StepState {
  const s: StepState = state ? { ...state, stateChanges: [...state.stateChanges] } : initialStep(ev);
  const ts = ev.timestampUs;
  if (ts > s.updatedAtUs) s.updatedAtUs = ts;
  switch (ev.type) {
    case "StepScheduled":
      s.attemptNumber = ev.attemptNumber;
      s.availableAtUs = ev.availableAtUs;
      s.scheduleReason = ev.reason;
      if (ev.reason === "wake") s.wakes = (s.wakes ?? 0) + 1;
      else delete s.waiting;
      delete s.heldAvailableAtUs;
      if (ev.priority !== undefined) s.priority = ev.priority;
      delete s.claimedBy;
      delete s.lastHeartbeatUs;
      delete s.startTimeUs;
      delete s.terminal;
      moveTo(s, "scheduled", ts, ev.reason === "retry" ? `retry attempt ${ev.attemptNumber}` : ev.reason);
      return s;
    case "StepStarted":
      s.attemptNumber = ev.attemptNumber;
      s.claimedBy = ev.workerId;
      s.startTimeUs = ts;
      s.dependencies = [...ev.dependencies];
      delete s.lastHeartbeatUs;
      delete s.nextRetryAtUs;
      delete s.waiting;
      delete s.heldAvailableAtUs;
      moveTo(s, "running", ts, `attempt ${ev.attemptNumber} on ${ev.workerId}`);
      return s;
    case "StepHeartbeat":
      // A zombie's heartbeat (older attempt, other worker, step no longer running) must not refresh the current claim.
      if (s.status === "running" && ev.attemptNumber === s.attemptNumber && ev.workerId === s.claimedBy)
        s.lastHeartbeatUs = ts;
      return s;
    case "StepCompleted":
      if (ev.attemptNumber < s.attemptNumber) return stale(s, ev.type, ev.attemptNumber, ts);
      s.attemptNumber = ev.attemptNumber;
      s.output = ev.output;
      s.exportOutput = ev.exportOutput;
      s.durationUs = ev.durationUs;
      s.endTimeUs = ts;
      if (ev.resourceUsage) s.resourceUsage = ev.resourceUsage;
      delete s.error;
      delete s.errorFingerprints;
      delete s.failureReason;
      delete s.nextRetryAtUs;
      moveTo(s, "completed", ts);
      return s;
    case "StepFailed":
      if (ev.attemptNumber < s.attemptNumber) return stale(s, ev.type, ev.attemptNumber, ts);
      s.attemptNumber = ev.attemptNumber;
      s.error = ev.error;
      s.errorFingerprints = ev.errorFingerprints;
      s.failureReason = ev.failureReason;
      s.terminal = ev.terminal;
      s.durationUs = ev.durationUs;
      if (ev.resourceUsage) s.resourceUsage = ev.resourceUsage;
      if (ev.terminal) {
        delete s.nextRetryAtUs;
        s.endTimeUs = ts;
        moveTo(s, "failed", ts, ev.error.message);
      } else if (ev.nextRetryAtUs !== undefined) {
        s.nextRetryAtUs = ev.nextRetryAtUs;
      }
      return s;
    case "StepSkipped":
      s.skipType = ev.skipType;
      s.skipReason = ev.reason;
      if (ev.cascadedFrom !== undefined) s.cascadedFrom = ev.cascadedFrom;
      s.durationUs = ev.durationUs;
      s.endTimeUs = ts;
      moveTo(s, "skipped", ts, ev.reason);
      return s;
    case "StepReset":
      for (const k of [
        "error",
        "errorFingerprints",
        "failureReason",
        "terminal",
        "nextRetryAtUs",
        "skipType",
        "skipReason",
        "cascadedFrom",
        "output",
        "endTimeUs",
        "claimedBy",
        "startTimeUs",
        "lastHeartbeatUs",
        "availableAtUs",
      ] as const)
        delete s[k];
      for (const k of ["waiting", "wakes", "heldAvailableAtUs"] as const) delete s[k];
      s.resetAtAttempt = ev.attemptNumber;
      moveTo(s, "pending", ts, ev.reason);
      return s;
    case "StepReclaimed":
      s.wasReclaimed = true;
      s.reclaimedFrom = ev.originalWorkerId;
      s.reclaimedBy = ev.reclaimedBy;
      return s;
    case "StepWaiting":
      if (ev.attemptNumber !== s.attemptNumber || s.status !== "running")
        return stale(s, ev.type, ev.attemptNumber, ts);
      s.waiting = { ...ev.wait, attemptNumber: ev.attemptNumber, sinceUs: ts };
      s.durationUs = ev.durationUs;
      return s;
    case "StepWoken":
      if (ev.attemptNumber !== s.attemptNumber || s.status !== "scheduled") return s;
      if (s.heldAvailableAtUs !== undefined) s.heldAvailableAtUs = ev.availableAtUs;
      else s.availableAtUs = ev.availableAtUs;
      if (s.waiting && ev.signalId !== undefined) s.waiting = { ...s.waiting, signalId: ev.signalId };
      return s;
    case "StepHeld":
      if (s.status !== "scheduled" || s.heldAvailableAtUs !== undefined) return s;
      s.heldAvailableAtUs = s.availableAtUs ?? ts;
      s.availableAtUs = HELD_AVAILABLE_AT_US;
      return s;
    case "StepReleased":
      if (s.heldAvailableAtUs === undefined) return s;
      s.availableAtUs = s.heldAvailableAtUs;
      delete s.heldAvailableAtUs;
      return s;
    case "LogEntry":
      // The step's latest progress: a progress line of its current attempt (a late line of an older attempt is not).
      if (ev.progress && ev.attemptNumber === s.attemptNumber)
        s.progress = { ...ev.progress, attemptNumber: ev.attemptNumber, atUs: ev.emittedAtUs ?? ts };
      return s;
    case "StepRetrying":
    case "StepCheckpoint":
    case "StepCheckpointFailed":
    case "StepCall":
    case "StepLinked":
    case "StepChild":
      return s;
    default:
      return assertNever(ev);
  }
}

function stale(s: StepState, type: string, attempt: number, ts: number): StepState {
  s.stateChanges.push({
    status: s.status,
    timestampUs: ts,
    message: `${type} from stale attempt ${attempt} ignored (current ${s.attemptNumber})`,
    stale: true,
  });
  return s;
}

/** The state of one step: its events folded in order. `null` when there are none. */
export function projectStepState(events: readonly StepEvent[]): StepState | null {
  let s: StepState | null = null;
  for (const ev of events) s = reduceStepState(s, ev);
  return s;
}

/** Projects every step of a run from its step events (any order of steps, each step's events in order). */
export function projectStepStates(events: readonly StepEvent[]): Map<string, StepState> {
  const out = new Map<string, StepState>();
  for (const ev of events) out.set(ev.stepId, reduceStepState(out.get(ev.stepId) ?? null, ev));
  return out;
}
