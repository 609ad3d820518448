import { deserializeValue, isTerminalRunStatus, type Backend, type RunState, type StepState } from "@cairn/backend-interface";
import type { LoadedWorkflow } from "./discovery.js";
import { validateInput } from "./input-validation.js";
import { dependentsOf, RunCache, type KnownRun } from "./run-cache.js";
import type { WorkerEvents } from "./worker-events.js";

/**
 * Starts a pending, available run (exactly once across workers: Backend.startRun is guarded), validates its input
 * against the workflow's schema (an invalid input fails the run with the field paths), then schedules its roots.
 * Returns whether this call started it. A plain run (not a rerun or resume) has no step results yet, so its roots are
 * scheduled without reading it back; what it learns goes into `cache`.
 */
export async function startRun(backend: Backend, wf: LoadedWorkflow, run: RunState, events: WorkerEvents, cache: RunCache = new RunCache()): Promise<boolean> {
  const attempt = Math.max(1, run.workflowAttemptNumber);
  const hasInput = run.input !== undefined;
  const startedAtUs = backend.clock.nowUs();
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
  const plain = run.parentRunId === undefined && run.resumedFrom === undefined && run.rerunFromStepId === undefined && run.workflowAttemptNumber <= 1;
  if (!plain) {
    await advanceRun(backend, wf, run.runId, events, cache);
    return true;
  }
  const known = cache.put({ ...run, status: "running", startedAtUs, workflowAttemptNumber: attempt });
  await advanceKnown(backend, wf, known, null, events, cache);
  return true;
}

/**
 * Moves a running run forward from a fresh read; safe to call any time, from any number of workers (every write is
 * guarded): fails it past its timeout or when a step failed terminally; cascade-skips steps behind a skipped
 * dependency; schedules steps whose dependencies all completed; completes it with the exported outputs when every step
 * ended.
 */
export async function advanceRun(backend: Backend, wf: LoadedWorkflow, runId: string, events: WorkerEvents, cache?: RunCache): Promise<void> {
  const [run, stepList] = await Promise.all([backend.getRun(runId), backend.loadRun(wf.slug, runId)]);
  if (!run || run.status !== "running" || run.workflowSlug !== wf.slug) {
    cache?.forget(runId);
    return;
  }
  const known = cache?.put(run, stepList);
  const nowUs = backend.clock.nowUs();
  const attempt = Math.max(1, run.workflowAttemptNumber);
  const duration = nowUs - (run.startedAtUs ?? run.createdAtUs);
  const states = new Map<string, StepState["status"]>();
  const steps = new Map(stepList.map((s) => [s.stepId, s]));
  for (const [id, s] of steps) states.set(id, s.status);
  const completed = () => [...states.values()].filter((s) => s === "completed").length;

  if (run.timeoutUs !== undefined && run.startedAtUs !== undefined && nowUs > run.startedAtUs + run.timeoutUs) {
    const message = `run exceeded its timeout of ${Math.round(run.timeoutUs / 1000)} ms`;
    await backend.saveWorkflowFailed(wf.slug, runId, { name: "RunTimeoutError", message }, { workflowAttemptNumber: attempt, duration, completedSteps: completed() }, "timeout");
    cache?.forget(runId);
    return events.emit({ type: "run:failed", workflowSlug: wf.slug, runId, reason: "timeout", message });
  }
  const failed = wf.steps.find((s) => steps.get(s.id)?.status === "failed");
  if (failed) {
    const error = steps.get(failed.id)?.error ?? { message: `step ${failed.id} failed` };
    const reason = steps.get(failed.id)?.failureReason === "worker-crash" ? "worker-crash" : "step-failed";
    await backend.saveWorkflowFailed(wf.slug, runId, { ...error, message: `step ${failed.id} failed: ${error.message}` }, { workflowAttemptNumber: attempt, duration, completedSteps: completed(), failedStep: failed.id }, reason);
    cache?.forget(runId);
    return events.emit({ type: "run:failed", workflowSlug: wf.slug, runId, reason, message: error.message });
  }
  for (const step of wf.steps) {
    if ((states.get(step.id) ?? "pending") !== "pending") continue;
    const deps = step.definition.dependencies;
    const skippedDep = deps.find((d) => states.get(d) === "skipped");
    if (skippedDep) {
      await backend.saveStepSkipped(wf.slug, runId, step.id, { skipType: "cascade", reason: `dependency ${skippedDep} was skipped`, duration: 0, attemptNumber: 0, cascadedFrom: skippedDep });
      states.set(step.id, "skipped");
      if (known) cache?.setStep(known, step.id, { status: "skipped" });
      events.emit({ type: "step:skipped", workflowSlug: wf.slug, runId, stepId: step.id, attempt: 0, reason: `cascade from ${skippedDep}` });
    } else if (deps.every((d) => states.get(d) === "completed")) {
      const ok = await backend.scheduleStep(wf.slug, runId, step.id, { availableAt: nowUs, reason: deps.length ? "dependency-satisfied" : "initial", attemptNumber: 1, priority: run.priority });
      states.set(step.id, "scheduled");
      if (known) ok ? cache?.setStep(known, step.id, { status: "scheduled" }) : cache?.unsetStep(known, step.id);
    }
  }
  if (wf.steps.every((s) => states.get(s.id) === "completed" || states.get(s.id) === "skipped")) {
    const output: Record<string, unknown> = {};
    for (const s of wf.steps) {
      const st = steps.get(s.id);
      if (st?.status === "completed" && (st.exportOutput ?? s.definition.exportOutput)) output[s.id] = deserializeValue(st.output);
    }
    if (known?.ending) return;
    if (known) known.ending = true;
    await completeRun(backend, wf, run, output, nowUs, events, cache);
  }
}

/**
 * After this worker wrote a terminal result (completed, skipped, failed) of `stepId`: moves the run forward from what
 * the worker knows, reading the run again only when what it knows cannot decide (see `advanceKnown`).
 */
export async function advanceAfterStep(backend: Backend, wf: LoadedWorkflow, runId: string, stepId: string, events: WorkerEvents, cache: RunCache): Promise<void> {
  const known = cache.get(runId);
  if (!known) return advanceRun(backend, wf, runId, events, cache);
  return advanceKnown(backend, wf, known, stepId, events, cache);
}

/**
 * Advances a run from this worker's knowledge after its own write: a run start (`changed` null: schedules the roots)
 * or a step's terminal result (schedules or cascade-skips that step's dependents, completes the run after its last
 * step). Known terminal step states are facts (they never change), other states are hints, so:
 *  - a dependent is scheduled when all its dependencies are known completed, cascade-skipped when one is known
 *    skipped; when a dependency's state is only a hint, the run is read again (another worker may have completed it
 *    before our write; our read comes after it, which is the same guarantee as reading every time);
 *  - the run is completed when every step is known completed or skipped; otherwise someone must still end a step that
 *    is surely not over (one we just scheduled, or one running in this worker), and that step's writer checks again;
 *    without such a step the run is read again;
 *  - a failed step, a run past its timeout or anything unexpected goes to the full advance from a fresh read.
 * Every write is guarded, so a stale hint can at worst cost a refused write.
 */
async function advanceKnown(backend: Backend, wf: LoadedWorkflow, k: KnownRun, changed: string | null, events: WorkerEvents, cache: RunCache): Promise<void> {
  const { run } = k;
  const runId = run.runId;
  const nowUs = backend.clock.nowUs();
  const fresh = (): Promise<void> => advanceRun(backend, wf, runId, events, cache);
  if (run.workflowSlug !== wf.slug || isTerminalRunStatus(run.status)) return fresh();
  if (run.timeoutUs !== undefined && run.startedAtUs !== undefined && nowUs > run.startedAtUs + run.timeoutUs) return fresh();
  if (changed !== null && k.steps.get(changed)?.status === "failed") return fresh();
  const candidates = new Set(changed === null ? wf.steps.filter((s) => s.definition.dependencies.length === 0).map((s) => s.id) : dependentsOf(wf, changed));
  // Decide before writing: a dependent whose dependencies are only hinted at needs the fresh path anyway.
  for (const id of candidates) {
    const cur = k.steps.get(id);
    if (cur && cur.status !== "pending") continue;
    const deps = wf.stepsById.get(id)?.definition.dependencies ?? [];
    // Neither schedulable nor skippable: a dependency is only hinted at (or failed, which fails the run; the fresh
    // path counts the completed steps exactly).
    if (!deps.some((d) => k.steps.get(d)?.status === "skipped") && !deps.every((d) => k.steps.get(d)?.status === "completed")) return fresh();
  }
  let witness = false;
  for (const step of wf.steps) { // topological order, so a cascade reaches dependents of dependents in one pass
    if (!candidates.has(step.id)) continue;
    const cur = k.steps.get(step.id);
    if (cur && cur.status !== "pending") continue;
    const deps = step.definition.dependencies;
    const skippedDep = deps.find((d) => k.steps.get(d)?.status === "skipped");
    if (skippedDep) {
      await backend.saveStepSkipped(wf.slug, runId, step.id, { skipType: "cascade", reason: `dependency ${skippedDep} was skipped`, duration: 0, attemptNumber: 0, cascadedFrom: skippedDep });
      cache.setStep(k, step.id, { status: "skipped" });
      events.emit({ type: "step:skipped", workflowSlug: wf.slug, runId, stepId: step.id, attempt: 0, reason: `cascade from ${skippedDep}` });
      for (const d of dependentsOf(wf, step.id)) candidates.add(d);
    } else if (deps.every((d) => k.steps.get(d)?.status === "completed")) {
      const ok = await backend.scheduleStep(wf.slug, runId, step.id, { availableAt: nowUs, reason: deps.length ? "dependency-satisfied" : "initial", attemptNumber: 1, priority: run.priority });
      if (ok) { cache.setStep(k, step.id, { status: "scheduled" }); witness = true; }
      else cache.unsetStep(k, step.id);
    } else {
      return fresh(); // a cascade reached a step with another dependency only hinted at
    }
  }
  const ended = (id: string) => { const s = k.steps.get(id)?.status; return s === "completed" || s === "skipped"; };
  if (wf.steps.every((s) => ended(s.id))) {
    const output: Record<string, unknown> = {};
    for (const s of wf.steps) {
      const st = k.steps.get(s.id);
      if (st?.status !== "completed" || !(st.exportOutput ?? s.definition.exportOutput)) continue;
      if (st.output === undefined) return fresh();
      output[s.id] = deserializeValue(st.output);
    }
    if (k.ending) return;
    k.ending = true;
    return completeRun(backend, wf, run, output, nowUs, events, cache);
  }
  if (witness || cache.isExecuting(runId)) return;
  return fresh();
}

async function completeRun(backend: Backend, wf: LoadedWorkflow, run: RunState, output: Record<string, unknown>, nowUs: number, events: WorkerEvents, cache?: RunCache): Promise<void> {
  const attempt = Math.max(1, run.workflowAttemptNumber);
  const duration = nowUs - (run.startedAtUs ?? run.createdAtUs);
  cache?.forget(run.runId);
  const written: unknown = await backend.completeRunIfOpen(wf.slug, run.runId, output, { workflowAttemptNumber: attempt, timestamp: nowUs, duration, totalSteps: wf.steps.length });
  // saveWorkflowComplete is guarded (a run that already ended stays as it is); it does not yet say whether it wrote.
  const completed = typeof written === "boolean" ? written : (await backend.getRun(run.runId))?.status === "completed";
  if (completed) events.emit({ type: "run:completed", workflowSlug: wf.slug, runId: run.runId });
}

/** True when the run can no longer change. */
export function isRunOver(run: RunState | null): boolean {
  return run !== null && isTerminalRunStatus(run.status);
}
