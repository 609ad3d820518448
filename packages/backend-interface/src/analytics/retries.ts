import type { Event, EventOf } from "../events.js";
import { rateOf } from "./percentiles.js";
import { compareStrings, groupBy, ofType, selectEvents, stepKey, type AnalyticsOptions } from "./window.js";

/**
 * Retry figures of a set of steps. A retry is a StepScheduled with reason `retry` (after a failure or a reclaim); a
 * retried step is a (runId, stepId) with at least one, and its first retried attempt is the smallest attemptNumber
 * among them. Completions or failures of older attempts (stale ones) do not count as the outcome of a retry.
 */
export interface RetryFigures {
  totalRetries: number;
  /** Distinct retried steps. */
  stepsWithRetries: number;
  /** Retried steps with a StepCompleted whose attemptNumber >= their first retried attempt. */
  succeededAfterRetry: number;
  /** Retried steps with a terminal StepFailed whose attemptNumber >= their first retried attempt. */
  failedAfterRetry: number;
  /** rateOf(succeededAfterRetry, stepsWithRetries). */
  retrySuccessRate: number;
  /** Largest attemptNumber of a retry; 0 when none. */
  maxAttemptNumber: number;
}

/** Retry patterns; `byStep` per (workflowSlug, stepId) sorted totalRetries desc, then workflowSlug asc, stepId asc. */
export interface RetryAnalysis extends RetryFigures {
  byStep: Array<{ workflowSlug: string; stepId: string } & RetryFigures>;
}

type Outcomes = Map<string, number[]>; // stepKey -> attempt numbers

function figures(
  retries: ReadonlyArray<EventOf<"StepScheduled">>,
  completed: Outcomes,
  failed: Outcomes,
): RetryFigures {
  const firstRetry = new Map<string, number>();
  for (const r of retries)
    firstRetry.set(stepKey(r), Math.min(firstRetry.get(stepKey(r)) ?? Infinity, r.attemptNumber));
  const ended = (outcomes: Outcomes) =>
    [...firstRetry].filter(([k, first]) => (outcomes.get(k) ?? []).some((a) => a >= first)).length;
  const succeeded = ended(completed);
  return {
    totalRetries: retries.length,
    stepsWithRetries: firstRetry.size,
    succeededAfterRetry: succeeded,
    failedAfterRetry: ended(failed),
    retrySuccessRate: rateOf(succeeded, firstRetry.size),
    maxAttemptNumber: retries.reduce((m, e) => Math.max(m, e.attemptNumber), 0),
  };
}

const attemptsByStep = (events: ReadonlyArray<{ runId: string; stepId: string; attemptNumber: number }>): Outcomes => {
  const out: Outcomes = new Map();
  for (const [k, list] of groupBy(events, stepKey))
    out.set(
      k,
      list.map((e) => e.attemptNumber),
    );
  return out;
};

/** Computes RetryAnalysis over the selection. Pure. */
export function computeRetryAnalysis(
  events: readonly Event[],
  options: AnalyticsOptions,
  nowUs: number,
): RetryAnalysis {
  const selected = selectEvents(events, options, nowUs);
  const retries = ofType(selected, "StepScheduled").filter((e) => e.reason === "retry");
  const completed = attemptsByStep(ofType(selected, "StepCompleted"));
  const failed = attemptsByStep(ofType(selected, "StepFailed").filter((e) => e.terminal));
  const byStep = [...groupBy(retries, (e) => `${e.workflowSlug}\u0000${e.stepId}`).values()]
    .map((list) => ({
      workflowSlug: list[0]?.workflowSlug ?? "",
      stepId: list[0]?.stepId ?? "",
      ...figures(list, completed, failed),
    }))
    .sort(
      (a, b) =>
        b.totalRetries - a.totalRetries ||
        compareStrings(a.workflowSlug, b.workflowSlug) ||
        compareStrings(a.stepId, b.stepId),
    );
  return { ...figures(retries, completed, failed), byStep };
}
