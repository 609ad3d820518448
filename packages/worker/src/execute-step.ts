import {
  deserializeValue,
  type Backend,
  type CallInput,
  type ClaimedWork,
  type LinkInput,
  type LogEntry,
  type StepRef,
} from "@cairn/backend-interface";
import type { Completion } from "./completions.js";
import type { LoadedStep, LoadedWorkflow } from "./discovery.js";
import { startHeartbeat } from "./heartbeat.js";
import { validateInput } from "./input-validation.js";
import { recordOutcome, type Recorded } from "./record-outcome.js";
import type { WriteRetryPolicy } from "./write-retry.js";
import type { StepIO } from "./step-context.js";
import { throttled } from "./throttle.js";
import { settleWithin, type StepJob, type StepOutcome, type StepRunner } from "./step-runner.js";
import type { AbortReason, WorkerEvents } from "./worker-events.js";
import { realTimers, type WorkerTimers } from "./worker-timers.js";
import type { HookRunner } from "./lifecycle-hooks.js";
import type { WorkerServices } from "./worker-services.js";

/** At most one early save of a step's log lines per this many ms, when it reports progress. */
const PROGRESS_FLUSH_MS = 1000;
/** Buffered calls or links that ask for an early save (throttled like progress) instead of waiting for the heartbeat. */
const RECORDS_FLUSH_AT = 200;

/** A step this worker claimed. */
export interface ClaimedStep extends StepRef {
  attempt: number;
  /** What the claim returned: the run input, dependency outputs, checkpoints. */
  work: ClaimedWork;
  slot: number;
  workflow: LoadedWorkflow;
  step: LoadedStep;
}

/** What executeStep shares with the rest of the worker. */
export interface ExecuteEnv {
  backend: Backend;
  workerId: string;
  concurrency: number;
  events: WorkerEvents;
  runner: StepRunner;
  heartbeatMs: number;
  /** How long an aborted step may take to settle before it is abandoned. */
  abortGraceMs: number;
  /** Aborts when the worker releases its running steps (shutdown after the grace period). */
  releaseSignal: AbortSignal;
  random: () => number;
  /** Called once the step function ended, before its result is written (the worker frees the slot then). */
  released?: () => void;
  /** How the outcome's writes are retried while the store is unreachable (default: not retried). */
  writeRetry?: WriteRetryPolicy;
  /** Writes a completion (the worker batches them); default Backend.saveStepComplete. */
  complete?: (c: Completion) => Promise<void>;
  /** Timer source of heartbeats and the step timeout (default real time). */
  timers?: WorkerTimers;
  /** Calls the workflow's lifecycle hooks for the transitions this attempt's writes make. */
  hooks?: HookRunner;
  /** `ctx.services` (none: every read throws ServiceUnavailableError). */
  services?: WorkerServices;
  /** The worker's environment variables (`ctx.env`, under the workflow's). */
  env?: Record<string, string>;
}

/** How an attempt ended for the worker: what was recorded (`error`: recording failed), and the step's outcome. */
export interface Executed {
  recorded: Recorded | "error";
  outcome?: StepOutcome;
}

/** An aborted attempt's signal reason. */
export class StepAbortedError extends Error {
  constructor(readonly reason: AbortReason) {
    super(`step aborted: ${reason}`);
    this.name = reason === "timeout" ? "TimeoutError" : "AbortError";
  }
}

/**
 * Runs one claimed attempt: loads its input, dependency outputs and checkpoints, heartbeats while it runs, enforces
 * its timeout, aborts it on cancel / lost lease / release, and records the outcome. Never throws.
 */
export async function executeStep(c: ClaimedStep, env: ExecuteEnv): Promise<Executed> {
  const { backend, events } = env;
  const timers = env.timers ?? realTimers;
  const ref: StepRef = { workflowSlug: c.workflowSlug, runId: c.runId, stepId: c.stepId };
  const startedUs = backend.clock.nowUs();
  const controller = new AbortController();
  let abortReason: AbortReason | undefined;
  const abort = (reason: AbortReason): void => {
    if (abortReason) return;
    abortReason = reason;
    events.emit({ type: "step:aborted", ...ref, attempt: c.attempt, reason });
    controller.abort(new StepAbortedError(reason));
  };
  const logs: LogEntry[] = [];
  const calls: CallInput[] = [];
  /** Counts merged per child step ("" for the step itself): a child's counts are a part of their own (see incrementRunCounters). */
  let counts = new Map<string, Record<string, number>>();
  const links: LinkInput[] = [];
  const flushCalls = async (): Promise<void> => {
    const batch = calls.splice(0);
    if (batch.length) await backend.saveStepCalls(c.workflowSlug, c.runId, c.stepId, batch);
    const linked = links.splice(0);
    if (linked.length) await backend.saveStepLinks(c.workflowSlug, c.runId, c.stepId, linked);
    const parts = counts;
    counts = new Map();
    if (parts.size)
      await backend.incrementRunCounterParts(
        c.workflowSlug,
        c.runId,
        c.stepId,
        c.attempt,
        [...parts].map(([child, counters]) => ({ counters, ...(child === "" ? {} : { childId: child }) })),
      );
  };
  const flushLogs = async (): Promise<void> => {
    const batch = logs.splice(0);
    if (batch.length) await backend.saveStepLogs(c.workflowSlug, c.runId, c.stepId, batch);
    await flushCalls();
  };
  // Progress is for watchers (`submit --wait`, `cairn run`): saved within a second, not only at the next heartbeat.
  const progressFlush = throttled(PROGRESS_FLUSH_MS, () =>
    flushLogs().catch((error: unknown) =>
      events.emit({ type: "error", where: `progress ${c.runId}/${c.stepId}`, error }),
    ),
  );
  const io: StepIO = {
    log: (stream, message, progress) => {
      const entry: LogEntry = {
        timestampUs: backend.clock.nowUs(),
        stream,
        message,
        attemptNumber: c.attempt,
        ...(progress ? { progress } : {}),
      };
      // Progress reports in a row between two saves keep only the last: a tight loop stores one line per save.
      if (progress && logs.at(-1)?.progress) logs[logs.length - 1] = entry;
      else logs.push(entry);
    },
    progress: (fraction, message) => {
      events.emit({ type: "step:progress", ...ref, attempt: c.attempt, fraction, ...(message ? { message } : {}) });
      progressFlush.request();
    },
    // Many records before the next heartbeat are saved early (throttled), so the buffer stays small.
    call: (call) => {
      if (calls.push({ ...call, attemptNumber: c.attempt }) >= RECORDS_FLUSH_AT) progressFlush.request();
    },
    link: (link, childId) => {
      if (
        links.push({ ...link, attemptNumber: c.attempt, ...(childId !== undefined ? { childId } : {}) }) >=
        RECORDS_FLUSH_AT
      )
        progressFlush.request();
    },
    increment: (add, childId) => {
      const part = counts.get(childId ?? "") ?? {};
      for (const [k, v] of Object.entries(add)) part[k] = (part[k] ?? 0) + v;
      counts.set(childId ?? "", part);
      progressFlush.request();
    },
    child: async (child) => {
      await backend.saveStepChild(c.workflowSlug, c.runId, c.stepId, { ...child, attemptNumber: c.attempt });
    },
    nowUs: () => backend.clock.nowUs(),
    saveCheckpoint: (name, sequenceNumber, data) =>
      backend.saveStepCheckpoint(c.workflowSlug, c.runId, c.stepId, {
        name,
        sequenceNumber,
        attemptNumber: c.attempt,
        data,
      }),
    saveCheckpointFailed: (name, sequenceNumber, error) =>
      backend.saveStepCheckpointFailed(c.workflowSlug, c.runId, c.stepId, {
        name,
        sequenceNumber,
        attemptNumber: c.attempt,
        error,
      }),
    ...(env.services ? { services: env.services.view(c.workflowSlug, c.workflow.declaration.services) } : {}),
  };
  const onRelease = (): void => abort("shutdown");
  if (env.releaseSignal.aborted) onRelease();
  else env.releaseSignal.addEventListener("abort", onRelease, { once: true });
  const stopHeartbeat = startHeartbeat({
    backend,
    ref,
    workerId: env.workerId,
    timers,
    attempt: c.attempt,
    intervalMs: env.heartbeatMs,
    slot: c.slot,
    concurrency: env.concurrency,
    beforeBeat: flushLogs,
    onLost: (reason) => abort(reason),
    onError: (error) => events.emit({ type: "error", where: `heartbeat ${c.runId}/${c.stepId}`, error }),
  });
  const timeoutMs = c.step.definition.timeoutMs;
  const clearTimer = timeoutMs ? timers.setTimeout(() => abort("timeout"), timeoutMs) : () => {};
  let outcome: StepOutcome | undefined;
  try {
    try {
      await env.hooks?.afterClaim(c.workflow, ref, c.attempt);
      const job = { ...(await prepareJob(c)), env: { ...env.env, ...c.workflow.declaration.env } };
      outcome = await settleWithin(
        env.runner(job, c.step.declaration, io, controller.signal),
        controller.signal,
        env.abortGraceMs,
      );
    } catch (err) {
      if (err instanceof InputValidationFailure) {
        outcome = { kind: "failed", error: { name: err.name, message: err.message }, invalidInput: err.issues };
        events.emit({ type: "run:input-invalid", workflowSlug: c.workflowSlug, runId: c.runId, issues: err.issues });
      } else
        outcome = {
          kind: "failed",
          error: {
            name: "StepSetupError",
            message: `could not prepare the step: ${err instanceof Error ? err.message : String(err)}`,
          },
        };
    }
    clearTimer();
    stopHeartbeat();
    progressFlush.cancel();
    env.releaseSignal.removeEventListener("abort", onRelease); // the function ended: a shutdown no longer concerns it
    env.released?.();
    // The attempt's calls, links and counts are stored before its outcome (its log lines go with the outcome's own write).
    await flushCalls().catch((error: unknown) =>
      events.emit({ type: "error", where: `calls ${c.runId}/${c.stepId}`, error }),
    );
    const recorded = await recordOutcome(
      backend,
      events,
      {
        ref,
        step: c.step,
        attempt: c.attempt,
        workflowAttempt: c.work.workflowAttemptNumber,
        startedUs,
        logs,
        ...(abortReason ? { abortReason } : {}),
        ...(env.complete ? { complete: env.complete } : {}),
        ...(env.writeRetry ? { retry: env.writeRetry } : {}),
      },
      outcome,
      env.random,
    );
    await env.hooks?.afterRecorded(c.workflow, ref, c.attempt, recorded);
    return { recorded, outcome };
  } catch (err) {
    events.emit({ type: "error", where: `record ${c.runId}/${c.stepId}`, error: err });
    return { recorded: "error", ...(outcome ? { outcome } : {}) };
  } finally {
    clearTimer();
    stopHeartbeat();
    progressFlush.cancel();
    env.releaseSignal.removeEventListener("abort", onRelease);
  }
}

/** Thrown when the run input does not match the workflow's schema: the step fails at once, never retried. */
export class InputValidationFailure extends Error {
  constructor(readonly issues: Array<{ path: string; message: string }>) {
    super(`Invalid input: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);
    this.name = "InputValidationError";
  }
}

/** What the step function receives, from the claim alone: the (schema-parsed) run input, dependency outputs, checkpoints. */
async function prepareJob(c: ClaimedStep): Promise<StepJob> {
  const raw = deserializeValue(c.work.input);
  const parsed = await validateInput(c.workflow.schema, raw);
  if (!parsed.success) throw new InputValidationFailure(parsed.issues);
  const deps: Record<string, unknown> = {};
  for (const d of c.step.definition.dependencies) deps[d] = deserializeValue(c.work.dependencyOutputs[d]);
  return {
    workflowSlug: c.workflowSlug,
    runId: c.runId,
    stepId: c.stepId,
    attempt: c.attempt,
    file: c.step.file,
    input: parsed.value,
    deps,
    checkpoints: c.work.checkpoints,
    ...(c.work.children?.length ? { children: c.work.children } : {}),
    ...(c.work.state !== undefined ? { state: deserializeValue(c.work.state) as Record<string, unknown> } : {}),
    ...(c.work.signals?.length ? { signals: c.work.signals } : {}),
  };
}
