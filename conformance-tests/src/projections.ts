import { describe, expect, it } from "vitest";
import {
  projectRunState,
  projectStepState,
  type Backend,
  type Event,
  type ManualClock,
} from "@cairn/backend-interface";
import type { ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import {
  WF,
  byStepId,
  claim,
  complete,
  failAndRetry,
  failTerminally,
  runWithSteps,
  schedule,
  submit,
} from "./support/scenario.js";

/** Asserts that every query about the run equals the projection of the driver's own events. */
async function expectAgreement(backend: Backend, workflowSlug: string, runId: string): Promise<void> {
  const events = await backend.loadEvents(workflowSlug, runId);
  const projectedRun = projectRunState(events.flatMap((e) => (e.category === "workflow" ? [e] : [])));
  expect(projectedRun, "a run with events projects to a state").not.toBeNull();
  expect(await backend.getRun(runId), "getRun").toEqual(projectedRun);
  const listed = (await backend.listRuns({ workflowSlug })).find((r) => r.runId === runId);
  expect(listed, "listRuns").toEqual(projectedRun);
  const stepIds = [...new Set(events.flatMap((e) => (e.category === "step" ? [e.stepId] : [])))].sort();
  const projectedSteps = stepIds.map((id) =>
    projectStepState(events.flatMap((e) => (e.category === "step" && e.stepId === id ? [e] : [])))!,
  );
  expect(byStepId(await backend.loadRun(workflowSlug, runId)), "loadRun").toEqual(projectedSteps);
  for (const s of projectedSteps)
    expect(await backend.getStepState(workflowSlug, runId, s.stepId), `getStepState(${s.stepId})`).toEqual(s);
  const grouped = await backend.loadStepEventsForProjection(workflowSlug, runId);
  expect([...grouped.keys()].sort(), "loadStepEventsForProjection keys").toEqual(
    stepIds.filter((id) =>
      events.some(
        (e) =>
          e.category === "step" && e.stepId === id && !["StepHeartbeat", "LogEntry", "StepRetrying"].includes(e.type),
      ),
    ),
  );
}

const wfMeta = { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: true };

/** Scenarios: each builds a run through the public API. */
const scenarios: Array<[string, (b: Backend, c: ManualClock) => Promise<string>]> = [
  [
    "a fresh submission with tags and metadata",
    async (b) => submit(b, { tags: ["t1", "t2"], input: { x: [1, 2] }, priority: 3 }),
  ],
  [
    "a completed run: every step completed, some exported, with logs and heartbeats",
    async (b, c) => {
      const { runId, steps } = await runWithSteps(b, ["extract", "transform/inner", "load"]);
      await b.startRun(WF, runId, wfMeta);
      for (const ref of steps) {
        const a = await claim(b, ref, "w1");
        c.advanceMs(3);
        await b.saveStepHeartbeat(WF, runId, ref.stepId, "w1", a, { resourceSnapshot: { memoryBytes: 1024 } });
        await b.saveStepLogs(WF, runId, ref.stepId, [
          { timestampUs: c.nowUs(), stream: "stdout", message: `log ${ref.stepId}`, attemptNumber: a },
        ]);
        c.advanceMs(5);
        await complete(b, ref, a, { step: ref.stepId }, ref.stepId === "load");
      }
      await b.saveWorkflowComplete(
        WF,
        runId,
        { load: { step: "load" } },
        { workflowAttemptNumber: 1, timestamp: c.nowUs(), duration: 40, totalSteps: 3 },
      );
      return runId;
    },
  ],
  [
    "a failed run with retries, a stale completion, reclaim and a cascade skip",
    async (b, c) => {
      const {
        runId,
        steps: [flaky, dead, after],
      } = await runWithSteps(b, ["flaky", "dead", "after"]);
      await b.startRun(WF, runId, wfMeta);
      await failAndRetry(b, flaky!, await claim(b, flaky!, "w1"));
      await claim(b, flaky!, "w2");
      await claim(b, dead!, "w3");
      c.advanceMs(120_000);
      await b.reclaimStaleSteps(60_000, "reaper");
      await b
        .saveStepComplete(WF, runId, "flaky", "late", { timestamp: 0, duration: 1, attemptNumber: 1, output: "late" })
        .catch(() => undefined);
      await failTerminally(b, flaky!, await claim(b, flaky!, "w4"));
      await b.saveStepSkipped(WF, runId, after!.stepId, {
        skipType: "cascade",
        reason: "dependency failed",
        duration: 0,
        attemptNumber: 1,
        cascadedFrom: "flaky",
      });
      await b.saveWorkflowFailed(
        WF,
        runId,
        { name: "StepError", message: "flaky failed" },
        { workflowAttemptNumber: 1, duration: 99, completedSteps: 0, failedStep: "flaky" },
        "step-failed",
      );
      return runId;
    },
  ],
  [
    "a cancelled run with a running step and a late heartbeat",
    async (b, c) => {
      const {
        runId,
        steps: [s],
      } = await runWithSteps(b, ["s", "t"]);
      await b.startRun(WF, runId, wfMeta);
      const a = await claim(b, s!, "w1");
      c.advanceMs(1);
      await b.cancelRun(runId, "stop");
      await b.saveStepHeartbeat(WF, runId, "s", "w1", a).catch(() => undefined);
      await b.saveWorkflowComplete(WF, runId, 1, {
        workflowAttemptNumber: 1,
        timestamp: 0,
        duration: 1,
        totalSteps: 2,
      });
      return runId;
    },
  ],
  [
    "a retried workflow attempt with input validation and checkpoints",
    async (b, c) => {
      const {
        runId,
        steps: [s],
      } = await runWithSteps(b, ["s"]);
      await b.startRun(WF, runId, wfMeta);
      await b.saveWorkflowInputValidation(WF, runId, {
        workflowAttemptNumber: 1,
        hasSchema: true,
        success: false,
        validationErrors: [{ path: "x", message: "required" }],
      });
      const a = await claim(b, s!);
      await b.saveStepCheckpoint(WF, runId, "s", {
        name: "page-1",
        sequenceNumber: 0,
        attemptNumber: a,
        data: { rows: 10 },
      });
      await b.saveStepCheckpointFailed(WF, runId, "s", {
        name: "page-2",
        sequenceNumber: 1,
        attemptNumber: a,
        error: { message: "nope" },
      });
      await failTerminally(b, s!, a);
      await b.saveWorkflowFailed(
        WF,
        runId,
        { message: "x" },
        { workflowAttemptNumber: 1, duration: 5, completedSteps: 0 },
        "step-failed",
      );
      c.advanceMs(10);
      await b.saveWorkflowRetryStarted(WF, runId, {
        workflowAttemptNumber: 2,
        previousAttemptNumber: 1,
        retriedSteps: ["s"],
        reason: "manual",
      });
      await b.scheduleStep(WF, runId, "s", { availableAt: c.nowUs(), reason: "retry", attemptNumber: 2 });
      return runId;
    },
  ],
  [
    "raw appended events off the happy path: zombie heartbeat, stale completion, duplicate submission, events after the end",
    async (b, c) => {
      const {
        runId,
        steps: [s],
      } = await runWithSteps(b, ["s", "t"]);
      await b.startRun(WF, runId, wfMeta);
      await claim(b, s!, "w-old");
      c.advanceMs(120_000);
      await b.reclaimStaleSteps(60_000, "reaper");
      await claim(b, s!, "w-new");
      c.advanceMs(5);
      const env = (id: string) => ({ eventId: id, timestampUs: c.nowUs(), workflowSlug: WF, runId });
      const raw = [
        { ...env("raw-1"), category: "step", stepId: "s", type: "StepHeartbeat", workerId: "w-old", attemptNumber: 1 },
        { ...env("raw-2"), category: "step", stepId: "s", type: "StepHeartbeat", workerId: "w-old", attemptNumber: 2 },
        {
          ...env("raw-3"),
          category: "step",
          stepId: "s",
          type: "StepCompleted",
          output: '"zombie"',
          durationUs: 1,
          attemptNumber: 1,
          exportOutput: false,
        },
        {
          ...env("raw-4"),
          category: "workflow",
          type: "RunSubmitted",
          availableAtUs: 0,
          priority: 99,
          hasInputSchema: true,
          tags: ["late"],
        },
        {
          ...env("raw-5"),
          category: "step",
          stepId: "t",
          type: "StepHeartbeat",
          workerId: "w-nobody",
          attemptNumber: 1,
        },
        {
          ...env("raw-6"),
          category: "workflow",
          type: "WorkflowCompleted",
          workflowAttemptNumber: 1,
          output: "{}",
          durationUs: 5,
          totalSteps: 0,
        },
        {
          ...env("raw-7"),
          category: "workflow",
          type: "WorkflowStarted",
          workflowAttemptNumber: 2,
          hasInputSchema: false,
          hasInput: false,
        },
        {
          ...env("raw-8"),
          category: "workflow",
          type: "WorkflowFailed",
          workflowAttemptNumber: 2,
          error: { message: "late" },
          durationUs: 1,
          completedSteps: 0,
          failureReason: "timeout",
        },
      ] as Event[];
      for (const e of raw) await b.appendEvent(WF, runId, e);
      return runId;
    },
  ],
];

/** Every driver's query results equal the projection of its own events. */
export function projectionTests(h: ConformanceHarness): void {
  describe("projection agreement", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF] });
    for (const [label, build] of scenarios) {
      it(`queries equal projectRunState/projectStepState of loadEvents: ${label}`, async () => {
        const runId = await build(t.backend, t.clock);
        await expectAgreement(t.backend, WF, runId);
      });
    }

    it("agrees for a rerun child and its parent", async () => {
      const { backend, clock } = t;
      const { runId, steps } = await runWithSteps(backend, ["a", "b"]);
      for (const ref of steps) await complete(backend, ref, await claim(backend, ref));
      clock.advanceMs(1);
      const child = await backend.rerunFrom({ parentRunId: runId, fromStepId: "b" });
      await expectAgreement(backend, WF, runId);
      await expectAgreement(backend, WF, child.runId);
    });
  });
}
