/**
 * The analytics reference implementation: pure functions over events (or the live state), no I/O, no clock.
 * A driver that aggregates in SQL must give identical answers; each definition is spelled out beside its function.
 * The rules every query shares:
 * - Selection (`selectEvents`): events with startUs <= timestampUs <= endUs (both inclusive; default endUs = now,
 *   startUs = max(0, endUs - 24 h)), of workflowSlug / runIds (empty list = nothing) when given, of stepId when given
 *   (step events only), never events with copiedFromRunId. Nothing outside the selection is consulted, not even to
 *   pair a StepStarted with its StepScheduled or a StepCompleted with its worker.
 * - Percentiles: nearest rank on the ascending integer values, 1-based rank ceil(p*n/100); median = p50.
 *   averageUs = Math.round(sum / count). All fields 0 for no values.
 * - Rates: percentages Math.round(part * 10000 / whole) / 100, 0 when whole is 0. Per-unit figures
 *   Math.round(count * unitUs * 100 / windowUs) / 100. Simplest for SQL drivers: aggregate counts and sorted values
 *   in SQL and finish with these exported helpers (percentiles, averageOf, rateOf, perUnit).
 * - Strings sort by UTF-16 code unit (JS `<`): Postgres `COLLATE "C"`, SQLite BINARY. Every list has a total order
 *   stated on its type; ties end on ids (workflowSlug, stepId, fingerprint, workerId, eventId).
 * - Error grouping: fingerprintFor(errorFingerprints, strategy), normalized/portable using
 *   COALESCE(messageNormalizedHash, messageHash).
 */
export {
  DEFAULT_WINDOW_US,
  resolveWindow,
  selectEvents,
  isCopied,
  compareStrings,
  type AnalyticsOptions,
  type ResolvedWindow,
} from "./window.js";
export {
  percentiles,
  nearestRank,
  averageOf,
  rateOf,
  perUnit,
  EMPTY_PERCENTILES,
  type Percentiles,
} from "./percentiles.js";
export type { GroupingStrategy } from "../fingerprint.js";
export { computeErrorAnalysis, TOP_MESSAGES, type ErrorAnalysis } from "./error-analysis.js";
export {
  computeErrorsList,
  computeErrorDetail,
  DEFAULT_ERRORS_LIMIT,
  DEFAULT_GROUPING_STRATEGY,
  type ErrorsListOptions,
  type ErrorsList,
  type ErrorGroup,
  type ErrorDetailOptions,
  type ErrorDetail,
  type ErrorOccurrence,
} from "./error-groups.js";
export { computeRetryAnalysis, type RetryAnalysis, type RetryFigures } from "./retries.js";
export {
  computeSchedulingLatency,
  computeStepDuration,
  computeWorkflowDuration,
  type SchedulingLatency,
  type StepDuration,
  type WorkflowDuration,
  type StepPercentiles,
  type WorkflowPercentiles,
} from "./durations.js";
export {
  computeThroughput,
  computeSuccessRate,
  type Throughput,
  type SuccessRate,
  type RunOutcomes,
  type StepOutcomes,
} from "./outcomes.js";
export {
  computeWorkerStability,
  computeActiveWorkers,
  computeWorkerById,
  DEFAULT_WORKER_STALE_THRESHOLD_US,
  type WorkerStability,
  type WorkerStabilityEntry,
  type ActiveWorkersOptions,
  type WorkerInfo,
  type WorkerStep,
} from "./workers.js";
export {
  computeQueueDepth,
  computeQueueDepthByWorkflow,
  type LiveState,
  type QueueDepth,
  type QueueDepthByWorkflow,
} from "./queue.js";
export { computeAnalyticsSummary, type AnalyticsSummary } from "./summary.js";
export {
  computeCallAnalytics,
  computeUsageAnalytics,
  computeRunUsage,
  costMicroUsd,
  usageTotals,
  emptyUsage,
  type CallAnalytics,
  type CallStats,
  type UsageAnalytics,
  type UsageTotals,
  type ModelUsage,
  type RunUsage,
} from "./calls.js";
export { computeCounterAnalytics, type CounterAnalytics, type CounterTotal } from "./counters.js";
export { ANALYTICS_EVENT_TYPES } from "./event-types.js";
export {
  buildAnalyticsFixture,
  projectLiveState,
  ANALYTICS_FIXTURE_ERRORS,
  ANALYTICS_FIXTURE_NOW_OFFSET_US,
  type AnalyticsFixtureItem,
} from "./fixture.js";
export { analyticsFixtureExpected } from "./fixture-expected.js";
