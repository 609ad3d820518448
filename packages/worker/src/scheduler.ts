import { deserializeValue, isTerminalRunStatus, type Backend, type RunState, type StepState } from "@cairn/backend-interface";
import type { LoadedWorkflow } from "./discovery.js";
import { validateInput } from "./input-validation.js";
import type { WorkerEvents } from "./worker-events.js";

/**
 * Starts a pending, available run (exactly once across workers: Backend.startRun is guarded), validates its input
 * against the workflow's schema (an invalid input fails the run with the field paths), then schedules its roots.
 * Returns whether this call started it.
 */
export async function startRun(backend: Backend, wf: LoadedWorkflow, run: RunState, events: WorkerEvents): Promise<boolean> {
  const attempt = Math.max(1, run.workflowAttemptNumber);
  const hasInput = run.input !== undefined;
  const started = await backend.startRun(wf.slug, run.runId, { workflowAttemptNumber: attempt, hasInputSchema: wf.schema !== undefined, hasInput, ...(run.versionId ? { versionId: run.versionId } : {}) });
  if (!started) return false;
  events.emit({ type: "run:started", workflowSlug: wf.slug, runId: run.runId });
  if (wf.schema) {
    const result = await validateInput(wf.schema, deserializeValue(run.input));
    if (!result.success) {
      const message = `Invalid input: ${result.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`;
      await backend.saveWorkflowInputValidation(wf.slug, run.runId, { workflowAttemptNumber: attempt, hasSchema: true, success: false, validationErrors: result.issues, error: { name: "InputValidationError", message } });
      await backend.saveWorkflowFailed(wf.slug, run.runId, { name: "InputValidationError", message }, { workflowAttemptNumber: attempt, duration: 0, completedSteps: 0 }, "step-failed");
      events.emit({ type: "run:input-invalid", workflowSlug: wf.slug, runId: run.runId, issues: result.issues });
      return true;
    }
    await backend.saveWorkflowInputValidation(wf.slug, run.runId, { workflowAttemptNumber: attempt, hasSchema: true, success: true });
  }
  await advanceRun(backend, wf, run.runId, events);
  return true;
}

/**
 * Moves a running run forward; safe to call any time, from any number of workers (every write is guarded):
 * fails it past its timeout or when a step failed terminally; cascade-skips steps behind a skipped dependency;
 * schedules steps whose dependencies all completed; completes it with the exported outputs when every step ended.
 */
export async function advanceRun(backend: Backend, wf: LoadedWorkflow, runId: string, events: WorkerEvents): Promise<void> {
  const run = await backend.getRun(runId);
  if (!run || run.status !== "running" || run.workflowSlug !== wf.slug) return;
  const nowUs = backend.clock.nowUs();
  const attempt = Math.max(1, run.workflowAttemptNumber);
  const duration = nowUs - (run.startedAtUs ?? run.createdAtUs);
  const states = new Map<string, StepState["status"]>();
  const steps = new Map((await backend.loadRun(wf.slug, runId)).map((s) => [s.stepId, s]));
  for (const [id, s] of steps) states.set(id, s.status);
  const completed = () => [...states.values()].filter((s) => s === "completed").length;

  if (run.timeoutUs !== undefined && run.startedAtUs !== undefined && nowUs > run.startedAtUs + run.timeoutUs) {
    const message = `run exceeded its timeout of ${Math.round(run.timeoutUs / 1000)} ms`;
    await backend.saveWorkflowFailed(wf.slug, runId, { name: "RunTimeoutError", message }, { workflowAttemptNumber: attempt, duration, completedSteps: completed() }, "timeout");
    return events.emit({ type: "run:failed", workflowSlug: wf.slug, runId, reason: "timeout", message });
  }
  const failed = wf.steps.find((s) => steps.get(s.id)?.status === "failed");
  if (failed) {
    const error = steps.get(failed.id)?.error ?? { message: `step ${failed.id} failed` };
    const reason = steps.get(failed.id)?.failureReason === "worker-crash" ? "worker-crash" : "step-failed";
    await backend.saveWorkflowFailed(wf.slug, runId, { ...error, message: `step ${failed.id} failed: ${error.message}` }, { workflowAttemptNumber: attempt, duration, completedSteps: completed(), failedStep: failed.id }, reason);
    return events.emit({ type: "run:failed", workflowSlug: wf.slug, runId, reason, message: error.message });
  }
  for (const step of wf.steps) {
    if ((states.get(step.id) ?? "pending") !== "pending") continue;
    const deps = step.definition.dependencies;
    const skippedDep = deps.find((d) => states.get(d) === "skipped");
    if (skippedDep) {
      await backend.saveStepSkipped(wf.slug, runId, step.id, { skipType: "cascade", reason: `dependency ${skippedDep} was skipped`, duration: 0, attemptNumber: 0, cascadedFrom: skippedDep });
      states.set(step.id, "skipped");
      events.emit({ type: "step:skipped", workflowSlug: wf.slug, runId, stepId: step.id, attempt: 0, reason: `cascade from ${skippedDep}` });
    } else if (deps.every((d) => states.get(d) === "completed")) {
      await backend.scheduleStep(wf.slug, runId, step.id, { availableAt: nowUs, reason: deps.length ? "dependency-satisfied" : "initial", attemptNumber: 1, priority: run.priority });
      states.set(step.id, "scheduled");
    }
  }
  if (wf.steps.every((s) => states.get(s.id) === "completed" || states.get(s.id) === "skipped")) {
    const output: Record<string, unknown> = {};
    for (const s of wf.steps) {
      const st = steps.get(s.id);
      if (st?.status === "completed" && (st.exportOutput ?? s.definition.exportOutput)) output[s.id] = deserializeValue(st.output);
    }
    await backend.saveWorkflowComplete(wf.slug, runId, output, { workflowAttemptNumber: attempt, timestamp: nowUs, duration, totalSteps: wf.steps.length });
    const after = await backend.getRun(runId);
    if (after?.status === "completed") events.emit({ type: "run:completed", workflowSlug: wf.slug, runId });
  }
}

/** True when the run can no longer change. */
export function isRunOver(run: RunState | null): boolean {
  return run !== null && isTerminalRunStatus(run.status);
}
