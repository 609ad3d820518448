import { describe, expect, it } from "vitest";
import type { ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF, claim, countEvents, runWithSteps } from "./support/scenario.js";
import { WF_B } from "./support/analytics-scenario.js";

/** Entity links (StepLinked): per step, and the reverse query by entity, newest first. */
export function linkTests(h: ConformanceHarness): void {
  describe("entity links", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF, WF_B] });

    it("are queryable both ways: a step's links in order, and the runs and steps that touched an entity, newest first", async () => {
      const { backend: b, clock } = t;
      const r1 = await runWithSteps(b, ["import", "report"]);
      const r2 = await runWithSteps(b, ["import"], { workflowSlug: WF_B });
      const a = await claim(b, r1.steps[0]!);
      await b.saveStepLinks(WF, r1.runId, "import", [
        { attemptNumber: a, linkType: "output", entityType: "transaction", entityId: "tx_123", externalId: "ch_abc" },
        { attemptNumber: a, linkType: "output", entityType: "transaction", entityId: "tx_456" },
      ]);
      clock.advanceMs(1);
      await b.saveStepLinks(WF, r1.runId, "report", [
        { attemptNumber: 1, linkType: "input", entityType: "transaction", entityId: "tx_123" },
      ]);
      clock.advanceMs(1);
      await b.saveStepLinks(WF_B, r2.runId, "import", [
        { attemptNumber: 1, linkType: "updated", entityType: "transaction", entityId: "tx_123" },
      ]);
      await b.saveStepLinks(WF_B, r2.runId, "import", [
        { attemptNumber: 1, linkType: "output", entityType: "customer", entityId: "tx_123" },
      ]);

      const own = await b.getStepLinks(WF, r1.runId, "import");
      expect(own.map((l) => [l.linkType, l.entityType, l.entityId, l.externalId, l.attemptNumber])).toEqual([
        ["output", "transaction", "tx_123", "ch_abc", 1],
        ["output", "transaction", "tx_456", undefined, 1],
      ]);
      expect(await b.getStepLinks(WF, r1.runId, "nothing")).toEqual([]);

      const touched = await b.findEntityLinks({ entityType: "transaction", entityId: "tx_123" });
      expect(touched.map((l) => [l.workflowSlug, l.runId, l.stepId, l.linkType])).toEqual([
        [WF_B, r2.runId, "import", "updated"],
        [WF, r1.runId, "report", "input"],
        [WF, r1.runId, "import", "output"],
      ]);
      expect(touched[2]).toMatchObject({ externalId: "ch_abc", linkedAtUs: own[0]!.linkedAtUs });
      expect(await b.findEntityLinks({ entityType: "transaction", entityId: "tx_123", limit: 1 })).toHaveLength(1);
      expect(await b.findEntityLinks({ entityType: "transaction", entityId: "tx_999" })).toEqual([]);
      expect((await b.findEntityLinks({ entityType: "customer", entityId: "tx_123" })).map((l) => l.runId)).toEqual([
        r2.runId,
      ]);
    });

    it("rejects bad links with INVALID_ARGUMENT and writes none of the batch", async () => {
      const { backend: b } = t;
      const { runId } = await runWithSteps(b, ["s"]);
      const good = { attemptNumber: 1, linkType: "output", entityType: "transaction", entityId: "tx_1" };
      for (const [label, patch] of [
        ["no entity id", { entityId: undefined }],
        ["empty entity id", { entityId: "" }],
        ["blank link type", { linkType: " " }],
        ["colon in entity type", { entityType: "a:b" }],
        ["NUL", { entityId: "a\u0000" }],
        ["empty external id", { externalId: "" }],
        ["attempt 0", { attemptNumber: 0 }],
        ["long entity id", { entityId: "x".repeat(501) }],
      ] as Array<[string, object]>) {
        await expectCode(
          b.saveStepLinks(WF, runId, "s", [good, { ...good, ...patch } as never]),
          "INVALID_ARGUMENT",
          label,
        );
      }
      expect(await countEvents(b, { workflowSlug: WF, runId, stepId: "s" }, "StepLinked")).toBe(0);
      await expectCode(b.findEntityLinks({ entityType: "", entityId: "x" }), "INVALID_ARGUMENT");
      await expectCode(b.findEntityLinks({ entityType: "t", entityId: "x", limit: 0 }), "INVALID_ARGUMENT");
    });
  });
}
