import { expect } from "vitest";
import { newEventId, type Backend, type Event, type StepRef } from "@cairn/backend-interface";

/** The workflow most tests use. */
export const WF = "wf-main";

/** A step of a run. */
export type StepAddress = StepRef;

/** Submits a run (optionally with a fixed id) and returns its id. */
export async function submit(
  backend: Backend,
  options: {
    workflowSlug?: string;
    runId?: string;
    input?: unknown;
    tags?: string[];
    priority?: number;
    availableAtUs?: number;
  } = {},
): Promise<string> {
  const { runId } = await backend.submitRun({ workflowSlug: options.workflowSlug ?? WF, ...options });
  return runId;
}

/** Schedules attempt 1 of each step, available now (or at `availableAt`). */
export async function schedule(
  backend: Backend,
  workflowSlug: string,
  runId: string,
  stepIds: string[],
  options: { availableAt?: number; priority?: number } = {},
): Promise<StepAddress[]> {
  const refs: StepAddress[] = [];
  for (const stepId of stepIds) {
    const ok = await backend.scheduleStep(workflowSlug, runId, stepId, {
      availableAt: options.availableAt ?? backend.clock.nowUs(),
      reason: "initial",
      attemptNumber: 1,
      ...(options.priority === undefined ? {} : { priority: options.priority }),
    });
    expect(ok, `scheduling ${stepId}`).toBe(true);
    refs.push({ workflowSlug, runId, stepId });
  }
  return refs;
}

/** Submits a run with the given steps scheduled; returns the run id and the step refs. */
export async function runWithSteps(
  backend: Backend,
  stepIds: string[],
  options: { workflowSlug?: string; runId?: string; priority?: number } = {},
): Promise<{ runId: string; steps: StepAddress[] }> {
  const workflowSlug = options.workflowSlug ?? WF;
  const runId = await submit(backend, { workflowSlug, ...(options.runId ? { runId: options.runId } : {}) });
  const steps = await schedule(
    backend,
    workflowSlug,
    runId,
    stepIds,
    options.priority === undefined ? {} : { priority: options.priority },
  );
  return { runId, steps };
}

/** Claims a step and asserts the claim succeeded; returns the attempt number. */
export async function claim(backend: Backend, ref: StepAddress, workerId = "worker-1"): Promise<number> {
  const claimed = await backend.claimScheduledStep(ref.workflowSlug, ref.runId, ref.stepId, workerId, {
    dependencies: [],
    timestamp: backend.clock.nowUs(),
    attemptNumber: 0,
  });
  expect(claimed, `claim of ${ref.stepId} by ${workerId}`).not.toBeNull();
  return claimed!.attemptNumber;
}

/** Tries to claim a step; returns the attempt number or null. */
export async function tryClaim(backend: Backend, ref: StepAddress, workerId = "worker-1"): Promise<number | null> {
  const claimed = await backend.claimScheduledStep(ref.workflowSlug, ref.runId, ref.stepId, workerId, {
    dependencies: [],
    timestamp: backend.clock.nowUs(),
    attemptNumber: 0,
  });
  return claimed ? claimed.attemptNumber : null;
}

/** Completes the running attempt of a step with `output`. */
export async function complete(
  backend: Backend,
  ref: StepAddress,
  attemptNumber: number,
  output: unknown = { ok: true },
  exportOutput = false,
): Promise<void> {
  await backend.saveStepComplete(
    ref.workflowSlug,
    ref.runId,
    ref.stepId,
    output,
    { timestamp: backend.clock.nowUs(), duration: 1000, attemptNumber, output },
    exportOutput,
  );
}

/** Fails the running attempt of a step and schedules attempt n+1 (atomically), available at `availableAt` (default now). */
export async function failAndRetry(
  backend: Backend,
  ref: StepAddress,
  attemptNumber: number,
  availableAt?: number,
): Promise<void> {
  const at = availableAt ?? backend.clock.nowUs();
  await backend.saveStepFailedAndScheduleRetry(
    ref.workflowSlug,
    ref.runId,
    ref.stepId,
    { name: "Error", message: `attempt ${attemptNumber} failed` },
    { duration: 500, attemptNumber, nextRetryAt: at, failureReason: "execution-error" },
    { availableAt: at, nextAttemptNumber: attemptNumber + 1, retryDelayMs: 0, maxRetries: 1000 },
  );
}

/** Fails the running attempt of a step terminally. */
export async function failTerminally(
  backend: Backend,
  ref: StepAddress,
  attemptNumber: number,
  message = "boom",
): Promise<void> {
  await backend.saveStepFailed(
    ref.workflowSlug,
    ref.runId,
    ref.stepId,
    { name: "TypeError", message, stack: `TypeError: ${message}\n    at work (/app/step.js:1:1)` },
    { duration: 700, attemptNumber, terminal: true, failureReason: "execution-error" },
  );
}

/** Every event of a run, in order. */
export async function eventsOf(backend: Backend, workflowSlug: string, runId: string): Promise<Event[]> {
  return backend.loadEvents(workflowSlug, runId);
}

/** The number of events of a given type among a run's events (optionally of one step). */
export async function countEvents(
  backend: Backend,
  ref: { workflowSlug: string; runId: string; stepId?: string },
  type: Event["type"],
): Promise<number> {
  const events = ref.stepId
    ? await backend.loadEvents(ref.workflowSlug, ref.runId, { category: "step", stepId: ref.stepId })
    : await backend.loadEvents(ref.workflowSlug, ref.runId);
  return events.filter((e) => e.type === type).length;
}

/** A raw LogEntry event for appendEvent. */
export function logEvent(
  ref: StepAddress,
  message: string,
  timestampUs: number,
  eventId = newEventId(timestampUs),
): Event {
  return {
    eventId,
    timestampUs,
    workflowSlug: ref.workflowSlug,
    runId: ref.runId,
    category: "step",
    stepId: ref.stepId,
    type: "LogEntry",
    stream: "stdout",
    message,
    attemptNumber: 1,
  };
}

/** Sorts step states by stepId (drivers may return steps in any order). */
export function byStepId<T extends { stepId: string }>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => (a.stepId < b.stepId ? -1 : a.stepId > b.stepId ? 1 : 0));
}

/** Waits `ms` of real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
