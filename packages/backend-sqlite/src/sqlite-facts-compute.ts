import {
  compareStrings,
  perUnit,
  rateOf,
  type RunOutcomes,
  type StepOutcomes,
  type SuccessRate,
  type Throughput,
} from "@cairn/backend-interface";

// Pure finishers of the analytics fact counts. Each equals its reference function in backend-interface/src/analytics
// (same definitions, same rounding helpers, same orders); the conformance suite checks them against it.

const HOUR_US = 3_600_000_000;
const MINUTE_US = 60_000_000;
const sortedSlugs = (slugs: Iterable<string>): string[] => [...new Set(slugs)].sort(compareStrings);

/** Counts per (workflowSlug, type, flag), as SqliteFacts.counts returns them. */
export type FactCounts = Array<{ slug: string; type: string; flag: number; n: number }>;

const sum = (counts: FactCounts, slug: string | undefined, test: (c: FactCounts[number]) => boolean): number =>
  counts.reduce((acc, c) => acc + ((slug === undefined || c.slug === slug) && test(c) ? c.n : 0), 0);
const isRunEnd = (c: { type: string }) =>
  c.type === "WorkflowCompleted" || c.type === "WorkflowFailed" || c.type === "WorkflowCancelled";
const isStepEnd = (c: { type: string; flag: number }) =>
  c.type === "StepCompleted" || c.type === "StepSkipped" || (c.type === "StepFailed" && c.flag === 1);

function runOutcomes(counts: FactCounts, slug?: string): RunOutcomes {
  const completed = sum(counts, slug, (c) => c.type === "WorkflowCompleted");
  const failed = sum(counts, slug, (c) => c.type === "WorkflowFailed");
  const cancelled = sum(counts, slug, (c) => c.type === "WorkflowCancelled");
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

function stepOutcomes(counts: FactCounts, slug?: string): StepOutcomes {
  const completed = sum(counts, slug, (c) => c.type === "StepCompleted");
  const failed = sum(counts, slug, (c) => c.type === "StepFailed" && c.flag === 1);
  const skipped = sum(counts, slug, (c) => c.type === "StepSkipped");
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

/** SuccessRate from outcome counts (equals computeSuccessRate). */
export function successRateFrom(counts: FactCounts): SuccessRate {
  const slugs = sortedSlugs(counts.filter((c) => c.n > 0 && (isRunEnd(c) || isStepEnd(c))).map((c) => c.slug));
  return {
    runs: runOutcomes(counts),
    steps: stepOutcomes(counts),
    byWorkflow: slugs.map((workflowSlug) => ({
      workflowSlug,
      runs: runOutcomes(counts, workflowSlug),
      steps: stepOutcomes(counts, workflowSlug),
    })),
  };
}

/** Throughput from outcome counts over a window of `windowUs` (equals computeThroughput). */
export function throughputFrom(counts: FactCounts, windowUs: number): Throughput {
  const isRun = (c: { type: string }) => c.type === "WorkflowCompleted";
  const isStep = (c: { type: string }) => c.type === "StepCompleted";
  const runs = sum(counts, undefined, isRun);
  const steps = sum(counts, undefined, isStep);
  const byWorkflow = sortedSlugs(counts.filter((c) => c.n > 0 && (isRun(c) || isStep(c))).map((c) => c.slug)).map(
    (workflowSlug) => {
      const r = sum(counts, workflowSlug, isRun);
      const s = sum(counts, workflowSlug, isStep);
      return {
        workflowSlug,
        runsCompleted: r,
        stepsCompleted: s,
        runsPerHour: perUnit(r, windowUs, HOUR_US),
        stepsPerHour: perUnit(s, windowUs, HOUR_US),
      };
    },
  );
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
