import { describe, expect, it } from "vitest";
import { computeErrorFingerprints, serializeValue, type Backend, type ChildStepInput } from "@cairn/backend-interface";
import type { ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF, claim, countEvents, failAndRetry, runWithSteps } from "./support/scenario.js";

/** A child that ended now after `durationUs`: ok with `value`, or failed with `message`. */
function child(
  b: Backend,
  attemptNumber: number,
  childId: string,
  end: { value: unknown } | { message: string },
  durationUs = 1000,
): ChildStepInput {
  const times = { attemptNumber, childId, startedAtUs: b.clock.nowUs() - durationUs, durationUs };
  return "value" in end
    ? { ...times, status: "ok", output: serializeValue(end.value) }
    : { ...times, status: "error", error: { name: "Error", message: end.message } };
}

/** Child steps (StepChild events, `ctx.step`): recorded under their step, nested, replayed by a retry's claim. */
export function childStepTests(h: ConformanceHarness): void {
  describe("child steps", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF] });

    it("records children two levels deep with their parent, status, times, result or fingerprinted error; calls, links and counts belong to the child", async () => {
      const { backend: b, clock } = t;
      const {
        runId,
        steps: [ref],
      } = await runWithSteps(b, ["s", "other"]);
      const a1 = await claim(b, ref!);
      clock.advanceMs(5);
      await b.saveStepCalls(WF, runId, "s", [
        {
          attemptNumber: a1,
          tool: "api",
          operation: "GET /page",
          startedAtUs: b.clock.nowUs() - 10,
          durationUs: 10,
          outcome: "ok",
          childId: "load/parse",
        },
        {
          attemptNumber: a1,
          tool: "api",
          operation: "GET /root",
          startedAtUs: b.clock.nowUs() - 10,
          durationUs: 10,
          outcome: "ok",
        },
      ]);
      await b.saveStepLinks(WF, runId, "s", [
        { attemptNumber: a1, linkType: "output", entityType: "page", entityId: "p1", childId: "load" },
      ]);
      await b.incrementRunCounters(WF, runId, "s", a1, { fetched: 3 }, "load/parse");
      await b.incrementRunCounters(WF, runId, "s", a1, { fetched: 1 });
      const inner = await b.saveStepChild(WF, runId, "s", child(b, a1, "load/parse", { value: { rows: 3 } }, 400));
      clock.advanceMs(1);
      await b.saveStepChild(WF, runId, "s", child(b, a1, "load", { value: [1, 2, 3] }, 900));
      await b.saveStepChild(WF, runId, "s", child(b, a1, "publish", { message: "upstream 503" }));
      expect(inner).toMatchObject({
        stepId: "s",
        childId: "load/parse",
        name: "parse",
        parentChildId: "load",
        status: "ok",
        durationUs: 400,
        output: '{"rows":3}',
      });

      const children = await b.loadStepChildren(WF, runId, "s");
      expect(
        children.map((c) => [c.childId, c.name, c.parentChildId, c.status, c.attemptNumber, c.durationUs]),
      ).toEqual([
        ["load/parse", "parse", "load", "ok", 1, 400],
        ["load", "load", undefined, "ok", 1, 900],
        ["publish", "publish", undefined, "error", 1, 1000],
      ]);
      expect(children[2]!.error).toEqual({ name: "Error", message: "upstream 503" });
      expect(children[2]!.errorFingerprints).toEqual(
        computeErrorFingerprints({ name: "Error", message: "upstream 503" }),
      );
      expect(children[2]!.output).toBeUndefined();
      expect(await b.loadStepChildren(WF, runId)).toEqual(children);
      expect(await b.loadStepChildren(WF, runId, "other")).toEqual([]);
      expect((await b.loadStepCalls(WF, runId, "s")).map((c) => [c.operation, c.childId])).toEqual([
        ["GET /page", "load/parse"],
        ["GET /root", undefined],
      ]);
      expect((await b.getStepLinks(WF, runId, "s")).map((l) => [l.entityId, l.childId])).toEqual([["p1", "load"]]);
      expect((await b.getRun(runId))?.counters).toEqual({ fetched: 4 });
      expect(await b.getStepState(WF, runId, "s")).toMatchObject({ status: "running", attemptNumber: a1 });
    });

    it("a retry's claim replays the children earlier attempts finished; a failed child runs again, and a replayed child's counts stand", async () => {
      const { backend: b } = t;
      const {
        runId,
        steps: [ref],
      } = await runWithSteps(b, ["s"]);
      const [first] = await b.claimSteps("w1", { limit: 10, workflowSlug: WF });
      expect(first).toMatchObject({ runId, stepId: "s", attemptNumber: 1, children: [] });
      await b.saveStepChild(WF, runId, "s", child(b, 1, "fetch", { value: { page: 1 } }));
      await b.saveStepChild(WF, runId, "s", child(b, 1, "transform/parse", { value: "parsed" }));
      await b.saveStepChild(WF, runId, "s", child(b, 1, "transform", { message: "bad row" }));
      // Two children's counts in one write.
      expect(
        await b.incrementRunCounterParts(WF, runId, "s", 1, [
          { counters: { fetched: 50 }, childId: "fetch" },
          { counters: { transformed: 7 }, childId: "transform" },
        ]),
      ).toEqual({ fetched: 50, transformed: 7 });
      await failAndRetry(b, ref!, 1);
      const [second] = await b.claimSteps("w2", { limit: 10, workflowSlug: WF });
      expect(second?.attemptNumber).toBe(2);
      expect(second?.children).toEqual([
        { childId: "fetch", attemptNumber: 1, output: '{"page":1}' },
        { childId: "transform/parse", attemptNumber: 1, output: '"parsed"' },
      ]);
      // Attempt 2 replays fetch (no record, no counts) and runs transform again: its counts replace attempt 1's.
      await b.incrementRunCounters(WF, runId, "s", 2, { transformed: 7 }, "transform");
      await b.saveStepChild(WF, runId, "s", child(b, 2, "transform", { value: "done" }));
      expect((await b.getRun(runId))?.counters).toEqual({ fetched: 50, transformed: 7 });
      await failAndRetry(b, ref!, 2);
      const [third] = await b.claimSteps("w3", { limit: 10, workflowSlug: WF });
      expect(third?.children.map((c) => `${c.childId}#${c.attemptNumber}`)).toEqual([
        "fetch#1",
        "transform/parse#1",
        "transform#2",
      ]);
      expect(
        (await b.loadStepChildren(WF, runId, "s")).map((c) => `${c.childId}#${c.attemptNumber} ${c.status}`),
      ).toEqual(["fetch#1 ok", "transform/parse#1 ok", "transform#1 error", "transform#2 ok"]);
      // Only the step's running attempt records children.
      await expectCode(b.saveStepChild(WF, runId, "s", child(b, 2, "late", { value: 1 })), "STALE_ATTEMPT");
    });

    it("rejects bad records with a typed error and writes nothing", async () => {
      const { backend: b } = t;
      const {
        runId,
        steps: [ref],
      } = await runWithSteps(b, ["s"]);
      const a1 = await claim(b, ref!);
      const before = await countEvents(b, { workflowSlug: WF, runId }, "StepChild");
      const ok = child(b, a1, "x", { value: 1 });
      for (const bad of [
        { ...ok, childId: "" },
        { ...ok, childId: "a//b" },
        { ...ok, childId: "x".repeat(201) },
        { ...ok, childId: 42 as never },
        { ...ok, childId: Array.from({ length: 17 }, () => "n").join("/") },
        { ...ok, childId: "nul\u0000" },
        { ...ok, status: "done" as never },
        { ...ok, output: undefined },
        { ...ok, status: "error" as const, output: undefined },
        { ...ok, attemptNumber: 0 },
        { ...ok, durationUs: -1 },
        { ...ok, startedAtUs: 1.5 },
      ]) {
        await expectCode(b.saveStepChild(WF, runId, "s", bad), "INVALID_ARGUMENT");
      }
      await expectCode(
        b.saveStepCalls(WF, runId, "s", [
          { attemptNumber: a1, tool: "t", operation: "o", startedAtUs: 1, durationUs: 1, outcome: "ok", childId: "a/" },
        ]),
        "INVALID_ARGUMENT",
      );
      await expectCode(b.incrementRunCounters(WF, runId, "s", a1, { n: 1 }, ""), "INVALID_ARGUMENT");
      await expectCode(
        b.incrementRunCounterParts(WF, runId, "s", a1, [
          { counters: { n: 1 } },
          { counters: { n: 1 }, childId: "a//b" },
        ]),
        "INVALID_ARGUMENT",
      );
      await expectCode(b.incrementRunCounterParts(WF, runId, "s", a1, []), "INVALID_ARGUMENT");
      await expectCode(
        b.saveStepLinks(WF, runId, "s", [
          { attemptNumber: a1, linkType: "l", entityType: "e", entityId: "i", childId: "/" },
        ]),
        "INVALID_ARGUMENT",
      );
      expect(await countEvents(b, { workflowSlug: WF, runId }, "StepChild")).toBe(before);
      expect(await b.loadStepCalls(WF, runId, "s")).toEqual([]);
      expect((await b.getRun(runId))?.counters ?? {}).toEqual({});
    });
  });
}
