import { describe, expect, it } from "vitest";
import type { Event } from "@cairn/backend-interface";
import type { ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { WF, claim, complete, logEvent, runWithSteps } from "./support/scenario.js";

/** A damaged record never hides the rest of its run or other runs. Needs the harness's `corrupt` hook. */
export function corruptionTests(h: ConformanceHarness): void {
  describe.skipIf(!h.corrupt)("corruption", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF] });

    it("after one record of a run is damaged, the run's other events, its state and other runs stay readable, and the damage is reported", async () => {
      const { backend, clock } = t;
      const victim = await runWithSteps(backend, ["a", "b"], { runId: "run-victim" });
      const bystander = await runWithSteps(backend, ["a"], { runId: "run-bystander" });
      for (const run of [victim, bystander]) {
        await backend.startRun(WF, run.runId, { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: false });
        const ref = run.steps[0]!;
        await complete(backend, ref, await claim(backend, ref), { run: run.runId });
        await backend.saveStepLogs(WF, run.runId, "a", [
          { timestampUs: clock.nowUs(), stream: "stdout", message: "done", attemptNumber: 1 },
        ]);
      }
      const before = await backend.loadEvents(WF, victim.runId);
      const bystanderBefore = await backend.loadEvents(WF, bystander.runId);
      const bystanderState = await backend.getRun(bystander.runId);

      await h.corrupt!(t.instance, { workflowSlug: WF, runId: victim.runId });

      let after: Event[] = [];
      await expect(
        (async () => {
          after = await backend.loadEvents(WF, victim.runId);
        })(),
        "loadEvents of the damaged run",
      ).resolves.toBeUndefined();
      const beforeIds = before.map((e) => e.eventId);
      expect(after.length).toBeGreaterThanOrEqual(before.length - 1);
      expect(after.length).toBeLessThanOrEqual(before.length);
      const afterIds = after.map((e) => e.eventId);
      expect(afterIds, "surviving events keep their order").toEqual(beforeIds.filter((id) => afterIds.includes(id)));
      expect(
        after.filter((e) => e.category === "workflow"),
        "workflow events survive",
      ).toEqual(before.filter((e) => e.category === "workflow"));
      for (const e of after) expect(before, "survivors are unchanged").toContainEqual(e);

      expect((await backend.getRun(victim.runId))?.status).toBe("running");
      await backend.loadRun(WF, victim.runId);
      await backend.getStepState(WF, victim.runId, "b");
      expect(await backend.loadEvents(WF, bystander.runId)).toEqual(bystanderBefore);
      expect(await backend.getRun(bystander.runId)).toEqual(bystanderState);
      expect((await backend.listRuns()).map((r) => r.runId).sort()).toEqual([bystander.runId, victim.runId].sort());
      await backend.listScheduledSteps();
      await backend.listActiveWorkflows();
      await backend.reclaimStaleSteps(1, "reaper");

      const extra = logEvent({ workflowSlug: WF, runId: victim.runId, stepId: "b" }, "after the damage", clock.nowUs());
      await backend.appendEvent(WF, victim.runId, extra);
      const final = await backend.loadEvents(WF, victim.runId);
      expect(final.at(-1), "events appended after the damage are read").toEqual(extra);

      if (h.reportedProblems) {
        const codes = h.reportedProblems(t.instance).map((p) => p.code);
        expect(codes, "the driver reports the damage").toContain("CORRUPT_RECORD");
      }
    });
  });
}
