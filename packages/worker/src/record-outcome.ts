import { persistent, retryWrite, type WriteRetryPolicy } from "./write-retry.js";
import { isCairnError, type Backend, type LogEntry, type StepRef } from "@cairn/backend-interface";
import type { Completion } from "./completions.js";
import type { LoadedStep } from "./discovery.js";
import { retryDelayMs, shouldRetry } from "./retry-policy.js";
import type { StepOutcome } from "./step-runner.js";
import type { AbortReason, WorkerEvents } from "./worker-events.js";

/** Name of the error recorded when a worker releases a step on shutdown; such failures do not use up retries. */
export const RELEASE_ERROR_NAME = "WorkerShutdownRelease";

/** What recordOutcome needs to know about the attempt. */
export interface AttemptRecord {
  ref: StepRef;
  step: LoadedStep;
  attempt: number;
  /** The run's workflow attempt, for the input validation record. */
  workflowAttempt?: number;
  startedUs: number;
  abortReason?: AbortReason;
  /** Log lines not yet saved; written with the result. */
  logs: LogEntry[];
  /** Writes a completion (default: Backend.saveStepComplete; the worker batches them). */
  complete?: (c: Completion) => Promise<void>;
  /** While the store is unreachable, writes are retried with back-off under this policy (default: not retried). */
  retry?: WriteRetryPolicy;
}

/** What recordOutcome wrote: a terminal result (completed, skipped, failed), a retry or release, or nothing of ours. */
export type Recorded = "completed" | "skipped" | "failed" | "retry" | "released" | "cancelled" | "stale" | "waiting";

/**
 * Writes how an attempt ended. Completed and skipped results are recorded as they are. Otherwise the abort reason
 * decides: lost lease → nothing (the step is someone else's); cancelled → terminal `cancelled`; shutdown → released
 * (non-terminal failure plus an immediate reschedule, not counted against retries); timeout or error → retried per the
 * step's policy, else terminal. Fencing refusals (a zombie attempt) are reported, never thrown.
 */
export async function recordOutcome(
  store: Backend,
  events: WorkerEvents,
  r: AttemptRecord,
  outcome: StepOutcome,
  random: () => number,
): Promise<Recorded> {
  const { workflowSlug, runId, stepId } = r.ref;
  // The fence makes a retried write safe: one that landed before the connection dropped is refused as stale.
  const backend = r.retry ? persistent(store, r.retry) : store;
  const complete = r.complete && r.retry ? (c: Completion) => retryWrite(() => r.complete!(c), r.retry!) : r.complete;
  const now = backend.clock.nowUs();
  const duration = Math.max(0, now - r.startedUs);
  try {
    if (outcome.kind === "completed") {
      const metadata = {
        timestamp: now,
        duration,
        logs: r.logs.splice(0),
        attemptNumber: r.attempt,
        output: outcome.output,
        ...(outcome.resourceUsage ? { resourceUsage: outcome.resourceUsage } : {}),
      };
      if (complete)
        await complete({
          workflowSlug,
          runId,
          stepId,
          output: outcome.output,
          metadata,
          exportOutput: r.step.definition.exportOutput === true,
        });
      else
        await backend.saveStepComplete(
          workflowSlug,
          runId,
          stepId,
          outcome.output,
          metadata,
          r.step.definition.exportOutput,
        );
      events.emit({ type: "step:completed", ...r.ref, attempt: r.attempt, durationMs: Math.round(duration / 1000) });
      return "completed";
    }
    const logs = r.logs.splice(0);
    if (logs.length) await backend.saveStepLogs(workflowSlug, runId, stepId, logs);
    if (outcome.kind === "skipped") {
      await backend.saveStepSkipped(workflowSlug, runId, stepId, {
        skipType: "primary",
        reason: outcome.reason,
        duration,
        attemptNumber: r.attempt,
        ...(outcome.metadata ? { metadata: outcome.metadata } : {}),
      });
      events.emit({ type: "step:skipped", ...r.ref, attempt: r.attempt, reason: outcome.reason });
      return "skipped";
    }
    if (r.abortReason === "lost-lease")
      return stale(events, r, "the step was reclaimed by another worker; its result is discarded");
    const usage = outcome.kind === "failed" && outcome.resourceUsage ? { resourceUsage: outcome.resourceUsage } : {};
    if (r.abortReason === "cancelled" || r.abortReason === "run-ended") {
      await backend.saveStepFailed(
        workflowSlug,
        runId,
        stepId,
        { name: "Cancelled", message: "the run was cancelled or ended while the step ran" },
        { duration, attemptNumber: r.attempt, terminal: true, failureReason: "cancelled", ...usage },
      );
      events.emit({ type: "step:failed", ...r.ref, attempt: r.attempt, reason: "cancelled", message: "run cancelled" });
      return "cancelled";
    }
    if (outcome.kind === "waiting") {
      // a wake is no failure: nothing counts against the retry budget
      await backend.saveStepWaiting(workflowSlug, runId, stepId, {
        attemptNumber: r.attempt,
        wait: outcome.wait,
        duration,
      });
      events.emit({
        type: "step:waiting",
        ...r.ref,
        attempt: r.attempt,
        kind: outcome.wait.kind,
        name: outcome.wait.name,
        ...(outcome.wait.untilUs !== undefined ? { untilUs: outcome.wait.untilUs } : {}),
      });
      return "waiting";
    }
    if (r.abortReason === "shutdown") {
      await backend.saveStepFailedAndScheduleRetry(
        workflowSlug,
        runId,
        stepId,
        {
          name: RELEASE_ERROR_NAME,
          message: "the worker shut down before the step finished; released for another worker",
        },
        { duration, attemptNumber: r.attempt, nextRetryAt: now, failureReason: "execution-error", ...usage },
        {
          availableAt: now,
          nextAttemptNumber: r.attempt + 1,
          retryDelayMs: 0,
          maxRetries: r.step.definition.retry?.maxRetries ?? 0,
        },
      );
      events.emit({ type: "step:released", ...r.ref, attempt: r.attempt });
      return "released";
    }
    if (outcome.kind === "failed" && outcome.invalidInput) {
      // an invalid input never becomes valid: no retry
      await backend.saveWorkflowInputValidation(workflowSlug, runId, {
        workflowAttemptNumber: r.workflowAttempt ?? 1,
        hasSchema: true,
        success: false,
        validationErrors: outcome.invalidInput,
        error: outcome.error,
      });
      await backend.saveStepFailed(workflowSlug, runId, stepId, outcome.error, {
        duration,
        attemptNumber: r.attempt,
        terminal: true,
        failureReason: "execution-error",
      });
      events.emit({
        type: "step:failed",
        ...r.ref,
        attempt: r.attempt,
        reason: "invalid-input",
        message: outcome.error.message,
      });
      return "failed";
    }
    const timedOut = r.abortReason === "timeout";
    const crashed = outcome.kind === "failed" && outcome.crashed === true;
    const error =
      outcome.kind === "failed" && !timedOut
        ? outcome.error
        : { name: "TimeoutError", message: `step timed out after ${r.step.definition.timeoutMs} ms` };
    const policy = r.step.definition.retry ?? {
      maxRetries: 0,
      backoff: "fixed" as const,
      initialDelayMs: 0,
      maxDelayMs: 0,
      jitter: false,
    };
    const failures = (await countFailures(backend, r.ref)) + 1;
    if (shouldRetry(policy, failures)) {
      const delayMs = retryDelayMs(policy, failures, random);
      const at = now + delayMs * 1000;
      await backend.saveStepFailedAndScheduleRetry(
        workflowSlug,
        runId,
        stepId,
        error,
        {
          duration,
          attemptNumber: r.attempt,
          nextRetryAt: at,
          failureReason: crashed ? "worker-crash" : timedOut ? "timeout" : "execution-error",
          ...usage,
        },
        { availableAt: at, nextAttemptNumber: r.attempt + 1, retryDelayMs: delayMs, maxRetries: policy.maxRetries },
      );
      events.emit({ type: "step:retry", ...r.ref, attempt: r.attempt, delayMs, message: error.message });
      return "retry";
    }
    const reason = crashed
      ? "worker-crash"
      : timedOut
        ? "timeout"
        : policy.maxRetries > 0
          ? "exhausted-retries"
          : "execution-error";
    await backend.saveStepFailed(workflowSlug, runId, stepId, error, {
      duration,
      attemptNumber: r.attempt,
      terminal: true,
      failureReason: reason,
      ...usage,
    });
    events.emit({ type: "step:failed", ...r.ref, attempt: r.attempt, reason, message: error.message });
    return "failed";
  } catch (err) {
    if (isCairnError(err, "STALE_ATTEMPT") || isCairnError(err, "RUN_TERMINAL"))
      return stale(events, r, (err as Error).message);
    throw err;
  }
}

function stale(events: WorkerEvents, r: AttemptRecord, message: string): Recorded {
  events.emit({ type: "step:stale", ...r.ref, attempt: r.attempt, message });
  return "stale";
}

/** Earlier attempts of the step that failed or were reclaimed since the run last retried it (releases on shutdown do not count): a run retry gives the step its retries again. */
async function countFailures(backend: Backend, ref: StepRef): Promise<number> {
  let failures = 0;
  for (const e of await backend.loadEvents(ref.workflowSlug, ref.runId, { category: "step", stepId: ref.stepId })) {
    if (e.type === "StepReset") failures = 0;
    else if ((e.type === "StepFailed" && e.error.name !== RELEASE_ERROR_NAME) || e.type === "StepReclaimed") failures++;
  }
  return failures;
}
