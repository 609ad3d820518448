import type { Event, EventType } from "./events.js";
import type { MakeRunEvent } from "./run-advance.js";
import { foldRun } from "./run-fold.js";
import type { RunState } from "./run-state.js";
import { isTerminalRunStatus } from "./schemas.js";
import type { StepState } from "./step-state.js";

type Signal = NonNullable<RunState["signals"]>[number];

/** Whether a signal's payload (serialised JSON) has every field of `match` equal (as JSON) to the match's. */
export function signalMatches(payload: string, match: Record<string, unknown> | undefined): boolean {
  if (!match) return true;
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return false;
  }
  if (typeof value !== "object" || value === null) return Object.keys(match).length === 0;
  const fields = value as Record<string, unknown>;
  return Object.entries(match).every(([k, v]) => JSON.stringify(fields[k]) === JSON.stringify(v));
}

/** The earliest unconsumed signal a waiting step would take, or null. Pure. */
export function signalFor(run: RunState, step: StepState): Signal | null {
  const w = step.waiting;
  if (!w || w.kind !== "event" || w.signalId !== undefined || step.status !== "scheduled") return null;
  return run.signals?.find((g) => !g.consumedBy && g.name === w.name && signalMatches(g.payload, w.match)) ?? null;
}

/**
 * The store-side follow-up of waits, pure, run in the same atomic write as every advancing event (before advanceRun):
 * each waiting step whose signal is buffered takes the earliest matching one (SignalConsumed, so a signal is delivered
 * exactly once) and is woken now (StepWoken). Runs with or without a version alike.
 */
export function wakeWaitingSteps(
  run: RunState | null,
  steps: ReadonlyMap<string, StepState>,
  nowUs: number,
  make: MakeRunEvent,
): Event[] {
  if (!run || isTerminalRunStatus(run.status)) return [];
  const out: Event[] = [];
  let state = { run: run as RunState | null, steps: new Map(steps) };
  const add = (ev: Event): void => {
    out.push(ev);
    state = foldRun(state.run, state.steps, [ev]);
  };
  for (const step of [...steps.values()].sort((a, b) => (a.waiting?.sinceUs ?? 0) - (b.waiting?.sinceUs ?? 0))) {
    const current = state.steps.get(step.stepId)!;
    const signal = state.run ? signalFor(state.run, current) : null;
    if (!signal) continue;
    add(
      make("SignalConsumed", undefined, {
        signalId: signal.signalId,
        byStepId: step.stepId,
        attemptNumber: current.waiting!.attemptNumber,
      }),
    );
    add(
      make("StepWoken", step.stepId, {
        attemptNumber: current.attemptNumber,
        availableAtUs: nowUs,
        signalId: signal.signalId,
      }),
    );
  }
  return out;
}

/** StepHeld for every (run after the engine's own events, so nothing it schedules escapes a pause)  scheduled, unheld step of a paused run; StepReleased for every held step of a run not paused. Pure. */
export function holdsFor(run: RunState | null, steps: ReadonlyMap<string, StepState>, make: MakeRunEvent): Event[] {
  if (!run || isTerminalRunStatus(run.status)) return [];
  const out: Event[] = [];
  for (const s of steps.values()) {
    const held = s.heldAvailableAtUs !== undefined;
    if (run.paused && s.status === "scheduled" && !held)
      out.push(make("StepHeld", s.stepId, { attemptNumber: s.attemptNumber }));
    else if (!run.paused && held) out.push(make("StepReleased", s.stepId, { attemptNumber: s.attemptNumber }));
  }
  return out;
}

/** Event types after which waits and pauses may move a run on (besides ADVANCING_EVENTS). */
export const WAIT_EVENTS: ReadonlySet<EventType> = new Set<EventType>([
  "StepWaiting",
  "SignalReceived",
  "WorkflowPaused",
  "WorkflowResumed",
  "StepScheduled",
]);
