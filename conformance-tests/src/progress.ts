import { describe, expect, it } from "vitest";
import type { ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF, claim, countEvents, failAndRetry, runWithSteps } from "./support/scenario.js";

/** A step's latest progress (StepState.progress), projected from its attempt's progress lines. */
export function progressTests(h: ConformanceHarness): void {
  describe("step progress", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF] });

    it("is the current attempt's latest progress line, item counts included; an older attempt's late line does not replace it", async () => {
      const { backend: b, clock } = t;
      const {
        runId,
        steps: [ref],
      } = await runWithSteps(b, ["s"]);
      const a1 = await claim(b, ref!);
      const line = (attemptNumber: number, processed: number, extra: object = {}) => ({
        timestampUs: clock.nowUs(),
        stream: "stdout" as const,
        message: `[progress] ${processed}`,
        attemptNumber,
        progress: {
          fraction: processed / 500,
          items: { total: 500, processed, succeeded: processed - 1, failed: 1 },
          ...extra,
        },
      });
      await b.saveStepLogs(WF, runId, "s", [
        line(a1, 100),
        { timestampUs: clock.nowUs(), stream: "stdout", message: "plain", attemptNumber: a1 },
      ]);
      const at = clock.nowUs();
      clock.advanceMs(5);
      expect((await b.getStepState(WF, runId, "s"))?.progress).toEqual({
        fraction: 0.2,
        items: { total: 500, processed: 100, succeeded: 99, failed: 1 },
        attemptNumber: 1,
        atUs: at,
      });
      await failAndRetry(b, ref!, a1);
      const a2 = await claim(b, ref!, "w2");
      await b.saveStepLogs(WF, runId, "s", [line(a2, 50, { message: "page 1" })]);
      await b.saveStepLogs(WF, runId, "s", [line(a1, 400)]); // a zombie attempt 1
      const steps = await b.loadRun(WF, runId);
      expect(steps.find((s) => s.stepId === "s")?.progress).toMatchObject({
        attemptNumber: a2,
        message: "page 1",
        items: { processed: 50 },
      });
      expect((await b.getStepState(WF, runId, "s"))?.progress).toEqual(steps.find((s) => s.stepId === "s")?.progress);
    });

    it("refuses item counts that are not non-negative integers and writes nothing", async () => {
      const { backend: b, clock } = t;
      const {
        runId,
        steps: [ref],
      } = await runWithSteps(b, ["s"]);
      const a1 = await claim(b, ref!);
      for (const items of [
        { processed: -1 },
        { processed: 1.5 },
        { total: Number.NaN, processed: 1 },
        { processed: 1, failed: -2 },
        { total: 3 },
      ]) {
        await expectCode(
          b.saveStepLogs(WF, runId, "s", [
            {
              timestampUs: clock.nowUs(),
              stream: "stdout",
              message: "p",
              attemptNumber: a1,
              progress: { fraction: 0, items: items as never },
            },
          ]),
          "INVALID_EVENT",
          JSON.stringify(items),
        );
      }
      expect(await countEvents(b, { workflowSlug: WF, runId, stepId: "s" }, "LogEntry")).toBe(0);
      expect((await b.getStepState(WF, runId, "s"))?.progress).toBeUndefined();
    });
  });
}
