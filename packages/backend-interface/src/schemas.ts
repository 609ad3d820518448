import { z } from "zod";
import { FlowControlSchema } from "./flow-control.js";
import { eventNameProblem, isValidEventName, scheduleProblems } from "./schedule-spec.js";

/** Integer microseconds since the epoch. */
export const Micros = z.number().int().nonnegative();
/** A non-negative integer duration. */
export const NonNegInt = z.number().int().nonnegative();

/** An error as recorded on events. */
export const StepErrorSchema = z.object({
  name: z.string().optional(),
  message: z.string(),
  stack: z.string().optional(),
});
/** An error as recorded on events. */
export type StepError = z.infer<typeof StepErrorSchema>;

/** The five hashes stored on every StepFailed. */
export const ErrorFingerprintsSchema = z.object({
  nameHash: z.string(),
  messageHash: z.string(),
  /** Hash of the message with volatile parts (numbers, ids, timestamps, paths) replaced; used by the normalized and portable strategies. Optional: absent on events stored before it existed. */
  messageNormalizedHash: z.string().optional(),
  stackExactHash: z.string(),
  stackNormalizedHash: z.string(),
  stackPortableHash: z.string(),
});
/** The five hashes stored on every StepFailed. */
export type ErrorFingerprints = z.infer<typeof ErrorFingerprintsSchema>;

/** What `ctx.progress()` reported: the fraction done in [0, 1] and its message. */
export const LogProgressSchema = z.object({
  fraction: z.number().min(0).max(1),
  message: z.string().optional(),
  /** Item counts, when the step reported them (`ctx.progress({ itemsTotal, itemsProcessed, itemsSucceeded, itemsFailed })`). */
  items: z
    .object({
      total: NonNegInt.optional(),
      processed: NonNegInt,
      succeeded: NonNegInt.optional(),
      failed: NonNegInt.optional(),
    })
    .optional(),
});
/** What `ctx.progress()` reported. */
export type LogProgress = z.infer<typeof LogProgressSchema>;

/** One line of step output. */
export const LogEntrySchema = z.object({
  /** When the step emitted the line. */
  timestampUs: Micros,
  stream: z.enum(["stdout", "stderr"]),
  message: z.string(),
  attemptNumber: z.number().int().positive(),
  /** Set on the line a progress report writes. */
  progress: LogProgressSchema.optional(),
});
/** One line of step output. */
export type LogEntry = z.infer<typeof LogEntrySchema>;

/** A resource measurement taken while a step runs or when it ends. */
export const ResourceUsageSchema = z.object({
  memoryBytes: NonNegInt.optional(),
  cpuUserUs: NonNegInt.optional(),
  cpuSystemUs: NonNegInt.optional(),
  cpuTimeUs: NonNegInt.optional(),
});
/** A resource measurement taken while a step runs or when it ends. */
export type ResourceUsage = z.infer<typeof ResourceUsageSchema>;

/** A step's retry policy, as registered. `maxRetries` retries after the first attempt. */
export const RetryPolicySchema = z.object({
  maxRetries: NonNegInt,
  backoff: z.enum(["fixed", "exponential"]).default("exponential"),
  initialDelayMs: NonNegInt.default(1000),
  maxDelayMs: NonNegInt.default(60_000),
  jitter: z.boolean().default(true),
});
/** A step's retry policy, as registered. */
export type RetryPolicy = z.infer<typeof RetryPolicySchema>;

/** The retry budget assumed for a step whose workflow is not registered. */
export const DEFAULT_MAX_RETRIES = 3;

/** A step of a registered workflow. */
export const StepDefinitionSchema = z.object({
  id: z.string(),
  name: z.string(),
  dependencies: z.array(z.string()).default([]),
  exportOutput: z.boolean().default(false),
  maxRetries: NonNegInt.optional(),
  retry: RetryPolicySchema.optional(),
  timeoutMs: z.number().int().positive().optional(),
  file: z.string().optional(),
});
/** A step of a registered workflow. */
export type StepDefinition = z.infer<typeof StepDefinitionSchema>;
/** Input accepted for a step definition (defaults filled in on parse). */
export type StepDefinitionInput = z.input<typeof StepDefinitionSchema>;

/** A workflow's schedule as registered (see ScheduleSpec); every expression, the timezone and the backfill are checked. */
export const ScheduleSchema = z
  .object({
    cron: z.array(z.string()).min(1),
    timezone: z.string().optional(),
    backfillMs: z.number().int().nonnegative().optional(),
  })
  .superRefine((spec, ctx) => {
    for (const message of scheduleProblems(spec)) ctx.addIssue({ code: "custom", message });
  });

/** A registered workflow's metadata. */
export const WorkflowMetadataSchema = z.object({
  slug: z.string(),
  name: z.string(),
  location: z.string().optional(),
  inputSchemaJSON: z.unknown().optional(),
  description: z.string().optional(),
  versionId: z.string().optional(),
  registeredAtUs: Micros.optional(),
  /** How long ended runs are kept, per status (ms); absent: the deployment's default, else forever. */
  retention: z
    .object({
      completedMs: z.number().int().nonnegative().optional(),
      failedMs: z.number().int().nonnegative().optional(),
      cancelledMs: z.number().int().nonnegative().optional(),
    })
    .optional(),
  /** The flow control of the registered version (see FlowControl), for display; the store enforces the version's own. */
  flow: FlowControlSchema.optional(),
  /** Event names this workflow listens to: `Backend.emit` of one of them starts a run of it (triggers-and-schedules.md). */
  on: z
    .array(z.string().refine(isValidEventName, { error: (i) => eventNameProblem(i.input) ?? "invalid event name" }))
    .optional(),
  /** When this workflow runs by itself: cron expressions, their timezone, the backfill window (triggers-and-schedules.md). */
  schedule: ScheduleSchema.optional(),
  /** Set while the workflow is paused (`pauseWorkflow`): its runs, and runs submitted meanwhile, claim nothing new. */
  paused: z.object({ atUs: Micros, reason: z.string().optional() }).optional(),
});
/** A registered workflow's metadata. */
export type WorkflowMetadata = z.infer<typeof WorkflowMetadataSchema>;

/** Everything registerWorkflow stores. */
export const WorkflowRegistrationSchema = WorkflowMetadataSchema.extend({
  steps: z.array(StepDefinitionSchema),
});
/** Everything registerWorkflow stores. */
export type WorkflowRegistration = z.infer<typeof WorkflowRegistrationSchema>;
/** A workflow's pause mark, as its registration holds it. */
export type WorkflowPause = NonNullable<WorkflowRegistration["paused"]>;

/**
 * `registration` with the pause mark `paused`, or with none (null or undefined): what a driver stores when it writes a
 * registration keeping the stored mark, or writes the mark alone (BackendDriver.putWorkflow, setWorkflowPause). Pure.
 */
export function withPauseMark(
  registration: WorkflowRegistration,
  paused: WorkflowPause | null | undefined,
): WorkflowRegistration {
  const { paused: _old, ...rest } = registration;
  return paused ? { ...rest, paused } : rest;
}
/** Input accepted by registerWorkflow. */
export type WorkflowRegistrationInput = z.input<typeof WorkflowRegistrationSchema>;

/** One immutable version of a workflow: its steps and a content hash. */
export const WorkflowVersionSchema = z.object({
  workflowSlug: z.string(),
  versionId: z.string(),
  contentHash: z.string(),
  createdAtUs: Micros,
  steps: z.array(StepDefinitionSchema),
  inputSchemaJSON: z.unknown().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  /** Flow control (concurrency, modes, rate limit, debounce) the store enforces when runs of this version start. */
  flow: FlowControlSchema.optional(),
});
/** One immutable version of a workflow. */
export type WorkflowVersion = z.infer<typeof WorkflowVersionSchema>;
/** Input accepted by createWorkflowVersion (createdAtUs filled in when absent). */
export type WorkflowVersionInput = Omit<z.input<typeof WorkflowVersionSchema>, "createdAtUs"> & {
  createdAtUs?: number;
};

/** A run's `runType` or `trigger`: 1 to 100 characters, a letter or digit first, then letters, digits, `_`, `.`, `:`, `/`, `-`. */
export const RunLabelSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$/,
    "must be 1 to 100 characters: a letter or digit, then letters, digits, '_', '.', ':', '/' or '-'",
  );

/** What submitRun accepts. */
export const RunSubmissionSchema = z.object({
  workflowSlug: z.string(),
  runId: z.string().optional(),
  input: z.unknown().optional(),
  availableAtUs: Micros.optional(),
  priority: z.number().int().optional(),
  timeoutUs: z.number().int().positive().optional(),
  idempotencyKey: z.string().min(1).max(512).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  tags: z.array(z.string().min(1).max(256)).optional(),
  versionId: z.string().optional(),
  hasInputSchema: z.boolean().optional(),
  /** The flow-control key of the run (overrides the workflow's key path); only for workflows that declare flow control. */
  concurrencyKey: z
    .string()
    .min(1)
    .max(256)
    .refine((k) => !k.includes("\u0000"), "must not contain a NUL character")
    .optional(),
  /** The tenant that owns the run (see tenants.ts): `Backend.forTenant(id)` reads and lists only its runs. */
  tenantId: z.string().optional(),
  /** What kind of run this is, for grouping ("nightly-sync", "checkout"); see RunLabelSchema. */
  runType: RunLabelSchema.optional(),
  /** What started the run ("cron", "api", "webhook", …); see RunLabelSchema. */
  trigger: RunLabelSchema.optional(),
});

/** What submitRun accepts. */
export type RunSubmission = z.infer<typeof RunSubmissionSchema>;

/** The status a run can be in. */
export const RunStatus = {
  pending: "pending",
  running: "running",
  completed: "completed",
  failed: "failed",
  cancelled: "cancelled",
} as const;
/** The status a run can be in. */
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];
/** Statuses from which a run never moves. */
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ["completed", "failed", "cancelled"];

/** The status a step can be in. */
export const StepStatus = {
  pending: "pending",
  scheduled: "scheduled",
  running: "running",
  completed: "completed",
  failed: "failed",
  skipped: "skipped",
} as const;
/** The status a step can be in. */
export type StepStatus = (typeof StepStatus)[keyof typeof StepStatus];
/** Statuses from which a step moves only by an explicit reschedule. */
export const TERMINAL_STEP_STATUSES: readonly StepStatus[] = ["completed", "failed", "skipped"];

/** True for completed, failed and cancelled. */
export function isTerminalRunStatus(s: string): boolean {
  return s === "completed" || s === "failed" || s === "cancelled";
}
/** True for completed, failed and skipped. */
export function isTerminalStepStatus(s: string): boolean {
  return s === "completed" || s === "failed" || s === "skipped";
}
