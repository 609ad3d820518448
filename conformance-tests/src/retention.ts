import { describe, expect, it } from "vitest";
import type { Backend } from "@cairn/backend-interface";
import type { ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF, claim, complete, runWithSteps } from "./support/scenario.js";

const OTHER = "wf-other";
const START = { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: false };
const META = { workflowAttemptNumber: 1, duration: 1, completedSteps: 0 };

/** A run that ended with `status` now (one step, completed for a completed run), or that stays live. */
async function runEnding(
  backend: Backend,
  status: "completed" | "failed" | "cancelled" | "running" | "pending",
  options: { workflowSlug?: string } = {},
): Promise<string> {
  const workflowSlug = options.workflowSlug ?? WF;
  const {
    runId,
    steps: [step],
  } = await runWithSteps(backend, ["s"], { workflowSlug });
  if (status === "pending") return runId;
  await backend.startRun(workflowSlug, runId, START);
  if (status === "completed") {
    await complete(backend, step!, await claim(backend, step!));
    await backend.completeRunIfOpen(
      workflowSlug,
      runId,
      { ok: true },
      { workflowAttemptNumber: 1, timestamp: 0, duration: 1, totalSteps: 1 },
    );
  }
  if (status === "failed")
    await backend.failRunIfOpen(workflowSlug, runId, { name: "Error", message: "boom" }, META, "step-failed");
  if (status === "cancelled") await backend.cancelRun(runId, "no longer needed");
  return runId;
}

/** deleteEndedRuns: only ended runs older than the cut, oldest ended first, with everything derived from them. */
export function retentionTests(h: ConformanceHarness): void {
  describe("retention: deleteEndedRuns", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF, OTHER] });

    it("deletes ended runs older than the cut with their events and steps, and never a pending or running run", async () => {
      const { backend, clock } = t;
      const completed = await runEnding(backend, "completed");
      const failed = await runEnding(backend, "failed");
      const cancelled = await runEnding(backend, "cancelled");
      const running = await runEnding(backend, "running");
      const pending = await runEnding(backend, "pending");
      clock.advanceMs(60_000);
      const recent = await runEnding(backend, "completed");
      clock.advanceMs(1_000);
      const dry = await backend.deleteEndedRuns({ olderThanMs: 30_000, dryRun: true });
      expect(new Set(dry.runIds)).toEqual(new Set([completed, failed, cancelled]));
      expect((await backend.listRuns()).length).toBe(6); // a dry run deletes nothing
      const done = await backend.deleteEndedRuns({ olderThanMs: 30_000 });
      expect(new Set(done.runIds)).toEqual(new Set([completed, failed, cancelled]));
      for (const id of [completed, failed, cancelled]) {
        expect(await backend.getRun(id)).toBeNull();
        expect(await backend.loadEvents(WF, id)).toEqual([]);
        expect(await backend.loadRun(WF, id)).toEqual([]);
      }
      expect(new Set((await backend.listRuns()).map((r) => r.runId))).toEqual(new Set([running, pending, recent]));
      expect(new Set(await backend.listRunIds(WF))).toEqual(new Set([running, pending, recent]));
      expect((await backend.deleteEndedRuns({ olderThanMs: 30_000 })).runIds).toEqual([]);
      // Even handed to the driver directly, a live run is not deleted: the driver checks inside the delete.
      expect(
        await backend.driver.deleteRuns([
          { workflowSlug: WF, runId: running },
          { workflowSlug: WF, runId: pending },
        ]),
      ).toEqual([]);
      expect((await backend.getRun(running))?.status).toBe("running");
      expect((await backend.getRun(pending))?.status).toBe("pending");
    });

    it("honours statuses, workflow and limit (oldest ended first), and the idempotency key of a deleted run is free again", async () => {
      const { backend, clock } = t;
      const first = await runEnding(backend, "completed");
      clock.advanceMs(10);
      const second = await runEnding(backend, "completed");
      clock.advanceMs(10);
      const failed = await runEnding(backend, "failed");
      const other = await runEnding(backend, "completed", { workflowSlug: OTHER });
      const keyed = await backend.submitRun({ workflowSlug: WF, idempotencyKey: "k1", input: { n: 1 } });
      await backend.cancelRun(keyed.runId);
      clock.advanceMs(1_000);
      expect(
        (await backend.deleteEndedRuns({ olderThanMs: 0, statuses: ["completed"], workflowSlug: WF, limit: 1 })).runIds,
      ).toEqual([first]);
      expect(
        (await backend.deleteEndedRuns({ olderThanMs: 0, statuses: ["completed"], workflowSlug: WF })).runIds,
      ).toEqual([second]);
      expect(await backend.getRun(failed)).not.toBeNull();
      expect(await backend.getRun(other)).not.toBeNull();
      expect((await backend.deleteEndedRuns({ olderThanMs: 0, statuses: ["cancelled"] })).runIds).toEqual([
        keyed.runId,
      ]);
      const again = await backend.submitRun({ workflowSlug: WF, idempotencyKey: "k1", input: { n: 2 } });
      expect(again.isNew).toBe(true);
      expect(again.runId).not.toBe(keyed.runId);
    });

    it("leaves analytics over a window correct for the runs that remain", async () => {
      const { backend, clock } = t;
      await runEnding(backend, "completed");
      await runEnding(backend, "failed");
      await runEnding(backend, "completed");
      clock.advanceMs(1_000);
      const before = await backend.getSuccessRate();
      expect(before.runs).toMatchObject({ completed: 2, failed: 1 });
      await backend.deleteEndedRuns({ olderThanMs: 0, statuses: ["failed"] });
      const after = await backend.getSuccessRate();
      expect(after.runs).toMatchObject({ completed: 2, failed: 0 });
    });

    it("refuses bad options with INVALID_ARGUMENT and deletes nothing", async () => {
      const { backend, clock } = t;
      const id = await runEnding(backend, "completed");
      clock.advanceMs(1_000);
      const bad: unknown[] = [
        { olderThanMs: -1 },
        { olderThanMs: Number.NaN },
        { olderThanMs: "7d" },
        { olderThanMs: 0, statuses: ["running"] },
        { olderThanMs: 0, statuses: [] },
        { olderThanMs: 0, limit: 0 },
        { olderThanMs: 0, limit: 1.5 },
        null,
      ];
      for (const o of bad) await expectCode(backend.deleteEndedRuns(o as never), "INVALID_ARGUMENT", JSON.stringify(o));
      await expectCode(backend.deleteEndedRuns({ olderThanMs: 0, workflowSlug: "../x" }), "INVALID_IDENTIFIER");
      expect(await backend.getRun(id)).not.toBeNull();
    });
  });
}
