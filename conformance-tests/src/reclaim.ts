import { describe, expect, it } from "vitest";
import type { StepRef } from "@cairn/backend-interface";
import { resolveCapabilities, type ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { withChildren, type ProcessPool } from "./support/processes.js";
import { WF, claim, complete, countEvents, runWithSteps, sleep } from "./support/scenario.js";

const THRESHOLD_MS = 60_000;
const sortRefs = (refs: StepRef[]) => refs.map((r) => `${r.workflowSlug}/${r.runId}/${r.stepId}`).sort();

/** reclaimStaleSteps: millisecond threshold, exactly-once reclamation, retry budget, terminal runs. */
export function reclaimTests(h: ConformanceHarness, procs: ProcessPool): void {
  const caps = resolveCapabilities(h);

  describe("reclaim", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF] });

    it("takes the threshold in milliseconds: not reclaimed 1 ms before it, reclaimed 1 ms after, as StepReclaimed + StepScheduled attempt 2 (retry)", async () => {
      const { backend, clock } = t;
      const {
        steps: [ref],
      } = await runWithSteps(backend, ["s"], { priority: 4 });
      await claim(backend, ref!, "w-dead");
      const startedAt = clock.nowUs();
      clock.advanceMs(THRESHOLD_MS - 1);
      expect(await backend.reclaimStaleSteps(THRESHOLD_MS, "reaper")).toEqual([]);
      clock.advanceMs(2);
      const t0 = Date.now();
      const reclaimed = await backend.reclaimStaleSteps(THRESHOLD_MS, "reaper");
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(reclaimed).toEqual([{ workflowSlug: WF, runId: ref!.runId, stepId: "s" }]);
      const events = (await backend.loadEvents(WF, ref!.runId, { category: "step" })).slice(-2);
      expect(events.map((e) => e.type)).toEqual(["StepReclaimed", "StepScheduled"]);
      expect(events[0]).toMatchObject({
        originalWorkerId: "w-dead",
        reclaimedBy: "reaper",
        attemptNumber: 1,
        lastHeartbeatUs: startedAt,
        staleThresholdUs: THRESHOLD_MS * 1000,
        staleDurationUs: clock.nowUs() - startedAt,
      });
      expect(events[1]).toMatchObject({ reason: "retry", attemptNumber: 2, availableAtUs: clock.nowUs() });
      expect(await backend.getStepState(WF, ref!.runId, "s")).toMatchObject({
        status: "scheduled",
        attemptNumber: 2,
        wasReclaimed: true,
        reclaimedFrom: "w-dead",
        reclaimedBy: "reaper",
        priority: 4,
      });
      expect(await backend.reclaimStaleSteps(THRESHOLD_MS, "reaper")).toEqual([]);
      expect(await claim(backend, ref!, "w-next")).toBe(2);
      await expectCode(backend.saveStepHeartbeat(WF, ref!.runId, "s", "w-dead", 1), "STALE_ATTEMPT");
    });

    it("counts from the last heartbeat: a fresh heartbeat is never reclaimed", async () => {
      const { backend, clock } = t;
      const {
        steps: [ref],
      } = await runWithSteps(backend, ["s"]);
      const attempt = await claim(backend, ref!, "w-alive");
      for (let i = 0; i < 3; i++) {
        clock.advanceMs(THRESHOLD_MS - 1000);
        await backend.saveStepHeartbeat(WF, ref!.runId, "s", "w-alive", attempt);
        expect(await backend.reclaimStaleSteps(THRESHOLD_MS, "reaper")).toEqual([]);
      }
      clock.advanceMs(THRESHOLD_MS + 1);
      expect(await backend.reclaimStaleSteps(THRESHOLD_MS, "reaper")).toHaveLength(1);
    });

    it("reclaims each stale attempt exactly once under many concurrent reapers, and only the stale ones", async () => {
      const { backend, clock } = t;
      const { runId, steps } = await runWithSteps(backend, ["a", "b", "c", "fresh", "idle"]);
      for (const ref of steps.slice(0, 4)) await claim(backend, ref, `w-${ref.stepId}`);
      clock.advanceMs(THRESHOLD_MS + 5);
      await backend.saveStepHeartbeat(WF, runId, "fresh", "w-fresh", 1);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => backend.reclaimStaleSteps(THRESHOLD_MS, `reaper-${i}`)),
      );
      expect(sortRefs(results.flat())).toEqual(sortRefs(steps.slice(0, 3)));
      for (const ref of steps) {
        const stale = ["a", "b", "c"].includes(ref.stepId);
        expect(await countEvents(backend, ref, "StepReclaimed"), ref.stepId).toBe(stale ? 1 : 0);
        expect(await countEvents(backend, ref, "StepScheduled"), ref.stepId).toBe(stale ? 2 : 1);
      }
      expect((await backend.getStepState(WF, runId, "fresh"))?.status).toBe("running");
      expect((await backend.getStepState(WF, runId, "idle"))?.status).toBe("scheduled");
    });

    it("fails the step terminally with worker-crash once the registered retry budget (maxRetries) is spent", async () => {
      const { backend, clock } = t;
      await backend.registerWorkflow({
        slug: WF,
        name: "budget",
        steps: [
          { id: "once", name: "once", maxRetries: 1 },
          { id: "never", name: "never", maxRetries: 0 },
        ],
      });
      const {
        runId,
        steps: [once, never],
      } = await runWithSteps(backend, ["once", "never"]);
      await claim(backend, once!, "w1");
      await claim(backend, never!, "w1");
      clock.advanceMs(THRESHOLD_MS + 1);
      expect(sortRefs(await backend.reclaimStaleSteps(THRESHOLD_MS, "reaper"))).toEqual(sortRefs([once!, never!]));
      expect(await backend.getStepState(WF, runId, "never")).toMatchObject({
        status: "failed",
        failureReason: "worker-crash",
        terminal: true,
        attemptNumber: 1,
      });
      expect(await backend.getStepState(WF, runId, "once")).toMatchObject({ status: "scheduled", attemptNumber: 2 });
      expect(await claim(backend, once!, "w2")).toBe(2);
      clock.advanceMs(THRESHOLD_MS + 1);
      expect(await backend.reclaimStaleSteps(THRESHOLD_MS, "reaper")).toHaveLength(1);
      const last = (await backend.loadEvents(WF, runId, { category: "step", stepId: "once" })).slice(-2);
      expect(last.map((e) => e.type)).toEqual(["StepReclaimed", "StepFailed"]);
      expect(last[1]).toMatchObject({ terminal: true, failureReason: "worker-crash", attemptNumber: 2 });
      expect(await backend.getStepState(WF, runId, "once")).toMatchObject({
        status: "failed",
        failureReason: "worker-crash",
      });
      expect((await backend.getFailedSteps(WF, runId)).map((f) => f.stepId).sort()).toEqual(["never", "once"]);
      clock.advanceMs(THRESHOLD_MS + 1);
      expect(await backend.reclaimStaleSteps(THRESHOLD_MS, "reaper")).toEqual([]);
    });

    it("leaves the steps of cancelled, completed and failed runs alone", async () => {
      const { backend, clock } = t;
      const runs = await Promise.all([
        runWithSteps(backend, ["s"]),
        runWithSteps(backend, ["s"]),
        runWithSteps(backend, ["s"]),
      ]);
      for (const r of runs) await claim(backend, r.steps[0]!, "w1");
      await backend.cancelRun(runs[0]!.runId);
      await backend.saveWorkflowComplete(WF, runs[1]!.runId, null, {
        workflowAttemptNumber: 1,
        timestamp: 0,
        duration: 1,
        totalSteps: 1,
      });
      await backend.saveWorkflowFailed(
        WF,
        runs[2]!.runId,
        { message: "x" },
        { workflowAttemptNumber: 1, duration: 1, completedSteps: 0 },
        "step-failed",
      );
      clock.advanceMs(THRESHOLD_MS * 10);
      expect(await backend.reclaimStaleSteps(THRESHOLD_MS, "reaper")).toEqual([]);
      for (const r of runs) expect(await countEvents(backend, r.steps[0]!, "StepReclaimed")).toBe(0);
    });

    it("ignores completed steps and rejects a negative threshold", async () => {
      const { backend, clock } = t;
      const {
        steps: [ref],
      } = await runWithSteps(backend, ["s"]);
      await complete(backend, ref!, await claim(backend, ref!));
      clock.advanceMs(THRESHOLD_MS * 2);
      expect(await backend.reclaimStaleSteps(THRESHOLD_MS, "reaper")).toEqual([]);
      await expectCode(backend.reclaimStaleSteps(-1, "reaper"), "INVALID_ARGUMENT");
    });
  });

  describe.skipIf(!caps.multiProcess)("reclaim: concurrent reapers in several processes", () => {
    const t = useInstance(h, { workflows: [WF] });

    it("reclaims each stale attempt exactly once", async () => {
      const { backend } = t;
      const { steps } = await runWithSteps(backend, ["r1", "r2", "r3", "r4"]);
      for (const ref of steps) await claim(backend, ref, "w-dead");
      await withChildren(procs, t.instance.opener, 4, async (group) => {
        await sleep(20);
        const results = await group.round<StepRef[]>((i) => ({
          task: "reclaim",
          thresholdMs: 5,
          reclaimedBy: `reaper-proc-${i}`,
        }));
        expect(sortRefs(results.flat())).toEqual(sortRefs(steps));
      });
      for (const ref of steps) {
        expect(await countEvents(backend, ref, "StepReclaimed")).toBe(1);
        expect(await backend.getStepState(WF, ref.runId, ref.stepId)).toMatchObject({
          status: "scheduled",
          attemptNumber: 2,
          wasReclaimed: true,
        });
      }
    }, 90_000);
  });
}
