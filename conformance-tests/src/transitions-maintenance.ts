import { describe, expect, it } from "vitest";
import type { StepRef } from "@cairn/backend-interface";
import type { ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF, claim, complete, tryClaim } from "./support/scenario.js";
import { CHAIN, DIAMOND, registerVersion, stepStatuses, workflowTrail } from "./support/dags.js";

const at = (runId: string, stepId: string): StepRef => ({ workflowSlug: WF, runId, stepId });

/**
 * Store-side transitions done by maintenance: run timeouts, and starting runs that became available, both bounded by
 * live work (longest due first), never by a newest-N window; and a completion needing no maintenance at all.
 */
export function transitionMaintenanceTests(h: ConformanceHarness): void {
  describe("transitions: run timeouts", () => {
    const t = useInstance(h, { manualClock: true });

    it("maintain fails a run past its timeoutUs with failureReason timeout, once; its steps are then not claimable", async () => {
      const { backend, clock } = t;
      await registerVersion(backend, DIAMOND);
      const { runId } = await backend.submitRun({ workflowSlug: WF, timeoutUs: 60_000_000 });
      await complete(backend, at(runId, "a"), await claim(backend, at(runId, "a")));
      const b = await claim(backend, at(runId, "b"));
      clock.advanceMs(30_000);
      expect((await backend.maintain({ workerId: "m", staleMs: 600_000 })).timedOut).toEqual([]);
      expect((await backend.getRun(runId))?.status).toBe("running");

      clock.advanceMs(31_000);
      expect((await backend.maintain({ workerId: "m", staleMs: 600_000 })).timedOut).toEqual([runId]);
      expect(await backend.getRun(runId)).toMatchObject({ status: "failed", failureReason: "timeout" });
      expect(await workflowTrail(backend, runId)).toEqual(["RunSubmitted", "WorkflowStarted", "WorkflowFailed"]);
      expect((await backend.loadEvents(WF, runId, { category: "workflow" }))[2]).toMatchObject({
        failureReason: "timeout",
        completedSteps: 1,
      });
      expect(await tryClaim(backend, at(runId, "c"), "late")).toBeNull();
      expect(await backend.isStepClaimable(WF, runId, "c")).toBe(false);
      expect(await backend.claimSteps("late", { limit: 10 })).toEqual([]);
      await expectCode(
        backend.saveStepHeartbeat(WF, runId, "b", "worker-1", b),
        "RUN_TERMINAL",
        "heartbeat of a running step of the timed-out run",
      );
      expect((await backend.maintain({ workerId: "m", staleMs: 600_000 })).timedOut).toEqual([]);
      expect(await workflowTrail(backend, runId)).toEqual(["RunSubmitted", "WorkflowStarted", "WorkflowFailed"]);
    });
  });

  describe("transitions: no starvation", () => {
    const t = useInstance(h, { manualClock: true });

    it("startDueRuns starts a run due earlier although 60 runs submitted after it wait for later", async () => {
      const { backend, clock } = t;
      await registerVersion(backend, CHAIN);
      const early = await backend.submitRun({
        workflowSlug: WF,
        runId: "run-zz-early",
        availableAtUs: clock.nowUs() + 10_000_000,
      });
      clock.advanceMs(1);
      const later = await backend.submitRuns(
        Array.from({ length: 60 }, (_, i) => ({
          workflowSlug: WF,
          runId: `run-later-${String(i).padStart(2, "0")}`,
          availableAtUs: clock.nowUs() + 3_600_000_000,
        })),
      );
      expect(later.every((o) => o.ok)).toBe(true);
      clock.advanceMs(15_000);
      expect(await backend.startDueRuns(1)).toEqual([early.runId]);
      expect(await stepStatuses(backend, early.runId)).toEqual({ a: "scheduled" });
      expect(await backend.listRuns({ workflowSlug: WF, status: ["pending"] })).toHaveLength(60);
    });

    it("startDueRuns(limit) starts the longest due first although 60 runs submitted after it are due too", async () => {
      const { backend, clock } = t;
      await registerVersion(backend, CHAIN);
      const t0 = clock.nowUs();
      await backend.submitRun({ workflowSlug: WF, runId: "run-zz-early", availableAtUs: t0 + 10_000_000 });
      const later: string[] = [];
      for (let i = 0; i < 60; i++) {
        clock.advanceMs(1);
        const id = `run-later-${String(i).padStart(2, "0")}`;
        later.push(id);
        await backend.submitRun({ workflowSlug: WF, runId: id, availableAtUs: t0 + 10_000_000 + (60 - i) * 1000 });
      }
      clock.setUs(t0 + 20_000_000);
      // Due order: the early run, then the later runs from the last submitted (due soonest) back.
      const dueOrder = ["run-zz-early", ...[...later].reverse()];
      expect(await backend.startDueRuns(5)).toEqual(dueOrder.slice(0, 5));
      expect(await backend.listRuns({ workflowSlug: WF, status: ["pending"] })).toHaveLength(56);
      expect(await backend.startDueRuns(100)).toEqual(dueOrder.slice(5));
      expect(await backend.listRuns({ workflowSlug: WF, status: ["pending"] })).toEqual([]);
    });

    it("a step's completion schedules its dependents in the same write, with 200 newer running runs and no maintenance", async () => {
      const { backend, clock } = t;
      await registerVersion(backend, DIAMOND);
      const { runId } = await backend.submitRun({ workflowSlug: WF, runId: "run-old" });
      const a = await claim(backend, at(runId, "a"), "doomed-worker");
      clock.advanceMs(10);
      const newer = await backend.submitRuns(
        Array.from({ length: 200 }, (_, i) => ({ workflowSlug: WF, runId: `run-new-${String(i).padStart(3, "0")}` })),
      );
      expect(newer.every((o) => o.ok && o.isNew)).toBe(true);
      expect(await backend.listRuns({ workflowSlug: WF, status: ["running"] })).toHaveLength(201);
      clock.advanceMs(10);
      // The worker's last call: it dies right after, so nothing else may be needed to move the run on.
      await complete(backend, at(runId, "a"), a, { done: true });
      expect(await stepStatuses(backend, runId)).toEqual({ a: "completed", b: "scheduled", c: "scheduled" });
      expect(await backend.isStepClaimable(WF, runId, "b")).toBe(true);
      expect(await backend.isStepClaimable(WF, runId, "c")).toBe(true);
    });
  });
}
