import { describe, expect, it } from "vitest";
import type { ConformanceHarness } from "./support/harness.js";
import { openSecondBackend, useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF, claim, complete, runWithSteps } from "./support/scenario.js";

/** Write-once marks and what the Backend builds on them: leases of time slots, send-once decisions, retention passes. */
export function markTests(h: ConformanceHarness): void {
  describe("marks: leases, send-once, retention passes", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF] });

    it("a lease is held by one holder per slot: the first to take it, again for it, never for another; the next slot is open", async () => {
      const { backend, clock } = t;
      expect(await backend.acquireLease("job", "a", 60_000)).toBe(true);
      expect(await backend.acquireLease("job", "b", 60_000)).toBe(false);
      expect(await backend.acquireLease("job", "a", 60_000)).toBe(true);
      expect(await backend.acquireLease("other-job", "b", 60_000)).toBe(true);
      clock.advanceMs(60_000);
      expect(await backend.acquireLease("job", "b", 60_000)).toBe(true);
      expect(await backend.acquireLease("job", "a", 60_000)).toBe(false);
      clock.advanceMs(2 * 86_400_000);
      expect(await backend.pruneLeases()).toBeGreaterThanOrEqual(3);
      await expectCode(backend.acquireLease("a/b", "x", 1000), "INVALID_ARGUMENT");
      await expectCode(backend.acquireLease("job", "", 1000), "INVALID_ARGUMENT");
      await expectCode(backend.acquireLease("job", "x", 0), "INVALID_ARGUMENT");
    });

    it("markOnce is true once, for one caller, even through a second backend on the same storage", async () => {
      const { backend } = t;
      const other = await openSecondBackend(t.instance.opener);
      try {
        const results = await Promise.all([
          backend.markOnce("alert/new-error-group/fp1", "w1"),
          other.markOnce("alert/new-error-group/fp1", "w2"),
        ]);
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await backend.markOnce("alert/new-error-group/fp1", "w1")).toBe(false);
        expect(await other.markOnce("alert/new-error-group/fp2", "w2")).toBe(true);
      } finally {
        await other.close();
      }
    });

    it("applyRetention applies each workflow's policy (else the defaults) once per slot, whoever calls it", async () => {
      const { backend, clock } = t;
      await backend.registerWorkflow({ slug: WF, name: WF, steps: [], retention: { completedMs: 60_000 } });
      await backend.registerWorkflow({ slug: "wf-defaults", name: "wf-defaults", steps: [] });
      const ended: string[] = [];
      for (const slug of [WF, "wf-defaults"]) {
        const {
          runId,
          steps: [s],
        } = await runWithSteps(backend, ["s"], { workflowSlug: slug });
        await backend.startRun(slug, runId, { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: false });
        await complete(backend, s!, await claim(backend, s!));
        await backend.completeRunIfOpen(slug, runId, null, {
          workflowAttemptNumber: 1,
          timestamp: 0,
          duration: 1,
          totalSteps: 1,
        });
        ended.push(runId);
      }
      clock.advanceMs(120_000);
      const first = await backend.applyRetention({ holder: "w1", defaults: { completedMs: 3_600_000 } });
      expect(first).toEqual({ ran: true, deleted: [{ workflowSlug: WF, runIds: [ended[0]] }] });
      expect(await backend.applyRetention({ holder: "w2", defaults: { completedMs: 0 } })).toEqual({
        ran: false,
        deleted: [],
      });
      clock.advanceMs(60_000);
      const next = await backend.applyRetention({ holder: "w2", defaults: { completedMs: 0 } });
      expect(next).toEqual({ ran: true, deleted: [{ workflowSlug: "wf-defaults", runIds: [ended[1]] }] });
    });
  });
}
