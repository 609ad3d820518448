// The analytics reference implementation: pure functions over events (or the live state), no I/O, no clock.
// Drivers that aggregate in SQL must give identical answers; every definition is spelled out beside its function.
export { DEFAULT_WINDOW_US, resolveWindow, selectEvents, isCopied, compareStrings, type AnalyticsOptions, type ResolvedWindow } from "./window.js";
export { percentiles, nearestRank, averageOf, rateOf, perUnit, EMPTY_PERCENTILES, type Percentiles } from "./percentiles.js";
export type { GroupingStrategy } from "../fingerprint.js";
export { computeErrorAnalysis, TOP_MESSAGES, type ErrorAnalysis } from "./error-analysis.js";
export {
  computeErrorsList, computeErrorDetail, DEFAULT_ERRORS_LIMIT, DEFAULT_GROUPING_STRATEGY,
  type ErrorsListOptions, type ErrorsList, type ErrorGroup, type ErrorDetailOptions, type ErrorDetail, type ErrorOccurrence,
} from "./error-groups.js";
export { computeRetryAnalysis, type RetryAnalysis, type RetryFigures } from "./retries.js";
export {
  computeSchedulingLatency, computeStepDuration, computeWorkflowDuration,
  type SchedulingLatency, type StepDuration, type WorkflowDuration, type StepPercentiles, type WorkflowPercentiles,
} from "./durations.js";
export { computeThroughput, computeSuccessRate, type Throughput, type SuccessRate, type RunOutcomes, type StepOutcomes } from "./outcomes.js";
export {
  computeWorkerStability, computeActiveWorkers, computeWorkerById, DEFAULT_WORKER_STALE_THRESHOLD_US,
  type WorkerStability, type WorkerStabilityEntry, type ActiveWorkersOptions, type WorkerInfo, type WorkerStep,
} from "./workers.js";
export { computeQueueDepth, computeQueueDepthByWorkflow, type LiveState, type QueueDepth, type QueueDepthByWorkflow } from "./queue.js";
export { computeAnalyticsSummary, type AnalyticsSummary } from "./summary.js";
export { buildAnalyticsFixture, projectLiveState, ANALYTICS_FIXTURE_ERRORS, ANALYTICS_FIXTURE_NOW_OFFSET_US, type AnalyticsFixtureItem } from "./fixture.js";
export { analyticsFixtureExpected } from "./fixture-expected.js";
