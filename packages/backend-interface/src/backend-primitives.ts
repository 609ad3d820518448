import type { RunStatus, WorkflowVersion } from "./schemas.js";
import type { GateQuery, GateView } from "./flow-control.js";
import type { Event } from "./events.js";
import type { RunState } from "./run-state.js";
import type { StepState } from "./step-state.js";
import type { Clock } from "./clock.js";

/** Where a guarded write goes: one run, and one step of it for step guards. */
export interface WriteTarget {
  workflowSlug: string;
  runId: string;
  stepId?: string;
}

/** Filter of loadEvents. */
export interface EventFilter {
  category?: "workflow" | "step";
  stepId?: string;
}

/** Result of the atomic submission primitive. */
export type SubmissionResult =
  /**
   * `workflowPaused`: whether the run's workflow is paused, as the write read it, serialised with the writes of the
   * pause mark (the driver's fast path; see settleWorkflowPause). Absent: the Backend reads the registration after
   * the write instead.
   */
  | { created: true; runId: string; workflowPaused?: boolean }
  | { created: false; runId: string; existingInput: string | undefined };

/** Options of listRuns. */
export interface ListRunsOptions {
  workflowSlug?: string;
  /** Any of these statuses (OR). */
  status?: RunStatus[];
  /** All of these tags (AND). */
  tags?: string[];
  /** Newest first; at most this many. */
  limit?: number;
  /** Only runs after this one in newest-first order (the last run of the previous page): cursor paging. */
  before?: { createdAtUs: number; runId: string };
  /** Only runs created at or after this µs instant. */
  createdAfterUs?: number;
  /** Only runs of this tenant (RunState.tenantId; see tenants.ts). */
  tenantId?: string;
}

/** Options of listScheduledSteps. */
export interface ListScheduledOptions {
  /** Only steps available at or before this µs instant; default now. */
  availableBefore?: number;
  workflowSlug?: string;
  limit?: number;
}

/** A step's address. */
export interface StepRef {
  workflowSlug: string;
  runId: string;
  stepId: string;
}

/** Result of putVersion: created, or the version already stored under that id (the Backend compares the content). */
export type PutVersionResult = { status: "created" | "exists"; version: WorkflowVersion };

/** What a driver can do beyond the contract's minimum; tests and the worker branch on these, never on driver names. */
export interface BackendCapabilities {
  /** `subscribe` delivers wake-ups when steps become ready (Postgres LISTEN/NOTIFY). Otherwise callers poll. */
  notifications: boolean;
  /** Several OS processes may open the same storage at once. */
  multiProcess: boolean;
  /** claimScheduledSteps claims many steps in one round trip (rather than looping over claimScheduledStep). */
  batchClaim: boolean;
  /** The driver counts flow-control gates inside its writes (FollowUp.gateQuery): workflow versions may declare flow control. */
  flowControl: boolean;
}

/** Options every Backend accepts. */
export interface BackendOptions {
  /** Time source for every timestamp the backend writes; default the monotonic system clock. */
  clock?: Clock;
  /** Directory under which getStepOutputPath places step output files (drivers with a base directory use their own). */
  outputDir?: string;
}

/**
 * The follow-up of a guarded write: called by the driver inside the same atomic write, after the guard held, with
 * the run's state and every step's state as they are once the write's own events are folded in; the events it
 * returns are appended in that same write. It is how the store advances a run (see advanceRun). It may throw
 * (then nothing of the write is kept and the error reaches the caller).
 */
export type FollowUp = ((run: RunState | null, steps: ReadonlyMap<string, StepState>, gate?: GateView) => Event[]) & {
  /**
   * When present and it returns a query for the state after the write's own events, the driver counts the run's
   * flow-control gate (GateView) inside the same atomic write, serialised with every other write that counts that
   * gate (a lock held to commit, or a single writer), and hands the view to the follow-up.
   */
  gateQuery?: (run: RunState | null) => GateQuery | null;
};
