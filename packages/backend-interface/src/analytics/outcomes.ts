import type { Event } from "../events.js";
import { perUnit, rateOf } from "./percentiles.js";
import { compareStrings, resolveWindow, selectEvents, type AnalyticsOptions } from "./window.js";

const HOUR_US = 3_600_000_000;
const MINUTE_US = 60_000_000;

/** Finished runs and steps per unit of time over the window (length `endUs - startUs`). */
export interface Throughput {
  windowUs: number;
  /** WorkflowCompleted events. */
  runsCompleted: number;
  /** StepCompleted events (copied results excluded). */
  stepsCompleted: number;
  runsPerHour: number;
  runsPerMinute: number;
  stepsPerHour: number;
  stepsPerMinute: number;
  /** Workflows with at least one completion; workflowSlug asc. */
  byWorkflow: Array<{
    workflowSlug: string;
    runsCompleted: number;
    stepsCompleted: number;
    runsPerHour: number;
    stepsPerHour: number;
  }>;
}

/** Run outcomes: counts of WorkflowCompleted / WorkflowFailed / WorkflowCancelled events, and rates of their sum. */
export interface RunOutcomes {
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
  successRate: number;
  failureRate: number;
  cancellationRate: number;
}

/** Step outcomes: counts of StepCompleted / terminal StepFailed / StepSkipped events (copies excluded), and rates of their sum. */
export interface StepOutcomes {
  completed: number;
  failed: number;
  skipped: number;
  total: number;
  successRate: number;
  failureRate: number;
  skipRate: number;
}

/** Success and failure rates of runs and steps; `byWorkflow` lists workflows with any outcome, workflowSlug asc. */
export interface SuccessRate {
  runs: RunOutcomes;
  steps: StepOutcomes;
  byWorkflow: Array<{ workflowSlug: string; runs: RunOutcomes; steps: StepOutcomes }>;
}

const count = (events: readonly Event[], slug: string | undefined, test: (e: Event) => boolean): number =>
  events.filter((e) => (slug === undefined || e.workflowSlug === slug) && test(e)).length;

const slugsOf = (events: readonly Event[], test: (e: Event) => boolean): string[] =>
  [...new Set(events.filter(test).map((e) => e.workflowSlug))].sort(compareStrings);

/** Computes Throughput. Pure. */
export function computeThroughput(events: readonly Event[], options: AnalyticsOptions, nowUs: number): Throughput {
  const { startUs, endUs } = resolveWindow(options, nowUs);
  const windowUs = endUs - startUs;
  const selected = selectEvents(events, options, nowUs);
  const isRun = (e: Event) => e.type === "WorkflowCompleted";
  const isStep = (e: Event) => e.type === "StepCompleted";
  const runs = count(selected, undefined, isRun);
  const steps = count(selected, undefined, isStep);
  const byWorkflow = slugsOf(selected, (e) => isRun(e) || isStep(e)).map((workflowSlug) => {
    const r = count(selected, workflowSlug, isRun);
    const s = count(selected, workflowSlug, isStep);
    return {
      workflowSlug,
      runsCompleted: r,
      stepsCompleted: s,
      runsPerHour: perUnit(r, windowUs, HOUR_US),
      stepsPerHour: perUnit(s, windowUs, HOUR_US),
    };
  });
  return {
    windowUs,
    runsCompleted: runs,
    stepsCompleted: steps,
    runsPerHour: perUnit(runs, windowUs, HOUR_US),
    runsPerMinute: perUnit(runs, windowUs, MINUTE_US),
    stepsPerHour: perUnit(steps, windowUs, HOUR_US),
    stepsPerMinute: perUnit(steps, windowUs, MINUTE_US),
    byWorkflow,
  };
}

const RUN_END = new Set(["WorkflowCompleted", "WorkflowFailed", "WorkflowCancelled"]);
const isStepEnd = (e: Event) =>
  e.type === "StepCompleted" || e.type === "StepSkipped" || (e.type === "StepFailed" && e.terminal);

function runOutcomes(events: readonly Event[], slug?: string): RunOutcomes {
  const completed = count(events, slug, (e) => e.type === "WorkflowCompleted");
  const failed = count(events, slug, (e) => e.type === "WorkflowFailed");
  const cancelled = count(events, slug, (e) => e.type === "WorkflowCancelled");
  const total = completed + failed + cancelled;
  return {
    completed,
    failed,
    cancelled,
    total,
    successRate: rateOf(completed, total),
    failureRate: rateOf(failed, total),
    cancellationRate: rateOf(cancelled, total),
  };
}

function stepOutcomes(events: readonly Event[], slug?: string): StepOutcomes {
  const completed = count(events, slug, (e) => e.type === "StepCompleted");
  const failed = count(events, slug, (e) => e.type === "StepFailed" && e.terminal);
  const skipped = count(events, slug, (e) => e.type === "StepSkipped");
  const total = completed + failed + skipped;
  return {
    completed,
    failed,
    skipped,
    total,
    successRate: rateOf(completed, total),
    failureRate: rateOf(failed, total),
    skipRate: rateOf(skipped, total),
  };
}

/** Computes SuccessRate over the selection (`stepId` narrows the step figures only). Pure. */
export function computeSuccessRate(events: readonly Event[], options: AnalyticsOptions, nowUs: number): SuccessRate {
  const selected = selectEvents(events, options, nowUs);
  const byWorkflow = slugsOf(selected, (e) => RUN_END.has(e.type) || isStepEnd(e)).map((workflowSlug) => ({
    workflowSlug,
    runs: runOutcomes(selected, workflowSlug),
    steps: stepOutcomes(selected, workflowSlug),
  }));
  return { runs: runOutcomes(selected), steps: stepOutcomes(selected), byWorkflow };
}
