import { describe, expect, it } from "vitest";
import {
  analyticsFixtureExpected,
  buildAnalyticsFixture,
  projectLiveState,
  type Backend,
} from "@cairn/backend-interface";
import type { ConformanceHarness } from "./support/harness.js";
import { T0_US, useInstance } from "./support/lifecycle.js";

const BASE = T0_US;

/** Loads the shared analytics fixture through batchAppendEvents and sets the clock to the fixture's "now". */
async function loadFixture(
  backend: Backend,
  setClock: (us: number) => void,
): Promise<ReturnType<typeof analyticsFixtureExpected>> {
  const items = buildAnalyticsFixture(BASE);
  await backend.batchAppendEvents(items);
  const expected = analyticsFixtureExpected(BASE);
  setClock(expected.nowUs);
  return expected;
}

/** The fifteen analytics queries against the hand-computed answers of backend-interface's fixture. */
export function analyticsFixtureTests(h: ConformanceHarness): void {
  describe("analytics: exact numbers on the shared fixture", () => {
    const t = useInstance(h, { manualClock: true });

    it("stores the fixture as given: every run's events back in order, live state equal to its projection", async () => {
      const { backend: b } = t;
      await loadFixture(b, (us) => t.clock.setUs(us));
      const items = buildAnalyticsFixture(BASE);
      const runIds = [...new Set(items.map((i) => i.runId))];
      for (const runId of runIds) {
        const slug = items.find((i) => i.runId === runId)!.workflowSlug;
        expect(await b.loadEvents(slug, runId), runId).toEqual(
          items.filter((i) => i.runId === runId).map((i) => i.event),
        );
      }
      expect((await b.listRuns()).map((r) => r.runId).sort()).toEqual([...runIds].sort());
      const live = projectLiveState(items.map((i) => i.event));
      expect((await b.listRuns({ status: ["pending", "running"] })).map((r) => r.runId).sort()).toEqual(
        live.runs.map((r) => r.runId).sort(),
      );
    });

    it("windowed queries: errors, retries, latency, durations, workers, throughput, success rate, summary", async () => {
      const { backend: b } = t;
      const X = await loadFixture(b, (us) => t.clock.setUs(us));
      const W = X.window;
      expect(await b.getErrorAnalysis(W), "errorAnalysis").toEqual(X.errorAnalysis);
      expect(await b.getRetryAnalysis(W), "retryAnalysis").toEqual(X.retryAnalysis);
      expect(await b.getSchedulingLatency(W), "schedulingLatency").toEqual(X.schedulingLatency);
      expect(await b.getStepDuration(W), "stepDuration").toEqual(X.stepDuration);
      expect(await b.getWorkflowDuration(W), "workflowDuration").toEqual(X.workflowDuration);
      expect(await b.getWorkerStability(W), "workerStability").toEqual(X.workerStability);
      expect(await b.getThroughput(W), "throughput").toEqual(X.throughput);
      expect(await b.getSuccessRate(W), "successRate").toEqual(X.successRate);
      expect(await b.getAnalyticsSummary(W), "analyticsSummary").toEqual({
        window: { startUs: BASE, endUs: X.nowUs },
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
      const f = X.filtered;
      expect(await b.getSuccessRate(f.successRateEtl.options), "successRate etl").toEqual(f.successRateEtl.expected);
      expect(await b.getStepDuration(f.stepDurationExtract.options), "stepDuration extract").toEqual(
        f.stepDurationExtract.expected,
      );
      expect(await b.getRetryAnalysis(f.retryRunEtl2.options), "retryAnalysis run-etl-2").toEqual(
        f.retryRunEtl2.expected,
      );
      expect(await b.getThroughput(f.throughputEndMinus1.options), "throughput end - 1 µs").toMatchObject(
        f.throughputEndMinus1.expected,
      );
      expect(await b.getSuccessRate(), "successRate default 24 h window").toMatchObject(X.defaultWindow.successRate);
      expect((await b.getErrorAnalysis()).totalFailures, "errorAnalysis default window").toBe(
        X.defaultWindow.errorAnalysisTotalFailures,
      );
    });

    it("error groups under each strategy, pages and details", async () => {
      const { backend: b } = t;
      const X = await loadFixture(b, (us) => t.clock.setUs(us));
      for (const s of ["exact", "normalized", "portable"] as const) {
        expect(await b.getErrorsList({ timeRange: X.timeRange, groupingStrategy: s }), `errorsList ${s}`).toEqual(
          X.errorsList[s],
        );
      }
      expect(await b.getErrorsList({ timeRange: X.timeRange }), "default strategy").toEqual(X.errorsList.normalized);
      expect(await b.getErrorsList(X.filtered.errorsListBillingExact.options)).toEqual(
        X.filtered.errorsListBillingExact.expected,
      );
      expect(await b.getErrorsList(X.filtered.errorsListPage.options)).toEqual(X.filtered.errorsListPage.expected);
      const fp = X.errorsList.portable.errors[0]!.fingerprint;
      expect(await b.getErrorDetail(fp, "portable", { timeRange: X.timeRange }), "errorDetail").toEqual(
        X.errorDetailPortableE1,
      );
      const page = await b.getErrorDetail(fp, "portable", { timeRange: X.timeRange, limit: 1, offset: 1 });
      expect(page.occurrences).toEqual([X.errorDetailPortableE1.occurrences[1]]);
      expect(page.totalCount).toBe(3);
      expect(await b.getErrorDetail(fp, "exact", { timeRange: X.timeRange })).toMatchObject({
        totalCount: 0,
        occurrences: [],
      });
    });

    it("live queries: queue depth (ready apart from delayed), per workflow, active workers, worker by id", async () => {
      const { backend: b } = t;
      const X = await loadFixture(b, (us) => t.clock.setUs(us));
      expect(await b.getQueueDepth(), "queueDepth").toEqual(X.queueDepth);
      expect(await b.getQueueDepthByWorkflow(), "queueDepthByWorkflow").toEqual(X.queueDepthByWorkflow);
      for (const q of X.queueDepthByWorkflow) {
        const { workflowSlug, ...depth } = q;
        expect(await b.getQueueDepth({ workflowSlug }), `queueDepth ${workflowSlug}`).toEqual(depth);
      }
      expect(await b.getActiveWorkers(), "activeWorkers").toEqual(X.activeWorkers);
      expect(await b.getActiveWorkers({ includeInactive: true }), "activeWorkers includeInactive").toEqual(
        X.allWorkers,
      );
      for (const w of X.allWorkers) expect(await b.getWorkerById(w.workerId), `workerById ${w.workerId}`).toEqual(w);
      expect(await b.getWorkerById("nobody")).toBeNull();
    });
  });
}
