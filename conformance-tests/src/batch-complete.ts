import { describe, expect, it } from "vitest";
import { projectStepState, type Backend, type StepCompleteItem, type StepRef } from "@cairn/backend-interface";
import type { ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { WF, claim, complete, countEvents, eventsOf, runWithSteps } from "./support/scenario.js";

/** A completion item of `ref`'s attempt `attemptNumber`. */
function item(
  backend: Backend,
  ref: StepRef,
  attemptNumber: number,
  output: unknown,
  extra: Partial<StepCompleteItem> = {},
): StepCompleteItem {
  return {
    ...ref,
    output,
    metadata: { timestamp: backend.clock.nowUs(), duration: 250, attemptNumber, output },
    ...extra,
  };
}

/** The outcomes as short strings: "ok" or the error code. */
function codes(outcomes: Awaited<ReturnType<Backend["saveStepCompletes"]>>): string[] {
  return outcomes.map((o) => (o.ok ? "ok" : o.error.code));
}

/** Asserts that each step's stored state equals the projection of its own events. */
async function expectProjected(backend: Backend, refs: StepRef[]): Promise<void> {
  for (const ref of refs) {
    const events = await backend.loadEvents(ref.workflowSlug, ref.runId, { category: "step", stepId: ref.stepId });
    expect(
      await backend.getStepState(ref.workflowSlug, ref.runId, ref.stepId),
      `state of ${ref.runId}/${ref.stepId}`,
    ).toEqual(projectStepState(events));
  }
}

/** saveStepCompletes: many completions in one call, each fenced on its own attempt. */
export function batchCompleteTests(h: ConformanceHarness): void {
  describe("batch completions (saveStepCompletes)", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF] });

    it("completes the current attempts and refuses the others item by item, in item order, writing nothing for a refused item", async () => {
      const { backend, clock } = t;
      const a = await runWithSteps(backend, ["one", "two/nested"]);
      const b = await runWithSteps(backend, ["solo"]);
      const superseded = await runWithSteps(backend, ["zombie"]);
      const [one, two] = a.steps as [StepRef, StepRef];
      const solo = b.steps[0]!;
      const zombie = superseded.steps[0]!;
      await claim(backend, zombie, "w-old");
      clock.advanceMs(120_000);
      expect(await backend.reclaimStaleSteps(60_000, "reaper")).toHaveLength(1);
      expect(await claim(backend, zombie, "w-new")).toBe(2);
      for (const ref of [one, two, solo]) expect(await claim(backend, ref, "w1")).toBe(1);
      clock.advanceMs(5);
      const zombieBefore = await eventsOf(backend, WF, superseded.runId);
      const logs = [{ timestampUs: clock.nowUs(), stream: "stdout" as const, message: "hello", attemptNumber: 1 }];
      const outcomes = await backend.saveStepCompletes([
        item(
          backend,
          one,
          1,
          { n: 1 },
          {
            exportOutput: true,
            metadata: { timestamp: clock.nowUs(), duration: 250, attemptNumber: 1, output: { n: 1 }, logs },
          },
        ),
        item(backend, zombie, 1, "zombie output"),
        item(backend, { ...solo, runId: "../escape" }, 1, "bad id"),
        item(backend, solo, 1, [1, 2, 3]),
        item(backend, { ...solo, stepId: "ghost" }, 1, "unknown step"),
        item(backend, two, 1, undefined),
        item(backend, one, 1, "second completion of one"),
        item(backend, solo, 2, "a future attempt"),
      ]);
      expect(codes(outcomes)).toEqual([
        "ok",
        "STALE_ATTEMPT",
        "INVALID_IDENTIFIER",
        "ok",
        "STALE_ATTEMPT",
        "ok",
        "STALE_ATTEMPT",
        "STALE_ATTEMPT",
      ]);
      const stale = outcomes[1] as { ok: false; error: Error & { code: string; context?: Record<string, unknown> } };
      expect(stale.error.message.length).toBeGreaterThan(0);

      expect(await backend.getStepState(WF, a.runId, "one")).toMatchObject({
        status: "completed",
        attemptNumber: 1,
        output: JSON.stringify({ n: 1 }),
        exportOutput: true,
        durationUs: 250,
      });
      expect(await backend.getStepState(WF, a.runId, "two/nested")).toMatchObject({
        status: "completed",
        output: "null",
        exportOutput: false,
      });
      expect(await backend.getStepState(WF, b.runId, "solo")).toMatchObject({
        status: "completed",
        output: JSON.stringify([1, 2, 3]),
      });
      expect(await backend.getStepState(WF, superseded.runId, "zombie")).toMatchObject({
        status: "running",
        attemptNumber: 2,
        claimedBy: "w-new",
      });
      expect(await eventsOf(backend, WF, superseded.runId), "a refused item writes nothing").toEqual(zombieBefore);
      expect(await backend.getStepState(WF, b.runId, "ghost")).toBeNull();
      for (const ref of [one, two, solo])
        expect(await countEvents(backend, ref, "StepCompleted"), `completions of ${ref.stepId}`).toBe(1);
      const oneEvents = await backend.loadEvents(WF, a.runId, { category: "step", stepId: "one" });
      expect(
        oneEvents.slice(-2).map((e) => e.type),
        "the item's log lines precede its completion",
      ).toEqual(["LogEntry", "StepCompleted"]);
      expect(await backend.loadStepLogs(WF, a.runId, "one")).toEqual([
        expect.objectContaining({ message: "hello", attemptNumber: 1 }),
      ]);
      await expectProjected(backend, [one, two, solo, zombie]);

      // The current attempt of the superseded step completes afterwards, alone or in a batch.
      expect(codes(await backend.saveStepCompletes([item(backend, zombie, 2, "final")]))).toEqual(["ok"]);
      expect(await backend.getStepState(WF, superseded.runId, "zombie")).toMatchObject({
        status: "completed",
        attemptNumber: 2,
        output: JSON.stringify("final"),
      });
    });

    it("fences a completed step afterwards, alike for single and batch completions", async () => {
      const { backend } = t;
      const { steps } = await runWithSteps(backend, ["a", "b"]);
      const [sa, sb] = steps as [StepRef, StepRef];
      await claim(backend, sa);
      await claim(backend, sb);
      expect(codes(await backend.saveStepCompletes([item(backend, sa, 1, 1)]))).toEqual(["ok"]);
      await complete(backend, sb, 1, 2);
      expect(codes(await backend.saveStepCompletes([item(backend, sa, 1, 3), item(backend, sb, 1, 4)]))).toEqual([
        "STALE_ATTEMPT",
        "STALE_ATTEMPT",
      ]);
      await expect(complete(backend, sa, 1, 5)).rejects.toMatchObject({ code: "STALE_ATTEMPT" });
      expect(await backend.getStepState(WF, sa.runId, "a")).toMatchObject({ output: "1" });
      expect(await backend.getStepState(WF, sb.runId, "b")).toMatchObject({ output: "2" });
    });

    it("returns [] for an empty batch and stores outputs as saveStepComplete does (NUL characters, unserializable values)", async () => {
      const { backend } = t;
      expect(await backend.saveStepCompletes([])).toEqual([]);
      const { runId, steps } = await runWithSteps(backend, ["nul", "big", "plain"]);
      for (const ref of steps) await claim(backend, ref);
      const outcomes = await backend.saveStepCompletes([
        item(backend, steps[0]!, 1, "a\u0000b"),
        item(backend, steps[1]!, 1, { n: 10n }),
        item(backend, steps[2]!, 1, "x"),
      ]);
      expect(codes(outcomes)).toEqual(["ok", "ok", "ok"]);
      expect((await backend.getStepState(WF, runId, "nul"))?.output).toBe(JSON.stringify("a\u0000b"));
      expect(JSON.parse((await backend.getStepState(WF, runId, "big"))?.output ?? "null")).toBeTypeOf("object");
      await expectProjected(backend, steps);
    });

    it("completes each step exactly once when concurrent batches race over the same steps", async () => {
      const { backend } = t;
      const refs: StepRef[] = [];
      for (let r = 0; r < 4; r++) refs.push(...(await runWithSteps(backend, ["p", "q", "r"])).steps);
      for (const ref of refs) await claim(backend, ref, "w1");
      const batch = (tag: string) => refs.map((ref) => item(backend, ref, 1, { tag, step: ref.stepId }));
      const results = await Promise.all([
        backend.saveStepCompletes(batch("x")),
        backend.saveStepCompletes([...batch("y")].reverse()),
        backend.saveStepCompletes(batch("z")),
      ]);
      const oks = results.flatMap((r) => r.filter((o) => o.ok)).length;
      expect(oks, "one success per step across the racing batches").toBe(refs.length);
      for (const r of results) for (const o of r) if (!o.ok) expect(o.error.code).toBe("STALE_ATTEMPT");
      for (const ref of refs)
        expect(await countEvents(backend, ref, "StepCompleted"), `completions of ${ref.runId}/${ref.stepId}`).toBe(1);
      await expectProjected(backend, refs);
    });
  });
}
