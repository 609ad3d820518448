import { describe, expect, it } from "vitest";
import {
  computeQueueDepth,
  computeQueueDepthByWorkflow,
  HELD_AVAILABLE_AT_US,
  projectRunState,
  projectStepStates,
  type Backend,
  type LiveState,
  type StepEvent,
  type StepRef,
  type WorkflowEvent,
} from "@cairn/backend-interface";
import { resolveCapabilities, type ConformanceHarness } from "./support/harness.js";
import { withChildren, type ProcessPool } from "./support/processes.js";
import { openSecondBackend, useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF, claim, complete, tryClaim } from "./support/scenario.js";
import { CHAIN, registerVersion, stepStatuses } from "./support/dags.js";

const at = (runId: string, stepId: string): StepRef => ({ workflowSlug: WF, runId, stepId });

/** Claims whatever is claimable now through the worker's path (the driver's batch claim where it has one). */
async function claimAll(backend: Backend, workerId = "w1"): Promise<string[]> {
  return (await backend.claimSteps(workerId, { limit: 10 })).map((c) => `${c.runId}/${c.stepId}#${c.attemptNumber}`);
}

/** A store-driven run of CHAIN (a → b → c) with `a` claimed: the running attempt that will wait. */
async function runningA(backend: Backend): Promise<{ runId: string; attempt: number }> {
  await registerVersion(backend, CHAIN);
  const { runId } = await backend.submitRun({ workflowSlug: WF, input: {} });
  return { runId, attempt: await claim(backend, at(runId, "a")) };
}

/** The live state projected from the runs' own events (the reference the queue-depth fast paths must equal). */
async function liveFromEvents(backend: Backend, runIds: string[]): Promise<LiveState> {
  const live: LiveState = { runs: [], steps: [] };
  for (const runId of runIds) {
    const run = projectRunState((await backend.loadEvents(WF, runId, { category: "workflow" })) as WorkflowEvent[]);
    if (run) live.runs.push(run);
    live.steps.push(
      ...projectStepStates((await backend.loadEvents(WF, runId, { category: "step" })) as StepEvent[]).values(),
    );
  }
  return live;
}

/**
 * Pausing, signals and durable waits, decided by the store: a paused run claims nothing new on any claim path; a
 * signal sent before the wait is buffered and delivered once; a signal wakes a waiting step in the write that delivers
 * it; a wait with a timeout becomes claimable at its end; bad input writes nothing.
 */
export function waitTests(h: ConformanceHarness, procs: ProcessPool): void {
  describe.skipIf(!resolveCapabilities(h).multiProcess)("waits: real processes", () => {
    const t = useInstance(h);

    it("8 processes signalling at once two steps that wait for the same name: each step takes exactly one signal, none is taken twice, the rest stay buffered", async () => {
      const { backend } = t;
      await registerVersion(backend, [
        { id: "a", name: "A" },
        { id: "b", name: "B" },
      ]);
      const { runId } = await backend.submitRun({ workflowSlug: WF, input: {} });
      for (const stepId of ["a", "b"]) {
        const attempt = await claim(backend, at(runId, stepId));
        await backend.saveStepWaiting(WF, runId, stepId, {
          attemptNumber: attempt,
          wait: { kind: "event", name: "go" },
          duration: 1,
        });
      }
      const outcomes = await withChildren(procs, t.instance.opener, 8, (group) => {
        const startAtMs = Date.now() + 300;
        return group.round<Array<{ ok: boolean }>>((i) => ({
          task: "signal",
          startAtMs,
          signals: [
            { runId, name: "go", payload: { from: i }, id: `go-${i}` },
            { runId, name: "go", payload: { from: i }, id: `go-${i}` },
          ],
        }));
      });
      expect(outcomes.flat().every((o) => o.ok)).toBe(true);
      const events = await backend.loadEvents(WF, runId);
      expect(events.filter((e) => e.type === "SignalReceived").length).toBeGreaterThanOrEqual(8);
      const run = await backend.getRun(runId);
      expect(run!.signals).toHaveLength(8); // the same id twice is one signal, even sent at once
      const consumed = events.filter((e) => e.type === "SignalConsumed");
      expect(consumed.map((e) => (e as { byStepId: string }).byStepId).sort()).toEqual(["a", "b"]);
      expect(new Set(consumed.map((e) => (e as { signalId: string }).signalId)).size).toBe(2);
      expect(
        events
          .filter((e) => e.type === "StepWoken")
          .map((e) => (e as { stepId: string }).stepId)
          .sort(),
      ).toEqual(["a", "b"]);
      expect(run!.signals!.filter((g) => g.consumedBy).length).toBe(2);
      expect((await claimAll(backend)).sort()).toEqual([`${runId}/a#2`, `${runId}/b#2`]);
    });
  });

  describe("waits: pause and resume", () => {
    const t = useInstance(h, { manualClock: true });

    it("a paused run claims nothing on any path, its running step finishes, and resume makes its steps claimable again", async () => {
      const { backend } = t;
      await registerVersion(backend, [
        { id: "a", name: "A" },
        { id: "b", name: "B" },
        { id: "c", name: "C", dependencies: ["a"] },
      ]);
      const { runId } = await backend.submitRun({ workflowSlug: WF, input: {} });
      const { runId: other } = await backend.submitRun({ workflowSlug: WF, input: {} });
      const attemptA = await claim(backend, at(runId, "a"));
      expect(await backend.pauseRun(runId, { reason: "maintenance" })).toEqual({ paused: true });
      expect(await backend.pauseRun(runId)).toEqual({ paused: false });
      expect((await backend.getRun(runId))?.paused).toMatchObject({ scope: "run", reason: "maintenance" });
      // b is held: not claimable by name, not listed, not claimed by the batch path (which takes the other run's steps).
      expect(await tryClaim(backend, at(runId, "b"))).toBeNull();
      expect((await backend.listScheduledSteps()).filter((s) => s.runId === runId)).toEqual([]);
      expect((await claimAll(backend)).every((c) => c.startsWith(`${other}/`))).toBe(true);
      // The running step finishes; its dependent is scheduled by the store but held too.
      await complete(backend, at(runId, "a"), attemptA);
      expect(await stepStatuses(backend, runId)).toMatchObject({ a: "completed", b: "scheduled", c: "scheduled" });
      expect((await backend.getStepState(WF, runId, "c"))?.availableAtUs).toBe(HELD_AVAILABLE_AT_US);
      expect(await claimAll(backend)).toEqual([]);

      expect(await backend.resumeRun(runId, { patch: { approved: true } })).toEqual({ resumed: true });
      const run = await backend.getRun(runId);
      expect(run?.paused).toBeUndefined();
      expect(JSON.parse(run!.state!)).toEqual({ approved: true });
      expect((await claimAll(backend)).sort()).toEqual([`${runId}/b#1`, `${runId}/c#1`]);
      const types = (await backend.loadEvents(WF, runId, { category: "workflow" })).map((e) => e.type);
      expect(types).toEqual(["RunSubmitted", "WorkflowStarted", "WorkflowPaused", "WorkflowResumed"]);
    });

    it("resume patches merge into the run state; pausing or resuming an ended or unknown run is a typed error that writes nothing", async () => {
      const { backend } = t;
      await registerVersion(backend, [{ id: "a", name: "A" }]);
      const { runId } = await backend.submitRun({ workflowSlug: WF, input: {} });
      await backend.resumeRun(runId, { patch: { a: 1, b: 1 } });
      await backend.resumeRun(runId, { patch: { b: 2 } });
      expect(JSON.parse((await backend.getRun(runId))!.state!)).toEqual({ a: 1, b: 2 });
      await expectCode(
        backend.resumeRun(runId, { patch: [1] as unknown as Record<string, unknown> }),
        "INVALID_ARGUMENT",
      );
      await complete(backend, at(runId, "a"), await claim(backend, at(runId, "a")));
      expect((await backend.getRun(runId))?.status).toBe("completed");
      const before = (await backend.loadEvents(WF, runId)).length;
      await expectCode(backend.pauseRun(runId), "RUN_TERMINAL");
      await expectCode(backend.resumeRun(runId, { patch: { x: 1 } }), "RUN_TERMINAL");
      await expectCode(backend.pauseRun("no-such-run"), "RUN_NOT_FOUND");
      expect((await backend.loadEvents(WF, runId)).length).toBe(before);
    });

    it("a paused workflow holds its live runs and the runs submitted meanwhile; resume releases only what it paused", async () => {
      const { backend } = t;
      await registerVersion(backend, [{ id: "a", name: "A" }]);
      const { runId: early } = await backend.submitRun({ workflowSlug: WF, input: {} });
      const { runId: own } = await backend.submitRun({ workflowSlug: WF, input: {} });
      await backend.pauseRun(own);
      expect(await backend.pauseWorkflow(WF)).toEqual({ runs: 1 });
      // A worker re-registering the workflow keeps the pause.
      await backend.registerWorkflow({ slug: WF, name: WF, versionId: "v1", steps: [{ id: "a", name: "A" }] });
      const { runId: late } = await backend.submitRun({ workflowSlug: WF, input: {} });
      expect((await backend.getRun(late))?.paused).toMatchObject({ scope: "workflow" });
      expect(await claimAll(backend)).toEqual([]);
      expect(await backend.resumeWorkflow(WF)).toEqual({ runs: 2 });
      expect((await claimAll(backend)).sort()).toEqual([`${early}/a#1`, `${late}/a#1`].sort());
      expect((await backend.getRun(own))?.paused?.scope).toBe("run");
      await expectCode(backend.pauseWorkflow("never-registered"), "WORKFLOW_NOT_FOUND");
    });

    it("a workflow's pause and resume reach runs submitted through a registration another backend read before them", async () => {
      const { backend } = t;
      await registerVersion(backend, [{ id: "a", name: "A" }]);
      const other = await openSecondBackend(t.instance.opener);
      try {
        await other.submitRun({ workflowSlug: WF, input: {} }); // other now holds the registration, not paused
        const pausing = backend.pauseWorkflow(WF);
        while (!(await backend.getWorkflowMetadata(WF))?.paused) await new Promise((r) => setTimeout(r, 5));
        // Through the registration other holds (read before the mark): the run is paused by the time submitRun returns,
        // however the submission interleaves with pauseWorkflow's scan of the live runs.
        const { runId: stale } = await other.submitRun({ workflowSlug: WF, input: {} });
        expect((await backend.getRun(stale))?.paused).toMatchObject({ scope: "workflow" });
        expect((await pausing).runs).toBeGreaterThanOrEqual(1);
        expect(await claimAll(backend)).toEqual([]);
        const { runId: held } = await other.submitRun({ workflowSlug: WF, input: {} }); // other now holds the paused registration
        expect((await backend.getRun(held))?.paused).toMatchObject({ scope: "workflow" });
        expect(await backend.resumeWorkflow(WF)).toEqual({ runs: 3 });
        const { runId: after } = await other.submitRun({ workflowSlug: WF, input: {} }); // must not start paused: nothing would resume it
        expect((await backend.getRun(after))?.paused).toBeUndefined();
        expect((await backend.getRun(stale))?.paused).toBeUndefined();
        // Several submitters racing a pause: every run ends up on the side of the mark the store has once they return.
        const submitters = [other, backend];
        const racing = Array.from({ length: 12 }, (_, i) =>
          submitters[i % 2]!.submitRun({ workflowSlug: WF, input: { i } }),
        );
        await backend.pauseWorkflow(WF);
        const raced = await Promise.all(racing);
        for (const { runId } of raced)
          expect((await backend.getRun(runId))?.paused).toMatchObject({ scope: "workflow" });
        expect(await claimAll(backend)).toEqual([]);
      } finally {
        await other.close();
      }
    });
    it("a workflow's registration and its pause, written at once by two backends, are both kept", async () => {
      const { backend } = t;
      await registerVersion(backend, [{ id: "a", name: "A" }]);
      const other = await openSecondBackend(t.instance.opener);
      const register = (versionId: string) =>
        other.registerWorkflow({ slug: WF, name: WF, versionId, steps: [{ id: "a", name: "A" }] });
      try {
        // A registration written between a pause's read and its write, and a pause between a registration's read and
        // its write: neither may undo the other (a read-modify-write of the whole registration would). Where the
        // operation reads nothing, the other one runs after it.
        const drivers = [backend.driver, other.driver] as unknown as Array<Record<string, unknown>>;
        const interleaved = async (
          driver: Record<string, unknown>,
          op: () => Promise<unknown>,
          between: () => Promise<unknown>,
        ) => {
          let ran = false;
          const read = driver.readWorkflow as (slug: string) => Promise<unknown>;
          driver.readWorkflow = async (slug: string) => {
            const found = await read.call(driver, slug);
            delete driver.readWorkflow;
            ran = true;
            await between();
            return found;
          };
          try {
            await op();
          } finally {
            delete driver.readWorkflow;
          }
          if (!ran) await between();
        };
        await interleaved(
          drivers[0]!,
          () => backend.pauseWorkflow(WF),
          () => register("v2"),
        );
        expect(await backend.getWorkflowMetadata(WF)).toMatchObject({ versionId: "v2", paused: expect.anything() });
        await interleaved(
          drivers[1]!,
          () => register("v3"),
          () => backend.resumeWorkflow(WF),
        );
        expect(await backend.getWorkflowMetadata(WF)).toMatchObject({ versionId: "v3" });
        expect((await backend.getWorkflowMetadata(WF))?.paused).toBeUndefined();
        // And truly at once, several times over.
        for (let i = 4; i <= 11; i++) {
          const pause = i % 2 === 0;
          await Promise.all([register(`v${i}`), pause ? backend.pauseWorkflow(WF) : backend.resumeWorkflow(WF)]);
          const meta = await backend.getWorkflowMetadata(WF);
          expect(meta?.versionId).toBe(`v${i}`);
          expect(meta?.paused !== undefined).toBe(pause);
        }
      } finally {
        await other.close();
      }
    });

    it("a submission whose write lands after a workflow's pause or resume scanned the live runs is settled by its submitter", async () => {
      const { backend } = t;
      await registerVersion(backend, [{ id: "a", name: "A" }]);
      // The store's own submit writes, with `before` run first: the submission was prepared (its registration read),
      // and its write reaches the store only after a whole pauseWorkflow or resumeWorkflow, as a slow write would.
      const driver = backend.driver as unknown as Record<
        "writeSubmission" | "writeSubmissions",
        ((...a: unknown[]) => Promise<unknown>) | undefined
      >;
      const delayOnce = (before: () => Promise<unknown>) => {
        for (const name of ["writeSubmission", "writeSubmissions"] as const) {
          const write = driver[name];
          if (!write) continue;
          driver[name] = async (...args: unknown[]) => {
            delete driver[name];
            await before();
            return write.apply(backend.driver, args);
          };
        }
        return () => {
          for (const name of ["writeSubmission", "writeSubmissions"] as const) delete driver[name];
        };
      };
      let restore = delayOnce(() => backend.pauseWorkflow(WF));
      const { runId: missed } = await backend.submitRun({ workflowSlug: WF, input: {} });
      restore();
      expect((await backend.getRun(missed))?.paused).toMatchObject({ scope: "workflow" });
      expect(await claimAll(backend)).toEqual([]);
      restore = delayOnce(() => backend.resumeWorkflow(WF));
      const [late] = await backend.submitRuns([{ workflowSlug: WF, input: {} }]);
      restore();
      if (!late?.ok) throw new Error("the submission was refused");
      expect((await backend.getRun(late.runId))?.paused).toBeUndefined();
      expect((await claimAll(backend)).sort()).toEqual([`${missed}/a#1`, `${late.runId}/a#1`].sort());
    });
  });

  describe("waits: sleeps, signals and timeouts", () => {
    const t = useInstance(h, { manualClock: true });

    it("a waiting step gives back its attempt, is claimable at its wake time as attempt n+1 (reason wake), and the wake is no retry", async () => {
      const { backend, clock } = t;
      const { runId, attempt } = await runningA(backend);
      const until = clock.nowUs() + 60_000_000;
      await backend.saveStepWaiting(WF, runId, "a", {
        attemptNumber: attempt,
        wait: { kind: "sleep", name: "nap", untilUs: until },
        duration: 10,
      });
      const step = await backend.getStepState(WF, runId, "a");
      expect(step).toMatchObject({
        status: "scheduled",
        attemptNumber: attempt + 1,
        scheduleReason: "wake",
        availableAtUs: until,
        wakes: 1,
        waiting: { kind: "sleep", name: "nap", untilUs: until, attemptNumber: attempt },
      });
      const waiting = await backend.listWaitingRuns();
      expect(waiting.map((w) => [w.run.runId, w.step.stepId])).toEqual([[runId, "a"]]);
      // Queue depth counts it as waiting (a delayed step), the driver's answer equal to the reference's.
      const { runId: other } = await backend.submitRun({ workflowSlug: WF, input: {} });
      const live = await liveFromEvents(backend, [runId, other]);
      const depth = await backend.getQueueDepth();
      expect(depth).toMatchObject({ waitingSteps: 1, delayedSteps: 1, readySteps: 1 });
      expect(depth).toEqual(computeQueueDepth(live, {}, clock.nowUs()));
      expect(await backend.getQueueDepthByWorkflow()).toEqual(computeQueueDepthByWorkflow(live, clock.nowUs()));
      await backend.cancelRun(other);
      expect(await claimAll(backend)).toEqual([]);
      // A second record of the same wait is fenced out.
      await expectCode(
        backend.saveStepWaiting(WF, runId, "a", {
          attemptNumber: attempt,
          wait: { kind: "sleep", name: "nap", untilUs: until },
          duration: 10,
        }),
        "STALE_ATTEMPT",
      );
      clock.setUs(until);
      expect(await claimAll(backend)).toEqual([`${runId}/a#${attempt + 1}`]);
      const started = await backend.getStepState(WF, runId, "a");
      expect(started?.waiting).toBeUndefined();
      expect(await backend.listWaitingRuns()).toEqual([]);
      // A reclaim after wakes still has the whole retry budget: it reschedules instead of failing.
      clock.advanceMs(120_000);
      expect(await backend.reclaimStaleSteps(60_000, "reaper")).toHaveLength(1);
      expect(await backend.getStepState(WF, runId, "a")).toMatchObject({
        status: "scheduled",
        scheduleReason: "retry",
      });
    });

    it("a signal sent before the wait is buffered and delivered exactly once, to the earliest wait that matches", async () => {
      const { backend } = t;
      const { runId, attempt } = await runningA(backend);
      await backend.signal(runId, "approval", { ok: false, by: "x" });
      const { signalId } = await backend.signal(runId, "approval", { ok: true, by: "ann" }, { id: "sig-1" });
      expect(await backend.signal(runId, "approval", { ok: true, by: "ann" }, { id: "sig-1" })).toEqual({
        signalId: "sig-1",
        isNew: false,
      });
      await backend.saveStepWaiting(WF, runId, "a", {
        attemptNumber: attempt,
        wait: { kind: "event", name: "approval", match: { ok: true } },
        duration: 10,
      });
      // Woken in the same write: claimable now, the consumption recorded on the run.
      const run = await backend.getRun(runId);
      const consumed = run!.signals!.filter((g) => g.consumedBy);
      expect(consumed.map((g) => g.signalId)).toEqual([signalId]);
      expect(consumed[0]!.consumedBy).toEqual({ stepId: "a", attemptNumber: attempt });
      expect(await claimAll(backend)).toEqual([`${runId}/a#${attempt + 1}`]);
      const types = (await backend.loadEvents(WF, runId, { category: "workflow" })).map((e) => e.type);
      expect(types.filter((x) => x === "SignalConsumed")).toHaveLength(1);
      expect(types.filter((x) => x === "SignalReceived")).toHaveLength(2);
    });

    it("a signal arriving while a step waits wakes it at once; a non-matching one does not", async () => {
      const { backend, clock } = t;
      const { runId, attempt } = await runningA(backend);
      const timeoutAt = clock.nowUs() + 3_600_000_000;
      await backend.saveStepWaiting(WF, runId, "a", {
        attemptNumber: attempt,
        wait: { kind: "event", name: "approval", untilUs: timeoutAt, match: { order: 7 } },
        duration: 10,
      });
      expect((await backend.listWaitingSteps({ name: "approval" })).map((s) => s.runId)).toEqual([runId]);
      expect(await backend.listWaitingSteps({ name: "other" })).toEqual([]);
      await backend.signal(runId, "approval", { order: 8 });
      expect(await claimAll(backend)).toEqual([]);
      const { runIds } = await backend.signalWaiting("approval", { order: 7, ok: true }, { id: "evt-1" });
      expect(runIds).toEqual([runId]);
      expect((await backend.getStepState(WF, runId, "a"))?.availableAtUs).toBe(clock.nowUs());
      expect((await backend.signalWaiting("approval", { order: 7, ok: true }, { id: "evt-1" })).runIds).toEqual([]);
      expect(await claimAll(backend)).toEqual([`${runId}/a#${attempt + 1}`]);
      expect(await backend.listWaitingSteps({ name: "approval" })).toEqual([]);
    });

    it("a wait with a timeout becomes claimable at its end with no signal consumed; one with none waits far ahead", async () => {
      const { backend, clock } = t;
      const { runId, attempt } = await runningA(backend);
      const timeoutAt = clock.nowUs() + 30_000_000;
      await backend.saveStepWaiting(WF, runId, "a", {
        attemptNumber: attempt,
        wait: { kind: "event", name: "approval", untilUs: timeoutAt },
        duration: 10,
      });
      clock.setUs(timeoutAt - 1);
      expect(await claimAll(backend)).toEqual([]);
      clock.setUs(timeoutAt);
      expect(await claimAll(backend)).toEqual([`${runId}/a#${attempt + 1}`]);
      expect((await backend.getRun(runId))?.signals).toBeUndefined();
      await backend.saveStepWaiting(WF, runId, "a", {
        attemptNumber: attempt + 1,
        wait: { kind: "event", name: "forever" },
        duration: 10,
      });
      expect((await backend.getStepState(WF, runId, "a"))?.availableAtUs).toBe(HELD_AVAILABLE_AT_US);
    });

    it("bad signals are typed errors that write nothing: not JSON, unknown run, ended run, bad name", async () => {
      const { backend } = t;
      const { runId, attempt } = await runningA(backend);
      const before = (await backend.loadEvents(WF, runId)).length;
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await expectCode(backend.signal(runId, "approval", cyclic), "INVALID_ARGUMENT");
      await expectCode(backend.signal(runId, "approval", 10n), "INVALID_ARGUMENT");
      await expectCode(backend.signal(runId, "bad name!", {}), "INVALID_ARGUMENT");
      await expectCode(backend.signal("no-such-run", "approval", {}), "RUN_NOT_FOUND");
      await expectCode(backend.signalWaiting("approval", cyclic), "INVALID_ARGUMENT");
      await expectCode(
        backend.saveStepWaiting(WF, runId, "a", {
          attemptNumber: attempt,
          wait: { kind: "nap" } as never,
          duration: 0,
        }),
        "INVALID_ARGUMENT",
      );
      expect((await backend.loadEvents(WF, runId)).length).toBe(before);
      await backend.cancelRun(runId);
      const ended = (await backend.loadEvents(WF, runId)).length;
      await expectCode(backend.signal(runId, "approval", {}), "RUN_TERMINAL");
      expect((await backend.loadEvents(WF, runId)).length).toBe(ended);
    });
  });
}
