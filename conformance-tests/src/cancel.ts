import { describe, expect, it } from "vitest";
import type { ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF, claim, countEvents, eventsOf, runWithSteps, tryClaim } from "./support/scenario.js";

/** cancelRun: not-found, no-op on terminal runs, and a cancelled run's steps are neither listed nor claimable. */
export function cancelTests(h: ConformanceHarness): void {
  describe("cancelRun", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF] });

    it("rejects an unknown run with RUN_NOT_FOUND and writes nothing", async () => {
      const err = await expectCode(t.backend.cancelRun("run-unknown"), "RUN_NOT_FOUND");
      expect(err.message).toContain("run-unknown");
      expect(await t.backend.listRuns()).toEqual([]);
    });

    it("cancels a live run once: status cancelled with its reason, its steps no longer listed or claimable, its worker told at the next heartbeat", async () => {
      const { backend, clock } = t;
      const {
        runId,
        steps: [running, waiting],
      } = await runWithSteps(backend, ["running", "waiting"]);
      await backend.startRun(WF, runId, { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: false });
      const attempt = await claim(backend, running!, "w1");
      const other = await runWithSteps(backend, ["x"]);
      clock.advanceMs(7);
      await backend.cancelRun(runId, "no longer needed");
      expect(await backend.getRun(runId)).toMatchObject({
        status: "cancelled",
        cancelReason: "no longer needed",
        endedAtUs: clock.nowUs(),
      });
      expect(await backend.listScheduledSteps()).toEqual(other.steps);
      expect(await tryClaim(backend, waiting!, "w2")).toBeNull();
      expect(await backend.isStepClaimable(WF, runId, "waiting")).toBe(false);
      await expectCode(backend.saveStepHeartbeat(WF, runId, "running", "w1", attempt), "RUN_TERMINAL");
      await backend.cancelRun(runId, "again");
      expect(await countEvents(backend, { workflowSlug: WF, runId }, "WorkflowCancelled")).toBe(1);
      expect((await backend.getRun(runId))?.cancelReason).toBe("no longer needed");
      expect(await backend.listRuns({ status: ["cancelled"] })).toHaveLength(1);
    });

    it("completes, fails or cancels a live run once: the first terminal write returns true, later ones false and change nothing", async () => {
      const { backend } = t;
      const { runId } = await runWithSteps(backend, ["s"]);
      await backend.startRun(WF, runId, { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: false });
      const meta = { workflowAttemptNumber: 1, timestamp: 0, duration: 5, totalSteps: 1 };
      expect(await backend.completeRunIfOpen(WF, runId, { a: 1 }, meta)).toBe(true);
      expect(await backend.completeRunIfOpen(WF, runId, { a: 2 }, meta)).toBe(false);
      expect(
        await backend.failRunIfOpen(
          WF,
          runId,
          { message: "late" },
          { workflowAttemptNumber: 1, duration: 5, completedSteps: 0 },
          "step-failed",
        ),
      ).toBe(false);
      expect(
        await backend.cancelRunIfOpen(WF, runId, { workflowAttemptNumber: 1, duration: 5, completedSteps: 0 }),
      ).toBe(false);
      expect(await backend.getRun(runId)).toMatchObject({ status: "completed", output: JSON.stringify({ a: 1 }) });
      expect(await countEvents(backend, { workflowSlug: WF, runId }, "WorkflowCompleted")).toBe(1);
      expect(await countEvents(backend, { workflowSlug: WF, runId }, "WorkflowFailed")).toBe(0);
    });

    it("failRunIfOpen and cancelRunIfOpen return true when they end a live run; the seed save* forms return nothing and stay guarded", async () => {
      const { backend } = t;
      const failed = await runWithSteps(backend, ["s"]);
      expect(
        await backend.failRunIfOpen(
          WF,
          failed.runId,
          { message: "boom" },
          { workflowAttemptNumber: 1, duration: 5, completedSteps: 0 },
          "step-failed",
        ),
      ).toBe(true);
      const cancelled = await runWithSteps(backend, ["s"]);
      expect(
        await backend.cancelRunIfOpen(WF, cancelled.runId, {
          workflowAttemptNumber: 1,
          duration: 5,
          completedSteps: 0,
          reason: "stop",
        }),
      ).toBe(true);
      const seed = await runWithSteps(backend, ["s"]);
      const meta = { workflowAttemptNumber: 1, timestamp: 0, duration: 5, totalSteps: 1 };
      expect(await backend.saveWorkflowComplete(WF, seed.runId, { a: 1 }, meta)).toBeUndefined();
      expect(
        await backend.saveWorkflowFailed(
          WF,
          seed.runId,
          { message: "late" },
          { workflowAttemptNumber: 1, duration: 5, completedSteps: 0 },
          "step-failed",
        ),
      ).toBeUndefined();
      expect(
        await backend.saveWorkflowCancelled(WF, seed.runId, {
          workflowAttemptNumber: 1,
          duration: 5,
          completedSteps: 0,
        }),
      ).toBeUndefined();
      expect((await backend.getRun(failed.runId))?.status).toBe("failed");
      expect((await backend.getRun(cancelled.runId))?.status).toBe("cancelled");
      expect(await backend.getRun(seed.runId)).toMatchObject({ status: "completed", output: JSON.stringify({ a: 1 }) });
      expect(await countEvents(backend, { workflowSlug: WF, runId: seed.runId }, "WorkflowFailed")).toBe(0);
      expect(await countEvents(backend, { workflowSlug: WF, runId: seed.runId }, "WorkflowCancelled")).toBe(0);
    });

    it("cancels a pending run that never started", async () => {
      const { backend } = t;
      const { runId } = await runWithSteps(backend, ["s"]);
      await backend.cancelRun(runId);
      expect((await backend.getRun(runId))?.status).toBe("cancelled");
      expect(await backend.listScheduledSteps()).toEqual([]);
    });

    it("changes nothing on a completed or failed run", async () => {
      const { backend } = t;
      const done = await runWithSteps(backend, ["s"]);
      await backend.saveWorkflowComplete(
        WF,
        done.runId,
        { r: 1 },
        { workflowAttemptNumber: 1, timestamp: 0, duration: 3, totalSteps: 1 },
      );
      const failed = await runWithSteps(backend, ["s"]);
      await backend.saveWorkflowFailed(
        WF,
        failed.runId,
        { message: "x" },
        { workflowAttemptNumber: 1, duration: 3, completedSteps: 0 },
        "step-failed",
      );
      for (const [runId, status] of [
        [done.runId, "completed"],
        [failed.runId, "failed"],
      ] as const) {
        const before = await eventsOf(backend, WF, runId);
        await backend.cancelRun(runId, "too late");
        expect(await eventsOf(backend, WF, runId)).toEqual(before);
        expect((await backend.getRun(runId))?.status).toBe(status);
      }
    });
  });
}
