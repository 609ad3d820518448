import { describe, expect, it } from "vitest";
import type { Backend, StepRef } from "@cairn/backend-interface";
import type { ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF, claim, complete, eventsOf, failAndRetry, runWithSteps } from "./support/scenario.js";

/** A step whose attempt 1 (worker w-old) was reclaimed and whose attempt 2 is now running on w-new. */
async function supersededStep(backend: Backend, advanceMs: (ms: number) => void): Promise<StepRef> {
  const {
    steps: [ref],
  } = await runWithSteps(backend, ["s"]);
  await claim(backend, ref!, "w-old");
  advanceMs(120_000);
  expect(await backend.reclaimStaleSteps(60_000, "reaper")).toHaveLength(1);
  expect(await claim(backend, ref!, "w-new")).toBe(2);
  return ref!;
}

/** Fencing: writes of an attempt that is not the step's current running attempt are refused with typed errors. */
export function fencingTests(h: ConformanceHarness): void {
  describe("fencing", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF] });

    it("rejects heartbeats, completions, failures, retries and checkpoints of a superseded attempt or another worker with STALE_ATTEMPT, writing nothing", async () => {
      const { backend, clock } = t;
      const ref = await supersededStep(backend, (ms) => clock.advanceMs(ms));
      const { runId, stepId } = ref;
      const before = await eventsOf(backend, WF, runId);
      const now = clock.nowUs();
      const stale: Array<[string, () => Promise<unknown>]> = [
        ["heartbeat of attempt 1", () => backend.saveStepHeartbeat(WF, runId, stepId, "w-old", 1)],
        ["heartbeat of attempt 2 by another worker", () => backend.saveStepHeartbeat(WF, runId, stepId, "w-old", 2)],
        ["heartbeat of a future attempt", () => backend.saveStepHeartbeat(WF, runId, stepId, "w-new", 3)],
        ["completion of attempt 1", () => complete(backend, ref, 1, "zombie output")],
        [
          "failure of attempt 1",
          () =>
            backend.saveStepFailed(
              WF,
              runId,
              stepId,
              { message: "zombie" },
              { duration: 1, attemptNumber: 1, terminal: true, failureReason: "execution-error" },
            ),
        ],
        ["fail-and-retry of attempt 1", () => failAndRetry(backend, ref, 1)],
        [
          "checkpoint of attempt 1",
          () =>
            backend.saveStepCheckpoint(WF, runId, stepId, { name: "c", sequenceNumber: 0, attemptNumber: 1, data: 1 }),
        ],
        ["heartbeat of an unknown step", () => backend.saveStepHeartbeat(WF, runId, "ghost", "w-new", 1)],
        [
          "completion of an unknown run",
          () =>
            backend.saveStepComplete(WF, "run-ghost", stepId, 1, {
              timestamp: now,
              duration: 1,
              attemptNumber: 1,
              output: 1,
            }),
        ],
      ];
      for (const [label, call] of stale) {
        const err = await expectCode(call(), "STALE_ATTEMPT", label);
        expect(err.message.length).toBeGreaterThan(0);
      }
      expect(await eventsOf(backend, WF, runId)).toEqual(before);
      const state = await backend.getStepState(WF, runId, stepId);
      expect(state).toMatchObject({ status: "running", attemptNumber: 2, claimedBy: "w-new" });
      expect(state?.output).toBeUndefined();
    });

    it("accepts the current attempt's heartbeat (refreshing lastHeartbeat) and completion, and fences everything after completion", async () => {
      const { backend, clock } = t;
      const ref = await supersededStep(backend, (ms) => clock.advanceMs(ms));
      clock.advanceMs(10);
      await backend.saveStepHeartbeat(WF, ref.runId, ref.stepId, "w-new", 2);
      expect((await backend.getStepState(WF, ref.runId, ref.stepId))?.lastHeartbeatUs).toBe(clock.nowUs());
      await complete(backend, ref, 2, { final: true });
      expect(await backend.getStepState(WF, ref.runId, ref.stepId)).toMatchObject({
        status: "completed",
        attemptNumber: 2,
        output: JSON.stringify({ final: true }),
      });
      await expectCode(
        backend.saveStepHeartbeat(WF, ref.runId, ref.stepId, "w-new", 2),
        "STALE_ATTEMPT",
        "heartbeat after completion",
      );
      await expectCode(complete(backend, ref, 2, "twice"), "STALE_ATTEMPT", "second completion");
      await expectCode(
        backend.saveStepFailed(
          WF,
          ref.runId,
          ref.stepId,
          { message: "late" },
          { duration: 1, attemptNumber: 2, terminal: true, failureReason: "execution-error" },
        ),
        "STALE_ATTEMPT",
        "failure after completion",
      );
      expect(
        (await backend.loadEvents(WF, ref.runId, { category: "step" })).filter((e) => e.type === "StepCompleted"),
      ).toHaveLength(1);
    });

    it("rejects a heartbeat on a cancelled run with RUN_TERMINAL", async () => {
      const { backend } = t;
      const {
        steps: [ref],
      } = await runWithSteps(backend, ["s"]);
      const attempt = await claim(backend, ref!, "w1");
      await backend.saveStepHeartbeat(WF, ref!.runId, "s", "w1", attempt);
      await backend.cancelRun(ref!.runId, "user asked");
      await expectCode(backend.saveStepHeartbeat(WF, ref!.runId, "s", "w1", attempt), "RUN_TERMINAL");
      expect(
        (await backend.loadEvents(WF, ref!.runId, { category: "step" })).filter((e) => e.type === "StepHeartbeat"),
      ).toHaveLength(1);
    });
  });

  describe("fail and retry", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF] });

    it("writes StepFailed (non-terminal), StepRetrying and StepScheduled attempt n+1 together, in order", async () => {
      const { backend, clock } = t;
      const {
        steps: [ref],
      } = await runWithSteps(backend, ["s"], { priority: 7 });
      const attempt = await claim(backend, ref!);
      const before = (await eventsOf(backend, WF, ref!.runId)).length;
      const retryAt = clock.nowUs() + 2_000_000;
      await backend.saveStepFailedAndScheduleRetry(
        WF,
        ref!.runId,
        "s",
        { name: "Error", message: "flaky", stack: "Error: flaky\n    at x (/a.js:1:1)" },
        { duration: 10, attemptNumber: attempt, nextRetryAt: retryAt, failureReason: "execution-error" },
        { availableAt: retryAt, nextAttemptNumber: attempt + 1, retryDelayMs: 2000, maxRetries: 3 },
      );
      const added = (await eventsOf(backend, WF, ref!.runId)).slice(before);
      expect(added.map((e) => e.type)).toEqual(["StepFailed", "StepRetrying", "StepScheduled"]);
      expect(added[0]).toMatchObject({
        terminal: false,
        attemptNumber: 1,
        failureReason: "execution-error",
        error: { message: "flaky" },
      });
      expect(added[1]).toMatchObject({ attemptNumber: 1, nextAttempt: 2 });
      expect(added[2]).toMatchObject({ attemptNumber: 2, reason: "retry", availableAtUs: retryAt, priority: 7 });
      expect(await backend.getStepState(WF, ref!.runId, "s")).toMatchObject({
        status: "scheduled",
        attemptNumber: 2,
        availableAtUs: retryAt,
      });
      expect(await backend.isStepClaimable(WF, ref!.runId, "s")).toBe(false);
      clock.advanceMs(2000);
      expect(await claim(backend, ref!, "w2")).toBe(2);
    });

    it("is fenced and all-or-nothing: of concurrent duplicate calls exactly one writes its three events, the rest get STALE_ATTEMPT", async () => {
      const { backend } = t;
      const {
        steps: [ref],
      } = await runWithSteps(backend, ["s"]);
      const attempt = await claim(backend, ref!);
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => failAndRetry(backend, ref!, attempt)));
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      for (const r of results)
        if (r.status === "rejected") expect((r.reason as { code?: string }).code).toBe("STALE_ATTEMPT");
      const types = (await backend.loadEvents(WF, ref!.runId, { category: "step" })).map((e) => e.type);
      expect(types).toEqual(["StepScheduled", "StepStarted", "StepFailed", "StepRetrying", "StepScheduled"]);
      await expectCode(
        failAndRetry(backend, ref!, attempt),
        "STALE_ATTEMPT",
        "retry of a step that is already rescheduled",
      );
      expect((await backend.loadEvents(WF, ref!.runId, { category: "step" })).length).toBe(5);
    });
  });
}
