import type { FollowUp } from "./backend-primitives.js";
import type { Event } from "./events.js";
import type { GateQuery, GateView } from "./flow-control.js";
import { reduceRunState } from "./project-run.js";
import { reduceStepState } from "./project-step.js";
import type { RunState } from "./run-state.js";
import type { StepState } from "./step-state.js";

/** Pure: a run's state and every step's state with `events` folded in (copies; the inputs are not changed). */
export function foldRun(
  run: RunState | null,
  steps: ReadonlyMap<string, StepState>,
  events: readonly Event[],
): { run: RunState | null; steps: Map<string, StepState> } {
  const after = new Map(steps);
  return { run: foldInto(run, after, events), steps: after };
}

/** Folds `events` into `steps` in place and returns the run's state after them. */
function foldInto(run: RunState | null, steps: Map<string, StepState>, events: readonly Event[]): RunState | null {
  let next = run;
  for (const ev of events) {
    if (ev.category === "workflow") next = reduceRunState(next, ev);
    else steps.set(ev.stepId, reduceStepState(steps.get(ev.stepId) ?? null, ev));
  }
  return next;
}

/**
 * `events` followed by what `follow` returns for the state after them: what a driver appends for a guarded write with
 * a follow-up. `readGate` counts a flow-control gate when the follow-up asks for one (see FollowUp.gateQuery); it is
 * called inside the write, under the gate's lock.
 */
export function withFollowUp(
  run: RunState | null,
  steps: ReadonlyMap<string, StepState>,
  events: readonly Event[],
  follow: FollowUp,
  readGate?: (q: GateQuery) => GateView,
): Event[] {
  const after = foldRun(run, steps, events);
  const query = readGate ? (follow.gateQuery?.(after.run) ?? null) : null;
  return [...events, ...follow(after.run, after.steps, query && readGate ? readGate(query) : undefined)];
}

/** A write's events with its follow-up's, and the state after all of them. */
export interface FoldedWrite {
  events: Event[];
  run: RunState | null;
  steps: Map<string, StepState>;
  /** The gate count the follow-up asked for: without `readGate` to count it, the follow-up was not applied. */
  gateQuery: GateQuery | null;
}

/**
 * withFollowUp that also returns the state after every event, each event folded once (drivers that project the rows
 * of a batch need both). Without `readGate`, a follow-up that asks for a gate count is not applied: `gateQuery` says
 * so, and the caller takes a path that counts the gate inside its write.
 */
export function foldWithFollowUp(
  run: RunState | null,
  steps: ReadonlyMap<string, StepState>,
  events: readonly Event[],
  follow: FollowUp | undefined,
  readGate?: (q: GateQuery) => GateView,
): FoldedWrite {
  const after = foldRun(run, steps, events);
  if (!follow) return { events: [...events], ...after, gateQuery: null };
  const gateQuery = follow.gateQuery?.(after.run) ?? null;
  if (gateQuery && !readGate) return { events: [...events], ...after, gateQuery };
  return applyFollowUp(after, events, follow, gateQuery, gateQuery && readGate ? readGate(gateQuery) : undefined);
}

/** foldWithFollowUp for drivers whose gate count is asynchronous (a query on the write's connection). */
export async function foldWithFollowUpAsync(
  run: RunState | null,
  steps: ReadonlyMap<string, StepState>,
  events: readonly Event[],
  follow: FollowUp | undefined,
  readGate: (q: GateQuery) => Promise<GateView>,
): Promise<FoldedWrite> {
  const after = foldRun(run, steps, events);
  if (!follow) return { events: [...events], ...after, gateQuery: null };
  const gateQuery = follow.gateQuery?.(after.run) ?? null;
  return applyFollowUp(after, events, follow, gateQuery, gateQuery ? await readGate(gateQuery) : undefined);
}

/** The follow-up's events after `events`, folded into `after` (which the caller owns). */
function applyFollowUp(
  after: { run: RunState | null; steps: Map<string, StepState> },
  events: readonly Event[],
  follow: FollowUp,
  gateQuery: GateQuery | null,
  gate: GateView | undefined,
): FoldedWrite {
  const more = follow(after.run, after.steps, gate);
  return { events: [...events, ...more], run: foldInto(after.run, after.steps, more), steps: after.steps, gateQuery };
}

/** The gate query a follow-up asks for after `events` (null: none); for drivers that must lock the gate before counting. */
export function gateQueryAfter(
  run: RunState | null,
  steps: ReadonlyMap<string, StepState>,
  events: readonly Event[],
  follow: FollowUp | undefined,
): GateQuery | null {
  if (!follow?.gateQuery) return null;
  return follow.gateQuery(foldRun(run, steps, events).run);
}
