/**
 * The analytics conformance fixture against hand-computed answers (analyticsFixtureExpected). The derivations of the
 * less obvious figures are in the comments; every number was worked out from the event list in fixture.ts, not
 * copied from the functions' output.
 */
import { describe, expect, it } from "vitest";
import {
  analyticsFixtureExpected,
  buildAnalyticsFixture,
  computeActiveWorkers,
  computeAnalyticsSummary,
  computeErrorAnalysis,
  computeErrorDetail,
  computeErrorsList,
  computeQueueDepth,
  computeQueueDepthByWorkflow,
  computeRetryAnalysis,
  computeSchedulingLatency,
  computeStepDuration,
  computeSuccessRate,
  computeThroughput,
  computeWorkerById,
  computeWorkerStability,
  computeWorkflowDuration,
  projectLiveState,
} from "../src/analytics/index.js";
import {
  parseEvent,
  projectRunState,
  projectStepStates,
  type RunState,
  type StepEvent,
  type StepState,
  type WorkflowEvent,
} from "../src/index.js";

const BASE = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
const items = buildAnalyticsFixture(BASE);
const events = items.map((i) => i.event);
const X = analyticsFixtureExpected(BASE);
const now = X.nowUs;
const W = X.window;

describe("analytics fixture: shape", () => {
  it("is valid, deterministic, uniquely identified and in per-run order", () => {
    for (const item of items) {
      expect(parseEvent(item.event)).toEqual(item.event);
      expect(item.event.runId).toBe(item.runId);
      expect(item.event.workflowSlug).toBe(item.workflowSlug);
    }
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    expect(buildAnalyticsFixture(BASE)).toEqual(items);
    const lastByRun = new Map<string, number>();
    for (const e of events) {
      expect(e.timestampUs).toBeGreaterThanOrEqual(lastByRun.get(e.runId) ?? 0);
      lastByRun.set(e.runId, e.timestampUs);
    }
    expect(new Set(events.map((e) => e.workflowSlug))).toEqual(new Set(["etl", "billing", "reports"]));
    expect(events.filter((e) => "copiedFromRunId" in e && e.copiedFromRunId)).toHaveLength(2);
    expect(events.some((e) => e.timestampUs === BASE - 1)).toBe(true); // just outside
    expect(events.some((e) => e.timestampUs === BASE)).toBe(true); // just inside
    expect(events.some((e) => e.timestampUs === now)).toBe(true);
    expect(events.some((e) => e.timestampUs === now + 1)).toBe(true);
  });
});

describe("analytics fixture: reference answers equal the hand-computed ones", () => {
  it("errorAnalysis", () => {
    // StepFailed in window: etl-1 E1a, etl-2 E1b + E1c (terminal), bill-2 EW (terminal, worker-crash), etl-3 E2. etl-0's E3 is at base-1.
    expect(computeErrorAnalysis(events, W, now)).toEqual(X.errorAnalysis);
  });

  it("errorsList under each strategy, with filters and pages", () => {
    // exact: all five differ; normalized: E1a+E1b share message shape and line-free stack; portable: E1c (Windows, pnpm) joins.
    for (const s of ["exact", "normalized", "portable"] as const) {
      expect(computeErrorsList(events, { timeRange: X.timeRange, groupingStrategy: s }, now)).toEqual(X.errorsList[s]);
    }
    expect(computeErrorsList(events, { timeRange: X.timeRange }, now)).toEqual(X.errorsList.normalized); // default strategy
    const f = X.filtered;
    expect(computeErrorsList(events, f.errorsListBillingExact.options, now)).toEqual(f.errorsListBillingExact.expected);
    expect(computeErrorsList(events, f.errorsListPage.options, now)).toEqual(f.errorsListPage.expected);
    expect(computeErrorsList(events, { timeRange: X.timeRange, limit: 0 }, now)).toEqual({ errors: [], total: 4 });
    expect(() => computeErrorsList(events, { limit: -1 }, now)).toThrow(/limit/);
  });

  it("errorDetail", () => {
    const fp = X.errorsList.portable.errors[0]?.fingerprint ?? "";
    expect(computeErrorDetail(events, fp, "portable", { timeRange: X.timeRange }, now)).toEqual(
      X.errorDetailPortableE1,
    );
    const page = computeErrorDetail(events, fp, "portable", { timeRange: X.timeRange, limit: 1, offset: 1 }, now);
    expect(page.occurrences).toEqual([X.errorDetailPortableE1.occurrences[1]]);
    expect(page.totalCount).toBe(3);
    // The same fingerprint read under another strategy matches nothing.
    expect(computeErrorDetail(events, fp, "exact", { timeRange: X.timeRange }, now)).toMatchObject({
      totalCount: 0,
      occurrences: [],
      errorName: "",
      errorMessage: "",
      firstSeen: 0,
      lastSeen: 0,
    });
  });

  it("retryAnalysis", () => {
    // Retries: etl-1 extract#2, etl-2 extract#2 and #3, bill-1 charge#2, etl-3 extract#2 = 5 over 4 steps.
    // Success after retry: only etl-1 (bill-1's completion is of stale attempt 1 < 2). Failed after retry: etl-2 (#3 terminal).
    expect(computeRetryAnalysis(events, W, now)).toEqual(X.retryAnalysis);
  });

  it("schedulingLatency", () => {
    // 15 starts with a matching schedule, in seconds: 2,1,4 | 1,5,3 | 1,1 | 2 | 5,1 | 1 | 1,2 | 1. Sum 31 → 2 066 667 µs.
    // Sorted: eight 1s, three 2s, 3, 4, 5, 5: median rank 8 → 1 s; p95 rank ceil(14.25) = 15 → 5 s.
    expect(computeSchedulingLatency(events, W, now)).toEqual(X.schedulingLatency);
  });

  it("stepDuration and workflowDuration", () => {
    // Completed attempts (copied render excluded, stale charge#1 included, rep-4 render at the end bound included):
    // 2, 6, 38, 3, 1, 2, 8 s → sorted 1,2,2,3,6,8,38; sum 60 → 8 571 429; median rank 4 → 3 s; p95 rank 7 → 38 s.
    expect(computeStepDuration(events, W, now)).toEqual(X.stepDuration);
    // WorkflowCompleted: etl-1 21 s, rep-1 12 s, rep-2 5 s (rep-4 completes 1 µs after the window).
    expect(computeWorkflowDuration(events, W, now)).toEqual(X.workflowDuration);
  });

  it("workerStability", () => {
    // w2: 7 starts, 6 completions (incl. stale charge#1), reclaimed once (charge), one zombie heartbeat (335 s > reclaim 330 s); 1/7 = 14.29 %.
    // w3: reclaimed twice (etl-2 extract#1, bill-2 invoice#1), crash failure of invoice#1, zombie heartbeat at 206 s; last seen starting invoice at 403 s.
    expect(computeWorkerStability(events, W, now)).toEqual(X.workerStability);
  });

  it("throughput and successRate", () => {
    // 3 runs and 7 steps completed in one hour: 3/h = 0.05/min, 7/h = 0.1167 → 0.12/min.
    expect(computeThroughput(events, W, now)).toEqual(X.throughput);
    // Runs 3 completed, 2 failed, 1 cancelled; steps 7 completed, 2 terminal failures, 1 skip (the copied skip ignored).
    expect(computeSuccessRate(events, W, now)).toEqual(X.successRate);
  });

  it("queueDepth and queueDepthByWorkflow over the live state", () => {
    // Live: etl-3 running (extract delayed to +4000 s, validate running, transform ready since +3100 s),
    // bill-3 pending until +5000 s, rep-3 pending and ready. bill-1's charge#2 still "runs" but its run is cancelled.
    const live = projectLiveState(events);
    expect(live.runs.map((r) => r.runId).sort()).toEqual(["run-bill-3", "run-etl-3", "run-rep-3"]);
    expect(computeQueueDepth(live, {}, now)).toEqual(X.queueDepth);
    expect(computeQueueDepthByWorkflow(live, now)).toEqual(X.queueDepthByWorkflow);
    const { workflowSlug: _s, ...etl } = X.queueDepthByWorkflow[1] ?? { workflowSlug: "" };
    expect(computeQueueDepth(live, { workflowSlug: "etl" }, now)).toEqual(etl);
    // Terminal runs handed in by mistake are ignored, and so are their steps.
    const terminal = terminalRuns();
    const all = { runs: [...live.runs, ...terminal.runs], steps: [...live.steps, ...terminal.steps] };
    expect(computeQueueDepth(all, {}, now)).toEqual(X.queueDepth);
  });

  it("activeWorkers and workerById", () => {
    // Default 24 h window holds etl-0 too (w1's first start at base-98 s). Only w2 was seen within 30 s of now.
    expect(computeActiveWorkers(events, {}, now)).toEqual(X.activeWorkers);
    expect(computeActiveWorkers(events, { includeInactive: true }, now)).toEqual(X.allWorkers);
    expect(computeActiveWorkers(events, { staleThresholdUs: 600_000_000 }, now).map((w) => w.workerId)).toEqual([
      "w1",
      "w2",
    ]);
    expect(computeWorkerById(events, "w3", now)).toEqual(X.allWorkers[2]);
    expect(computeWorkerById(events, "nobody", now)).toBeNull();
    expect(() => computeActiveWorkers(events, { staleThresholdUs: -1 }, now)).toThrow(/staleThresholdUs/);
  });

  it("filters and bounds", () => {
    const f = X.filtered;
    expect(computeSuccessRate(events, f.successRateEtl.options, now)).toEqual(f.successRateEtl.expected);
    expect(computeStepDuration(events, f.stepDurationExtract.options, now)).toEqual(f.stepDurationExtract.expected);
    expect(computeRetryAnalysis(events, f.retryRunEtl2.options, now)).toEqual(f.retryRunEtl2.expected);
    expect(computeThroughput(events, f.throughputEndMinus1.options, now)).toMatchObject(f.throughputEndMinus1.expected);
  });

  it("the default window is the 24 h before now", () => {
    expect(computeSuccessRate(events, {}, now)).toMatchObject(X.defaultWindow.successRate);
    expect(computeErrorAnalysis(events, {}, now).totalFailures).toBe(X.defaultWindow.errorAnalysisTotalFailures);
  });

  it("answers do not depend on the order events are handed in", () => {
    const reversed = [...events].reverse();
    expect(computeErrorsList(reversed, { timeRange: X.timeRange, groupingStrategy: "portable" }, now)).toEqual(
      X.errorsList.portable,
    );
    expect(computeSchedulingLatency(reversed, W, now)).toEqual(X.schedulingLatency);
    expect(computeWorkerStability(reversed, W, now)).toEqual(X.workerStability);
    expect(computeActiveWorkers(reversed, { includeInactive: true }, now)).toEqual(X.allWorkers);
  });

  it("analyticsSummary is the parts", () => {
    const summary = computeAnalyticsSummary(events, X.queueDepth, W, now);
    expect(summary).toEqual({
      window: { startUs: BASE, endUs: now },
      successRate: X.successRate,
      throughput: X.throughput,
      stepDuration: X.stepDuration,
      workflowDuration: X.workflowDuration,
      schedulingLatency: X.schedulingLatency,
      retryAnalysis: X.retryAnalysis,
      errorAnalysis: X.errorAnalysis,
      workerStability: X.workerStability,
      queueDepth: X.queueDepth,
    });
  });
});

/** Projected states of two terminal runs (bill-1 still has a "running" step), to check the queue ignores them. */
function terminalRuns() {
  const out = { runs: [] as RunState[], steps: [] as StepState[] };
  for (const runId of ["run-etl-1", "run-bill-1"]) {
    const own = events.filter((e) => e.runId === runId);
    const run = projectRunState(own.filter((e): e is WorkflowEvent => e.category === "workflow"));
    if (run) out.runs.push(run);
    out.steps.push(...projectStepStates(own.filter((e): e is StepEvent => e.category === "step")).values());
  }
  expect(out.runs.map((r) => r.status)).toEqual(["completed", "cancelled"]);
  expect(out.steps.some((s) => s.status === "running")).toBe(true);
  return out;
}
