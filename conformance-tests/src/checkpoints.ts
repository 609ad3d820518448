import { describe, expect, it } from "vitest";
import type { ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF, claim, failAndRetry, runWithSteps } from "./support/scenario.js";

/** Checkpoints: saved per attempt (fenced), replayed as the latest per name across attempts. */
export function checkpointTests(h: ConformanceHarness): void {
  describe("checkpoints", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF] });

    it("loads the latest checkpoint per name across attempts, in sequence order, and fences saves to the running attempt", async () => {
      const { backend, clock } = t;
      const {
        runId,
        steps: [ref],
      } = await runWithSteps(backend, ["s"]);
      expect(await backend.loadStepCheckpoints(WF, runId, "s")).toEqual([]);
      const a1 = await claim(backend, ref!);
      const save = (name: string, sequenceNumber: number, attemptNumber: number, data: unknown, label?: string) =>
        backend.saveStepCheckpoint(WF, runId, "s", {
          name,
          sequenceNumber,
          attemptNumber,
          data,
          ...(label ? { label } : {}),
        });
      await save("fetch", 0, a1, { page: 1 }, "first page");
      clock.advanceMs(1);
      await save("parse", 1, a1, [1, 2, 3]);
      await backend.saveStepCheckpointFailed(WF, runId, "s", {
        name: "store",
        sequenceNumber: 2,
        attemptNumber: a1,
        error: { name: "IOError", message: "disk full" },
      });
      await expectCode(
        save("fetch", 5, a1 + 1, "future"),
        "STALE_ATTEMPT",
        "checkpoint of an attempt that is not running",
      );
      await failAndRetry(backend, ref!, a1);
      await expectCode(save("fetch", 5, a1, "after failure"), "STALE_ATTEMPT", "checkpoint of a failed attempt");
      const a2 = await claim(backend, ref!, "w2");
      clock.advanceMs(1);
      await save("fetch", 3, a2, { page: 2 });
      const loaded = await backend.loadStepCheckpoints(WF, runId, "s");
      expect(loaded.map((c) => [c.name, c.sequenceNumber, c.attemptNumber])).toEqual([
        ["parse", 1, 1],
        ["fetch", 3, 2],
      ]);
      expect(JSON.parse(loaded[0]!.data)).toEqual([1, 2, 3]);
      expect(JSON.parse(loaded[1]!.data)).toEqual({ page: 2 });
      expect(loaded[1]!.timestampUs).toBe(clock.nowUs());
      const events = await backend.loadEvents(WF, runId, { category: "step", stepId: "s" });
      expect(events.filter((e) => e.type === "StepCheckpoint")).toHaveLength(3);
      expect(events.find((e) => e.type === "StepCheckpoint" && e.name === "fetch")).toMatchObject({
        label: "first page",
        data: JSON.stringify({ page: 1 }),
      });
      expect(events.find((e) => e.type === "StepCheckpointFailed")).toMatchObject({
        name: "store",
        sequenceNumber: 2,
        error: { name: "IOError", message: "disk full" },
      });
      expect(await backend.loadStepCheckpoints(WF, runId, "other")).toEqual([]);
    });
  });
}
