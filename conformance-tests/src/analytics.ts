import { describe, expect, it } from "vitest";
import {
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
  type AnalyticsOptions,
  type GroupingStrategy,
} from "@cairn/backend-interface";
import type { ConformanceHarness } from "./support/harness.js";
import { T0_US, useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF } from "./support/scenario.js";
import { WF_B, allEvents, buildAnalyticsScenario, liveState } from "./support/analytics-scenario.js";

const STRATEGIES: GroupingStrategy[] = ["exact", "normalized", "portable"];

/** The fifteen analytics queries, each equal to the reference implementation over the driver's own events. */
export function analyticsTests(h: ConformanceHarness): void {
  describe("analytics: equal to the reference on the driver's own events", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF, WF_B] });

    it("all fifteen queries, for default, workflow, step, run, empty-run and exact-bound windows", async () => {
      const { backend: b, clock } = t;
      const sc = await buildAnalyticsScenario(b, clock);
      const events = await allEvents(b);
      const now = clock.nowUs();
      const ts = (runId: string, type: string) => events.find((e) => e.runId === runId && e.type === type)!.timestampUs;
      const variants: Array<[string, AnalyticsOptions]> = [
        ["default window", {}],
        ["workflow", { workflowSlug: WF }],
        ["other workflow", { workflowSlug: WF_B }],
        ["unknown workflow", { workflowSlug: "wf-none" }],
        ["step", { stepId: "parse" }],
        ["runs", { runIds: [sc.failedRun, sc.completedRun] }],
        ["no runs", { runIds: [] }],
        [
          "exact bounds",
          { startUs: ts(sc.reclaimedRun, "RunSubmitted"), endUs: ts(sc.completedRun, "WorkflowCompleted") },
        ],
        ["window before everything", { startUs: 0, endUs: T0_US - 1 }],
        ["workflow and step within a window", { workflowSlug: WF, stepId: "fetch", startUs: T0_US, endUs: now }],
      ];
      const live = await liveState(b);
      for (const [label, o] of variants) {
        expect(await b.getErrorAnalysis(o), `errorAnalysis ${label}`).toEqual(computeErrorAnalysis(events, o, now));
        expect(await b.getRetryAnalysis(o), `retryAnalysis ${label}`).toEqual(computeRetryAnalysis(events, o, now));
        expect(await b.getSchedulingLatency(o), `schedulingLatency ${label}`).toEqual(
          computeSchedulingLatency(events, o, now),
        );
        expect(await b.getStepDuration(o), `stepDuration ${label}`).toEqual(computeStepDuration(events, o, now));
        expect(await b.getWorkflowDuration(o), `workflowDuration ${label}`).toEqual(
          computeWorkflowDuration(events, o, now),
        );
        expect(await b.getWorkerStability(o), `workerStability ${label}`).toEqual(
          computeWorkerStability(events, o, now),
        );
        expect(await b.getThroughput(o), `throughput ${label}`).toEqual(computeThroughput(events, o, now));
        expect(await b.getSuccessRate(o), `successRate ${label}`).toEqual(computeSuccessRate(events, o, now));
        const queue = computeQueueDepth(live, o.workflowSlug ? { workflowSlug: o.workflowSlug } : {}, now);
        expect(await b.getAnalyticsSummary(o), `summary ${label}`).toEqual(
          computeAnalyticsSummary(events, queue, o, now),
        );
      }

      const errorVariants = [
        {},
        { groupingStrategy: "exact" as const },
        { groupingStrategy: "portable" as const },
        { limit: 1 },
        { limit: 1, offset: 1 },
        { offset: 50 },
        { workflowSlug: WF_B },
        { timeRange: { start: ts(sc.reclaimedRun, "RunSubmitted"), end: now } },
      ];
      for (const o of errorVariants)
        expect(await b.getErrorsList(o), `errorsList ${JSON.stringify(o)}`).toEqual(computeErrorsList(events, o, now));
      let details = 0;
      for (const strategy of STRATEGIES) {
        for (const group of computeErrorsList(events, { groupingStrategy: strategy }, now).errors) {
          for (const o of [
            {},
            { limit: 1 },
            { limit: 1, offset: 1 },
            { timeRange: { start: T0_US, end: ts(sc.failedRun, "WorkflowFailed") } },
          ]) {
            expect(
              await b.getErrorDetail(group.fingerprint, strategy, o),
              `errorDetail ${strategy} ${group.fingerprint}`,
            ).toEqual(computeErrorDetail(events, group.fingerprint, strategy, o, now));
            details++;
          }
        }
        expect(await b.getErrorDetail("0:0:0", strategy), "unknown fingerprint").toEqual(
          computeErrorDetail(events, "0:0:0", strategy, {}, now),
        );
      }
      expect(details).toBeGreaterThan(0);

      for (const o of [{}, { workflowSlug: WF }, { workflowSlug: WF_B }, { workflowSlug: "wf-none" }]) {
        expect(await b.getQueueDepth(o), `queueDepth ${JSON.stringify(o)}`).toEqual(computeQueueDepth(live, o, now));
      }
      expect(await b.getQueueDepthByWorkflow()).toEqual(computeQueueDepthByWorkflow(live, now));

      for (const o of [
        {},
        { includeInactive: true },
        { staleThresholdUs: 1 },
        { staleThresholdUs: 600_000_000 },
        { staleThresholdUs: 0, includeInactive: true },
      ]) {
        expect(await b.getActiveWorkers(o), `activeWorkers ${JSON.stringify(o)}`).toEqual(
          computeActiveWorkers(events, o, now),
        );
      }
      for (const id of ["w1", "w2", "w3", "w4", "w5", "reaper-1", "nobody"]) {
        expect(await b.getWorkerById(id), `workerById ${id}`).toEqual(computeWorkerById(events, id, now));
      }
    });

    it("reports ready and delayed work apart in the queue snapshot, and ignores copied rerun results", async () => {
      const { backend: b, clock } = t;
      const sc = await buildAnalyticsScenario(b, clock);
      expect(await b.getQueueDepth()).toMatchObject({
        pendingRuns: 2,
        readyRuns: 1,
        delayedRuns: 1,
        runningRuns: 1,
        scheduledSteps: 2,
        readySteps: 1,
        delayedSteps: 1,
        runningSteps: 1,
      });
      expect(await b.getQueueDepth({ workflowSlug: WF_B })).toMatchObject({
        pendingRuns: 1,
        readyRuns: 0,
        delayedRuns: 1,
        runningRuns: 0,
        scheduledSteps: 0,
      });
      expect((await b.getQueueDepthByWorkflow()).map((q) => q.workflowSlug)).toEqual([WF_B, WF]);
      const onlyChild = await b.getSuccessRate({ runIds: [sc.rerunChild] });
      expect(onlyChild.steps.completed).toBe(0);
      expect((await b.getThroughput({ runIds: [sc.rerunChild] })).stepsCompleted).toBe(0);
      expect((await b.getSuccessRate({ runIds: [sc.failedRun] })).steps.completed).toBe(2);
    });

    it("rejects malformed options with typed errors", async () => {
      const { backend: b } = t;
      await expectCode(b.getErrorAnalysis({ workflowSlug: "../x" }), "INVALID_IDENTIFIER");
      await expectCode(b.getSuccessRate({ runIds: ["a/b"] }), "INVALID_IDENTIFIER");
      await expectCode(b.getThroughput({ startUs: 10, endUs: 5 }), "INVALID_ARGUMENT");
      await expectCode(b.getStepDuration({ startUs: -1 }), "INVALID_ARGUMENT");
      await expectCode(b.getErrorDetail("x", "fuzzy" as GroupingStrategy), "INVALID_ARGUMENT");
      await expectCode(b.getQueueDepth({ workflowSlug: "" }), "INVALID_IDENTIFIER");
      await expectCode(b.getWorkerById(""), "INVALID_ARGUMENT");
    });
  });
}
