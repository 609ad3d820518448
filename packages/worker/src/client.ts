import { isTerminalRunStatus, RunNotFoundError, WorkflowNotFoundError, type Backend, type RunState, type StepState } from "@cairn/backend-interface";
import { Wakeup } from "./slots.js";
import { traceContextMetadata } from "./trace-context.js";

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
}

/**
 * Submits a run of a registered workflow, stamped with its current version. The same idempotency key returns the
 * existing run (`isNew: false`). Throws WorkflowNotFoundError when no worker has registered the workflow yet, and
 * InvalidInputError (every failing field in `validationErrors`) when the input does not match the workflow's input
 * JSON Schema; nothing is submitted then. The worker still checks the input with the workflow's own schema, for what
 * JSON Schema cannot express (refinements, transforms). With `@opentelemetry/api` installed, the active span's trace
 * context is stored in the run's metadata (`traceparent`), so the worker's spans join the caller's trace.
 */
export async function submit(backend: Backend, o: SubmitOptions): Promise<{ runId: string; isNew: boolean }> {
  const meta = await backend.getWorkflowMetadata(o.workflow);
  if (!meta) throw new WorkflowNotFoundError(o.workflow);
  return backend.submitRun({
    workflowSlug: o.workflow, hasInputSchema: meta.inputSchemaJSON !== undefined,
    // No input for a workflow with a schema means `{}`, so object schemas whose fields all have defaults just work.
    ...(o.input !== undefined ? { input: o.input } : meta.inputSchemaJSON !== undefined ? { input: {} } : {}), ...(o.idempotencyKey ? { idempotencyKey: o.idempotencyKey } : {}),
    ...(o.priority === undefined ? {} : { priority: o.priority }), ...(o.tags?.length ? { tags: o.tags } : {}),
    ...(o.timeoutMs ? { timeoutUs: Math.round(o.timeoutMs * 1000) } : {}), ...(o.availableAtUs ? { availableAtUs: o.availableAtUs } : {}),
    ...metadataWithTrace(o.metadata, await traceContextMetadata()), ...(meta.versionId ? { versionId: meta.versionId } : {}),
  });
}

/** The caller's metadata plus the active span's trace context (the caller's own keys win); nothing when both are empty. */
function metadataWithTrace(metadata: Record<string, unknown> | undefined, trace: Record<string, string>): { metadata?: Record<string, unknown> } {
  const merged = { ...trace, ...metadata };
  return Object.keys(merged).length ? { metadata: merged } : {};
}

/** A run with its steps. */
export interface RunDetails {
  run: RunState;
  steps: StepState[];
}

/** The run and its steps; RunNotFoundError when it does not exist. */
export async function describeRun(backend: Backend, runId: string): Promise<RunDetails> {
  const run = await backend.getRun(runId);
  if (!run) throw new RunNotFoundError(runId);
  const steps = await backend.loadRun(run.workflowSlug, runId);
  return { run, steps };
}

/** Waits until a run ends, calling `onUpdate` with each new view of it. Wakes on backend notifications, else polls. */
export async function waitForRun(backend: Backend, runId: string, o: { pollMs?: number; signal?: AbortSignal; onUpdate?: (d: RunDetails) => void } = {}): Promise<RunDetails> {
  const wakeup = new Wakeup();
  const unsubscribe = backend.capabilities.notifications ? backend.subscribe(() => wakeup.wake()) : () => {};
  try {
    for (;;) {
      const d = await describeRun(backend, runId);
      o.onUpdate?.(d);
      if (isTerminalRunStatus(d.run.status) || o.signal?.aborted) return d;
      await wakeup.wait(o.pollMs ?? 250, o.signal);
    }
  } finally {
    unsubscribe();
  }
}
