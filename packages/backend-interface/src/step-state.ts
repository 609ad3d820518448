import { z } from "zod";
import { ErrorFingerprintsSchema, LogProgressSchema, Micros, ResourceUsageSchema, StepErrorSchema } from "./schemas.js";
import { StepFailureReason, StepWaitSchema } from "./events.js";

/** One entry of a step's status history. `stale` marks an ignored event from an older attempt. */
export const StateChangeSchema = z.object({
  status: z.string(),
  timestampUs: Micros,
  message: z.string().optional(),
  stale: z.boolean().optional(),
});
/** One entry of a step's or run's status history. */
export type StateChange = z.infer<typeof StateChangeSchema>;

/** The projected state of one step of one run. */
export const StepStateSchema = z.object({
  workflowSlug: z.string(),
  runId: z.string(),
  stepId: z.string(),
  status: z.enum(["pending", "scheduled", "running", "completed", "failed", "skipped"]),
  attemptNumber: z.number().int().nonnegative(),
  availableAtUs: Micros.optional(),
  scheduleReason: z.enum(["initial", "retry", "dependency-satisfied", "wake"]).optional(),
  priority: z.number().int(),
  claimedBy: z.string().optional(),
  startTimeUs: Micros.optional(),
  lastHeartbeatUs: Micros.optional(),
  dependencies: z.array(z.string()),
  output: z.string().optional(),
  exportOutput: z.boolean().optional(),
  durationUs: z.number().int().nonnegative().optional(),
  endTimeUs: Micros.optional(),
  error: StepErrorSchema.optional(),
  errorFingerprints: ErrorFingerprintsSchema.optional(),
  failureReason: StepFailureReason.optional(),
  terminal: z.boolean().optional(),
  nextRetryAtUs: Micros.optional(),
  skipType: z.enum(["primary", "cascade"]).optional(),
  skipReason: z.string().optional(),
  cascadedFrom: z.string().optional(),
  wasReclaimed: z.boolean(),
  /** The attempt number a run retry reset the step at (StepReset): its retry budget counts the attempts after it. */
  resetAtAttempt: z.number().int().nonnegative().optional(),
  reclaimedFrom: z.string().optional(),
  reclaimedBy: z.string().optional(),
  resourceUsage: ResourceUsageSchema.optional(),
  /** What the step waits for (StepWaiting), with the attempt that waited and the signal that woke it; cleared by StepStarted. */
  waiting: StepWaitSchema.extend({
    attemptNumber: z.number().int().positive(),
    sinceUs: Micros,
    signalId: z.string().optional(),
  }).optional(),
  /** Wakes since the last reset (StepScheduled `wake`): attempts that are not retries, left out of the retry budget. */
  wakes: z.number().int().nonnegative().optional(),
  /** Set while the step is held by a paused run: the availability it gets back on release (availableAtUs is far in the future meanwhile). */
  heldAvailableAtUs: Micros.optional(),
  /** The latest progress the current attempt reported (`ctx.progress`), with its attempt and when it was emitted. */
  progress: LogProgressSchema.extend({ attemptNumber: z.number().int().positive(), atUs: Micros }).optional(),
  createdAtUs: Micros,
  updatedAtUs: Micros,
  stateChanges: z.array(StateChangeSchema),
});
/** The projected state of one step of one run. */
export type StepState = z.infer<typeof StepStateSchema>;
/** The seed interface's name for a step's projected state (what loadRun returns). */
export type StepRecord = StepState;
