import type { Event, EventBody, EventOf, EventType } from "./events.js";
import type { GateView } from "./flow-control.js";
import { admitRun } from "./run-admission.js";
import { reduceRunState } from "./project-run.js";
import { reduceStepState } from "./project-step.js";
import type { RunDag } from "./run-dag.js";
import type { RunState } from "./run-state.js";
import { deserializeValue, serializeValue } from "./serialize.js";
import type { StepState } from "./step-state.js";

/** Builds an event of the run being advanced (the store's clock, the run's ids), from validated state only. */
export type MakeRunEvent = <T extends EventType>(type: T, stepId: string | undefined, body: EventBody<T>) => EventOf<T>;

/**
 * The store-side engine, pure: the events that move a run forward from its current state, given its DAG. Drivers
 * call it inside the atomic write that changed the run (submit, a step's end, a reclaim, a retry), on the state after
 * that write's own events, and append what it returns in the same write, so a run is never left half-advanced:
 *  - a pending run that is available starts (`WorkflowStarted`);
 *  - a running run past its timeout fails (`timeout`); a step failed terminally fails the run (`step-failed`, or
 *    `worker-crash` when the step's last attempt crashed);
 *  - every pending step behind a skipped dependency is cascade-skipped, every pending step whose dependencies all
 *    completed is scheduled (attempt 1, the run's priority), in topological order so cascades reach the end at once;
 *  - when every step completed or was skipped, the run completes with the outputs of its exported steps.
 * A pending run of a workflow with flow control starts only when admitRun admits it on `gate`, the count of its gate
 * the driver took inside the write (`submitting`: this write creates the run). Its inputs are not changed.
 */
export function advanceRun(
  run: RunState | null,
  current: ReadonlyMap<string, StepState>,
  dag: RunDag,
  nowUs: number,
  make: MakeRunEvent,
  gate?: GateView,
  submitting = false,
): Event[] {
  if (!run) return [];
  const steps = new Map(current);
  const out: Event[] = [];
  let state = run;
  const add = (ev: Event): void => {
    out.push(ev);
    if (ev.category === "workflow") state = reduceRunState(state, ev);
    else steps.set(ev.stepId, reduceStepState(steps.get(ev.stepId) ?? null, ev));
  };
  const attempt = Math.max(1, state.workflowAttemptNumber);
  if (state.status === "pending") {
    if (dag.flow && state.flowKey !== undefined) {
      // A gated run starts only when its flow control admits it (decided on the gate's count, in this write).
      const admission = admitRun(state, dag.flow, gate, nowUs, submitting, make);
      if (!admission.start) {
        for (const ev of admission.events) add(ev);
        return out;
      }
    } else if (state.availableAtUs > nowUs) return out;
    add(
      make("WorkflowStarted", undefined, {
        workflowAttemptNumber: attempt,
        hasInputSchema: state.hasInputSchema,
        hasInput: state.input !== undefined,
        ...(state.versionId ? { versionId: state.versionId } : {}),
      }),
    );
  }
  if (state.status !== "running") return out;
  const status = (id: string): StepState["status"] => steps.get(id)?.status ?? "pending";
  const completed = (): number => dag.steps.filter((s) => status(s.id) === "completed").length;
  const durationUs = Math.max(0, nowUs - (state.startedAtUs ?? state.createdAtUs));

  if (state.timeoutUs !== undefined && state.startedAtUs !== undefined && nowUs > state.startedAtUs + state.timeoutUs) {
    add(
      make("WorkflowFailed", undefined, {
        workflowAttemptNumber: attempt,
        error: {
          name: "RunTimeoutError",
          message: `run exceeded its timeout of ${Math.round(state.timeoutUs / 1000)} ms`,
        },
        durationUs,
        completedSteps: completed(),
        failureReason: "timeout",
      }),
    );
    return out;
  }
  const failed = dag.steps.find((s) => status(s.id) === "failed");
  if (failed) {
    const st = steps.get(failed.id)!;
    const error = st.error ?? { message: `step ${failed.id} failed` };
    add(
      make("WorkflowFailed", undefined, {
        workflowAttemptNumber: attempt,
        error: { ...error, message: `step ${failed.id} failed: ${error.message}` },
        durationUs,
        completedSteps: completed(),
        failedStep: failed.id,
        failureReason: st.failureReason === "worker-crash" ? "worker-crash" : "step-failed",
      }),
    );
    return out;
  }
  for (const step of dag.steps) {
    if (status(step.id) !== "pending") continue;
    const deps = step.dependencies;
    const skipped = deps.find((d) => status(d) === "skipped");
    if (skipped !== undefined) {
      add(
        make("StepSkipped", step.id, {
          skipType: "cascade",
          reason: `dependency ${skipped} was skipped`,
          durationUs: 0,
          attemptNumber: 0,
          cascadedFrom: skipped,
        }),
      );
    } else if (deps.every((d) => status(d) === "completed")) {
      // A step reopened by a run retry keeps its attempt number: its next attempt comes after it.
      const previous = steps.get(step.id)?.attemptNumber ?? 0;
      const reason = previous > 0 ? "retry" : deps.length ? "dependency-satisfied" : "initial";
      add(
        make("StepScheduled", step.id, {
          availableAtUs: nowUs,
          reason,
          attemptNumber: previous + 1,
          priority: state.priority,
        }),
      );
    }
  }
  if (dag.steps.every((s) => status(s.id) === "completed" || status(s.id) === "skipped")) {
    const output: Record<string, unknown> = {};
    for (const s of dag.steps) {
      const st = steps.get(s.id);
      if (st?.status === "completed" && (st.exportOutput ?? s.exportOutput)) output[s.id] = deserializeValue(st.output);
    }
    add(
      make("WorkflowCompleted", undefined, {
        workflowAttemptNumber: attempt,
        output: serializeValue(output),
        durationUs,
        totalSteps: dag.steps.length,
      }),
    );
  }
  return out;
}

/** Event types after which a run may move on: the store runs `advanceRun` in the same write when one is appended. */
export const ADVANCING_EVENTS: ReadonlySet<EventType> = new Set<EventType>([
  "RunSubmitted",
  "WorkflowStarted",
  "WorkflowRetryStarted",
  "WorkflowRerunFromStep",
  "StepCompleted",
  "StepFailed",
  "StepSkipped",
  "StepReclaimed",
  "StepReset",
]);
