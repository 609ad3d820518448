import type { RunState } from "../run-state.js";
import { compareStrings } from "./window.js";

/** One counter of one workflow summed over the runs created in a window. */
export interface CounterTotal {
  workflowSlug: string;
  counter: string;
  /** The sum of the counter over those runs. */
  total: number;
  /** How many of those runs have the counter. */
  runs: number;
}

/** Counters per workflow, ordered by workflowSlug then counter. */
export interface CounterAnalytics {
  counters: CounterTotal[];
}

/**
 * The reference of counter analytics: over the runs created in [startUs, endUs] (of the workflow, of the runs, when
 * given; `stepId` does not apply: counters belong to runs), each counter of each workflow summed, with the number of
 * runs that have it. The caller passes the runs already selected by creation time.
 */
export function computeCounterAnalytics(
  runs: readonly RunState[],
  o: { startUs: number; endUs: number; workflowSlug?: string; runIds?: string[] },
): CounterAnalytics {
  const ids = o.runIds ? new Set(o.runIds) : null;
  const sums = new Map<string, CounterTotal>();
  for (const r of runs) {
    if (
      r.createdAtUs < o.startUs ||
      r.createdAtUs > o.endUs ||
      (o.workflowSlug !== undefined && r.workflowSlug !== o.workflowSlug) ||
      (ids && !ids.has(r.runId))
    )
      continue;
    for (const [counter, v] of Object.entries(r.counters ?? {})) {
      const key = `${r.workflowSlug}\u0000${counter}`;
      const t = sums.get(key) ?? { workflowSlug: r.workflowSlug, counter, total: 0, runs: 0 };
      t.total += v;
      t.runs += 1;
      sums.set(key, t);
    }
  }
  return {
    counters: [...sums.values()].sort(
      (a, b) => compareStrings(a.workflowSlug, b.workflowSlug) || compareStrings(a.counter, b.counter),
    ),
  };
}
