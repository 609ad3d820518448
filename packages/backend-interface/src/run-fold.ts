import type { FollowUp } from "./backend-primitives.js";
import type { Event } from "./events.js";
import { reduceRunState } from "./project-run.js";
import { reduceStepState } from "./project-step.js";
import type { RunState } from "./run-state.js";
import type { StepState } from "./step-state.js";

/** Pure: a run's state and every step's state with `events` folded in (copies; the inputs are not changed). */
export function foldRun(run: RunState | null, steps: ReadonlyMap<string, StepState>, events: readonly Event[]): { run: RunState | null; steps: Map<string, StepState> } {
  let next = run;
  const after = new Map(steps);
  for (const ev of events) {
    if (ev.category === "workflow") next = reduceRunState(next, ev);
    else after.set(ev.stepId, reduceStepState(after.get(ev.stepId) ?? null, ev));
  }
  return { run: next, steps: after };
}

/** `events` followed by what `follow` returns for the state after them: what a driver appends for a guarded write with a follow-up. */
export function withFollowUp(run: RunState | null, steps: ReadonlyMap<string, StepState>, events: readonly Event[], follow: FollowUp): Event[] {
  const after = foldRun(run, steps, events);
  return [...events, ...follow(after.run, after.steps)];
}
