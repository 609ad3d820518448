import { describe, expect, it } from "vitest";
import {
  foldRun,
  foldWithFollowUp,
  foldWithFollowUpAsync,
  withFollowUp,
  type FollowUp,
  type GateQuery,
  type GateView,
} from "../src/index.js";
import { run, step, stepEv } from "./support/events.js";

/** A follow-up like the engine's: once s1 completed, schedule s2; once s2 completed, complete the run. */
const advance: FollowUp = (r, steps) => {
  if (!r || r.status !== "running") return [];
  if (steps.get("s1")?.status === "completed" && !steps.has("s2"))
    return [stepEv("StepScheduled", 40, { stepId: "s2", availableAtUs: 40, reason: "initial", attemptNumber: 1 })];
  if (steps.get("s2")?.status === "completed") return [run.completed(60)];
  return [];
};

describe("foldWithFollowUp", () => {
  const before = foldRun(null, new Map(), [
    run.submitted(1),
    run.started(2),
    step.scheduled(3, 1),
    step.started(4, 1, "w1"),
  ]);

  it("returns withFollowUp's events and the state foldRun gives after all of them", () => {
    const written = [step.completed(30, 1)];
    const folded = foldWithFollowUp(before.run, before.steps, written, advance);
    const events = withFollowUp(before.run, before.steps, written, advance);
    const withoutIds = (evs: readonly object[]) => evs.map(({ eventId: _, ...rest }: { eventId?: string }) => rest);
    expect(withoutIds(folded.events)).toEqual(withoutIds(events)); // the follow-up mints a new event id per call
    expect(folded.events.map((e) => e.type)).toEqual(["StepCompleted", "StepScheduled"]);
    const reference = foldRun(before.run, before.steps, events);
    expect(folded.run).toEqual(reference.run);
    expect(folded.steps).toEqual(reference.steps);
    expect(folded.gateQuery).toBeNull();
    expect(before.steps.has("s2")).toBe(false); // the input states are not changed
  });

  it("folds a follow-up that ends the run", () => {
    const mid = foldWithFollowUp(before.run, before.steps, [step.completed(30, 1)], advance);
    const started = foldRun(mid.run, mid.steps, [
      stepEv("StepStarted", 45, { stepId: "s2", workerId: "w1", dependencies: ["s1"], attemptNumber: 1 }),
    ]);
    const done = foldWithFollowUp(
      started.run,
      started.steps,
      [
        stepEv("StepCompleted", 50, {
          stepId: "s2",
          output: '"ok"',
          durationUs: 5,
          attemptNumber: 1,
          exportOutput: false,
        }),
      ],
      advance,
    );
    expect(done.events.map((e) => e.type)).toEqual(["StepCompleted", "WorkflowCompleted"]);
    expect(done.run?.status).toBe("completed");
    expect(done.steps.get("s2")?.status).toBe("completed");
  });

  it("does not apply a follow-up that asks for a gate count without a way to count it, and says which gate", () => {
    const query: GateQuery = { workflowSlug: "wf", flowKey: "k", versionId: "v1" } as unknown as GateQuery;
    const seen: Array<GateView | undefined> = [];
    const gated: FollowUp = Object.assign(
      (r: unknown, s: unknown, gate?: GateView) => {
        seen.push(gate);
        return [];
      },
      { gateQuery: () => query },
    );
    const written = [step.completed(30, 1)];
    const folded = foldWithFollowUp(before.run, before.steps, written, gated);
    expect(folded.gateQuery).toBe(query);
    expect(folded.events).toEqual(written);
    expect(seen).toEqual([]);
    const view = { running: 0 } as unknown as GateView;
    const counted = foldWithFollowUp(before.run, before.steps, written, gated, () => view);
    expect(counted.gateQuery).toBe(query);
    expect(seen).toEqual([view]);
  });

  it("async: counts the gate the follow-up asks for with the awaited reader, then folds the follow-up", async () => {
    const query = { workflowSlug: "wf", flowKey: "k", versionId: "v1" } as unknown as GateQuery;
    const view = { running: 0 } as unknown as GateView;
    const seen: Array<GateView | undefined> = [];
    const gated: FollowUp = Object.assign(
      (r: Parameters<FollowUp>[0], s: Parameters<FollowUp>[1], gate?: GateView) => {
        seen.push(gate);
        return advance(r, s);
      },
      { gateQuery: () => query },
    );
    const asked: GateQuery[] = [];
    const written = [step.completed(30, 1)];
    const folded = await foldWithFollowUpAsync(before.run, before.steps, written, gated, async (q) => {
      asked.push(q);
      return view;
    });
    expect(asked).toEqual([query]);
    expect(seen).toEqual([view]);
    expect(folded.events.map((e) => e.type)).toEqual(["StepCompleted", "StepScheduled"]);
    expect(folded.steps).toEqual(foldRun(before.run, before.steps, folded.events).steps);
    expect(folded.gateQuery).toBe(query);
  });
});
