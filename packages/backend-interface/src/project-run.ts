import type { WorkflowEvent } from "./events.js";
import type { RunState } from "./run-state.js";
import { isTerminalRunStatus } from "./schemas.js";

function assertNever(x: never): never {
  throw new Error(`Unhandled event type ${(x as { type: string }).type}`);
}

function initialRun(ev: WorkflowEvent): RunState {
  return {
    runId: ev.runId,
    workflowSlug: ev.workflowSlug,
    status: "pending",
    createdAtUs: ev.timestampUs,
    availableAtUs: ev.timestampUs,
    priority: 0,
    hasInputSchema: false,
    tags: [],
    workflowAttemptNumber: 0,
    updatedAtUs: ev.timestampUs,
    stateChanges: [],
  };
}

function moveTo(s: RunState, status: RunState["status"], ts: number, message?: string): void {
  s.status = status;
  s.stateChanges.push(message === undefined ? { status, timestampUs: ts } : { status, timestampUs: ts, message });
}

/**
 * Folds one workflow event into a run's state. Pure. Completed, failed and cancelled are absorbing:
 * later start/complete/fail/cancel events change nothing. The one exit is WorkflowRetryStarted, which
 * reopens a failed run (never a completed or cancelled one) as pending with the new attempt number.
 */
export function reduceRunState(state: RunState | null, ev: WorkflowEvent): RunState {
  const fresh = state === null;
  const s: RunState = state ? { ...state, stateChanges: [...state.stateChanges] } : initialRun(ev);
  const ts = ev.timestampUs;
  if (ts > s.updatedAtUs) s.updatedAtUs = ts;
  const terminal = isTerminalRunStatus(s.status);
  switch (ev.type) {
    case "RunSubmitted":
      if (!fresh && s.stateChanges.length > 0) return s; // only the first submission counts
      s.createdAtUs = ts;
      s.availableAtUs = ev.availableAtUs;
      s.priority = ev.priority;
      s.hasInputSchema = ev.hasInputSchema;
      s.tags = ev.tags ? [...ev.tags] : [];
      if (ev.input !== undefined) s.input = ev.input;
      if (ev.metadata !== undefined) s.metadata = ev.metadata;
      if (ev.idempotencyKey !== undefined) s.idempotencyKey = ev.idempotencyKey;
      if (ev.timeoutUs !== undefined) s.timeoutUs = ev.timeoutUs;
      if (ev.versionId !== undefined) s.versionId = ev.versionId;
      if (ev.parentRunId !== undefined) s.parentRunId = ev.parentRunId;
      if (ev.flowKey !== undefined) s.flowKey = ev.flowKey;
      if (ev.tenantId !== undefined) s.tenantId = ev.tenantId;
      if (ev.runType !== undefined) s.runType = ev.runType;
      if (ev.trigger !== undefined) s.trigger = ev.trigger;
      if (ev.tracked) s.tracked = true;
      if (ev.pausedByWorkflow) s.paused = { atUs: ts, scope: "workflow" };
      moveTo(s, "pending", ts, "submitted");
      return s;
    case "WorkflowStarted":
      if (terminal) return s;
      s.workflowAttemptNumber = ev.workflowAttemptNumber;
      s.startedAtUs = ts;
      if (ev.versionId !== undefined) s.versionId = ev.versionId;
      moveTo(s, "running", ts);
      return s;
    case "WorkflowInputValidation":
      s.inputValidation = ev.validationErrors
        ? { success: ev.success, validationErrors: ev.validationErrors }
        : { success: ev.success };
      return s;
    case "WorkflowCompleted":
      if (terminal) return s;
      s.output = ev.output;
      s.durationUs = ev.durationUs;
      s.totalSteps = ev.totalSteps;
      s.endedAtUs = ts;
      moveTo(s, "completed", ts);
      return s;
    case "WorkflowFailed":
      if (terminal) return s;
      s.error = ev.error;
      s.failureReason = ev.failureReason;
      if (ev.failedStep !== undefined) s.failedStep = ev.failedStep;
      s.completedSteps = ev.completedSteps;
      s.durationUs = ev.durationUs;
      s.endedAtUs = ts;
      moveTo(s, "failed", ts, ev.error.message);
      return s;
    case "WorkflowCancelled":
      if (terminal) return s;
      if (ev.reason !== undefined) s.cancelReason = ev.reason;
      s.completedSteps = ev.completedSteps;
      s.durationUs = ev.durationUs;
      s.endedAtUs = ts;
      moveTo(s, "cancelled", ts, ev.reason);
      return s;
    case "WorkflowRetryStarted":
      if (s.status === "completed" || s.status === "cancelled") return s;
      s.workflowAttemptNumber = ev.workflowAttemptNumber;
      delete s.error;
      delete s.failureReason;
      delete s.failedStep;
      delete s.endedAtUs;
      delete s.durationUs;
      moveTo(s, "pending", ts, ev.reason ?? `retry attempt ${ev.workflowAttemptNumber}`);
      return s;
    case "WorkflowResumed":
      if (ev.originalRunId !== undefined) {
        s.resumedFrom = ev.originalRunId;
        return s;
      }
      // A workflow-wide resume does not end a run's own pause.
      if (s.paused && (ev.scope === undefined || ev.scope === "run" || s.paused.scope === "workflow")) {
        delete s.paused;
        if (!terminal) moveTo(s, s.status, ts, "resumed");
      }
      if (ev.patch !== undefined) s.state = mergeState(s.state, ev.patch);
      return s;
    case "WorkflowPaused":
      if (terminal || s.paused) return s;
      s.paused = { atUs: ts, scope: ev.scope, ...(ev.reason !== undefined ? { reason: ev.reason } : {}) };
      moveTo(s, s.status, ts, ev.reason === undefined ? "paused" : `paused: ${ev.reason}`);
      return s;
    case "SignalReceived":
      if (s.signals?.some((g) => g.signalId === ev.signalId)) return s; // the same signal id twice is one signal
      s.signals = [
        ...(s.signals ?? []),
        { signalId: ev.signalId, name: ev.name, payload: ev.payload, receivedAtUs: ts },
      ];
      return s;
    case "SignalConsumed":
      s.signals = (s.signals ?? []).map((g) =>
        g.signalId === ev.signalId && !g.consumedBy
          ? { ...g, consumedBy: { stepId: ev.byStepId, attemptNumber: ev.attemptNumber } }
          : g,
      );
      return s;
    case "WorkflowRerunFromStep":
      s.parentRunId = ev.parentRunId;
      s.rerunFromStepId = ev.rerunFromStepId;
      s.rerunStepIds = [...ev.rerunStepIds];
      return s;
    case "FlowControlled":
      if (terminal) return s;
      s.flow = {
        decision: ev.decision,
        reason: ev.reason,
        ...(ev.relatedRunId !== undefined ? { relatedRunId: ev.relatedRunId } : {}),
        ...(ev.untilUs !== undefined ? { untilUs: ev.untilUs } : {}),
      };
      if (ev.decision === "delayed" && ev.untilUs !== undefined && s.status === "pending") s.availableAtUs = ev.untilUs;
      return s;
    case "RunCountersIncremented":
      return addCounters(s, ev);
    default:
      return assertNever(ev);
  }
}

/** `state` with the fields of `patch` (both serialised JSON objects) set over it. */
function mergeState(state: string | undefined, patch: string): string {
  const base = state === undefined ? {} : (JSON.parse(state) as Record<string, unknown>);
  return JSON.stringify({ ...base, ...(JSON.parse(patch) as Record<string, unknown>) });
}

/**
 * Counts a step attempt's increments: the same attempt adds up; a later attempt of the step replaces what earlier
 * attempts counted (a retry redoes the work, so its counts are not added twice); an earlier attempt's late increments
 * are ignored. The run's counters are then the sum over its steps. Counting goes on whatever the run's status.
 */
function addCounters(s: RunState, ev: Extract<WorkflowEvent, { type: "RunCountersIncremented" }>): RunState {
  const parts = { ...s.counterParts };
  // A child step's counts are a part of their own (`step#child`; a step id holds no `#`): a retry that replays the
  // child keeps them, one that runs the child again replaces them.
  const key = ev.byChildId === undefined ? ev.byStepId : `${ev.byStepId}#${ev.byChildId}`;
  const part = parts[key];
  if (part && part.attemptNumber > ev.attemptNumber) return s;
  const values = part && part.attemptNumber === ev.attemptNumber ? { ...part.values } : {};
  for (const [k, v] of Object.entries(ev.counters)) values[k] = (values[k] ?? 0) + v;
  parts[key] = { attemptNumber: ev.attemptNumber, values };
  const totals: Record<string, number> = {};
  for (const p of Object.values(parts)) for (const [k, v] of Object.entries(p.values)) totals[k] = (totals[k] ?? 0) + v;
  s.counterParts = parts;
  s.counters = Object.fromEntries(Object.entries(totals).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return s;
}

/** The state of one run: its workflow events folded in order. `null` when there are none. */
export function projectRunState(events: readonly WorkflowEvent[]): RunState | null {
  let s: RunState | null = null;
  for (const ev of events) s = reduceRunState(s, ev);
  return s;
}
