import { z } from "zod";
import {
  RunLabelSchema,
  ErrorFingerprintsSchema,
  LogProgressSchema,
  Micros,
  NonNegInt,
  ResourceUsageSchema,
  StepErrorSchema,
} from "./schemas.js";

const Attempt = z.number().int().positive();
const Id = z.string().min(1);
/** Whose pause: the run's own (`cairn pause <runId>`) or its workflow's (`cairn pause --workflow`). */
const PauseScope = z.enum(["run", "workflow"]);

const envelope = {
  eventId: Id,
  timestampUs: Micros,
  workflowSlug: Id,
  runId: Id,
};
const stepEnvelope = { ...envelope, category: z.literal("step"), stepId: Id };
const workflowEnvelope = { ...envelope, category: z.literal("workflow") };

/** The step was made ready to claim (first time, on retry, or when its dependencies completed). */
export const StepScheduledSchema = z.object({
  ...stepEnvelope,
  type: z.literal("StepScheduled"),
  availableAtUs: Micros,
  /** `wake`: the next attempt of a step that waited (a sleep, a signal, a poll); not a retry. */
  reason: z.enum(["initial", "retry", "dependency-satisfied", "wake"]),
  attemptNumber: Attempt,
  retryDelayMs: NonNegInt.optional(),
  priority: z.number().int().optional(),
});
/** A worker claimed the step: the attempt is running. */
export const StepStartedSchema = z.object({
  ...stepEnvelope,
  type: z.literal("StepStarted"),
  workerId: Id,
  dependencies: z.array(z.string()),
  attemptNumber: Attempt,
  slotIndex: NonNegInt.optional(),
  workerConcurrency: z.number().int().positive().optional(),
});
/** The running attempt is alive. */
export const StepHeartbeatSchema = z.object({
  ...stepEnvelope,
  type: z.literal("StepHeartbeat"),
  workerId: Id,
  attemptNumber: Attempt,
  slotIndex: NonNegInt.optional(),
  workerConcurrency: z.number().int().positive().optional(),
  resourceSnapshot: z.object({ memoryBytes: NonNegInt, cpuTimeUs: NonNegInt.optional() }).optional(),
});
/** The attempt finished with an output (a serialised JSON string). */
export const StepCompletedSchema = z.object({
  ...stepEnvelope,
  type: z.literal("StepCompleted"),
  output: z.string(),
  durationUs: NonNegInt,
  attemptNumber: Attempt,
  exportOutput: z.boolean(),
  resourceUsage: ResourceUsageSchema.optional(),
  /** Set on results copied from a parent run by rerunFrom; analytics ignore them. */
  copiedFromRunId: z.string().optional(),
});
/** The failure reasons of a step. */
export const StepFailureReason = z.enum([
  "exhausted-retries",
  "worker-crash",
  "timeout",
  "cancelled",
  "execution-error",
  "step-removed",
]);
/** The attempt failed; terminal or with a retry to come. */
export const StepFailedSchema = z.object({
  ...stepEnvelope,
  type: z.literal("StepFailed"),
  error: StepErrorSchema,
  errorFingerprints: ErrorFingerprintsSchema,
  durationUs: NonNegInt,
  attemptNumber: Attempt,
  terminal: z.boolean(),
  nextRetryAtUs: Micros.optional(),
  failureReason: StepFailureReason,
  resourceUsage: ResourceUsageSchema.optional(),
});
/** Informational: attempt `attemptNumber` failed and `nextAttempt` follows. */
export const StepRetryingSchema = z.object({
  ...stepEnvelope,
  type: z.literal("StepRetrying"),
  attemptNumber: Attempt,
  nextAttempt: Attempt,
  error: StepErrorSchema,
  maxRetries: NonNegInt.optional(),
});
/** The step will not run (its own choice, or because a dependency did not complete). */
export const StepSkippedSchema = z.object({
  ...stepEnvelope,
  type: z.literal("StepSkipped"),
  skipType: z.enum(["primary", "cascade"]),
  reason: z.string(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  durationUs: NonNegInt,
  attemptNumber: NonNegInt,
  cascadedFrom: z.string().optional(),
  /** Set on skips copied from a parent run by rerunFrom; analytics ignore them. */
  copiedFromRunId: z.string().optional(),
});
/** A reaper took the step from a worker whose heartbeat went stale. */
export const StepReclaimedSchema = z.object({
  ...stepEnvelope,
  type: z.literal("StepReclaimed"),
  originalWorkerId: z.string(),
  reclaimedBy: Id,
  lastHeartbeatUs: Micros,
  staleThresholdUs: NonNegInt,
  staleDurationUs: NonNegInt,
  attemptNumber: Attempt,
});
/** One line of step output. */
export const LogEntryEventSchema = z.object({
  ...stepEnvelope,
  type: z.literal("LogEntry"),
  stream: z.enum(["stdout", "stderr"]),
  message: z.string(),
  attemptNumber: Attempt,
  /** When the step emitted the line (`timestampUs` is when it was stored); absent on lines stored before this field. */
  emittedAtUs: Micros.optional(),
  /** Set on the line a progress report (`ctx.progress`) writes. */
  progress: LogProgressSchema.optional(),
});
/** A saved intermediate result a retry can replay. */
export const StepCheckpointSchema = z.object({
  ...stepEnvelope,
  type: z.literal("StepCheckpoint"),
  name: z.string().min(1),
  sequenceNumber: NonNegInt,
  attemptNumber: Attempt,
  data: z.string(),
  label: z.string().optional(),
  parentCheckpoint: z.string().optional(),
});
/** A checkpointed function threw. */
export const StepCheckpointFailedSchema = z.object({
  ...stepEnvelope,
  type: z.literal("StepCheckpointFailed"),
  name: z.string().min(1),
  sequenceNumber: NonNegInt,
  attemptNumber: Attempt,
  error: StepErrorSchema,
});

/** What a step waits for: a durable sleep, a signal (waitForEvent), or the next call of a poll. */
export const StepWaitSchema = z.object({
  kind: z.enum(["sleep", "event", "poll"]),
  name: z.string().min(1),
  /** When the wait ends on its own (sleep end, wait timeout, next poll); absent: only a signal ends it. */
  untilUs: Micros.optional(),
  /** For an event wait: fields the signal's payload must equal. */
  match: z.record(z.string(), z.unknown()).optional(),
});
/** A step's wait. */
export type StepWait = z.infer<typeof StepWaitSchema>;
/** The running attempt gave back its slot to wait; written with StepScheduled (reason `wake`) of the next attempt. */
export const StepWaitingSchema = z.object({
  ...stepEnvelope,
  type: z.literal("StepWaiting"),
  attemptNumber: Attempt,
  wait: StepWaitSchema,
  durationUs: NonNegInt,
});
/** A waiting step is woken now (a signal it waits for arrived): its scheduled attempt becomes available. */
export const StepWokenSchema = z.object({
  ...stepEnvelope,
  type: z.literal("StepWoken"),
  /** The scheduled attempt that is woken. */
  attemptNumber: Attempt,
  availableAtUs: Micros,
  signalId: Id.optional(),
});
/** A scheduled step of a paused run is held back (not claimable) until the run resumes. */
export const StepHeldSchema = z.object({
  ...stepEnvelope,
  type: z.literal("StepHeld"),
  attemptNumber: NonNegInt,
});
/** A held step is released when its run resumes: it is available again when it was before. */
export const StepReleasedSchema = z.object({
  ...stepEnvelope,
  type: z.literal("StepReleased"),
  attemptNumber: NonNegInt,
});

// ─── Tracking (calls): see calls.ts ───────────────────────────────────────────────────────────────
/** Text without NUL characters: Postgres cannot read a json field out of a body holding `\u0000`, and calls are aggregated in SQL. */
const NoNul = z.string().regex(/^[^\u0000]*$/, "must not contain NUL characters");
/** AI usage of one call: the model and its token counts (and cost when known). */
export const CallUsageSchema = z.object({
  model: NoNul.min(1).max(200),
  inputTokens: NonNegInt,
  outputTokens: NonNegInt,
  costUsd: z.number().nonnegative().finite().optional(),
});
/** One call a step attempt made (an API request, a query, an LLM call), recorded when it ended. No status effect. */
export const StepCallSchema = z.object({
  ...stepEnvelope,
  type: z.literal("StepCall"),
  /** The attempt that made the call. */
  attemptNumber: Attempt,
  callId: Id,
  tool: NoNul.min(1).max(200),
  operation: NoNul.min(1).max(500),
  startedAtUs: Micros,
  durationUs: NonNegInt,
  outcome: z.enum(["ok", "error"]),
  /** A bounded summary of the output (JSON text, cut at CALL_OUTPUT_SUMMARY_CHARS), never the whole payload. */
  outputSummary: NoNul.optional(),
  /** Size of the whole output's JSON text in bytes. */
  outputBytes: NonNegInt.optional(),
  error: StepErrorSchema.optional(),
  errorFingerprints: ErrorFingerprintsSchema.optional(),
  /** The usage as given, with the cost in integer micro-dollars (`floor(costUsd * 1e6 + 0.5)`) so every driver sums it exactly. */
  usage: CallUsageSchema.extend({ costMicroUsd: NonNegInt.optional() }).optional(),
  /** The child step (`ctx.step`) that made the call, as its path (`load/parse`); absent: the step itself. */
  childId: NoNul.min(1).optional(),
});

/**
 * A child step (`ctx.step(name, fn)`) of a step attempt ended; see child-steps.ts. No status effect on the step. An
 * `ok` record holds the child's result, which a later attempt of the step replays instead of running the child again.
 */
export const StepChildSchema = z.object({
  ...stepEnvelope,
  type: z.literal("StepChild"),
  attemptNumber: Attempt,
  /** The child's path under its step: the names from the outermost child down, joined by `/` (`load/parse`). */
  childId: NoNul.min(1),
  name: NoNul.min(1).max(200),
  /** The child it runs in, when nested (the path without its last name); absent: directly under the step. */
  parentChildId: NoNul.min(1).optional(),
  status: z.enum(["ok", "error"]),
  startedAtUs: Micros,
  durationUs: NonNegInt,
  /** The result of an `ok` child, serialised JSON. */
  output: z.string().optional(),
  error: StepErrorSchema.optional(),
  errorFingerprints: ErrorFingerprintsSchema.optional(),
});

/** A step attempt touched an entity (`ctx.link`): the reverse index answers "which runs and steps touched it". No status effect. */
export const StepLinkedSchema = z.object({
  ...stepEnvelope,
  type: z.literal("StepLinked"),
  attemptNumber: Attempt,
  /** How the step touched it ("output", "input", "updated", …). */
  linkType: NoNul.min(1).max(100),
  /** No `:` (an entity is written `type:id`). */
  entityType: NoNul.min(1)
    .max(100)
    .regex(/^[^:]+$/, "must not contain ':'"),
  entityId: NoNul.min(1).max(500),
  /** The entity's id in an outside system (e.g. a Stripe charge id). */
  externalId: NoNul.min(1).max(500).optional(),
  /** The child step that made the link (see StepCall.childId). */
  childId: NoNul.min(1).optional(),
});

/** A run retry reopened the step: it is pending again (its attempt number kept, so the next attempt is numbered after it). */
export const StepResetSchema = z.object({
  ...stepEnvelope,
  type: z.literal("StepReset"),
  attemptNumber: NonNegInt,
  /** The run's new workflow attempt. */
  workflowAttemptNumber: Attempt,
  reason: z.string(),
});

/** A run was submitted. */
export const RunSubmittedSchema = z.object({
  ...workflowEnvelope,
  type: z.literal("RunSubmitted"),
  versionId: z.string().optional(),
  availableAtUs: Micros,
  priority: z.number().int(),
  input: z.string().optional(),
  hasInputSchema: z.boolean(),
  timeoutUs: z.number().int().positive().optional(),
  idempotencyKey: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  tags: z.array(z.string()).optional(),
  parentRunId: z.string().optional(),
  /** The run's flow-control gate key (see FlowControl): runs of a workflow with one key share its limits. */
  flowKey: z.string().max(256).optional(),
  /** Submitted while its workflow was paused: the run starts paused (as by WorkflowPaused, scope `workflow`). */
  pausedByWorkflow: z.boolean().optional(),
  /** The tenant that owns the run (see tenants.ts). */
  tenantId: z.string().max(128).optional(),
  /** What kind of run this is (a submit option, or the tracker's `runType`). */
  runType: RunLabelSchema.optional(),
  /** What started the run ("cron", "api", "webhook", …). */
  trigger: RunLabelSchema.optional(),
  /** Recorded by the standalone tracker (createTracker): no worker claims or reclaims its steps, the engine does not advance it. */
  tracked: z.boolean().optional(),
});
/** A worker started the run. */
export const WorkflowStartedSchema = z.object({
  ...workflowEnvelope,
  type: z.literal("WorkflowStarted"),
  versionId: z.string().optional(),
  workflowAttemptNumber: Attempt,
  hasInputSchema: z.boolean(),
  hasInput: z.boolean(),
});
/** The run's input was checked against its schema. */
export const WorkflowInputValidationSchema = z.object({
  ...workflowEnvelope,
  type: z.literal("WorkflowInputValidation"),
  workflowAttemptNumber: Attempt,
  hasSchema: z.boolean(),
  success: z.boolean(),
  error: StepErrorSchema.optional(),
  validationErrors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
/** The run completed; `output` is the JSON of the exported step outputs. */
export const WorkflowCompletedSchema = z.object({
  ...workflowEnvelope,
  type: z.literal("WorkflowCompleted"),
  workflowAttemptNumber: Attempt,
  output: z.string(),
  durationUs: NonNegInt,
  totalSteps: NonNegInt,
});
/** The failure reasons of a run. */
export const WorkflowFailureReason = z.enum(["step-failed", "worker-crash", "timeout", "cancelled"]);
/** The run failed. */
export const WorkflowFailedSchema = z.object({
  ...workflowEnvelope,
  type: z.literal("WorkflowFailed"),
  workflowAttemptNumber: Attempt,
  error: StepErrorSchema,
  durationUs: NonNegInt,
  completedSteps: NonNegInt,
  failedStep: z.string().optional(),
  failureReason: WorkflowFailureReason,
});
/**
 * The run resumes: the work of an earlier run (`originalRunId`, with the step counts), or after a pause
 * (WorkflowPaused; no `originalRunId`), optionally merging `patch` (a JSON object, serialised) into the run's state.
 */
export const WorkflowResumedSchema = z.object({
  ...workflowEnvelope,
  type: z.literal("WorkflowResumed"),
  originalRunId: Id.optional(),
  resumedSteps: NonNegInt.optional(),
  pendingSteps: NonNegInt.optional(),
  patch: z.string().optional(),
  /** Which pause this resume ends: the run's own, or its workflow's (`cairn resume --workflow`). */
  scope: PauseScope.optional(),
});
/** The run was paused: it schedules and claims nothing new until WorkflowResumed; running steps finish. */
export const WorkflowPausedSchema = z.object({
  ...workflowEnvelope,
  type: z.literal("WorkflowPaused"),
  reason: z.string().optional(),
  scope: PauseScope,
});
/** A signal was delivered to the run (buffered until a step's waitForEvent consumes it). */
export const SignalReceivedSchema = z.object({
  ...workflowEnvelope,
  type: z.literal("SignalReceived"),
  /** Unique per run: the same id twice is one signal. */
  signalId: Id,
  name: z.string().min(1),
  /** The payload, serialised JSON. */
  payload: z.string(),
});
/** A waiting step took a buffered signal (the store decided, in the write that delivered it or started the wait). */
export const SignalConsumedSchema = z.object({
  ...workflowEnvelope,
  type: z.literal("SignalConsumed"),
  signalId: Id,
  /** The step that took it. */
  byStepId: Id,
  /** The attempt that waited. */
  attemptNumber: Attempt,
});
/** The run was cancelled. */
export const WorkflowCancelledSchema = z.object({
  ...workflowEnvelope,
  type: z.literal("WorkflowCancelled"),
  workflowAttemptNumber: NonNegInt,
  reason: z.string().optional(),
  durationUs: NonNegInt,
  completedSteps: NonNegInt,
});
/** The run starts a new workflow attempt. */
export const WorkflowRetryStartedSchema = z.object({
  ...workflowEnvelope,
  type: z.literal("WorkflowRetryStarted"),
  workflowAttemptNumber: Attempt,
  previousAttemptNumber: Attempt,
  retriedSteps: z.array(z.string()),
  reason: z.string().optional(),
});
/** A step attempt added to the run's counters (`ctx.increment`); see reduceRunState for how retries are counted. */
export const RunCountersIncrementedSchema = z.object({
  ...workflowEnvelope,
  type: z.literal("RunCountersIncremented"),
  /** The step whose attempt counted (the tracker's steps alike). */
  byStepId: Id,
  /** The child step of `byStepId` that counted (see StepChild); its counts are kept apart from the step's own. */
  byChildId: z.string().min(1).optional(),
  attemptNumber: Attempt,
  /** Counter name → amount to add (non-negative integers). */
  counters: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/), NonNegInt),
});
/** The run was created by rerunning a parent run from a step. */
export const WorkflowRerunFromStepSchema = z.object({
  ...workflowEnvelope,
  type: z.literal("WorkflowRerunFromStep"),
  parentRunId: Id,
  rerunFromStepId: Id,
  rerunStepIds: z.array(z.string()),
});

/** What the workflow's flow control decided for the run (recorded on the run it concerns). */
export const FlowDecision = z.enum(["queued", "delayed", "dropped", "replaced", "superseded", "signalled"]);
/**
 * Flow control acted on the run: it waits for a slot (`queued`), waits for the rate limit (`delayed`, until `untilUs`),
 * was dropped, replaced or superseded by a newer run (then a WorkflowCancelled follows), or was delivered to the
 * active run as a signal. `relatedRunId` names the other run involved, when there is one.
 */
export const FlowControlledSchema = z.object({
  ...workflowEnvelope,
  type: z.literal("FlowControlled"),
  decision: FlowDecision,
  reason: z.string(),
  relatedRunId: z.string().optional(),
  untilUs: Micros.optional(),
});

/** Every step event, discriminated by `type`. */
export const StepEventSchema = z.discriminatedUnion("type", [
  StepScheduledSchema,
  StepStartedSchema,
  StepHeartbeatSchema,
  StepCompletedSchema,
  StepFailedSchema,
  StepRetryingSchema,
  StepSkippedSchema,
  StepReclaimedSchema,
  LogEntryEventSchema,
  StepCheckpointSchema,
  StepCheckpointFailedSchema,
  StepResetSchema,
  StepWaitingSchema,
  StepWokenSchema,
  StepHeldSchema,
  StepReleasedSchema,
  StepCallSchema,
  StepLinkedSchema,
  StepChildSchema,
]);
/** Every workflow event, discriminated by `type`. */
export const WorkflowEventSchema = z.discriminatedUnion("type", [
  RunSubmittedSchema,
  WorkflowStartedSchema,
  WorkflowInputValidationSchema,
  WorkflowCompletedSchema,
  WorkflowFailedSchema,
  WorkflowResumedSchema,
  WorkflowCancelledSchema,
  WorkflowRetryStartedSchema,
  WorkflowRerunFromStepSchema,
  FlowControlledSchema,
  WorkflowPausedSchema,
  SignalReceivedSchema,
  SignalConsumedSchema,
  RunCountersIncrementedSchema,
]);
/** Every event: category, then type, as discriminants. */
export const EventSchema = z.discriminatedUnion("category", [StepEventSchema, WorkflowEventSchema]);

/** A step event. */
export type StepEvent = z.infer<typeof StepEventSchema>;
/** A workflow event. */
export type WorkflowEvent = z.infer<typeof WorkflowEventSchema>;
/** Any event. */
export type Event = z.infer<typeof EventSchema>;
/** The `type` of any event. */
export type EventType = Event["type"];
/** The event of a given type. */
export type EventOf<T extends EventType> = Extract<Event, { type: T }>;
/** An event of the given type without its envelope fields, as the save* helpers build it. */
export type EventBody<T extends EventType> = Omit<
  EventOf<T>,
  "eventId" | "timestampUs" | "workflowSlug" | "runId" | "category" | "stepId" | "type"
>;

/** The 11 step event types. */
export const STEP_EVENT_TYPES = [
  "StepScheduled",
  "StepStarted",
  "StepHeartbeat",
  "StepCompleted",
  "StepFailed",
  "StepRetrying",
  "StepSkipped",
  "StepReclaimed",
  "LogEntry",
  "StepCheckpoint",
  "StepCheckpointFailed",
] as const satisfies readonly StepEvent["type"][];
/** The workflow event types. */
export const WORKFLOW_EVENT_TYPES = [
  "RunSubmitted",
  "WorkflowStarted",
  "WorkflowInputValidation",
  "WorkflowCompleted",
  "WorkflowFailed",
  "WorkflowResumed",
  "WorkflowCancelled",
  "WorkflowRetryStarted",
  "WorkflowRerunFromStep",
  "FlowControlled",
] as const satisfies readonly WorkflowEvent["type"][];
