import type { RunState } from "./run-state.js";
import type { StepState } from "./step-state.js";
import { isTerminalRunStatus, isTerminalStepStatus } from "./schemas.js";

/**
 * The condition under which a driver may append a batch of events, checked atomically with the append
 * against the run's and step's projected state. One declarative type, so SQL drivers can evaluate it
 * inside their transaction and the filesystem driver under its optimistic append.
 */
export type WriteGuard =
  /** Always write. */
  | { kind: "none" }
  /** Claim: step scheduled, available by `nowUs`, in a run that exists, is not terminal, not paused and not tracked. */
  | { kind: "claim"; nowUs: number; attemptNumber?: number }
  /** Fencing: the step is running attempt `attemptNumber` (claimed by `workerId` when given). */
  | { kind: "attempt"; attemptNumber: number; workerId?: string; rejectIfRunTerminal?: boolean }
  /** Reclaim: the step is still running attempt `attemptNumber` and its last sign of life is before `heartbeatBeforeUs`. */
  | { kind: "stale"; attemptNumber: number; heartbeatBeforeUs: number }
  /** Schedule attempt `attemptNumber` (never in a tracked run): attempt 1 only from pending; attempt n > 1 only after attempt n - 1, never over a result. */
  | { kind: "schedule"; attemptNumber: number }
  /** The step has not ended; if it is running, only its current attempt may end it. */
  | { kind: "step-open"; attemptNumber?: number }
  /** Tracked step start: the run exists, is tracked and open, and the step was never started (attempt 1 of a tracker's step). */
  | { kind: "tracked-step" }
  /** Run start: the run is pending and available by `nowUs`. */
  | { kind: "run-start"; nowUs: number }
  /** The run exists and has not ended. */
  | { kind: "run-open" };

/** Why a guarded write was refused. */
export type GuardRefusal = "not-claimable" | "stale-attempt" | "run-terminal" | "run-missing" | "already-done";

/** The outcome of a guarded write. */
export type GuardVerdict =
  | { ok: true }
  | {
      ok: false;
      reason: GuardRefusal;
      stepStatus?: StepState["status"];
      stepAttempt?: number;
      runStatus?: RunState["status"];
    };

const OK: GuardVerdict = { ok: true };

/** Pure: decides whether `guard` holds for the given run and step state (either may be absent). */
export function checkGuard(guard: WriteGuard, run: RunState | null, step: StepState | null): GuardVerdict {
  const ctx = { stepStatus: step?.status, stepAttempt: step?.attemptNumber, runStatus: run?.status };
  const refuse = (reason: GuardRefusal): GuardVerdict => ({ ok: false, reason, ...stripUndefined(ctx) });
  const runEnded = run !== null && isTerminalRunStatus(run.status);
  switch (guard.kind) {
    case "none":
      return OK;
    case "claim":
      if (!run) return refuse("run-missing");
      if (runEnded) return refuse("run-terminal");
      if (run.paused || run.tracked) return refuse("not-claimable");
      if (!step || step.status !== "scheduled" || (step.availableAtUs ?? 0) > guard.nowUs)
        return refuse("not-claimable");
      if (guard.attemptNumber !== undefined && step.attemptNumber !== guard.attemptNumber)
        return refuse("not-claimable");
      return OK;
    case "attempt":
      if (!step || step.status !== "running" || step.attemptNumber !== guard.attemptNumber)
        return refuse("stale-attempt");
      if (guard.workerId !== undefined && step.claimedBy !== guard.workerId) return refuse("stale-attempt");
      if (guard.rejectIfRunTerminal && runEnded) return refuse("run-terminal");
      return OK;
    case "stale": {
      if (runEnded) return refuse("run-terminal");
      // A tracked run's steps run in the tracker's process, not on a worker: no heartbeat to miss, never reclaimed.
      if (run?.tracked) return refuse("not-claimable");
      if (!step || step.status !== "running" || step.attemptNumber !== guard.attemptNumber)
        return refuse("stale-attempt");
      const lastSeen = step.lastHeartbeatUs ?? step.startTimeUs ?? 0;
      return lastSeen < guard.heartbeatBeforeUs ? OK : refuse("not-claimable");
    }
    case "schedule":
      if (runEnded) return refuse("run-terminal");
      if (run?.tracked) return refuse("not-claimable"); // a tracked run's steps are started by its tracker, never scheduled
      if (guard.attemptNumber === 1) return !step || step.status === "pending" ? OK : refuse("already-done");
      if (!step || step.attemptNumber !== guard.attemptNumber - 1) return refuse("already-done");
      return step.status === "completed" || step.status === "skipped" || step.status === "scheduled"
        ? refuse("already-done")
        : OK;
    case "step-open":
      if (step && isTerminalStepStatus(step.status)) return refuse("already-done");
      if (
        step &&
        step.status === "running" &&
        guard.attemptNumber !== undefined &&
        step.attemptNumber !== guard.attemptNumber
      )
        return refuse("stale-attempt");
      return OK;
    case "tracked-step":
      if (!run) return refuse("run-missing");
      if (runEnded) return refuse("run-terminal");
      if (!run.tracked) return refuse("not-claimable");
      return step && step.status !== "pending" ? refuse("already-done") : OK;
    case "run-start":
      if (!run) return refuse("run-missing");
      if (run.status !== "pending" || run.availableAtUs > guard.nowUs) return refuse("not-claimable");
      return OK;
    case "run-open":
      if (!run) return refuse("run-missing");
      return runEnded ? refuse("run-terminal") : OK;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
