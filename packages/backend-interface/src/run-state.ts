import { z } from "zod";
import { Micros, StepErrorSchema } from "./schemas.js";
import { WorkflowFailureReason } from "./events.js";
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
    .object({ success: z.boolean(), validationErrors: z.array(z.object({ path: z.string(), message: z.string() })).optional() })
    .optional(),
  parentRunId: z.string().optional(),
  rerunFromStepId: z.string().optional(),
  rerunStepIds: z.array(z.string()).optional(),
  resumedFrom: z.string().optional(),
  /** The run's counters (`ctx.increment`): per name, the sum over its steps of each step's counted attempt. */
  counters: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /** Per step, the attempt whose increments count and their sums (a later attempt's first increment replaces an earlier one's). */
  counterParts: z.record(z.string(), z.object({ attemptNumber: z.number().int().positive(), values: z.record(z.string(), z.number().int().nonnegative()) })).optional(),
  updatedAtUs: Micros,
  stateChanges: z.array(StateChangeSchema),
});
/** The projected state of one run. */
export type RunState = z.infer<typeof RunStateSchema>;
