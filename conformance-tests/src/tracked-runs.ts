import { describe, expect, it } from "vitest";
import type { ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF, claim, countEvents, runWithSteps, submit } from "./support/scenario.js";
import { CHAIN, eventTrail, registerVersion } from "./support/dags.js";

const STALE_MS = 60_000;
const TRACKER = "tracker:test";

/** Tracked runs (the standalone tracker): runType/trigger, the tracked lifecycle, never claimed, reclaimed or advanced by the store. */
export function trackedRunTests(h: ConformanceHarness): void {
  describe("tracked runs", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF] });

    it("records a tracked run with the events a worker writes: started at once, steps started unscheduled, ended only by the tracker", async () => {
      const { backend: b, clock } = t;
      const { runId, isNew } = await b.startTrackedRun({
        workflowSlug: "web-checkout",
        runType: "web-checkout",
        trigger: "api",
        input: { order: 42 },
      });
      expect(isNew).toBe(true);
      expect(await b.getRun(runId)).toMatchObject({
        status: "running",
        tracked: true,
        runType: "web-checkout",
        trigger: "api",
        input: JSON.stringify({ order: 42 }),
        workflowAttemptNumber: 1,
      });
      expect((await b.listRuns({ workflowSlug: "web-checkout" })).map((r) => [r.runId, r.tracked, r.trigger])).toEqual([
        [runId, true, "api"],
      ]);

      await b.startTrackedStep("web-checkout", runId, "fetch", TRACKER);
      expect(await b.getStepState("web-checkout", runId, "fetch")).toMatchObject({
        status: "running",
        attemptNumber: 1,
        claimedBy: TRACKER,
      });
      await b.saveStepCalls("web-checkout", runId, "fetch", [
        {
          tool: "stripe_api",
          operation: "GET /charges",
          attemptNumber: 1,
          startedAtUs: clock.nowUs(),
          durationUs: 1200,
          outcome: "ok",
          outputSummary: "[]",
          outputBytes: 2,
        },
      ]);
      await b.saveStepComplete(
        "web-checkout",
        runId,
        "fetch",
        { n: 3 },
        { timestamp: clock.nowUs(), duration: 1500, attemptNumber: 1, output: { n: 3 } },
      );
      // Every step of the run is done, yet the store engine leaves the run to the tracker: still running.
      expect((await b.getRun(runId))?.status).toBe("running");
      await b.startTrackedStep("web-checkout", runId, "store", TRACKER);
      await b.saveStepFailed(
        "web-checkout",
        runId,
        "store",
        { name: "TypeError", message: "db down" },
        { duration: 10, attemptNumber: 1, terminal: true, failureReason: "execution-error" },
      );
      expect((await b.getRun(runId))?.status).toBe("running"); // a failed step does not fail a tracked run by itself
      expect(await b.getStepState("web-checkout", runId, "store")).toMatchObject({
        status: "failed",
        error: { message: "db down" },
      });
      const failed = (await b.loadEvents("web-checkout", runId, { category: "step" })).find(
        (e) => e.type === "StepFailed",
      );
      expect(failed).toMatchObject({
        errorFingerprints: { nameHash: expect.any(String), messageHash: expect.any(String) },
      });
      expect(
        await b.failRunIfOpen(
          "web-checkout",
          runId,
          { message: "step store failed: db down" },
          { workflowAttemptNumber: 1, duration: 2000, completedSteps: 1, failedStep: "store" },
          "step-failed",
        ),
      ).toBe(true);
      expect(await b.getRun(runId)).toMatchObject({ status: "failed", failedStep: "store", tracked: true });
      expect(await eventTrail(b, runId, "web-checkout")).toEqual([
        "RunSubmitted",
        "WorkflowStarted",
        "StepStarted:fetch",
        "StepCall:fetch",
        "StepCompleted:fetch",
        "StepStarted:store",
        "StepFailed:store",
        "WorkflowFailed",
      ]);
      expect((await b.loadStepCalls("web-checkout", runId)).map((c) => c.tool)).toEqual(["stripe_api"]);
      await expectCode(b.startTrackedStep("web-checkout", runId, "late", TRACKER), "RUN_TERMINAL");
    });

    it("is not advanced by the engine even when its slug is a registered workflow with a version", async () => {
      const { backend: b, clock } = t;
      await registerVersion(b, CHAIN);
      const { runId } = await b.startTrackedRun({ workflowSlug: WF });
      expect((await b.getRun(runId))?.versionId).toBeUndefined();
      expect((await b.loadRun(WF, runId)).length).toBe(0); // none of the version's steps was scheduled
      await b.startTrackedStep(WF, runId, "a", TRACKER);
      await b.saveStepComplete(WF, runId, "a", 1, {
        timestamp: clock.nowUs(),
        duration: 1,
        attemptNumber: 1,
        output: 1,
      });
      clock.advanceMs(10);
      await b.maintain({ workerId: "maint", staleMs: STALE_MS });
      expect(await eventTrail(b, runId)).toEqual([
        "RunSubmitted",
        "WorkflowStarted",
        "StepStarted:a",
        "StepCompleted:a",
      ]);
      expect(
        await b.completeRunIfOpen(
          WF,
          runId,
          { ok: true },
          { workflowAttemptNumber: 1, timestamp: clock.nowUs(), duration: 5, totalSteps: 1 },
        ),
      ).toBe(true);
      expect((await b.getRun(runId))?.status).toBe("completed");
    });

    it("is never claimed or reclaimed: a maintenance pass reclaims a worker's stale step and leaves the tracked step running", async () => {
      const { backend: b, clock } = t;
      const { runId: tracked } = await b.startTrackedRun({ workflowSlug: WF, trigger: "cron" });
      await b.startTrackedStep(WF, tracked, "long", TRACKER);
      const {
        runId: worker,
        steps: [ref],
      } = await runWithSteps(b, ["s"]);
      await claim(b, ref!, "w-dead");
      clock.advanceMs(STALE_MS * 10);
      const result = await b.maintain({ workerId: "maint", staleMs: STALE_MS });
      expect(result.reclaimed).toEqual([{ workflowSlug: WF, runId: worker, stepId: "s" }]);
      expect(await b.reclaimStaleSteps(STALE_MS, "reaper")).toEqual([]);
      expect(await countEvents(b, { workflowSlug: WF, runId: tracked }, "StepReclaimed")).toBe(0);
      expect(await b.getStepState(WF, tracked, "long")).toMatchObject({
        status: "running",
        attemptNumber: 1,
        claimedBy: TRACKER,
      });
      expect((await b.getRun(tracked))?.status).toBe("running");
      // No worker can take it either: it was never scheduled, and a claim of it is refused.
      expect(
        await b.claimScheduledStep(WF, tracked, "long", "w-thief", {
          dependencies: [],
          timestamp: clock.nowUs(),
          attemptNumber: 0,
        }),
      ).toBeNull();
      expect((await b.claimScheduledSteps("w-thief", { limit: 10 })).map((c) => c.runId)).not.toContain(tracked);
      // The tracker still ends its step, long after any stale threshold.
      await b.saveStepComplete(WF, tracked, "long", "done", {
        timestamp: clock.nowUs(),
        duration: 1,
        attemptNumber: 1,
        output: "done",
      });
      expect((await b.getStepState(WF, tracked, "long"))?.status).toBe("completed");
    });

    it("takes runType and trigger on every submit, and rejects bad ones and bad tracked writes with typed errors that write nothing", async () => {
      const { backend: b } = t;
      const runId = await b
        .submitRun({ workflowSlug: WF, runType: "nightly-sync", trigger: "cron" })
        .then((r) => r.runId);
      expect(await b.getRun(runId)).toMatchObject({ runType: "nightly-sync", trigger: "cron" });
      expect((await b.getRun(runId))?.tracked).toBeUndefined();
      for (const [label, fields] of [
        ["empty trigger", { trigger: "" }],
        ["space", { trigger: "web hook" }],
        ["too long", { runType: "x".repeat(101) }],
        ["NUL", { runType: "a\u0000b" }],
        ["not a string", { trigger: 5 }],
        ["leading dash", { runType: "-x" }],
      ] as Array<[string, Record<string, unknown>]>) {
        await expectCode(b.submitRun({ workflowSlug: WF, ...fields } as never), "INVALID_EVENT", `submit: ${label}`);
        await expectCode(
          b.startTrackedRun({ workflowSlug: "tracked-bad", ...fields } as never),
          "INVALID_EVENT",
          `tracked: ${label}`,
        );
      }
      await expectCode(b.startTrackedRun({ workflowSlug: "../escape" }), "INVALID_IDENTIFIER");
      expect((await b.listRuns({})).map((r) => r.runId)).toEqual([runId]);
      // Steps of a worker's run cannot be started as tracked; a tracked step starts once.
      await expectCode(b.startTrackedStep(WF, runId, "x", TRACKER), "STEP_NOT_CLAIMABLE");
      await expectCode(b.startTrackedStep(WF, "run-missing", "x", TRACKER), "RUN_NOT_FOUND");
      const { runId: tracked } = await b.startTrackedRun({ workflowSlug: WF, idempotencyKey: "req-1" });
      expect(await b.startTrackedRun({ workflowSlug: WF, idempotencyKey: "req-1" })).toEqual({
        runId: tracked,
        isNew: false,
      });
      await b.startTrackedStep(WF, tracked, "x", TRACKER);
      await expectCode(b.startTrackedStep(WF, tracked, "x", TRACKER), "STEP_NOT_CLAIMABLE");
      // Nor can a step of a tracked run be scheduled by hand (so no worker could claim it).
      expect(
        await b.scheduleStep(WF, tracked, "y", { availableAt: b.clock.nowUs(), reason: "initial", attemptNumber: 1 }),
      ).toBe(false);
      expect(await b.getStepState(WF, tracked, "y")).toBeNull();
      expect(await b.claimScheduledSteps("w-thief", { limit: 10 })).toEqual([]);
      expect(await countEvents(b, { workflowSlug: WF, runId: tracked, stepId: "x" }, "StepStarted")).toBe(1);
      const submitted = await submit(b, { workflowSlug: WF });
      expect((await b.getRun(submitted))?.runType).toBeUndefined();
    });
  });
}
