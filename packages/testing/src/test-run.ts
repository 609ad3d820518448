import { deserializeValue, type Event, type RunState, type StepError, type StepState } from "@cairn/backend-interface";

/** One attempt of a step, as its events recorded it. */
export interface TestAttempt {
  attempt: number;
  workerId: string;
  /** `running`: not ended (yet); `reclaimed`: its worker stopped heartbeating and another took the step; `waiting`: it gave back its slot to wait (sleep, signal, poll). */
  outcome: "running" | "completed" | "failed" | "skipped" | "reclaimed" | "waiting";
  /** The decoded output of a completed attempt. */
  output?: unknown;
  error?: StepError;
  failureReason?: string;
  /** On the environment's clock, µs. */
  startedAtUs: number;
  endedAtUs?: number;
}

/** A step of a finished run: its last state and every attempt. */
export interface TestStep {
  stepId: string;
  status: StepState["status"];
  /** The decoded output when it completed. */
  output?: unknown;
  error?: StepError;
  failureReason?: string;
  attempts: TestAttempt[];
}

/** A run as TestEnv.run returns it: status, decoded output, error, and every step's attempts. */
export interface TestRun {
  runId: string;
  workflowSlug: string;
  status: RunState["status"];
  /** The decoded run output (the exported step outputs by step id) when it completed. */
  output?: unknown;
  error?: StepError;
  failureReason?: string;
  failedStep?: string;
  /** Steps by id. */
  steps: Record<string, TestStep>;
  /** The run as the store projects it, and its raw events. */
  state: RunState;
  events: Event[];
}

/** Builds the TestRun of a run from its state, its steps' states and its events. Pure. */
export function toTestRun(state: RunState, steps: readonly StepState[], events: readonly Event[]): TestRun {
  const attempts = new Map<string, TestAttempt[]>();
  const open = (stepId: string, n: number): TestAttempt | undefined =>
    attempts.get(stepId)?.find((a) => a.attempt === n && a.outcome === "running");
  for (const e of events) {
    if (e.category !== "step") continue;
    if (e.type === "StepStarted") {
      attempts.set(e.stepId, [
        ...(attempts.get(e.stepId) ?? []),
        { attempt: e.attemptNumber, workerId: e.workerId, outcome: "running", startedAtUs: e.timestampUs },
      ]);
      continue;
    }
    const a = "attemptNumber" in e ? open(e.stepId, e.attemptNumber) : undefined;
    if (!a) continue;
    if (e.type === "StepCompleted")
      Object.assign(a, { outcome: "completed", output: deserializeValue(e.output), endedAtUs: e.timestampUs });
    else if (e.type === "StepFailed")
      Object.assign(a, { outcome: "failed", error: e.error, failureReason: e.failureReason, endedAtUs: e.timestampUs });
    else if (e.type === "StepSkipped") Object.assign(a, { outcome: "skipped", endedAtUs: e.timestampUs });
    else if (e.type === "StepReclaimed") Object.assign(a, { outcome: "reclaimed", endedAtUs: e.timestampUs });
    else if (e.type === "StepWaiting") Object.assign(a, { outcome: "waiting", endedAtUs: e.timestampUs });
  }
  const out: Record<string, TestStep> = {};
  for (const s of steps) {
    out[s.stepId] = {
      stepId: s.stepId,
      status: s.status,
      attempts: attempts.get(s.stepId) ?? [],
      ...(s.status === "completed" ? { output: deserializeValue(s.output) } : {}),
      ...(s.error ? { error: s.error } : {}),
      ...(s.failureReason ? { failureReason: s.failureReason } : {}),
    };
  }
  return {
    runId: state.runId,
    workflowSlug: state.workflowSlug,
    status: state.status,
    steps: out,
    state,
    events: [...events],
    ...(state.status === "completed" ? { output: deserializeValue(state.output) } : {}),
    ...(state.error ? { error: state.error } : {}),
    ...(state.failureReason ? { failureReason: state.failureReason } : {}),
    ...(state.failedStep ? { failedStep: state.failedStep } : {}),
  };
}
