import { z } from "zod";
import { Micros, StepErrorSchema } from "./schemas.js";
import { FlowDecision, WorkflowFailureReason } from "./events.js";
import { StateChangeSchema } from "./step-state.js";

/** The projected state of one run. */
export const RunStateSchema = z.object({
  runId: z.string(),
  workflowSlug: z.string(),
  status: z.enum(["pending", "running", "completed", "failed", "cancelled"]),
  createdAtUs: Micros,
  availableAtUs: Micros,
  priority: z.number().int(),
  input: z.string().optional(),
  hasInputSchema: z.boolean(),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()).optional(),
  idempotencyKey: z.string().optional(),
  timeoutUs: z.number().int().positive().optional(),
  versionId: z.string().optional(),
  workflowAttemptNumber: z.number().int().nonnegative(),
  startedAtUs: Micros.optional(),
  endedAtUs: Micros.optional(),
  durationUs: z.number().int().nonnegative().optional(),
  output: z.string().optional(),
  error: StepErrorSchema.optional(),
  failureReason: WorkflowFailureReason.optional(),
  failedStep: z.string().optional(),
  cancelReason: z.string().optional(),
  totalSteps: z.number().int().nonnegative().optional(),
  completedSteps: z.number().int().nonnegative().optional(),
  inputValidation: z
    .object({
      success: z.boolean(),
      validationErrors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    })
    .optional(),
  parentRunId: z.string().optional(),
  rerunFromStepId: z.string().optional(),
  rerunStepIds: z.array(z.string()).optional(),
  resumedFrom: z.string().optional(),
  /** The run's flow-control gate key (runs of the workflow with this key share its limits). */
  flowKey: z.string().optional(),
  /** The tenant that owns the run (see tenants.ts): a tenant view reads and lists only its own runs. */
  tenantId: z.string().optional(),
  /** What flow control last decided for the run. */
  flow: z
    .object({
      decision: FlowDecision,
      reason: z.string(),
      relatedRunId: z.string().optional(),
      untilUs: Micros.optional(),
    })
    .optional(),
  /** Set while the run is paused (WorkflowPaused until WorkflowResumed). */
  paused: z.object({ atUs: Micros, scope: z.enum(["run", "workflow"]), reason: z.string().optional() }).optional(),
  /** The run-level state steps read as `ctx.state`: the resume patches merged, serialised JSON object. */
  state: z.string().optional(),
  /** Signals delivered to the run in arrival order; `consumedBy` once a waiting step took one. */
  signals: z
    .array(
      z.object({
        signalId: z.string(),
        name: z.string(),
        payload: z.string(),
        receivedAtUs: Micros,
        consumedBy: z.object({ stepId: z.string(), attemptNumber: z.number().int().positive() }).optional(),
      }),
    )
    .optional(),
  /** The run's counters (`ctx.increment`): per name, the sum over its steps of each step's counted attempt. */
  counters: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /** Per step, the attempt whose increments count and their sums (a later attempt's first increment replaces an earlier one's). */
  counterParts: z
    .record(
      z.string(),
      z.object({
        attemptNumber: z.number().int().positive(),
        values: z.record(z.string(), z.number().int().nonnegative()),
      }),
    )
    .optional(),
  /** What kind of run this is (RunSubmitted `runType`). */
  runType: z.string().optional(),
  /** What started the run (RunSubmitted `trigger`: "cron", "api", "webhook", …). */
  trigger: z.string().optional(),
  /** Recorded by the standalone tracker: no worker claims or reclaims its steps, the engine does not advance it. */
  tracked: z.boolean().optional(),
  updatedAtUs: Micros,
  stateChanges: z.array(StateChangeSchema),
});
/** The projected state of one run. */
export type RunState = z.infer<typeof RunStateSchema>;
