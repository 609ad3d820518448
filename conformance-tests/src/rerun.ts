import { describe, expect, it } from "vitest";
import type { Backend, ManualClock } from "@cairn/backend-interface";
import type { ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF, claim, complete, eventsOf, schedule, submit } from "./support/scenario.js";

/** a → b → c, a → d, e (skipped, independent). */
const DEFS = [
  { id: "a", name: "a" },
  { id: "b", name: "b", dependencies: ["a"] },
  { id: "c", name: "c", dependencies: ["b"] },
  { id: "d", name: "d", dependencies: ["a"], exportOutput: true },
  { id: "e", name: "e" },
];

async function finishedParent(backend: Backend, clock: ManualClock): Promise<string> {
  await backend.registerWorkflow({ slug: WF, name: "dag", steps: DEFS });
  const runId = await submit(backend, { input: { original: true } });
  const steps = await schedule(backend, WF, runId, ["a", "b", "c", "d", "e"]);
  for (const ref of steps) {
    clock.advanceMs(1);
    if (ref.stepId === "e") {
      await backend.saveStepSkipped(WF, runId, "e", {
        skipType: "primary",
        reason: "condition false",
        duration: 0,
        attemptNumber: 1,
      });
      continue;
    }
    await complete(backend, ref, await claim(backend, ref), { from: ref.stepId, unicode: "ü→✓" }, ref.stepId === "d");
  }
  await backend.saveWorkflowComplete(
    WF,
    runId,
    { d: { from: "d" } },
    { workflowAttemptNumber: 1, timestamp: 0, duration: 9, totalSteps: 5 },
  );
  return runId;
}

/** rerunFrom: kept results, own submission, parent untouched. */
export function rerunTests(h: ConformanceHarness): void {
  describe("rerunFrom", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF] });

    it("keeps results outside fromStep and its transitive dependents verbatim (copiedFromRunId), starts pending with its own createdAt and the parent's input", async () => {
      const { backend, clock } = t;
      const parentId = await finishedParent(backend, clock);
      const parentEvents = await eventsOf(backend, WF, parentId);
      const parentRun = await backend.getRun(parentId);
      clock.advanceMs(1000);
      const { runId, rerunStepIds } = await backend.rerunFrom({ parentRunId: parentId, fromStepId: "b" });
      expect(runId).not.toBe(parentId);
      expect([...rerunStepIds].sort()).toEqual(["b", "c"]);
      const child = await backend.getRun(runId);
      expect(child).toMatchObject({
        status: "pending",
        createdAtUs: clock.nowUs(),
        parentRunId: parentId,
        rerunFromStepId: "b",
        workflowSlug: WF,
      });
      expect(child?.input).toBe(JSON.stringify({ original: true }));
      expect(child?.createdAtUs).not.toBe(parentRun?.createdAtUs);
      const steps = new Map((await backend.loadRun(WF, runId)).map((s) => [s.stepId, s]));
      const parentSteps = new Map((await backend.loadRun(WF, parentId)).map((s) => [s.stepId, s]));
      for (const id of ["a", "d"]) {
        expect(steps.get(id)).toMatchObject({
          status: "completed",
          output: parentSteps.get(id)!.output,
          exportOutput: id === "d",
        });
        expect(JSON.parse(steps.get(id)!.output!)).toEqual({ from: id, unicode: "ü→✓" });
      }
      expect(steps.get("e")).toMatchObject({ status: "skipped" });
      for (const id of ["b", "c"]) expect(["pending", undefined]).toContain(steps.get(id)?.status);
      const copied = (await backend.loadEvents(WF, runId, { category: "step" })).filter(
        (e) => e.type === "StepCompleted" || e.type === "StepSkipped",
      );
      expect(copied.map((e) => e.stepId).sort()).toEqual(["a", "d", "e"]);
      for (const e of copied) expect(e).toMatchObject({ copiedFromRunId: parentId });
      const wf = await backend.loadEvents(WF, runId, { category: "workflow" });
      expect(wf.map((e) => e.type)).toEqual(["RunSubmitted", "WorkflowRerunFromStep"]);
      expect(await eventsOf(backend, WF, parentId)).toEqual(parentEvents);
      expect(await backend.getRun(parentId)).toEqual(parentRun);
      expect((await backend.listRuns({ status: ["pending"] })).map((r) => r.runId)).toEqual([runId]);
    });

    it("uses the input override and a given run id; rerunning from the root keeps nothing but independent steps", async () => {
      const { backend, clock } = t;
      const parentId = await finishedParent(backend, clock);
      const { runId, rerunStepIds } = await backend.rerunFrom({
        parentRunId: parentId,
        fromStepId: "a",
        input: { fresh: [1, 2] },
        runId: "run-child",
      });
      expect(runId).toBe("run-child");
      expect([...rerunStepIds].sort()).toEqual(["a", "b", "c", "d"]);
      expect(JSON.parse((await backend.getRun("run-child"))!.input!)).toEqual({ fresh: [1, 2] });
      const kept = (await backend.loadRun(WF, "run-child"))
        .filter((s) => s.status === "completed" || s.status === "skipped")
        .map((s) => s.stepId);
      expect(kept).toEqual(["e"]);
    });

    it("rejects an unknown step with STEP_NOT_FOUND and an unknown parent with RUN_NOT_FOUND, creating no run", async () => {
      const { backend, clock } = t;
      const parentId = await finishedParent(backend, clock);
      await expectCode(backend.rerunFrom({ parentRunId: parentId, fromStepId: "zzz" }), "STEP_NOT_FOUND");
      await expectCode(backend.rerunFrom({ parentRunId: "run-nope", fromStepId: "a" }), "RUN_NOT_FOUND");
      expect((await backend.listRuns()).map((r) => r.runId)).toEqual([parentId]);
    });
  });
}
