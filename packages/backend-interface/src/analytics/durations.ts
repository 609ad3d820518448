import type { Event } from "../events.js";
import { percentiles, type Percentiles } from "./percentiles.js";
import { attemptKey, compareStrings, groupBy, ofType, selectEvents, type AnalyticsOptions } from "./window.js";

/** A distribution for one step of one workflow. */
export type StepPercentiles = { workflowSlug: string; stepId: string } & Percentiles;
/** A distribution for one workflow. */
export type WorkflowPercentiles = { workflowSlug: string } & Percentiles;

/** Time from a step attempt becoming ready to its start; `byStep` sorted workflowSlug asc, stepId asc. */
export interface SchedulingLatency {
  overall: Percentiles;
  byStep: StepPercentiles[];
}

/** Durations of step attempts (`durationUs` of the events): completed attempts overall and per step, failed attempts overall. */
export interface StepDuration {
  /** StepCompleted.durationUs. */
  overall: Percentiles;
  /** StepFailed.durationUs (terminal or not). */
  failed: Percentiles;
  /** StepCompleted.durationUs per step; workflowSlug asc, stepId asc. */
  byStep: StepPercentiles[];
}

/** Durations of runs (`durationUs` of the terminal events). */
export interface WorkflowDuration {
  /** WorkflowCompleted.durationUs. */
  overall: Percentiles;
  /** WorkflowFailed.durationUs. */
  failed: Percentiles;
  /** WorkflowCompleted.durationUs per workflow; workflowSlug asc. */
  byWorkflow: WorkflowPercentiles[];
}

interface Sample {
  workflowSlug: string;
  stepId: string;
  valueUs: number;
}

function perStep(samples: readonly Sample[]): StepPercentiles[] {
  return [...groupBy(samples, (s) => `${s.workflowSlug}\u0000${s.stepId}`).values()]
    .map((list) => ({
      workflowSlug: list[0]?.workflowSlug ?? "",
      stepId: list[0]?.stepId ?? "",
      ...percentiles(list.map((s) => s.valueUs)),
    }))
    .sort((a, b) => compareStrings(a.workflowSlug, b.workflowSlug) || compareStrings(a.stepId, b.stepId));
}

/**
 * Scheduling latency. For every StepStarted in the selection: readyAt = the maximum, over the selection's StepScheduled
 * events of the same (runId, stepId, attemptNumber) with `timestampUs <= StepStarted.timestampUs`, of
 * `max(availableAtUs, timestampUs)`; latency = `max(0, StepStarted.timestampUs - readyAt)`. A StepStarted without such a
 * StepScheduled (e.g. scheduled before the window) contributes nothing.
 */
export function computeSchedulingLatency(
  events: readonly Event[],
  options: AnalyticsOptions,
  nowUs: number,
): SchedulingLatency {
  const selected = selectEvents(events, options, nowUs);
  const scheduled = groupBy(ofType(selected, "StepScheduled"), attemptKey);
  const samples: Sample[] = [];
  for (const start of ofType(selected, "StepStarted")) {
    const candidates = (scheduled.get(attemptKey(start)) ?? []).filter((s) => s.timestampUs <= start.timestampUs);
    if (candidates.length === 0) continue;
    const readyAt = Math.max(...candidates.map((s) => Math.max(s.availableAtUs, s.timestampUs)));
    samples.push({
      workflowSlug: start.workflowSlug,
      stepId: start.stepId,
      valueUs: Math.max(0, start.timestampUs - readyAt),
    });
  }
  return { overall: percentiles(samples.map((s) => s.valueUs)), byStep: perStep(samples) };
}

/** Step durations from StepCompleted / StepFailed `durationUs` in the selection. */
export function computeStepDuration(events: readonly Event[], options: AnalyticsOptions, nowUs: number): StepDuration {
  const selected = selectEvents(events, options, nowUs);
  const completed = ofType(selected, "StepCompleted").map((e) => ({
    workflowSlug: e.workflowSlug,
    stepId: e.stepId,
    valueUs: e.durationUs,
  }));
  return {
    overall: percentiles(completed.map((s) => s.valueUs)),
    failed: percentiles(ofType(selected, "StepFailed").map((e) => e.durationUs)),
    byStep: perStep(completed),
  };
}

/** Run durations from WorkflowCompleted / WorkflowFailed `durationUs` in the selection (`stepId` does not apply). */
export function computeWorkflowDuration(
  events: readonly Event[],
  options: AnalyticsOptions,
  nowUs: number,
): WorkflowDuration {
  const selected = selectEvents(events, options, nowUs);
  const completed = ofType(selected, "WorkflowCompleted");
  const byWorkflow = [...groupBy(completed, (e) => e.workflowSlug)]
    .map(([workflowSlug, list]) => ({ workflowSlug, ...percentiles(list.map((e) => e.durationUs)) }))
    .sort((a, b) => compareStrings(a.workflowSlug, b.workflowSlug));
  return {
    overall: percentiles(completed.map((e) => e.durationUs)),
    failed: percentiles(ofType(selected, "WorkflowFailed").map((e) => e.durationUs)),
    byWorkflow,
  };
}
