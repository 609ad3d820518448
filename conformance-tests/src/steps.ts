import { describe, expect, it } from "vitest";
import type { ConformanceHarness } from "./support/harness.js";
import { resolveCapabilities } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { WF, claim, complete, failAndRetry, failTerminally, runWithSteps } from "./support/scenario.js";

/** Step-level reads: logs, failed steps, the projection batch read; and declared capabilities. */
export function stepTests(h: ConformanceHarness): void {
  describe("step reads", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF] });

    it("loadStepLogs returns a step's lines per attempt or all, in order, or null when there are none", async () => {
      const { backend, clock } = t;
      const {
        runId,
        steps: [ref],
      } = await runWithSteps(backend, ["s", "quiet"]);
      expect(await backend.loadStepLogs(WF, runId, "s")).toBeNull();
      const a1 = await claim(backend, ref!);
      const ts = clock.nowUs();
      await backend.saveStepLogs(WF, runId, "s", [
        { timestampUs: ts, stream: "stdout", message: "one", attemptNumber: a1 },
        { timestampUs: ts, stream: "stderr", message: "two", attemptNumber: a1 },
      ]);
      await failAndRetry(backend, ref!, a1);
      const a2 = await claim(backend, ref!);
      await backend.saveStepComplete(WF, runId, "s", 1, {
        timestamp: ts,
        duration: 1,
        attemptNumber: a2,
        output: 1,
        logs: [{ timestampUs: ts, stream: "stdout", message: "three", attemptNumber: a2 }],
      });
      const all = await backend.loadStepLogs(WF, runId, "s");
      expect(all?.map((l) => [l.message, l.stream, l.attemptNumber])).toEqual([
        ["one", "stdout", 1],
        ["two", "stderr", 1],
        ["three", "stdout", 2],
      ]);
      expect((await backend.loadStepLogs(WF, runId, "s", 2))?.map((l) => l.message)).toEqual(["three"]);
      expect(await backend.loadStepLogs(WF, runId, "s", 3)).toBeNull();
      expect(await backend.loadStepLogs(WF, runId, "quiet")).toBeNull();
      const completed = (await backend.loadEvents(WF, runId, { category: "step", stepId: "s" }))
        .slice(-2)
        .map((e) => e.type);
      expect(completed).toEqual(["LogEntry", "StepCompleted"]);
    });

    it("getFailedSteps lists terminal failures only, with their last error", async () => {
      const { backend } = t;
      const {
        runId,
        steps: [bad, retried, good],
      } = await runWithSteps(backend, ["bad", "retried", "good"]);
      await failTerminally(backend, bad!, await claim(backend, bad!), "kaput");
      await failAndRetry(backend, retried!, await claim(backend, retried!));
      await complete(backend, good!, await claim(backend, good!));
      const failed = await backend.getFailedSteps(WF, runId);
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({
        stepId: "bad",
        attemptNumber: 1,
        error: { name: "TypeError", message: "kaput" },
      });
      expect(await backend.getFailedSteps(WF, "run-none")).toEqual([]);
    });

    it("a log line keeps the time the step emitted it, apart from when its batch was stored, and its progress", async () => {
      const { backend, clock } = t;
      const {
        runId,
        steps: [ref],
      } = await runWithSteps(backend, ["s"]);
      const att = await claim(backend, ref!);
      const storedAt = clock.nowUs();
      const lines = [
        { timestampUs: storedAt - 3000, stream: "stdout" as const, message: "first", attemptNumber: att },
        {
          timestampUs: storedAt - 1000,
          stream: "stdout" as const,
          message: "[progress] 50%",
          attemptNumber: att,
          progress: { fraction: 0.5, message: "half" },
        },
      ];
      await backend.saveStepLogs(WF, runId, "s", lines);
      expect(await backend.loadStepLogs(WF, runId, "s")).toEqual(lines);
      const events = (await backend.loadEvents(WF, runId, { category: "step", stepId: "s" })).filter(
        (e) => e.type === "LogEntry",
      );
      expect(events.map((e) => [e.timestampUs, e.type === "LogEntry" && e.emittedAtUs])).toEqual([
        [storedAt, storedAt - 3000],
        [storedAt, storedAt - 1000],
      ]);
    });

    it("loadStepEventsForProjection groups step events by step, without heartbeats, logs and retry notices", async () => {
      const { backend } = t;
      const {
        runId,
        steps: [a, b],
      } = await runWithSteps(backend, ["a", "b/c"]);
      const att = await claim(backend, a!, "w1");
      await backend.saveStepHeartbeat(WF, runId, "a", "w1", att);
      await backend.saveStepLogs(WF, runId, "a", [
        { timestampUs: 0, stream: "stdout", message: "x", attemptNumber: att },
      ]);
      await failAndRetry(backend, a!, att);
      await complete(backend, b!, await claim(backend, b!));
      const grouped = await backend.loadStepEventsForProjection(WF, runId);
      const all = await backend.loadEvents(WF, runId, { category: "step" });
      expect([...grouped.keys()].sort()).toEqual(["a", "b/c"]);
      for (const id of ["a", "b/c"]) {
        expect(grouped.get(id)).toEqual(
          all.filter((e) => e.stepId === id && !["StepHeartbeat", "LogEntry", "StepRetrying"].includes(e.type)),
        );
      }
      expect(grouped.get("a")!.map((e) => e.type)).toEqual([
        "StepScheduled",
        "StepStarted",
        "StepFailed",
        "StepScheduled",
      ]);
      expect((await backend.loadStepEventsForProjection(WF, "run-none")).size).toBe(0);
    });

    it("scheduleStep writes attempt 1 once, attempt n+1 only after attempt n ended without a result, and never in an ended run", async () => {
      const { backend, clock } = t;
      const {
        runId,
        steps: [ref],
      } = await runWithSteps(backend, ["s"]);
      const sched = (stepId: string, attemptNumber: number) =>
        backend.scheduleStep(WF, runId, stepId, {
          availableAt: clock.nowUs(),
          reason: attemptNumber > 1 ? "retry" : "initial",
          attemptNumber,
        });
      expect(await sched("s", 1), "duplicate attempt 1").toBe(false);
      expect(await sched("s", 3), "skipping an attempt").toBe(false);
      const a = await claim(backend, ref!);
      await backend.saveStepFailed(
        WF,
        runId,
        "s",
        { message: "retry me" },
        {
          duration: 1,
          attemptNumber: a,
          terminal: false,
          failureReason: "execution-error",
          nextRetryAt: clock.nowUs(),
        },
      );
      expect(await sched("s", 2), "the retry after a non-terminal failure").toBe(true);
      expect(await sched("s", 2), "the same retry twice").toBe(false);
      expect(await claim(backend, ref!, "w2")).toBe(2);
      await complete(backend, ref!, 2);
      expect(await sched("s", 3), "over a result").toBe(false);
      expect(
        (await backend.loadEvents(WF, runId, { category: "step" })).filter((e) => e.type === "StepScheduled"),
      ).toHaveLength(2);
      await backend.cancelRun(runId);
      expect(await sched("fresh", 1), "in a cancelled run").toBe(false);
    });

    it("subscribe: drivers with notifications wake listeners when a step becomes ready; the others return an unsubscribe function", async () => {
      const { backend } = t;
      let calls = 0;
      const unsubscribe = backend.subscribe(() => {
        calls++;
      });
      expect(typeof unsubscribe).toBe("function");
      if (backend.capabilities.notifications) {
        await new Promise((r) => setTimeout(r, 200));
        await runWithSteps(backend, ["wake"]);
        const deadline = Date.now() + 10_000;
        while (calls === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        expect(calls, "a wake-up within 10 s").toBeGreaterThan(0);
      }
      unsubscribe();
    });

    it("reports the capabilities the harness declares", () => {
      const caps = t.backend.capabilities;
      expect(typeof caps.notifications).toBe("boolean");
      expect(typeof caps.batchClaim).toBe("boolean");
      if (h.capabilities?.multiProcess !== undefined)
        expect(caps.multiProcess).toBe(resolveCapabilities(h).multiProcess);
    });
  });
}
