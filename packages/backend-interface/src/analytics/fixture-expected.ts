import { computeErrorFingerprints, fingerprintFor, type GroupingStrategy } from "../fingerprint.js";
import type { StepError } from "../schemas.js";
import type { ErrorDetail, ErrorGroup, ErrorsList } from "./error-groups.js";
import type { ErrorAnalysis } from "./error-analysis.js";
import type { SchedulingLatency, StepDuration, WorkflowDuration } from "./durations.js";
import { ANALYTICS_FIXTURE_ERRORS as E, ANALYTICS_FIXTURE_NOW_OFFSET_US } from "./fixture.js";
import type { RunOutcomes, StepOutcomes, SuccessRate, Throughput } from "./outcomes.js";
import type { Percentiles } from "./percentiles.js";
import type { QueueDepth, QueueDepthByWorkflow } from "./queue.js";
import type { RetryAnalysis, RetryFigures } from "./retries.js";
import type { WorkerInfo, WorkerStability } from "./workers.js";
import type { AnalyticsOptions } from "./window.js";

const S = 1_000_000;
const pc = (
  count: number,
  averageUs: number,
  medianUs: number,
  p95Us: number,
  p99Us: number,
  minUs: number,
  maxUs: number,
): Percentiles => ({ count, averageUs, medianUs, p95Us, p99Us, minUs, maxUs });
const one = (us: number) => pc(1, us, us, us, us, us, us);
const runs = (
  completed: number,
  failed: number,
  cancelled: number,
  successRate: number,
  failureRate: number,
  cancellationRate: number,
): RunOutcomes => ({
  completed,
  failed,
  cancelled,
  total: completed + failed + cancelled,
  successRate,
  failureRate,
  cancellationRate,
});
const steps = (
  completed: number,
  failed: number,
  skipped: number,
  successRate: number,
  failureRate: number,
  skipRate: number,
): StepOutcomes => ({
  completed,
  failed,
  skipped,
  total: completed + failed + skipped,
  successRate,
  failureRate,
  skipRate,
});
const retry = (
  totalRetries: number,
  stepsWithRetries: number,
  succeededAfterRetry: number,
  failedAfterRetry: number,
  retrySuccessRate: number,
  maxAttemptNumber: number,
): RetryFigures => ({
  totalRetries,
  stepsWithRetries,
  succeededAfterRetry,
  failedAfterRetry,
  retrySuccessRate,
  maxAttemptNumber,
});

/**
 * Hand-computed answers for `buildAnalyticsFixture(baseUs)` (derivations in the test beside it). `nowUs` is the clock
 * to run the queries at; `window` the options of the windowed answers; the `filtered` and `defaultWindow` entries pair
 * options with answers.
 */
export function analyticsFixtureExpected(baseUs: number) {
  const t = (s: number) => baseUs + s * S;
  const nowUs = baseUs + ANALYTICS_FIXTURE_NOW_OFFSET_US;
  const window: AnalyticsOptions = { startUs: baseUs, endUs: nowUs };
  const timeRange = { start: baseUs, end: nowUs };
  const fp = (e: StepError, s: GroupingStrategy) => fingerprintFor(computeErrorFingerprints(e), s);
  const group = (
    e: StepError,
    s: GroupingStrategy,
    count: number,
    affectedRuns: number,
    firstSeen: number,
    lastSeen: number,
  ): ErrorGroup => ({
    fingerprint: fp(e, s),
    errorMessage: e.message,
    errorName: e.name ?? "Error",
    sampleStack: e.stack ?? "",
    count,
    affectedRuns,
    firstSeen: t(firstSeen),
    lastSeen: t(lastSeen),
  });

  const errorAnalysis: ErrorAnalysis = {
    totalFailures: 5,
    terminalFailures: 2,
    retriedFailures: 3,
    affectedRuns: 4,
    byReason: [
      { failureReason: "execution-error", count: 3 },
      { failureReason: "exhausted-retries", count: 1 },
      { failureReason: "worker-crash", count: 1 },
    ],
    byErrorName: [
      { errorName: "ConnectionError", count: 3 },
      { errorName: "ValidationError", count: 1 },
      { errorName: "WorkerCrashError", count: 1 },
    ],
    byStep: [
      { workflowSlug: "etl", stepId: "extract", count: 4, terminalCount: 1, affectedRuns: 3 },
      { workflowSlug: "billing", stepId: "invoice", count: 1, terminalCount: 1, affectedRuns: 1 },
    ],
    topMessages: [E.E1a, E.E1b, E.E1c, E.E2, E.EW].map((e) => ({
      errorName: e.name ?? "Error",
      errorMessage: e.message,
      count: 1,
    })),
  };
  const errorsList: Record<GroupingStrategy, ErrorsList> = {
    exact: {
      total: 5,
      errors: [
        group(E.E2, "exact", 1, 1, 3005, 3005),
        group(E.EW, "exact", 1, 1, 500, 500),
        group(E.E1c, "exact", 1, 1, 220, 220),
        group(E.E1b, "exact", 1, 1, 210, 210),
        group(E.E1a, "exact", 1, 1, 5, 5),
      ],
    },
    normalized: {
      total: 4,
      errors: [
        group(E.E1a, "normalized", 2, 2, 5, 210),
        group(E.E2, "normalized", 1, 1, 3005, 3005),
        group(E.EW, "normalized", 1, 1, 500, 500),
        group(E.E1c, "normalized", 1, 1, 220, 220),
      ],
    },
    portable: {
      total: 3,
      errors: [
        group(E.E1a, "portable", 3, 2, 5, 220),
        group(E.E2, "portable", 1, 1, 3005, 3005),
        group(E.EW, "portable", 1, 1, 500, 500),
      ],
    },
  };
  const { count: _c, ...e1 } = group(E.E1a, "portable", 3, 2, 5, 220);
  const errorDetailPortableE1: ErrorDetail = {
    ...e1,
    totalCount: 3,
    total: 3,
    occurrences: [
      {
        workflowSlug: "etl",
        runId: "run-etl-2",
        stepId: "extract",
        attemptNumber: 3,
        timestampUs: t(220),
        errorMessage: E.E1c.message,
      },
      {
        workflowSlug: "etl",
        runId: "run-etl-2",
        stepId: "extract",
        attemptNumber: 2,
        timestampUs: t(210),
        errorMessage: E.E1b.message,
      },
      {
        workflowSlug: "etl",
        runId: "run-etl-1",
        stepId: "extract",
        attemptNumber: 1,
        timestampUs: t(5),
        errorMessage: E.E1a.message,
      },
    ],
  };
  const retryAnalysis: RetryAnalysis = {
    ...retry(5, 4, 1, 1, 25, 3),
    byStep: [
      { workflowSlug: "etl", stepId: "extract", ...retry(4, 3, 1, 1, 33.33, 3) },
      { workflowSlug: "billing", stepId: "charge", ...retry(1, 1, 0, 0, 0, 2) },
    ],
  };
  const schedulingLatency: SchedulingLatency = {
    overall: pc(15, 2_066_667, 1 * S, 5 * S, 5 * S, 1 * S, 5 * S),
    byStep: [
      { workflowSlug: "billing", stepId: "charge", ...pc(2, 1 * S, 1 * S, 1 * S, 1 * S, 1 * S, 1 * S) },
      { workflowSlug: "billing", stepId: "invoice", ...one(2 * S) },
      { workflowSlug: "etl", stepId: "extract", ...pc(6, 2_166_667, 1 * S, 5 * S, 5 * S, 1 * S, 5 * S) },
      { workflowSlug: "etl", stepId: "load", ...one(4 * S) },
      { workflowSlug: "etl", stepId: "validate", ...one(2 * S) },
      { workflowSlug: "reports", stepId: "notify", ...pc(2, 1 * S, 1 * S, 1 * S, 1 * S, 1 * S, 1 * S) },
      { workflowSlug: "reports", stepId: "render", ...pc(2, 3 * S, 1 * S, 5 * S, 5 * S, 1 * S, 5 * S) },
    ],
  };
  const stepDuration: StepDuration = {
    overall: pc(7, 8_571_429, 3 * S, 38 * S, 38 * S, 1 * S, 38 * S),
    failed: pc(5, 22_400_000, 5 * S, 97 * S, 97 * S, 2 * S, 97 * S),
    byStep: [
      { workflowSlug: "billing", stepId: "charge", ...one(38 * S) },
      { workflowSlug: "etl", stepId: "extract", ...one(2 * S) },
      { workflowSlug: "etl", stepId: "load", ...one(6 * S) },
      { workflowSlug: "reports", stepId: "notify", ...pc(2, 1_500_000, 1 * S, 2 * S, 2 * S, 1 * S, 2 * S) },
      { workflowSlug: "reports", stepId: "render", ...pc(2, 5_500_000, 3 * S, 8 * S, 8 * S, 3 * S, 8 * S) },
    ],
  };
  const workflowDuration: WorkflowDuration = {
    overall: pc(3, 12_666_667, 12 * S, 21 * S, 21 * S, 5 * S, 21 * S),
    failed: pc(2, 110 * S, 100 * S, 120 * S, 120 * S, 100 * S, 120 * S),
    byWorkflow: [
      { workflowSlug: "etl", ...one(21 * S) },
      { workflowSlug: "reports", ...pc(2, 8_500_000, 5 * S, 12 * S, 12 * S, 5 * S, 12 * S) },
    ],
  };
  const workerStability: WorkerStability = {
    workers: [
      {
        workerId: "w1",
        stepsStarted: 6,
        stepsCompleted: 1,
        stepsFailed: 4,
        crashFailures: 0,
        reclaimedFrom: 0,
        heartbeats: 1,
        zombieHeartbeats: 0,
        reclaimRate: 0,
        lastSeenUs: t(3002),
      },
      {
        workerId: "w2",
        stepsStarted: 7,
        stepsCompleted: 6,
        stepsFailed: 0,
        crashFailures: 0,
        reclaimedFrom: 1,
        heartbeats: 2,
        zombieHeartbeats: 1,
        reclaimRate: 14.29,
        lastSeenUs: t(3592),
      },
      {
        workerId: "w3",
        stepsStarted: 2,
        stepsCompleted: 0,
        stepsFailed: 1,
        crashFailures: 1,
        reclaimedFrom: 2,
        heartbeats: 2,
        zombieHeartbeats: 1,
        reclaimRate: 100,
        lastSeenUs: t(403),
      },
    ],
    totals: { workers: 3, stepsStarted: 15, reclaims: 3, crashFailures: 1, zombieHeartbeats: 2 },
  };
  const throughput: Throughput = {
    windowUs: 3_600 * S,
    runsCompleted: 3,
    stepsCompleted: 7,
    runsPerHour: 3,
    runsPerMinute: 0.05,
    stepsPerHour: 7,
    stepsPerMinute: 0.12,
    byWorkflow: [
      { workflowSlug: "billing", runsCompleted: 0, stepsCompleted: 1, runsPerHour: 0, stepsPerHour: 1 },
      { workflowSlug: "etl", runsCompleted: 1, stepsCompleted: 2, runsPerHour: 1, stepsPerHour: 2 },
      { workflowSlug: "reports", runsCompleted: 2, stepsCompleted: 4, runsPerHour: 2, stepsPerHour: 4 },
    ],
  };
  const etlOutcomes = { workflowSlug: "etl", runs: runs(1, 1, 0, 50, 50, 0), steps: steps(2, 1, 0, 66.67, 33.33, 0) };
  const successRate: SuccessRate = {
    runs: runs(3, 2, 1, 50, 33.33, 16.67),
    steps: steps(7, 2, 1, 70, 20, 10),
    byWorkflow: [
      { workflowSlug: "billing", runs: runs(0, 1, 1, 0, 50, 50), steps: steps(1, 1, 0, 50, 50, 0) },
      etlOutcomes,
      { workflowSlug: "reports", runs: runs(2, 0, 0, 100, 0, 0), steps: steps(4, 0, 1, 80, 0, 20) },
    ],
  };
  const emptyQueue: QueueDepth = {
    pendingRuns: 0,
    readyRuns: 0,
    delayedRuns: 0,
    runningRuns: 0,
    scheduledSteps: 0,
    readySteps: 0,
    delayedSteps: 0,
    waitingSteps: 0,
    runningSteps: 0,
    oldestReadyStepAvailableAtUs: null,
    oldestReadyStepAgeUs: 0,
    oldestPendingRunCreatedAtUs: null,
    oldestPendingRunAgeUs: 0,
  };
  const queueDepth: QueueDepth = {
    pendingRuns: 2,
    readyRuns: 1,
    delayedRuns: 1,
    runningRuns: 1,
    scheduledSteps: 2,
    readySteps: 1,
    delayedSteps: 1,
    waitingSteps: 0,
    runningSteps: 1,
    oldestReadyStepAvailableAtUs: t(3100),
    oldestReadyStepAgeUs: 500 * S,
    oldestPendingRunCreatedAtUs: t(3500),
    oldestPendingRunAgeUs: 100 * S,
  };
  const queueDepthByWorkflow: QueueDepthByWorkflow = [
    {
      workflowSlug: "billing",
      ...emptyQueue,
      pendingRuns: 1,
      delayedRuns: 1,
      oldestPendingRunCreatedAtUs: t(3500),
      oldestPendingRunAgeUs: 100 * S,
    },
    {
      workflowSlug: "etl",
      ...emptyQueue,
      runningRuns: 1,
      scheduledSteps: 2,
      readySteps: 1,
      delayedSteps: 1,
      waitingSteps: 0,
      runningSteps: 1,
      oldestReadyStepAvailableAtUs: t(3100),
      oldestReadyStepAgeUs: 500 * S,
    },
    {
      workflowSlug: "reports",
      ...emptyQueue,
      pendingRuns: 1,
      readyRuns: 1,
      oldestPendingRunCreatedAtUs: t(3550),
      oldestPendingRunAgeUs: 50 * S,
    },
  ];
  const w2: WorkerInfo = {
    workerId: "w2",
    firstSeenUs: t(8),
    lastSeenUs: t(3592),
    isActive: true,
    concurrency: 2,
    stepsStarted: 7,
    runningSteps: 1,
    currentSteps: [
      { workflowSlug: "etl", runId: "run-etl-3", stepId: "validate", attemptNumber: 1, startedAtUs: t(3003) },
    ],
  };
  const allWorkers: WorkerInfo[] = [
    {
      workerId: "w1",
      firstSeenUs: t(-98),
      lastSeenUs: t(3002),
      isActive: false,
      concurrency: 4,
      stepsStarted: 7,
      runningSteps: 0,
      currentSteps: [],
    },
    w2,
    {
      workerId: "w3",
      firstSeenUs: t(102),
      lastSeenUs: t(403),
      isActive: false,
      concurrency: null,
      stepsStarted: 2,
      runningSteps: 0,
      currentSteps: [],
    },
  ];
  return {
    nowUs,
    window,
    timeRange,
    errorAnalysis,
    errorsList,
    errorDetailPortableE1,
    retryAnalysis,
    schedulingLatency,
    stepDuration,
    workflowDuration,
    workerStability,
    throughput,
    successRate,
    queueDepth,
    queueDepthByWorkflow,
    /** getActiveWorkers() (default threshold 30 s) and getActiveWorkers({includeInactive: true}). */
    activeWorkers: [w2],
    allWorkers,
    /** Options/answers pairs that exercise the filters and the bounds. */
    filtered: {
      successRateEtl: {
        options: { ...window, workflowSlug: "etl" },
        expected: { runs: etlOutcomes.runs, steps: etlOutcomes.steps, byWorkflow: [etlOutcomes] } satisfies SuccessRate,
      },
      stepDurationExtract: {
        options: { ...window, stepId: "extract" },
        expected: {
          overall: one(2 * S),
          failed: pc(4, 3_750_000, 3 * S, 5 * S, 5 * S, 2 * S, 5 * S),
          byStep: [{ workflowSlug: "etl", stepId: "extract", ...one(2 * S) }],
        } satisfies StepDuration,
      },
      retryRunEtl2: {
        options: { ...window, runIds: ["run-etl-2"] },
        expected: {
          ...retry(2, 1, 0, 1, 0, 3),
          byStep: [{ workflowSlug: "etl", stepId: "extract", ...retry(2, 1, 0, 1, 0, 3) }],
        } satisfies RetryAnalysis,
      },
      throughputEndMinus1: {
        options: { startUs: baseUs, endUs: nowUs - 1 },
        expected: { runsCompleted: 3, stepsCompleted: 6, windowUs: 3_600 * S - 1 },
      },
      errorsListBillingExact: {
        options: { timeRange, workflowSlug: "billing", groupingStrategy: "exact" as const },
        expected: { total: 1, errors: [group(E.EW, "exact", 1, 1, 500, 500)] } satisfies ErrorsList,
      },
      errorsListPage: {
        options: { timeRange, limit: 2, offset: 1 },
        expected: { total: 4, errors: errorsList.normalized.errors.slice(1, 3) } satisfies ErrorsList,
      },
    },
    /** Queries with no options at clock nowUs: the default 24 h window also holds run-etl-0 (before baseUs). */
    defaultWindow: {
      successRate: { runs: runs(3, 3, 1, 42.86, 42.86, 14.29), steps: steps(7, 3, 1, 63.64, 27.27, 9.09) },
      errorAnalysisTotalFailures: 6,
    },
  };
}
