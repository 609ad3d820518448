import {
  isTerminalRunStatus,
  RunNotFoundError,
  WorkflowNotFoundError,
  type Backend,
  type RunState,
  type RunSubmissionInput,
  type StepState,
  type SubmitOutcome,
  type WorkflowMetadata,
} from "@cairn/backend-interface";
import { Wakeup } from "./wakeup.js";
import { traceContextMetadata } from "./trace-context.js";

/**
 * The run-level methods the client's operations use: the Backend itself, or one tenant's view of it
 * (`backend.forTenant(id)`, the client's `tenant` option), so every submit and read goes through the same scope.
 */
export type RunScope = Pick<Backend, "getRun" | "loadRun" | "submitRun" | "submitRuns">;

/** What submit accepts. */
export interface SubmitOptions {
  workflow: string;
  input?: unknown;
  idempotencyKey?: string;
  priority?: number;
  tags?: string[];
  /** Fail the run if it has not ended this many ms after it started. */
  timeoutMs?: number;
  /** Do not start before this instant (µs). */
  availableAtUs?: number;
  metadata?: Record<string, unknown>;
  /** The run's flow-control key (for a workflow that declares concurrency, mode, rateLimit or debounce), instead of the one its input gives. */
  concurrencyKey?: string;
  /** What kind of run this is ("nightly-sync"): 1 to 100 characters, a letter or digit, then letters, digits, `_ . : / -`. */
  runType?: string;
  /** What started the run ("cron", "api", "webhook", …); the same rule as runType. */
  trigger?: string;
}

/**
 * Submits a run of a registered workflow, stamped with its current version. The same idempotency key returns the
 * existing run (`isNew: false`). Throws WorkflowNotFoundError when no worker has registered the workflow yet, and
 * InvalidInputError (every failing field in `validationErrors`) when the input does not match the workflow's input
 * JSON Schema; nothing is submitted then. The worker still checks the input with the workflow's own schema, for what
 * JSON Schema cannot express (refinements, transforms). With `@opentelemetry/api` installed, the active span's trace
 * context is stored in the run's metadata (`traceparent`), so the worker's spans join the caller's trace.
 */
export async function submit(
  backend: Backend,
  o: SubmitOptions,
  scope: RunScope = backend,
): Promise<{ runId: string; isNew: boolean }> {
  const meta = await backend.getWorkflowMetadata(o.workflow);
  if (!meta) throw new WorkflowNotFoundError(o.workflow);
  return scope.submitRun(toSubmission(o, meta, await traceContextMetadata()));
}

/**
 * Submits many runs in one write where the driver can (`Backend.submitRuns`), each as `submit` would: outcomes in
 * item order, each the run (new or existing) or that item's error (an unregistered workflow, a rejected input, a
 * conflicting idempotency key); the other items are written.
 */
export async function submitMany(
  backend: Backend,
  items: readonly SubmitOptions[],
  scope: RunScope = backend,
): Promise<SubmitOutcome[]> {
  const metas = new Map<string, Promise<WorkflowMetadata | null>>();
  const trace = await traceContextMetadata();
  const submissions = await Promise.all(
    items.map(async (o) => {
      if (!metas.has(o.workflow)) metas.set(o.workflow, backend.getWorkflowMetadata(o.workflow));
      // An unregistered workflow is left to submitRuns, which reports it as that item's WorkflowNotFoundError.
      return toSubmission(o, await metas.get(o.workflow)!, trace);
    }),
  );
  return scope.submitRuns(submissions);
}

/** The Backend submission for `o`, stamped with the registration's version and whether it has an input schema. */
function toSubmission(
  o: SubmitOptions,
  meta: WorkflowMetadata | null,
  trace: Record<string, string>,
): RunSubmissionInput {
  const hasSchema = meta?.inputSchemaJSON !== undefined;
  // The caller's own metadata keys win over the trace context.
  const metadata = { ...trace, ...o.metadata };
  return {
    workflowSlug: o.workflow,
    hasInputSchema: hasSchema,
    // No input for a workflow with a schema means `{}`, so object schemas whose fields all have defaults just work.
    ...(o.input !== undefined ? { input: o.input } : hasSchema ? { input: {} } : {}),
    ...(o.idempotencyKey ? { idempotencyKey: o.idempotencyKey } : {}),
    ...(o.priority === undefined ? {} : { priority: o.priority }),
    ...(o.tags?.length ? { tags: o.tags } : {}),
    ...(o.timeoutMs ? { timeoutUs: Math.round(o.timeoutMs * 1000) } : {}),
    ...(o.availableAtUs ? { availableAtUs: o.availableAtUs } : {}),
    ...(o.concurrencyKey !== undefined ? { concurrencyKey: o.concurrencyKey } : {}),
    ...(o.runType !== undefined ? { runType: o.runType } : {}),
    ...(o.trigger !== undefined ? { trigger: o.trigger } : {}),
    ...(Object.keys(metadata).length ? { metadata } : {}),
    ...(meta?.versionId ? { versionId: meta.versionId } : {}),
  };
}

/** A run with its steps. */
export interface RunDetails {
  run: RunState;
  steps: StepState[];
}

/** The run and its steps; RunNotFoundError when it does not exist. */
export async function describeRun(backend: RunScope, runId: string): Promise<RunDetails> {
  const run = await backend.getRun(runId);
  if (!run) throw new RunNotFoundError(runId);
  const steps = await backend.loadRun(run.workflowSlug, runId);
  return { run, steps };
}

/** Waits until a run ends, calling `onUpdate` with each new view of it. Wakes on backend notifications, else polls. */
export async function waitForRun(
  backend: Backend,
  runId: string,
  o: { pollMs?: number; signal?: AbortSignal; onUpdate?: (d: RunDetails) => void; scope?: RunScope } = {},
): Promise<RunDetails> {
  const wakeup = new Wakeup();
  const unsubscribe = backend.capabilities.notifications ? backend.subscribe(() => wakeup.wake()) : () => {};
  try {
    for (;;) {
      const d = await describeRun(o.scope ?? backend, runId);
      o.onUpdate?.(d);
      if (isTerminalRunStatus(d.run.status) || o.signal?.aborted) return d;
      await wakeup.wait(o.pollMs ?? 250, o.signal);
    }
  } finally {
    unsubscribe();
  }
}
