import { describe, expect, it } from "vitest";
import type { StepRef } from "@cairn/backend-interface";
import type { ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF, claim, complete, countEvents, failAndRetry, failTerminally } from "./support/scenario.js";
import {
  CHAIN,
  DIAMOND,
  eventTrail,
  expectRunMatchesEvents,
  registerVersion,
  stepStatuses,
  workflowTrail,
} from "./support/dags.js";

const at = (runId: string, stepId: string): StepRef => ({ workflowSlug: WF, runId, stepId });

/**
 * Store-side transitions: the store, not the worker, moves a run of a registered version on inside the write that
 * changed it (submit, a step's end, a skip, a reclaim, a retry), and a claim returns what the step needs. Each test
 * fails if the store stopped advancing runs. Maintenance transitions: transitions-maintenance.ts; races: transitions-races.ts.
 */
export function transitionTests(h: ConformanceHarness): void {
  describe("transitions: submit starts the run", () => {
    const t = useInstance(h, { manualClock: true });

    it("an available run of a registered version is running at once, with exactly its roots scheduled", async () => {
      const { backend, clock } = t;
      await registerVersion(backend, [...DIAMOND, { id: "e", name: "E" }]);
      const { runId, isNew } = await backend.submitRun({ workflowSlug: WF, input: { n: 1 } });
      expect(isNew).toBe(true);
      expect(await backend.getRun(runId)).toMatchObject({
        status: "running",
        versionId: "v1",
        startedAtUs: clock.nowUs(),
      });
      expect(await stepStatuses(backend, runId)).toEqual({ a: "scheduled", e: "scheduled" });
      const workflow = await backend.loadEvents(WF, runId, { category: "workflow" });
      expect(workflow.map((e) => e.type)).toEqual(["RunSubmitted", "WorkflowStarted"]);
      expect(workflow[1]).toMatchObject({ versionId: "v1", workflowAttemptNumber: 1, hasInput: true });
      for (const id of ["a", "e"]) {
        expect(await backend.getStepState(WF, runId, id)).toMatchObject({
          status: "scheduled",
          attemptNumber: 1,
          scheduleReason: "initial",
          availableAtUs: clock.nowUs(),
        });
        expect(await backend.isStepClaimable(WF, runId, id)).toBe(true);
      }
    });

    it("a run submitted for later stays pending with no step, and startDueRuns / maintain start it once due, once", async () => {
      const { backend, clock } = t;
      await registerVersion(backend, CHAIN);
      const due = clock.nowUs() + 60_000_000;
      const { runId } = await backend.submitRun({ workflowSlug: WF, availableAtUs: due });
      const { runId: viaMaintain } = await backend.submitRun({ workflowSlug: WF, availableAtUs: due + 60_000_000 });
      for (const id of [runId, viaMaintain]) {
        expect((await backend.getRun(id))?.status).toBe("pending");
        expect(await backend.loadRun(WF, id)).toEqual([]);
        expect(await workflowTrail(backend, id)).toEqual(["RunSubmitted"]);
      }
      expect(await backend.startDueRuns()).toEqual([]);
      clock.advanceMs(30_000);
      expect((await backend.maintain({ workerId: "m", staleMs: 60_000 })).started).toEqual([]);
      expect((await backend.getRun(runId))?.status).toBe("pending");

      clock.setUs(due);
      expect(await backend.startDueRuns()).toEqual([runId]);
      expect((await backend.getRun(runId))?.status).toBe("running");
      expect(await stepStatuses(backend, runId)).toEqual({ a: "scheduled" });
      expect(await backend.startDueRuns()).toEqual([]);
      expect(await workflowTrail(backend, runId)).toEqual(["RunSubmitted", "WorkflowStarted"]);
      expect((await backend.getRun(viaMaintain))?.status).toBe("pending");

      clock.advanceMs(60_000);
      expect((await backend.maintain({ workerId: "m", staleMs: 600_000 })).started).toEqual([viaMaintain]);
      expect(await stepStatuses(backend, viaMaintain)).toEqual({ a: "scheduled" });
      expect((await backend.maintain({ workerId: "m", staleMs: 600_000 })).started).toEqual([]);
      expect(await workflowTrail(backend, viaMaintain)).toEqual(["RunSubmitted", "WorkflowStarted"]);
    });
  });

  describe("transitions: completions advance the run", () => {
    const t = useInstance(h, { manualClock: true });

    it("a → (b, c) → d: a schedules b and c; b alone nothing; c then d; d completes the run with the exported outputs", async () => {
      const { backend } = t;
      await registerVersion(backend, DIAMOND);
      const { runId } = await backend.submitRun({ workflowSlug: WF });
      await complete(backend, at(runId, "a"), await claim(backend, at(runId, "a")), { rows: 3 });
      expect(await stepStatuses(backend, runId)).toEqual({ a: "completed", b: "scheduled", c: "scheduled" });
      expect(await backend.getStepState(WF, runId, "b")).toMatchObject({
        attemptNumber: 1,
        scheduleReason: "dependency-satisfied",
      });
      const b = await claim(backend, at(runId, "b"));
      const c = await claim(backend, at(runId, "c"));
      await complete(backend, at(runId, "b"), b, "B");
      expect(await stepStatuses(backend, runId)).toEqual({ a: "completed", b: "completed", c: "running" });
      await complete(backend, at(runId, "c"), c, "C");
      expect(await stepStatuses(backend, runId)).toEqual({
        a: "completed",
        b: "completed",
        c: "completed",
        d: "scheduled",
      });
      expect((await backend.getRun(runId))?.status).toBe("running");
      await complete(backend, at(runId, "d"), await claim(backend, at(runId, "d")), { sum: 5 }, true);

      const run = await backend.getRun(runId);
      expect(run).toMatchObject({ status: "completed", totalSteps: 4 });
      expect(JSON.parse(run!.output!)).toEqual({ d: { sum: 5 } });
      expect(await workflowTrail(backend, runId)).toEqual(["RunSubmitted", "WorkflowStarted", "WorkflowCompleted"]);
      for (const id of ["a", "b", "c", "d"])
        expect(await countEvents(backend, at(runId, id), "StepScheduled"), id).toBe(1);
    });

    it("a chain runs end to end with exactly the events of each transition, in order", async () => {
      const { backend } = t;
      await registerVersion(backend, CHAIN);
      const { runId } = await backend.submitRun({ workflowSlug: WF });
      for (const id of ["a", "b", "c"])
        await complete(backend, at(runId, id), await claim(backend, at(runId, id)), id, id === "c");
      expect(await eventTrail(backend, runId)).toEqual([
        "RunSubmitted",
        "WorkflowStarted",
        "StepScheduled:a",
        "StepStarted:a",
        "StepCompleted:a",
        "StepScheduled:b",
        "StepStarted:b",
        "StepCompleted:b",
        "StepScheduled:c",
        "StepStarted:c",
        "StepCompleted:c",
        "WorkflowCompleted",
      ]);
      const run = await backend.getRun(runId);
      expect(run).toMatchObject({ status: "completed", totalSteps: 3 });
      expect(JSON.parse(run!.output!)).toEqual({ c: "c" });
    });
  });

  describe("transitions: skips cascade", () => {
    const t = useInstance(h, { manualClock: true });

    it("a primary skip of b cascade-skips d at once; the run completes when c ends, without exporting d", async () => {
      const { backend } = t;
      await registerVersion(backend, DIAMOND);
      const { runId } = await backend.submitRun({ workflowSlug: WF });
      await complete(backend, at(runId, "a"), await claim(backend, at(runId, "a")));
      const c = await claim(backend, at(runId, "c"));
      await backend.saveStepSkipped(WF, runId, "b", {
        skipType: "primary",
        reason: "not needed",
        duration: 0,
        attemptNumber: 0,
      });
      expect(await stepStatuses(backend, runId)).toEqual({ a: "completed", b: "skipped", c: "running", d: "skipped" });
      const skips = (await backend.loadEvents(WF, runId, { category: "step", stepId: "d" })).filter(
        (e) => e.type === "StepSkipped",
      );
      expect(skips).toHaveLength(1);
      expect(skips[0]).toMatchObject({ skipType: "cascade", cascadedFrom: "b" });
      expect((await backend.getRun(runId))?.status).toBe("running");

      await complete(backend, at(runId, "c"), c, "C");
      const run = await backend.getRun(runId);
      expect(run).toMatchObject({ status: "completed", totalSteps: 4 });
      expect(JSON.parse(run!.output!)).toEqual({});
      expect(await countEvents(backend, at(runId, "d"), "StepScheduled")).toBe(0);
      expect(await workflowTrail(backend, runId)).toEqual(["RunSubmitted", "WorkflowStarted", "WorkflowCompleted"]);
    });

    it("skipping the root of a chain skips the rest and completes the run in the same write", async () => {
      const { backend } = t;
      await registerVersion(backend, CHAIN);
      const { runId } = await backend.submitRun({ workflowSlug: WF });
      await backend.saveStepSkipped(WF, runId, "a", {
        skipType: "primary",
        reason: "nothing to do",
        duration: 0,
        attemptNumber: 0,
      });
      expect(await eventTrail(backend, runId)).toEqual([
        "RunSubmitted",
        "WorkflowStarted",
        "StepScheduled:a",
        "StepSkipped:a",
        "StepSkipped:b",
        "StepSkipped:c",
        "WorkflowCompleted",
      ]);
      expect(await backend.getRun(runId)).toMatchObject({ status: "completed", totalSteps: 3 });
    });
  });

  describe("transitions: failures", () => {
    const t = useInstance(h, { manualClock: true });

    it("a terminal StepFailed writes WorkflowFailed (failedStep, step-failed) right behind it; nothing else is scheduled", async () => {
      const { backend } = t;
      await registerVersion(backend, DIAMOND);
      const { runId } = await backend.submitRun({ workflowSlug: WF });
      await complete(backend, at(runId, "a"), await claim(backend, at(runId, "a")));
      const c = await claim(backend, at(runId, "c"));
      await failTerminally(backend, at(runId, "b"), await claim(backend, at(runId, "b")), "b broke");
      const trail = await eventTrail(backend, runId);
      expect(trail.slice(-2)).toEqual(["StepFailed:b", "WorkflowFailed"]);
      expect(trail.filter((e) => e === "WorkflowFailed")).toHaveLength(1);
      const failed = (await backend.loadEvents(WF, runId, { category: "workflow" })).find(
        (e) => e.type === "WorkflowFailed",
      );
      expect(failed).toMatchObject({
        failedStep: "b",
        failureReason: "step-failed",
        completedSteps: 1,
        workflowAttemptNumber: 1,
      });
      expect(await backend.getRun(runId)).toMatchObject({
        status: "failed",
        failedStep: "b",
        failureReason: "step-failed",
      });
      await expectCode(
        backend.saveStepHeartbeat(WF, runId, "c", "worker-1", c),
        "RUN_TERMINAL",
        "heartbeat of a step of the failed run",
      );
      expect(await countEvents(backend, at(runId, "d"), "StepScheduled")).toBe(0);
    });

    it("a retry keeps the run running; the retried attempt's completion advances it", async () => {
      const { backend } = t;
      await registerVersion(backend, DIAMOND);
      const { runId } = await backend.submitRun({ workflowSlug: WF });
      await failAndRetry(backend, at(runId, "a"), await claim(backend, at(runId, "a")));
      expect((await backend.getRun(runId))?.status).toBe("running");
      expect(await backend.getStepState(WF, runId, "a")).toMatchObject({ status: "scheduled", attemptNumber: 2 });
      expect(await workflowTrail(backend, runId)).toEqual(["RunSubmitted", "WorkflowStarted"]);
      const a2 = await claim(backend, at(runId, "a"));
      expect(a2).toBe(2);
      await complete(backend, at(runId, "a"), a2);
      expect(await stepStatuses(backend, runId)).toEqual({ a: "completed", b: "scheduled", c: "scheduled" });
    });
  });

  describe("transitions: workflow retry", () => {
    const t = useInstance(h, { manualClock: true });

    it("a retry of a failed run starts workflow attempt 2 without failing it again; the retried step runs and the run completes", async () => {
      const { backend, clock } = t;
      await registerVersion(backend, CHAIN.slice(0, 2));
      const { runId } = await backend.submitRun({ workflowSlug: WF });
      await failTerminally(backend, at(runId, "a"), await claim(backend, at(runId, "a")));
      expect((await backend.getRun(runId))?.status).toBe("failed");
      await backend.saveWorkflowRetryStarted(WF, runId, {
        workflowAttemptNumber: 2,
        previousAttemptNumber: 1,
        retriedSteps: ["a"],
        reason: "manual",
      });
      // The store reschedules the retried step in the retry write: a caller's schedule of the same attempt is a duplicate.
      expect(
        await backend.scheduleStep(WF, runId, "a", { availableAt: clock.nowUs(), reason: "retry", attemptNumber: 2 }),
      ).toBe(false);
      expect(await workflowTrail(backend, runId)).toEqual([
        "RunSubmitted",
        "WorkflowStarted",
        "WorkflowFailed",
        "WorkflowRetryStarted",
        "WorkflowStarted",
      ]);
      expect(await backend.getRun(runId)).toMatchObject({ status: "running", workflowAttemptNumber: 2 });
      expect(await backend.getStepState(WF, runId, "a")).toMatchObject({ status: "scheduled", attemptNumber: 2 });
      await complete(backend, at(runId, "a"), await claim(backend, at(runId, "a")));
      await complete(backend, at(runId, "b"), await claim(backend, at(runId, "b")));
      expect(await backend.getRun(runId)).toMatchObject({ status: "completed", workflowAttemptNumber: 2 });
      expect((await backend.loadEvents(WF, runId, { category: "workflow" })).at(-1)).toMatchObject({
        type: "WorkflowCompleted",
        workflowAttemptNumber: 2,
      });
    });
  });

  describe("transitions: retryRun", () => {
    const t = useInstance(h, { manualClock: true });

    it("re-runs the failed and skipped steps (a cascade-skipped one waits for its dependency again), keeps completed results, and completes as attempt 2", async () => {
      const { backend, clock } = t;
      await registerVersion(backend, [
        { id: "x", name: "X", maxRetries: 1 },
        { id: "y", name: "Y" },
        { id: "z", name: "Z", dependencies: ["y"], exportOutput: true },
        { id: "w", name: "W" },
      ]);
      const { runId } = await backend.submitRun({ workflowSlug: WF });
      await complete(backend, at(runId, "w"), await claim(backend, at(runId, "w")), { kept: true });
      await backend.saveStepSkipped(WF, runId, "y", {
        skipType: "primary",
        reason: "not today",
        duration: 0,
        attemptNumber: await claim(backend, at(runId, "y")),
      });
      expect(await stepStatuses(backend, runId)).toMatchObject({ y: "skipped", z: "skipped", w: "completed" });
      await failTerminally(backend, at(runId, "x"), await claim(backend, at(runId, "x")));
      expect((await backend.getRun(runId))?.status).toBe("failed");
      await expectCode(backend.retryRun("no-such-run"), "RUN_NOT_FOUND");

      const retried = await backend.retryRun(runId, { reason: "fixed upstream" });
      expect(retried).toEqual({ workflowAttemptNumber: 2, retriedSteps: expect.arrayContaining(["x", "y", "z"]) });
      expect(retried.retriedSteps).toHaveLength(3);
      expect(await backend.getRun(runId)).toMatchObject({ status: "running", workflowAttemptNumber: 2 });
      expect(await stepStatuses(backend, runId)).toEqual({
        w: "completed",
        x: "scheduled",
        y: "scheduled",
        z: "pending",
      });
      expect(await backend.getStepState(WF, runId, "x")).toMatchObject({ attemptNumber: 2 });
      expect(await backend.getStepState(WF, runId, "w")).toMatchObject({ status: "completed", attemptNumber: 1 });

      // The retried step has its retry budget again: a crash of attempt 2 (maxRetries 1) is rescheduled, not failed.
      expect(await claim(backend, at(runId, "x"), "crasher")).toBe(2);
      clock.advanceMs(5_000);
      expect(await backend.reclaimStaleSteps(1_000, "reaper")).toEqual([at(runId, "x")]);
      expect(await backend.getStepState(WF, runId, "x")).toMatchObject({ status: "scheduled", attemptNumber: 3 });
      await complete(backend, at(runId, "x"), await claim(backend, at(runId, "x")));
      await complete(backend, at(runId, "y"), await claim(backend, at(runId, "y")));
      expect(await backend.getStepState(WF, runId, "z")).toMatchObject({ status: "scheduled", attemptNumber: 1 });
      await complete(backend, at(runId, "z"), await claim(backend, at(runId, "z")), { z: 1 }, true);
      expect(await backend.getRun(runId)).toMatchObject({ status: "completed", workflowAttemptNumber: 2 });
      await expectCode(backend.retryRun(runId), "RUN_NOT_RETRYABLE");
      await expectRunMatchesEvents(backend, runId);
    });
  });

  describe("transitions: reclaims", () => {
    const t = useInstance(h, { manualClock: true });

    it("a reclaim reschedules within the retry budget; past it, StepFailed worker-crash and WorkflowFailed worker-crash in the same write", async () => {
      const { backend, clock } = t;
      await registerVersion(backend, [
        { id: "a", name: "A", maxRetries: 1 },
        { id: "b", name: "B", dependencies: ["a"] },
      ]);
      const { runId } = await backend.submitRun({ workflowSlug: WF });
      await claim(backend, at(runId, "a"), "crasher-1");
      clock.advanceMs(5_000);
      expect(await backend.reclaimStaleSteps(1_000, "reaper")).toEqual([at(runId, "a")]);
      expect(await backend.getStepState(WF, runId, "a")).toMatchObject({ status: "scheduled", attemptNumber: 2 });
      expect((await backend.getRun(runId))?.status).toBe("running");
      await claim(backend, at(runId, "a"), "crasher-2");
      clock.advanceMs(5_000);
      expect(await backend.reclaimStaleSteps(1_000, "reaper")).toEqual([at(runId, "a")]);
      expect((await eventTrail(backend, runId)).slice(-3)).toEqual([
        "StepReclaimed:a",
        "StepFailed:a",
        "WorkflowFailed",
      ]);
      expect(await backend.getRun(runId)).toMatchObject({
        status: "failed",
        failedStep: "a",
        failureReason: "worker-crash",
      });
      expect(await countEvents(backend, at(runId, "b"), "StepScheduled")).toBe(0);
    });
  });

  describe("transitions: batch submit", () => {
    const t = useInstance(h, { manualClock: true });

    it("submitRuns starts each available item in the write, leaves a later one pending, answers a repeated key with the first run, and writes nothing for a bad item", async () => {
      const { backend, clock } = t;
      await registerVersion(backend, CHAIN);
      const outcomes = await backend.submitRuns([
        { workflowSlug: WF, idempotencyKey: "k1", input: 1 },
        { workflowSlug: WF, availableAtUs: clock.nowUs() + 60_000_000 },
        { workflowSlug: WF, idempotencyKey: "k1", input: 1 },
        { workflowSlug: WF, runId: "../bad" },
        { workflowSlug: WF, idempotencyKey: "k1", input: 2 },
      ]);
      const [first, later, again, bad, conflict] = outcomes;
      expect(first).toMatchObject({ ok: true, isNew: true });
      expect(later).toMatchObject({ ok: true, isNew: true });
      expect(again).toEqual({ ok: true, runId: first!.ok ? first!.runId : "", isNew: false });
      expect(bad).toMatchObject({ ok: false, error: { code: "INVALID_IDENTIFIER" } });
      expect(conflict).toMatchObject({ ok: false, error: { code: "IDEMPOTENCY_CONFLICT" } });
      const firstId = first!.ok ? first!.runId : "";
      const laterId = later!.ok ? later!.runId : "";
      expect(await eventTrail(backend, firstId)).toEqual(["RunSubmitted", "WorkflowStarted", "StepScheduled:a"]);
      expect(await eventTrail(backend, laterId)).toEqual(["RunSubmitted"]);
      expect((await backend.listRuns({ workflowSlug: WF })).map((r) => r.runId).sort()).toEqual(
        [firstId, laterId].sort(),
      );
    });

    it("a batch of several thousand items (written in chunks) keeps item order: a key or run id repeated far apart answers with the first run", async () => {
      const { backend } = t;
      await registerVersion(backend, CHAIN);
      const items: Array<Record<string, unknown>> = Array.from({ length: 2_100 }, (_, i) => ({
        workflowSlug: WF,
        input: { i },
      }));
      items[5] = { workflowSlug: WF, idempotencyKey: "far", input: "x" };
      items[1_500] = { workflowSlug: WF, idempotencyKey: "far", input: "x" };
      items[2_050] = { workflowSlug: WF, idempotencyKey: "far", input: "other" };
      items[900] = { workflowSlug: WF, runId: "run-far-apart", input: 900 };
      items[1_001] = { workflowSlug: WF, runId: "run-far-apart", input: 900 };
      items[1_002] = { workflowSlug: WF, runId: "../bad" };
      const outcomes = await backend.submitRuns(items as never);
      expect(outcomes).toHaveLength(items.length);
      const id = (k: number) => {
        const o = outcomes[k]!;
        return o.ok ? o.runId : `error ${o.error.code}`;
      };
      expect(outcomes[5]).toMatchObject({ ok: true, isNew: true });
      expect(outcomes[1_500]).toEqual({ ok: true, runId: id(5), isNew: false });
      expect(outcomes[2_050]).toMatchObject({ ok: false, error: { code: "IDEMPOTENCY_CONFLICT" } });
      expect(outcomes[900]).toEqual({ ok: true, runId: "run-far-apart", isNew: true });
      expect(outcomes[1_001]).toEqual({ ok: true, runId: "run-far-apart", isNew: false });
      expect(outcomes[1_002]).toMatchObject({ ok: false, error: { code: "INVALID_IDENTIFIER" } });
      const fresh = outcomes.filter((o) => o.ok && o.isNew);
      expect(fresh).toHaveLength(items.length - 4);
      expect(new Set(fresh.map((o) => (o.ok ? o.runId : ""))).size).toBe(fresh.length);
      for (const k of [0, 999, 1_000, 2_099]) {
        expect((await backend.getRun(id(k)))?.input, `item ${k}`).toBe(JSON.stringify({ i: k }));
        expect(await stepStatuses(backend, id(k))).toEqual({ a: "scheduled" });
      }
      expect(await backend.listRunIds(WF)).toHaveLength(items.length - 4);
    });
  });

  describe("transitions: claimSteps returns what the step needs", () => {
    const t = useInstance(h, { manualClock: true });

    it("run input, dependency outputs, checkpoints of earlier attempts, workflowAttemptNumber and versionId", async () => {
      const { backend } = t;
      await registerVersion(backend, DIAMOND);
      const { runId } = await backend.submitRun({ workflowSlug: WF, input: { n: 2, tag: "x" } });
      const [a] = await backend.claimSteps("w1", { limit: 10 });
      expect(a).toMatchObject({
        workflowSlug: WF,
        runId,
        stepId: "a",
        attemptNumber: 1,
        versionId: "v1",
        workflowAttemptNumber: 1,
        dependencyOutputs: {},
        checkpoints: [],
      });
      expect(typeof a!.input).toBe("string");
      expect(JSON.parse(a!.input!)).toEqual({ n: 2, tag: "x" });
      await complete(backend, at(runId, "a"), a!.attemptNumber, { rows: 3 });

      const bc = await backend.claimSteps("w1", { limit: 10 });
      expect(bc.map((w) => w.stepId).sort()).toEqual(["b", "c"]);
      for (const w of bc) {
        expect(Object.keys(w.dependencyOutputs)).toEqual(["a"]);
        expect(JSON.parse(w.dependencyOutputs.a!)).toEqual({ rows: 3 });
        expect(JSON.parse(w.input!)).toEqual({ n: 2, tag: "x" });
      }
      await backend.saveStepCheckpoint(WF, runId, "b", {
        name: "page",
        sequenceNumber: 0,
        attemptNumber: 1,
        data: { page: 7 },
      });
      await failAndRetry(backend, at(runId, "b"), 1);
      const [b2] = await backend.claimSteps("w2", { limit: 10 });
      expect(b2).toMatchObject({ stepId: "b", attemptNumber: 2, versionId: "v1", workflowAttemptNumber: 1 });
      expect(b2!.checkpoints.map((cp) => [cp.name, cp.sequenceNumber, cp.attemptNumber])).toEqual([["page", 0, 1]]);
      expect(JSON.parse(b2!.checkpoints[0]!.data)).toEqual({ page: 7 });
      expect(JSON.parse(b2!.dependencyOutputs.a!)).toEqual({ rows: 3 });

      await complete(backend, at(runId, "b"), 2, "B");
      await complete(backend, at(runId, "c"), 1, ["C"]);
      const [d] = await backend.claimSteps("w3", { limit: 10 });
      expect(d).toMatchObject({ stepId: "d", attemptNumber: 1, checkpoints: [] });
      expect(Object.keys(d!.dependencyOutputs).sort()).toEqual(["b", "c"]);
      expect(JSON.parse(d!.dependencyOutputs.b!)).toBe("B");
      expect(JSON.parse(d!.dependencyOutputs.c!)).toEqual(["C"]);
    });
  });
}
