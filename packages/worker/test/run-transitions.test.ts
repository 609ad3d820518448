import { describe, expect, it } from "vitest";
import type { Event } from "@cairn/backend-interface";
import { makeStepContext } from "../src/step-context.js";
import { cancelOwner, isFirstStart, runEndedBy } from "../src/run-transitions.js";
import { WorkerServices } from "../src/worker-services.js";

/** A run's log in short form: only the fields the transition rules read. */
const log = (...events: Array<Record<string, unknown>>): Event[] =>
  events.map((e) => ({ category: "stepId" in e ? "step" : "workflow", ...e }) as unknown as Event);

describe("which write made a run's transition (pure)", () => {
  it("the run's end belongs to the write whose step event it follows, across schedules and cascade skips", () => {
    const events = log(
      { type: "StepCompleted", stepId: "a", attemptNumber: 1 },
      { type: "StepCompleted", stepId: "b", attemptNumber: 2 },
      { type: "StepSkipped", stepId: "c", skipType: "cascade", attemptNumber: 0 },
      { type: "WorkflowCompleted", output: "{}" },
    );
    expect(runEndedBy(events, { type: "StepCompleted", stepId: "b", attemptNumber: 2 })?.type).toBe(
      "WorkflowCompleted",
    );
    expect(runEndedBy(events, { type: "StepCompleted", stepId: "a", attemptNumber: 1 })).toBeNull();
    expect(runEndedBy(events, { type: "StepCompleted", stepId: "b", attemptNumber: 1 })).toBeNull();
  });

  it("a reclaim that spends the budget ends the run for the reclaimer that wrote it, not another", () => {
    const events = log(
      { type: "StepReclaimed", stepId: "a", attemptNumber: 3, reclaimedBy: "w1" },
      { type: "StepFailed", stepId: "a", attemptNumber: 3, terminal: true },
      { type: "WorkflowFailed", failureReason: "worker-crash" },
    );
    expect(runEndedBy(events, { type: "StepReclaimed", stepId: "a", attemptNumber: 3, reclaimedBy: "w1" })?.type).toBe(
      "WorkflowFailed",
    );
    expect(runEndedBy(events, { type: "StepReclaimed", stepId: "a", attemptNumber: 3, reclaimedBy: "w2" })).toBeNull();
  });

  it("onStart belongs to the first step started since the latest start (a retried run starts again)", () => {
    const events = log(
      { type: "WorkflowStarted" },
      { type: "StepStarted", stepId: "b", attemptNumber: 1 },
      { type: "StepStarted", stepId: "a", attemptNumber: 1 },
    );
    expect(isFirstStart(events, "b", 1)).toBe(true);
    expect(isFirstStart(events, "a", 1)).toBe(false);
    const retried = [
      ...events,
      ...log({ type: "WorkflowStarted" }, { type: "StepStarted", stepId: "a", attemptNumber: 2 }),
    ];
    expect(isFirstStart(retried, "a", 2)).toBe(true);
    expect(isFirstStart(retried, "b", 1)).toBe(false);
  });

  it("onCancel belongs to the lowest-id step running at the cancel; none when nothing ran", () => {
    const events = log(
      { type: "StepStarted", stepId: "z", attemptNumber: 1 },
      { type: "StepStarted", stepId: "m", attemptNumber: 2 },
      { type: "StepStarted", stepId: "a", attemptNumber: 1 },
      { type: "StepCompleted", stepId: "a", attemptNumber: 1 },
      { type: "WorkflowCancelled" },
      { type: "StepFailed", stepId: "m", attemptNumber: 2 },
    );
    expect(cancelOwner(events)).toEqual({ stepId: "m", attemptNumber: 2 });
    expect(cancelOwner(log({ type: "WorkflowCancelled" }))).toBeNull();
    expect(cancelOwner(log({ type: "StepStarted", stepId: "a", attemptNumber: 1 }))).toBeNull();
  });
});

describe("services", () => {
  it("a workflow's service hides the worker's of the same name; each is created once, on first read, and disposed last-first", async () => {
    const trail: string[] = [];
    const services = new WorkerServices({
      db: () => ({ name: "global db", close: () => void trail.push("close global db") }),
      cache: {
        create: () => {
          trail.push("create cache");
          return "cache";
        },
        dispose: (v) => void trail.push(`dispose ${v}`),
      },
    });
    const a = services.view("a", {
      db: async () => ({ name: "a's db", [Symbol.asyncDispose]: async () => void trail.push("dispose a's db") }),
    });
    const b = services.view("b");
    expect(Object.keys(a).sort()).toEqual(["cache", "db"]);
    expect(trail).toEqual([]);
    expect((await a.db) as { name: string }).toMatchObject({ name: "a's db" });
    expect(b.db).toMatchObject({ name: "global db" });
    expect(a.cache).toBe("cache");
    expect(b.cache).toBe("cache");
    expect(trail).toEqual(["create cache"]);
    expect(() => a.nope).toThrow(
      expect.objectContaining({
        code: "CONFIG_ERROR",
        message: expect.stringMatching(/no service "nope".*known: db, cache/),
      }),
    );
    await services.dispose(() => {});
    expect(trail).toEqual(["create cache", "dispose cache", "close global db", "dispose a's db"]);
  });

  it("a step without services (a step process) and its env: reads say why; env is a frozen copy", () => {
    const io = {
      log: () => {},
      progress: () => {},
      saveCheckpoint: async () => {},
      saveCheckpointFailed: async () => {},
      call: () => {},
      increment: () => {},
      link: () => {},
      child: async () => {},
    };
    const ctx = makeStepContext({
      workflowSlug: "w",
      runId: "r",
      stepId: "s",
      attempt: 1,
      input: {},
      deps: {},
      signal: new AbortController().signal,
      checkpoints: [],
      io,
      env: { A: "1" },
    });
    expect(() => ctx.services.db).toThrow(/not available in a step process/);
    expect(ctx.env).toEqual({ A: "1" });
    expect(Object.isFrozen(ctx.env)).toBe(true);
  });
});
